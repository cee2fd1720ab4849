package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
)

// What the provisioning commands print: their -o json document, the plan
// table and its counts, and the progress lines of the steps.

// Calls is the number of AWS requests a command made.
type Calls struct {
	Total    int `json:"total"`
	Mutating int `json:"mutating"`
}

// CallsOf is what rec counted (zero for nil: the command stopped before it
// made any call).
func CallsOf(rec *Recorder) Calls {
	if rec == nil {
		return Calls{}
	}
	t, m := rec.Counts()
	return Calls{Total: t, Mutating: m}
}

// ChangeDoc is one resource line of a -o json document.
type ChangeDoc struct {
	Resource  string `json:"resource"`
	Name      string `json:"name"`
	Action    string `json:"action"`
	Diffs     []Diff `json:"diffs,omitempty"`
	Note      string `json:"note,omitempty"`
	Error     string `json:"error,omitempty"`
	ElapsedMS int64  `json:"elapsedMs"`
}

// Report is the -o json document of setup, deploy and teardown
// (docs/provisioning.md#json-output).
type Report struct {
	Command   string      `json:"command"`
	Stack     string      `json:"stack"`
	Region    string      `json:"region"`
	DryRun    bool        `json:"dryRun"`
	Changes   []ChangeDoc `json:"changes"`
	InvokeURL string      `json:"invokeUrl,omitempty"`
	Auth      string      `json:"auth,omitempty"`
	APIKeyID  string      `json:"apiKeyId,omitempty"`
	BackupARN string      `json:"backupArn,omitempty"`
	APICalls  Calls       `json:"apiCalls"`
	ElapsedMS int64       `json:"elapsedMs"`
	Error     string      `json:"error,omitempty"`
}

// NewReport is the document of res (nil: the command stopped before it had
// one, possibly before the provisioner was opened).
func NewReport(command string, spec Spec, res *Result, calls Calls, backupARN string, elapsed time.Duration, err error) Report {
	j := Report{Command: command, Stack: spec.Stack, Region: spec.Region, Changes: []ChangeDoc{},
		BackupARN: backupARN, APICalls: calls, ElapsedMS: elapsed.Milliseconds(), Error: cmdutil.ErrString(err)}
	if res == nil {
		return j
	}
	j.DryRun, j.InvokeURL, j.Auth, j.APIKeyID = res.DryRun, res.InvokeURL, res.Auth, res.APIKeyID
	for _, c := range res.Changes {
		j.Changes = append(j.Changes, ChangeDoc{Resource: c.Kind, Name: c.Name, Action: string(c.Action), Diffs: c.Diffs, Note: c.Note,
			Error: cmdutil.ErrString(c.Err), ElapsedMS: c.Elapsed.Milliseconds()})
	}
	return j
}

// PlanRows is a plan (or a teardown's list) as table rows, header first.
func PlanRows(cs []Change) [][]string {
	rows := [][]string{{"ACTION", "RESOURCE", "NAME", "DETAILS"}}
	for _, c := range cs {
		rows = append(rows, []string{string(c.Action), c.Kind, c.Name, c.Summary()})
	}
	return rows
}

var (
	planOrder = []Action{Create, Update, Delete, Unchanged, Blocked, Keep, Absent}
	planWords = map[Action]string{
		Create: "to create", Update: "to update", Delete: "to delete", Unchanged: "unchanged",
		Blocked: "blocked", Keep: "not owned (kept)", Absent: "not found",
	}
	doneWords = map[Action]string{Create: "created", Update: "updated", Delete: "deleted"}
	// planOf folds a result's actions into the plan's.
	planOf = map[Action]Action{Created: Create, Updated: Update, Deleted: Delete}
)

// PlanCounts summarises a plan (dry) or a result as "2 to create, 1 to
// update" or "2 created, 1 unchanged".
func PlanCounts(cs []Change, dry bool) string {
	n := map[Action]int{}
	for _, c := range cs {
		a := c.Action
		if p, ok := planOf[a]; ok && !dry {
			a = p
		}
		n[a]++
	}
	var parts []string
	for _, a := range planOrder {
		if n[a] == 0 {
			continue
		}
		word := planWords[a]
		if w, ok := doneWords[a]; ok && !dry {
			word = w
		}
		parts = append(parts, fmt.Sprintf("%d %s", n[a], word))
	}
	if n[Failed] > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n[Failed]))
	}
	return strings.Join(parts, ", ")
}

// StepPrinter is a Reporter printing one line per finished step on
// stderr: mark, resource, result, elapsed time (cmdutil.Steps).
type StepPrinter struct{ *cmdutil.Steps }

// NewStepPrinter prints on ios's stderr; quiet prints nothing.
func NewStepPrinter(ios *cmdutil.IOStreams, quiet bool) *StepPrinter {
	return &StepPrinter{cmdutil.NewSteps(ios, quiet)}
}

// StepStarted implements Reporter.
func (p *StepPrinter) StepStarted(kind, name string) { p.Started(kind + " " + name) }

// StepDone implements Reporter.
func (p *StepPrinter) StepDone(c Change) {
	detail := c.Summary()
	if c.Err != nil {
		detail = c.Err.Error()
	}
	failed := c.Action == Failed || c.Action == Blocked
	p.Done(c.Kind+" "+c.Name, p.Line(failed, c.Kind, c.Name, string(c.Action), detail, c.Elapsed))
}

// WithHint attaches the hint of a provisioning *Error to err, for
// cmdutil.PrintError (unless err has one already).
func WithHint(err error) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Hint != "" && cmdutil.HintOf(err) == "" {
		return cmdutil.WithHint(err, pe.Hint)
	}
	return err
}

// LoadStackState reads a stack's state file: nil when there is none yet.
func LoadStackState(path string) (*State, error) {
	if path == "" {
		return nil, nil
	}
	st, err := LoadState(path)
	if errors.Is(err, ErrNoState) {
		return nil, nil
	}
	return st, cmdutil.WithHint(err, "fix or move the file away: resources are found by name and tag, and setup rewrites it")
}

// Desired is what a command converges the stack to and compares it with.
type Desired struct {
	// Spec is the desired state with the explicit settings the command
	// applies (DesiredSpec).
	Spec Spec
	// Recorded is the stack's recorded desired state, without explicit
	// settings: what status measures drift against.
	Recorded Spec
	// Pending are the changes every explicit setting makes to Recorded
	// (nil without a record).
	Pending []Diff
}

// Desire applies DesiredSpec for a command that applies the settings
// applies (nil = all: setup; DeployConfigKeys: deploy): an explicit
// setting it does not apply stays as recorded, and pending.
func Desire(base Spec, explicit func(string) bool, st *State, applies []string) (Desired, error) {
	var d Desired
	own := explicit
	if applies != nil {
		own = func(k string) bool { return explicit(k) && slices.Contains(applies, k) }
	}
	all, err := DesiredSpec(base, explicit, st)
	if err == nil {
		d.Spec, err = DesiredSpec(base, own, st)
	}
	if err == nil {
		d.Recorded, err = DesiredSpec(base, nil, st)
	}
	if err != nil {
		return d, cmdutil.WithHint(err, "fix the value in the state file, or remove it from its \"desired\"")
	}
	if st.RecordedConfig(base.Stack) != nil {
		d.Pending = d.Recorded.Config().Changes(all.Config())
	}
	return d, nil
}

// Stacks lists the stacks with a state file under dir (config key
// state-dir), for shell completion of --stack.
func Stacks(dir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dir, "stacks"))
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// BuiltCode is a CodeFunc that builds the handler with build when code is
// needed, reported as a step of the run (rep: the run's reporter once it
// exists), with a hint when the build fails.
func BuiltCode(build CodeFunc, rep func() Reporter) CodeFunc {
	return func(ctx context.Context, arch string) ([]byte, error) {
		name := "bootstrap.zip (" + arch + ")"
		r := rep()
		r.StepStarted("handler", name)
		start := time.Now()
		z, err := build(ctx, arch)
		c := Change{Kind: "handler", Name: name, Action: "built", Elapsed: time.Since(start)}
		if err != nil {
			c.Action, c.Err = Failed, err
		} else {
			c.Note = "CodeSha256 " + CodeSha256(z)
		}
		r.StepDone(c)
		if err != nil {
			return nil, cmdutil.WithHint(err, "pass --handler-zip FILE (from ddbops package), or run from a ddbops checkout with Go installed")
		}
		return z, nil
	}
}

// Locate reconciles a loaded AWS configuration with the stack's record st:
// a record of another region does not apply (nil is returned), and a stack
// recorded on an emulator endpoint is reached there unless an endpoint is
// configured. The notes say what was decided, for stderr.
func Locate(cfg *aws.Config, st *State, stack string) (*State, []string) {
	switch {
	case st == nil:
		return nil, nil
	case st.Region != "" && st.Region != cfg.Region:
		return nil, []string{fmt.Sprintf("the state file records stack %s in %s; this run is for %s", stack, st.Region, cfg.Region)}
	case st.EndpointURL != "" && cfg.BaseEndpoint == nil:
		cfg.BaseEndpoint = aws.String(st.EndpointURL)
		return st, []string{fmt.Sprintf("stack %s lives on %s (recorded by setup): using it; --endpoint-url chooses another", stack, st.EndpointURL)}
	}
	return st, nil
}

// EndpointSummary tells how to call the API setup or deploy left at url
// (none when there is none yet): its URL, auth mode and a call to try —
// except on an emulator endpoint, whose support for running functions
// ddbops cannot know (moto stores the function but does not run it).
func EndpointSummary(url, auth, keyID, endpoint string) []string {
	if url == "" {
		return nil
	}
	lines := []string{"invoke URL: " + url}
	switch auth {
	case wire.AuthIAM:
		lines = append(lines, "auth:       iam (requests are signed with SigV4; ddbops call signs with your AWS credentials)")
	case wire.AuthAPIKey:
		lines = append(lines, fmt.Sprintf("auth:       apikey (x-api-key header; key id %s, value: aws apigateway get-api-key --api-key %s --include-value)", keyID, keyID))
	default:
		lines = append(lines, "auth:       none (open API)")
	}
	if endpoint != "" {
		return append(lines, "note:       on an emulator, ddbops call works only if it runs Lambda functions (LocalStack does, moto does not); ddbops local serves the same API on this machine")
	}
	return append(lines, "try:        ddbops call create --id 1 --name Bob")
}

// Line is e as logs prints it: time and message, with the log stream
// between them when verbose.
func (e LogEvent) Line(verbose bool) string {
	ts := e.Time.Format("2006-01-02T15:04:05.000Z07:00")
	if verbose {
		return ts + "  " + e.Stream + "  " + e.Message
	}
	return ts + "  " + e.Message
}

// BackupARN is the table backup a teardown took ("" for none).
func (r *Result) BackupARN() string {
	for _, c := range r.changes() {
		if c.Kind == KindTable && strings.HasPrefix(c.Note, "backup ") {
			return strings.TrimPrefix(c.Note, "backup ")
		}
	}
	return ""
}

// Notes are a teardown's lines under its summary: the backup taken and
// every resource kept because the stack does not own it.
func (r *Result) Notes() []string {
	var lines []string
	if arn := r.BackupARN(); arn != "" {
		lines = append(lines, "table backup: "+arn)
	}
	for _, c := range r.changes() {
		if c.Action == Keep {
			lines = append(lines, fmt.Sprintf("kept %s %s: %s", c.Kind, c.Name, c.Note))
		}
	}
	return lines
}

// StatusDoc is the -o json document of status.
type StatusDoc struct {
	*StatusReport
	APICalls  Calls  `json:"apiCalls"`
	ElapsedMS int64  `json:"elapsedMs"`
	Error     string `json:"error,omitempty"`
}

// NewStatusDoc is rep's document; without a report (the command failed
// first) the stack's state is unknown, not in sync.
func NewStatusDoc(rep *StatusReport, spec Spec, calls Calls, elapsed time.Duration, err error) StatusDoc {
	if rep == nil {
		rep = &StatusReport{Stack: spec.Stack, Region: spec.Region, WantAuth: spec.Auth, Rows: []StatusRow{}}
	}
	return StatusDoc{StatusReport: rep, APICalls: calls, ElapsedMS: elapsed.Milliseconds(), Error: cmdutil.ErrString(err)}
}

// LogsDoc is the -o json document of logs (without --follow).
type LogsDoc struct {
	LogGroup string     `json:"logGroup"`
	Events   []LogEvent `json:"events"`
	Error    string     `json:"error,omitempty"`
}

// NoEvents says on stderr that logs found nothing, and since when.
func NoEvents(group, filter string, since time.Duration) string {
	what := "events"
	if filter != "" {
		what = fmt.Sprintf("events matching %q", filter)
	}
	return fmt.Sprintf("no %s in %s since %s ago (--since widens the window)", what, group, cmdutil.FormatDuration(since))
}
