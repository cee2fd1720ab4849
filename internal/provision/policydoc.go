package provision

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// decodePolicyDocument returns a policy document as JSON. IAM returns
// documents URL-encoded (RFC 3986); emulators sometimes return them plain.
func decodePolicyDocument(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		return t, nil
	}
	d, err := url.QueryUnescape(t)
	if err != nil {
		return "", fmt.Errorf("decode policy document: %w", err)
	}
	return d, nil
}

// listKeys are the policy elements where IAM treats "x" and ["x"] alike and
// order does not matter.
var listKeys = map[string]bool{
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Service": true, "AWS": true, "Federated": true,
}

// canonicalPolicy returns a form of doc in which semantically equal IAM
// policies are byte-equal: Sids dropped, single values and lists unified,
// lists sorted, statements sorted.
func canonicalPolicy(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", fmt.Errorf("parse policy document: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("parse policy document: not a JSON object")
	}
	stmts := asList(m["Statement"])
	canon := make([]string, 0, len(stmts))
	for _, s := range stmts {
		sm, ok := s.(map[string]any)
		if !ok {
			return "", fmt.Errorf("parse policy document: statement is not an object")
		}
		delete(sm, "Sid")
		canon = append(canon, mustJSON(normalize(sm, "")))
	}
	sort.Strings(canon)
	return fmt.Sprintf(`{"Version":%q,"Statement":[%s]}`, fmt.Sprint(m["Version"]), strings.Join(canon, ",")), nil
}

func normalize(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e, k)
		}
		return out
	case []any:
		if listKeys[key] {
			return sortedStrings(t)
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e, "")
		}
		return out
	case string:
		if listKeys[key] {
			return []string{t}
		}
	}
	return v
}

func sortedStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// policyGrants lists "Effect action on resource" for every pair a policy
// names, for a readable difference between two documents.
func policyGrants(doc string) ([]string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	m, _ := v.(map[string]any)
	var out []string
	for _, s := range asList(m["Statement"]) {
		sm, _ := s.(map[string]any)
		effect := fmt.Sprint(sm["Effect"])
		actions := sortedStrings(asList(sm["Action"]))
		if na := asList(sm["NotAction"]); len(na) > 0 {
			actions = []string{"NotAction" + fmt.Sprint(sortedStrings(na))}
		}
		resources := sortedStrings(asList(sm["Resource"]))
		if nr := asList(sm["NotResource"]); len(nr) > 0 {
			resources = []string{"NotResource" + fmt.Sprint(sortedStrings(nr))}
		}
		cond := ""
		if c, ok := sm["Condition"]; ok {
			cond = " if " + mustJSON(c)
		}
		for _, a := range actions {
			for _, r := range resources {
				prefix := ""
				if effect != "Allow" {
					prefix = effect + " "
				}
				out = append(out, prefix+a+" on "+r+cond)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// diffPolicies describes how have differs from want; nil when they are
// semantically equal.
func diffPolicies(field, have, want string) []Diff {
	ch, err := canonicalPolicy(have)
	if err != nil {
		return []Diff{{Field: field, Have: "unparseable (" + err.Error() + ")", Want: "ddbops policy"}}
	}
	cw, err := canonicalPolicy(want)
	if err != nil {
		panic(err) // want is built by ddbops
	}
	if ch == cw {
		return nil
	}
	hg, _ := policyGrants(have)
	wg, _ := policyGrants(want)
	var diffs []Diff
	for _, g := range wg {
		if !slices.Contains(hg, g) {
			diffs = append(diffs, Diff{Field: field, Have: "missing", Want: g})
		}
	}
	for _, g := range hg {
		if !slices.Contains(wg, g) {
			diffs = append(diffs, Diff{Field: field, Have: g, Want: "absent"})
		}
	}
	if len(diffs) == 0 {
		diffs = []Diff{{Field: field, Have: "differs", Want: "ddbops policy"}}
	}
	return diffs
}
