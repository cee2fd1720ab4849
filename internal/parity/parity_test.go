package parity

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/testenv/lambdatest"
)

var update = flag.Bool("update", false, "rewrite testdata/"+goldenFile+" from the answers of this run")

const goldenFile = "parity.golden.json"

// reply is a normalized answer: what must be identical across targets.
type reply struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"` // canonical JSON
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s %s", r.Status, r.ContentType, r.Body)
}

// TestParity sends the sequence to the three targets (set up and run in
// parallel, each with a fresh empty table) and requires every step's
// normalized answer to be identical across them, to match the step's
// status and the recorded snapshot in testdata.
func TestParity(t *testing.T) {
	t.Parallel()
	seq := sequence()
	checkSequence(t, seq)
	lambdatest.Prepare(t) // packaging overlaps with building the RIE and starting the emulators

	answers := make([][]reply, len(targets))
	complete := make([]bool, len(targets))
	t.Run("targets", func(t *testing.T) {
		for i, tg := range targets {
			t.Run(tg.name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				send := tg.start(t)
				setup := time.Since(start)
				start = time.Now()
				out := make([]reply, len(seq))
				requests := 0
				for j, st := range seq {
					var n int
					out[j], n = run(t, send, st)
					requests += n
				}
				answers[i], complete[i] = out, true
				t.Logf("%s: set up in %s, %d steps (%d requests) in %s", tg.name,
					setup.Round(time.Millisecond), len(seq), requests, time.Since(start).Round(time.Millisecond))
			})
		}
	})
	for i, ok := range complete {
		if !ok {
			if !t.Failed() {
				// A target subtest skipped: moto_server or the RIE is
				// missing (it fails instead under DDBOPS_REQUIRE_EMULATORS=1).
				testenv.SkipOrFail(t, "target %s did not run (see its subtest)", targets[i].name)
			}
			t.Fatalf("target %s did not complete the sequence; no comparison", targets[i].name)
		}
	}

	golden := loadGolden(t)
	var identical, excepted int
	record := make([]goldenStep, 0, len(seq))
	for j, st := range seq {
		got := make(map[string]reply, len(targets))
		for i, tg := range targets {
			got[tg.name] = answers[i][j]
		}
		ref, applied, problem := compare(t, j, st, got, exceptions)
		if problem != "" {
			t.Error(problem)
			continue
		}
		if len(applied) == 0 {
			identical++
		} else {
			excepted++
		}
		record = append(record, goldenStep{Step: st.name, Request: summarize(st.body), Status: ref.Status, ContentType: ref.ContentType, Body: json.RawMessage(ref.Body)})
		if *update {
			continue
		}
		g, found := golden[st.name]
		switch {
		case !found:
			t.Errorf("step %d %q: not in testdata/%s (run go test ./internal/parity -run TestParity -update, review and commit the diff)", j+1, st.name, goldenFile)
		case g != ref:
			t.Errorf("step %d %q: every target answers the same, but not what testdata/%s records\nrequest:  %s\nrecorded: %s\nnow:      %s\n(an intended change of the wire contract: run with -update, review and commit the diff)",
				j+1, st.name, goldenFile, summarize(st.body), g, ref)
		}
	}
	if !*update {
		for name := range golden {
			if !slices.ContainsFunc(seq, func(st step) bool { return st.name == name }) {
				t.Errorf("testdata/%s records step %q, which is no longer in the sequence (run with -update)", goldenFile, name)
			}
		}
	}
	if *update {
		if t.Failed() {
			t.Fatalf("not rewriting testdata/%s: the targets do not agree", goldenFile)
		}
		writeGolden(t, record)
	}
	t.Logf("parity: %d/%d steps identical across %s, %s and %s; %d of them identical only under a documented exception",
		identical+excepted, len(seq), targetLocal, targetMoto, targetMinidyn, excepted)
}

// compare checks one step's answers: the targets no exception concerns
// must answer identically and with the step's status; each target an
// exception concerns must answer exactly what the exception says. It
// returns the reference answer and the exceptions applied, or a
// description of the problem.
func compare(t testing.TB, j int, st step, got map[string]reply, exs []exception) (ref reply, applied []string, problem string) {
	t.Helper()
	byTarget := make(map[string][]exception)
	for _, ex := range exs {
		if !slices.Contains(ex.steps, st.name) {
			continue
		}
		for _, tn := range ex.targets {
			byTarget[tn] = append(byTarget[tn], ex)
		}
		applied = append(applied, ex.name)
	}
	var refName string
	for _, tg := range targets {
		if len(byTarget[tg.name]) > 0 {
			continue
		}
		if refName == "" {
			refName, ref = tg.name, got[tg.name]
			continue
		}
		if got[tg.name] != ref {
			return reply{}, nil, diff(j, st, "the targets differ", got, nil)
		}
	}
	if refName == "" {
		return reply{}, nil, fmt.Sprintf("step %q: exceptions cover every target; nothing to compare with", st.name)
	}
	if ref.Status != st.status {
		return reply{}, nil, diff(j, st, fmt.Sprintf("status %d, the step expects %d", ref.Status, st.status), got, nil)
	}
	want := make(map[string]reply)
	for _, tg := range targets {
		exs := byTarget[tg.name]
		if len(exs) == 0 {
			continue
		}
		w := ref
		var names []string
		for _, ex := range exs {
			w = ex.instead(t, w)
			names = append(names, ex.name)
		}
		want[tg.name] = w
		if got[tg.name] == w {
			continue
		}
		what := fmt.Sprintf("%s does not answer what exception %s documents", tg.name, strings.Join(names, "+"))
		if got[tg.name] == ref {
			what = fmt.Sprintf("%s now answers like the others: exception %s is no longer needed for this step; remove it (and its README entry)", tg.name, strings.Join(names, "+"))
		}
		return reply{}, nil, diff(j, st, what, got, want)
	}
	return ref, applied, ""
}

// diff renders a failed step: the request and every target's normalized
// answer (and, for targets under an exception, what it documents).
func diff(j int, st step, what string, got, want map[string]reply) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d %q: %s\nrequest: %s\n", j+1, st.name, what, summarize(st.body))
	if st.walk {
		b.WriteString("(a paginated walk: the union of all pages, sorted by id)\n")
	}
	for _, tg := range targets {
		mark := "  "
		if w, ok := want[tg.name]; ok && w != got[tg.name] {
			mark = "✗ "
		}
		fmt.Fprintf(&b, "%s%-12s %s\n", mark, tg.name, got[tg.name])
		if w, ok := want[tg.name]; ok {
			fmt.Fprintf(&b, "  %-12s %s\n", "  documented", w)
		}
	}
	return b.String()
}

// run sends one step to a target and returns its normalized answer and
// the number of requests it took.
func run(t *testing.T, send sender, st step) (reply, int) {
	t.Helper()
	if st.walk {
		return walk(t, send, st)
	}
	return normalize(t, st, send(t, []byte(st.body))), 1
}

// maxPages stops a walk whose LastEvaluatedKey never ends.
const maxPages = 50

// walk follows LastEvaluatedKey from the step's list request to the end
// and returns the union of the pages: Items sorted by id, the summed
// Count and ScannedCount. Page boundaries are not compared (backends scan
// in different orders), but every page must be a well-formed page.
func walk(t *testing.T, send sender, st step) (reply, int) {
	t.Helper()
	req := decodeJSON(t, []byte(st.body)).(map[string]any)
	payload := req["payload"].(map[string]any)
	limit, err := strconv.Atoi(payload["Limit"].(json.Number).String())
	if err != nil {
		t.Fatalf("step %q: a walk needs an integer Limit: %v", st.name, err)
	}
	var (
		items           []any
		count, scanned  int64
		contentType     string
		seen            = make(map[string]bool)
		pages, requests int
	)
	for {
		pages++
		if pages > maxPages {
			t.Errorf("step %q: pagination did not end after %d pages", st.name, maxPages)
			break
		}
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		requests++
		r := send(t, body)
		n := normalize(t, st, r)
		if n.Status != 200 {
			return n, requests
		}
		if contentType == "" {
			contentType = n.ContentType
		}
		var page struct {
			Items            []any
			Count            json.Number
			ScannedCount     json.Number
			LastEvaluatedKey map[string]any
		}
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			t.Errorf("step %q page %d: not a list page: %v: %s", st.name, pages, err, clip(r.body))
			return n, requests
		}
		c, _ := page.Count.Int64()
		s, _ := page.ScannedCount.Int64()
		if c != int64(len(page.Items)) || len(page.Items) > limit {
			t.Errorf("step %q page %d: %d items, Count %d, Limit %d", st.name, pages, len(page.Items), c, limit)
		}
		for _, it := range page.Items {
			id := itemKey(it)
			if seen[id] {
				t.Errorf("step %q page %d: item %s returned twice", st.name, pages, id)
			}
			seen[id] = true
		}
		items = append(items, page.Items...)
		count += c
		scanned += s
		if page.LastEvaluatedKey == nil {
			break
		}
		payload["ExclusiveStartKey"] = page.LastEvaluatedKey
	}
	sortItems(items)
	if items == nil {
		items = []any{}
	}
	return reply{
		Status:      200,
		ContentType: contentType,
		Body:        canonical(map[string]any{"Items": items, "Count": json.Number(strconv.FormatInt(count, 10)), "ScannedCount": json.Number(strconv.FormatInt(scanned, 10))}),
	}, requests
}

const requestIDPlaceholder = "<request id>"

var (
	// A message the handler passes on from DynamoDB: the handler's own
	// prefix is kept, DynamoDB's free text (which differs between DynamoDB,
	// moto and minidyn) is not.
	dynamoMessage = regexp.MustCompile(`^((?:create|read|update|delete|list): DynamoDB rejected the request: ).*$`)
	internalError = regexp.MustCompile(`^internal error \(request id [^)]*\)$`)
)

// normalize removes what may differ between targets without being a
// difference: request ids (each answer names its own), DynamoDB's wording
// of errors it originates, and the order of listed items.
func normalize(t testing.TB, st step, r raw) reply {
	t.Helper()
	out := reply{Status: r.status, ContentType: r.contentType}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		t.Errorf("step %q: the body is not one JSON value: %s", st.name, clip(r.body))
		out.Body = "<not JSON> " + string(clip(r.body))
		return out
	}
	if m, ok := v.(map[string]any); ok {
		if md, ok := m["ResponseMetadata"].(map[string]any); ok {
			if id, _ := md["RequestId"].(string); id != "" {
				md["RequestId"] = requestIDPlaceholder
			}
		}
		if e, ok := m["error"].(map[string]any); ok {
			if id, _ := m["requestId"].(string); id != "" {
				m["requestId"] = requestIDPlaceholder
			}
			if msg, ok := e["message"].(string); ok {
				msg = dynamoMessage.ReplaceAllString(msg, "${1}<DynamoDB's message>")
				msg = internalError.ReplaceAllString(msg, "internal error (request id "+requestIDPlaceholder+")")
				e["message"] = msg
			}
		}
		if items, ok := m["Items"].([]any); ok {
			sortItems(items)
		}
	}
	out.Body = canonical(v)
	return out
}

// sortItems orders listed items by id (then by their whole JSON, for
// items a projection left without an id).
func sortItems(items []any) {
	slices.SortStableFunc(items, func(a, b any) int {
		if c := strings.Compare(itemKey(a), itemKey(b)); c != 0 {
			return c
		}
		return strings.Compare(canonical(a), canonical(b))
	})
}

func itemKey(it any) string {
	if m, ok := it.(map[string]any); ok {
		if id, ok := m["id"].(string); ok {
			return id
		}
	}
	return canonical(it)
}

// canonical is v as compact JSON with sorted keys and numbers exactly as
// received.
func canonical(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<unencodable %T: %v>", v, err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, clip(b))
	}
	return v
}

// clip shortens b for messages (bodies may be over a megabyte).
func clip(b []byte) []byte {
	const max = 400
	if len(b) <= max {
		return b
	}
	return fmt.Appendf(nil, "%s… (%d bytes)", b[:max], len(b))
}

func summarize(body string) string { return string(clip([]byte(body))) }

// checkSequence guards the sequence and the exceptions against typos: step
// names are unique, every exception names existing steps and targets.
func checkSequence(t testing.TB, seq []step) {
	t.Helper()
	if len(seq) < 30 {
		t.Fatalf("the sequence has %d steps; the parity suite needs at least 30", len(seq))
	}
	names := make(map[string]bool, len(seq))
	for _, st := range seq {
		if names[st.name] {
			t.Fatalf("step name %q used twice", st.name)
		}
		names[st.name] = true
	}
	for _, ex := range exceptions {
		if ex.name == "" || ex.reason == "" || ex.instead == nil || len(ex.steps) == 0 || len(ex.targets) == 0 {
			t.Fatalf("exception %q: name, reason, steps, targets and instead are all required", ex.name)
		}
		for _, s := range ex.steps {
			if !names[s] {
				t.Fatalf("exception %s names step %q, which is not in the sequence", ex.name, s)
			}
		}
		for _, tn := range ex.targets {
			if !slices.ContainsFunc(targets, func(tg target) bool { return tg.name == tn }) {
				t.Fatalf("exception %s names target %q, which does not exist", ex.name, tn)
			}
		}
	}
}

// goldenStep is one step of the recorded snapshot.
type goldenStep struct {
	Step        string          `json:"step"`
	Request     string          `json:"request"`
	Status      int             `json:"status"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

func loadGolden(t *testing.T) map[string]reply {
	t.Helper()
	if *update {
		return nil
	}
	b, err := os.ReadFile(filepath.Join("testdata", goldenFile))
	if err != nil {
		t.Fatalf("read the snapshot: %v (create it with -update)", err)
	}
	var steps []goldenStep
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&steps); err != nil {
		t.Fatalf("testdata/%s: %v", goldenFile, err)
	}
	out := make(map[string]reply, len(steps))
	for _, s := range steps {
		out[s.Step] = reply{Status: s.Status, ContentType: s.ContentType, Body: canonical(decodeJSON(t, s.Body))}
	}
	return out
}

func writeGolden(t *testing.T, steps []goldenStep) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(steps); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", goldenFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote testdata/%s (%d steps)", goldenFile, len(steps))
}
