package provision

import (
	"context"
	"fmt"
	"strings"
)

// Resource statuses reported by Status.
const (
	StatusExists  = "exists"
	StatusMissing = "missing"
	StatusDrifted = "drifted"
	StatusForeign = "foreign"
)

// StatusOptions say what the stack is compared against besides the
// Provisioner's Spec, which is the stack's recorded desired state
// (DesiredSpec without explicit settings), so status reports changes made
// behind ddbops' back, not settings edited since.
type StatusOptions struct {
	// CodeSha256 is the expected code hash ("" = code is not compared).
	CodeSha256 string
	// Pending are the changes the configuration (flags, environment,
	// config file) makes to the recorded desired state: what the next
	// setup applies. Any makes the report not OK.
	Pending []Diff
}

// StatusRow is one resource.
type StatusRow struct {
	Kind   string `json:"resource"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Diffs  []Diff `json:"diffs,omitempty"`
	Note   string `json:"note,omitempty"`
}

// StatusReport is the state of the whole stack.
type StatusReport struct {
	Stack     string      `json:"stack"`
	Region    string      `json:"region"`
	Account   string      `json:"account"`
	Rows      []StatusRow `json:"resources"`
	InvokeURL string      `json:"invokeUrl,omitempty"`
	// Auth is the mode the deployed method implements ("" = no method),
	// WantAuth the one expected.
	Auth     string `json:"auth,omitempty"`
	WantAuth string `json:"wantAuth"`
	// Pending are the changes the configuration would make to the
	// recorded desired state (ddbops setup applies them).
	Pending []Diff `json:"pending,omitempty"`
	// OK is true when every resource exists as desired and the
	// configuration changes nothing.
	OK bool `json:"ok"`
}

// Status compares every resource with the desired state. It makes no
// mutating call.
func (p *Provisioner) Status(ctx context.Context, opts StatusOptions) (*StatusReport, error) {
	rep, err := p.status(ctx, opts)
	return rep, interrupted(ctx, "status", err, nil)
}

func (p *Provisioner) status(ctx context.Context, opts StatusOptions) (*StatusReport, error) {
	spec := p.spec
	r, err := p.newRun(ctx)
	if err != nil {
		return nil, err
	}
	obs, err := r.observeAll(ctx)
	if err != nil {
		return nil, err
	}
	fw := functionWant{memory: spec.Memory, timeout: spec.Timeout, arch: spec.Arch, codeSha: opts.CodeSha256}
	plan, _ := r.planAll(obs, fw)
	rep := &StatusReport{Stack: spec.Stack, Region: spec.Region, Account: r.acct.ID, WantAuth: spec.Auth, Pending: opts.Pending, OK: len(opts.Pending) == 0}
	if obs.api.id != "" {
		rep.InvokeURL = r.arn.invokeURL(obs.api.id)
		rep.Auth = authOf(obs.api.method)
	}
	for _, c := range plan.changes(spec.Auth, obs) {
		row := StatusRow{Kind: c.Kind, Name: c.Name, Diffs: c.Diffs, Note: c.Note}
		switch c.Action {
		case Unchanged:
			row.Status = StatusExists
		case Create:
			row.Status = StatusMissing
			if c.Kind == KindIntegration && c.Note != "" {
				row.Status = StatusDrifted
			}
			if c.Kind == KindDeployment && obs.api.stage != nil {
				row.Status = StatusDrifted
				row.Note = "not deployed: " + c.Note
			}
		case Update, Delete:
			row.Status = StatusDrifted
			if c.Action == Delete {
				row.Note = "left over: " + c.Note
			}
		case Blocked:
			row.Status = StatusDrifted
			if c.NotOwned {
				row.Status = StatusForeign
			}
		}
		if row.Status != StatusExists {
			rep.OK = false
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// Table is the report as table rows, header first: resource, name, status
// and what differs ("memory: 512 MB (want 128 MB)").
func (rep *StatusReport) Table() [][]string {
	rows := [][]string{{"RESOURCE", "NAME", "STATUS", "DETAILS"}}
	for _, r := range rep.Rows {
		var details []string
		for _, d := range r.Diffs {
			details = append(details, fmt.Sprintf("%s: %s (want %s)", d.Field, d.Have, d.Want))
		}
		if r.Note != "" {
			details = append(details, r.Note)
		}
		rows = append(rows, []string{r.Kind, r.Name, r.Status, strings.Join(details, "; ")})
	}
	return rows
}

// Summary is the report's lines under the table: invoke URL, auth mode,
// each pending change with where it comes from (source(key)), the verdict.
func (rep *StatusReport) Summary(source func(key string) string) []string {
	url := rep.InvokeURL
	if url == "" {
		url = "(none: the REST API does not exist)"
	}
	auth := rep.Auth
	switch {
	case auth == "":
		auth = "(no method) — want " + rep.WantAuth
	case auth != rep.WantAuth:
		auth += " — want " + rep.WantAuth
	}
	lines := []string{"invoke URL: " + url, "auth:       " + auth}
	for _, d := range rep.Pending {
		lines = append(lines, fmt.Sprintf("pending:    %s (from %s; the recorded desired state until ddbops setup applies it)", d, source(d.Field)))
	}
	counts := map[string]int{}
	for _, r := range rep.Rows {
		counts[r.Status]++
	}
	var parts []string
	for _, s := range []string{StatusExists, StatusMissing, StatusDrifted, StatusForeign} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	verdict := "in sync"
	if !rep.OK {
		verdict = "not in sync (ddbops setup converges it)"
	}
	return append(lines, fmt.Sprintf("stack %s in %s (account %s): %s — %s", rep.Stack, rep.Region, rep.Account, strings.Join(parts, ", "), verdict))
}
