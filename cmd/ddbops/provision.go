package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
)

// provDeps are what the provisioning commands (setup, deploy, status,
// teardown, logs) need besides their flags. Tests replace AWSConfig (an
// emulator) and Build (a tiny zip instead of compiling the handler).
type provDeps struct {
	IO        *cmdutil.IOStreams
	Settings  Settings
	AWSConfig func(context.Context) (aws.Config, error)
	Build     func(context.Context, pkgzip.Options) ([]byte, error)
	// StatePath is the stack's state file ("" = none).
	StatePath string
}

// provRunE is the RunE of a provisioning command: its dependencies come
// from f once the settings are resolved.
func provRunE[O any](f *Factory, deps *provDeps, opts *O, runF, run func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		path, _ := f.StatePath() // a bad stack name: open's validation says why
		*deps = provDeps{IO: f.IO, Settings: f.Settings, AWSConfig: f.AWSConfig, Build: pkgzip.Build, StatePath: path}
		return runOr(cmd.Context(), opts, runF, run)
	}
}

// stackRun is one run of a provisioning command and the preamble they all
// share: the provisioner with its AWS call recorder and progress on
// stderr, and with -o json exactly one document on stdout whatever path
// the command leaves by.
type stackRun struct {
	provDeps
	command  string
	start    time.Time
	out      *cmdutil.JSONOut
	spec     provision.Spec
	prov     *provision.Provisioner // nil until open
	rec      *provision.Recorder
	progress *progress
	// recorded is the stack's recorded desired state (open), pending what
	// the configuration changes in it (provision.DesiredSpec).
	recorded provision.Spec
	pending  []provision.Diff
	base     *provision.Spec // the configuration's spec, before the record
	// asRecorded opens the provisioner on the recorded desired state
	// (status: drift is measured against it, the config's changes are
	// pending), not the desired state with the configuration applied.
	asRecorded bool
	// applies are the desired-state keys the command applies (nil: all);
	// the configuration's changes to the others stay pending.
	applies []string
	// backupARN is the table backup teardown took, for its document.
	backupARN string
}

func (d provDeps) begin(command string, spec provision.Spec) *stackRun {
	return &stackRun{provDeps: d, command: command, start: time.Now(), out: cmdutil.NewJSONOut(d.IO.Out, d.Settings.JSON()), spec: spec}
}

// end stops the progress and, when the command failed without printing
// its document, prints doc() (the result document when doc is nil).
func (r *stackRun) end(err error, doc func() any) error {
	if r.progress != nil {
		r.progress.Close()
	}
	if doc == nil {
		doc = func() any { return r.result(nil, err) }
	}
	return r.out.OrFail(err, doc)
}

// open applies the desired-state rule to the spec (provision.DesiredSpec
// over the state file), validates it (bad settings are usage errors),
// loads the AWS configuration — on the endpoint the stack was set up
// against unless one is configured — and builds the provisioner.
func (r *stackRun) open(ctx context.Context, code provision.CodeFunc) error {
	st, err := r.loadState()
	if err != nil {
		return err
	}
	// The region comes from the SDK chain when not set explicitly; check
	// everything else first so bad input never waits for AWS.
	if err := r.desire(st); err != nil {
		return err
	}
	cfg, err := r.AWSConfig(ctx)
	if err != nil {
		return err
	}
	if st != nil && st.Region != "" && st.Region != cfg.Region {
		// Another region's stack: nothing of the record applies.
		r.note("the state file records stack %s in %s; this run is for %s", r.spec.Stack, st.Region, cfg.Region)
		st = nil
		if err := r.desire(nil); err != nil {
			return err
		}
	}
	if st != nil && st.EndpointURL != "" && cfg.BaseEndpoint == nil {
		cfg.BaseEndpoint = aws.String(st.EndpointURL)
		r.note("stack %s lives on %s (recorded by setup): using it; --endpoint-url chooses another", r.spec.Stack, st.EndpointURL)
	}
	r.spec.Region = cfg.Region
	if r.spec.EndpointURL == "" {
		r.spec.EndpointURL = aws.ToString(cfg.BaseEndpoint)
	}
	r.recorded.Region, r.recorded.EndpointURL = r.spec.Region, r.spec.EndpointURL
	spec := r.spec
	if r.asRecorded {
		spec = r.recorded
	}
	r.rec = &provision.Recorder{}
	r.progress = newProgress(r.IO, r.Settings.Quiet)
	r.prov, err = provision.New(provision.Options{
		Spec: spec, Clients: provision.NewClients(cfg, r.rec), Code: code,
		StatePath: r.StatePath, Reporter: r.progress,
	})
	if err != nil {
		return cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	return nil
}

// loadState reads the stack's state file: nil when there is none.
func (r *stackRun) loadState() (*provision.State, error) {
	if r.StatePath == "" {
		return nil, nil
	}
	st, err := provision.LoadState(r.StatePath)
	if errors.Is(err, provision.ErrNoState) {
		return nil, nil
	}
	return st, cmdutil.WithHint(err, "fix or move the file away: resources are found by name and tag, and setup rewrites it")
}

// desire sets r.spec to the desired state (explicit settings over the
// record st over the defaults), r.recorded and r.pending, and validates.
func (r *stackRun) desire(st *provision.State) error {
	if r.base == nil {
		b := r.spec
		r.base = &b
	}
	base := *r.base
	explicit := r.Settings.Explicit
	if r.applies != nil {
		// What this command does not apply stays as recorded.
		explicit = func(k string) bool { return slices.Contains(r.applies, k) && r.Settings.Explicit(k) }
	}
	spec, err := provision.DesiredSpec(base, explicit, st)
	var all provision.Spec
	if err == nil {
		all, err = provision.DesiredSpec(base, r.Settings.Explicit, st)
	}
	if err == nil {
		r.recorded, err = provision.DesiredSpec(base, nil, st)
	}
	if err != nil {
		return cmdutil.WithHint(fmt.Errorf("state file %s: %w", r.StatePath, err), "fix the value, or remove it from the file's \"desired\"")
	}
	r.pending = nil
	if st.RecordedConfig(base.Stack) != nil {
		r.pending = r.recorded.Config().Changes(all.Config())
	}
	probe := spec
	if probe.Region == "" {
		probe.Region = "us-east-1"
	}
	if err := probe.Validate(); err != nil {
		return r.Settings.invalidSetting(err)
	}
	r.spec = spec
	return nil
}

// note prints a diagnostic line on stderr (not with -q).
func (r *stackRun) note(format string, args ...any) {
	if !r.Settings.Quiet {
		fmt.Fprintf(r.IO.ErrOut, "note: "+format+"\n", args...)
	}
}

// converge is setup's and deploy's run: open the stack with the handler
// code of zipFile, do the work, report it (done prints a success).
func (d provDeps) converge(ctx context.Context, command string, spec provision.Spec, zipFile string, dryRun bool,
	do func(*stackRun) (*provision.Result, error), done func(*stackRun, *provision.Result)) (res *provision.Result, err error) {
	r := d.begin(command, spec)
	defer func() { err = r.end(err, nil) }()
	if command == "deploy" {
		r.applies = provision.DeployConfigKeys
	}
	code, err := r.handlerCode(zipFile)
	if err != nil {
		return nil, err
	}
	if err := r.open(ctx, code); err != nil {
		return nil, err
	}
	res, err = do(r)
	return res, r.report(res, err, dryRun, nil, func() { done(r, res) })
}

// handlerCode returns the code source: the --handler-zip file, or the
// handler built by `ddbops package` (lazily: only when code is needed).
func (r *stackRun) handlerCode(zipFile string) (provision.CodeFunc, error) {
	if zipFile != "" {
		b, err := readHandlerZip(zipFile)
		if err != nil {
			return nil, err
		}
		return func(context.Context, string) ([]byte, error) { return b, nil }, nil
	}
	return func(ctx context.Context, arch string) ([]byte, error) {
		name := "bootstrap.zip (" + arch + ")"
		r.progress.StepStarted("handler", name)
		start := time.Now()
		z, err := r.Build(ctx, pkgzip.Options{Arch: arch})
		c := provision.Change{Kind: "handler", Name: name, Action: "built", Elapsed: time.Since(start)}
		if err != nil {
			c.Action, c.Err = provision.Failed, err
		} else {
			c.Note = "CodeSha256 " + provision.CodeSha256(z)
		}
		r.progress.StepDone(c)
		if err != nil {
			return nil, cmdutil.WithHint(err, "pass --handler-zip FILE (from ddbops package), or run from a ddbops checkout with Go installed")
		}
		return z, nil
	}, nil
}

func readHandlerZip(path string) ([]byte, error) {
	b, err := pkgzip.ReadDeployment(path)
	if err != nil {
		return nil, cmdutil.UsageErrorf("--handler-zip %v", err)
	}
	return b, nil
}

// confirm asks question on the terminal, with the spinner stopped; any
// answer but y/yes ends the command with the error cancelled.
func (r *stackRun) confirm(question, cancelled string) error {
	r.progress.Close()
	ok, err := cmdutil.Confirm(r.IO, question)
	r.progress.Resume()
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(cancelled)
	}
	return nil
}

// report renders the outcome of setup, deploy or teardown: the -o json
// document; or the plan of a dry run and its planLine (nil: "Plan: ...");
// or, after success, what done prints.
func (r *stackRun) report(res *provision.Result, err error, dryRun bool, planLine func() string, done func()) error {
	r.progress.Close()
	err = provErr(err)
	if r.Settings.JSON() {
		if jerr := r.out.Write(r.result(res, err)); jerr != nil {
			return jerr
		}
		return err
	}
	if dryRun && res != nil {
		printPlan(r.IO.Out, res.Changes)
		if planLine == nil {
			planLine = func() string {
				return fmt.Sprintf("Plan: %s (%s)", planCounts(res.Changes, true), r.calls("dry run: nothing was changed"))
			}
		}
		if line := planLine(); line != "" {
			fmt.Fprintf(r.IO.Out, "\n%s\n", line)
		}
		return err
	}
	if err != nil {
		return err
	}
	done()
	return nil
}

// summary is a result line's tail: "2 created, 1 unchanged in 1.5s (9 AWS
// calls, 4 mutating)".
func (r *stackRun) summary(cs []provision.Change) string {
	c := r.counts()
	return fmt.Sprintf("%s in %s (%d AWS calls, %d mutating)", planCounts(cs, false), cmdutil.FormatElapsed(time.Since(r.start)), c.Total, c.Mutating)
}

func (r *stackRun) calls(what string) string {
	c := r.counts()
	return fmt.Sprintf("%s; %d AWS calls, %d mutating", what, c.Total, c.Mutating)
}

// provErr attaches the provision error's hint, if any, for PrintError.
func provErr(err error) error {
	var pe *provision.Error
	if errors.As(err, &pe) && pe.Hint != "" && cmdutil.HintOf(err) == "" {
		return cmdutil.WithHint(err, pe.Hint)
	}
	return err
}

// callCounts is the number of AWS requests a command made.
type callCounts struct {
	Total    int `json:"total"`
	Mutating int `json:"mutating"`
}

func (r *stackRun) counts() callCounts {
	if r.rec == nil {
		return callCounts{}
	}
	t, m := r.rec.Counts()
	return callCounts{Total: t, Mutating: m}
}

// changeJSON is one resource line of a -o json document.
type changeJSON struct {
	Resource  string           `json:"resource"`
	Name      string           `json:"name"`
	Action    string           `json:"action"`
	Diffs     []provision.Diff `json:"diffs,omitempty"`
	Note      string           `json:"note,omitempty"`
	Error     string           `json:"error,omitempty"`
	ElapsedMS int64            `json:"elapsedMs"`
}

// resultJSON is the -o json document of setup, deploy and teardown.
type resultJSON struct {
	Command   string       `json:"command"`
	Stack     string       `json:"stack"`
	Region    string       `json:"region"`
	DryRun    bool         `json:"dryRun"`
	Changes   []changeJSON `json:"changes"`
	InvokeURL string       `json:"invokeUrl,omitempty"`
	Auth      string       `json:"auth,omitempty"`
	APIKeyID  string       `json:"apiKeyId,omitempty"`
	BackupARN string       `json:"backupArn,omitempty"`
	APICalls  callCounts   `json:"apiCalls"`
	ElapsedMS int64        `json:"elapsedMs"`
	Error     string       `json:"error,omitempty"`
}

// result is the document of res (nil: the command stopped before it had
// one, possibly before the provisioner was opened).
func (r *stackRun) result(res *provision.Result, err error) resultJSON {
	j := resultJSON{Command: r.command, Stack: r.spec.Stack, Region: r.spec.Region, Changes: []changeJSON{},
		BackupARN: r.backupARN, APICalls: r.counts(), ElapsedMS: time.Since(r.start).Milliseconds(), Error: cmdutil.ErrString(err)}
	if res == nil {
		return j
	}
	j.DryRun, j.InvokeURL, j.Auth, j.APIKeyID = res.DryRun, res.InvokeURL, res.Auth, res.APIKeyID
	for _, c := range res.Changes {
		cj := changeJSON{Resource: c.Kind, Name: c.Name, Action: string(c.Action), Diffs: c.Diffs, Note: c.Note,
			Error: cmdutil.ErrString(c.Err), ElapsedMS: c.Elapsed.Milliseconds()}
		j.Changes = append(j.Changes, cj)
	}
	return j
}

// printPlan renders a plan (or a teardown's list) as a table.
func printPlan(w io.Writer, cs []provision.Change) {
	rows := [][]string{{"ACTION", "RESOURCE", "NAME", "DETAILS"}}
	for _, c := range cs {
		rows = append(rows, []string{string(c.Action), c.Kind, c.Name, c.Summary()})
	}
	_ = cmdutil.WriteTable(w, rows, false)
}

var (
	planOrder = []provision.Action{provision.Create, provision.Update, provision.Delete, provision.Unchanged, provision.Blocked, provision.Keep, provision.Absent}
	planWords = map[provision.Action]string{
		provision.Create: "to create", provision.Update: "to update", provision.Delete: "to delete", provision.Unchanged: "unchanged",
		provision.Blocked: "blocked", provision.Keep: "not owned (kept)", provision.Absent: "not found",
	}
	doneWords = map[provision.Action]string{provision.Create: "created", provision.Update: "updated", provision.Delete: "deleted"}
	// planOf folds a result's actions into the plan's.
	planOf = map[provision.Action]provision.Action{provision.Created: provision.Create, provision.Updated: provision.Update, provision.Deleted: provision.Delete}
)

// planCounts summarises a plan or result as "2 to create, 1 to update".
func planCounts(cs []provision.Change, dry bool) string {
	n := map[provision.Action]int{}
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
	if n[provision.Failed] > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n[provision.Failed]))
	}
	return strings.Join(parts, ", ")
}

// progress reports provisioning steps (a provision.Reporter) on stderr as
// one line per finished step: mark, resource, result, elapsed time.
type progress struct{ *cmdutil.Steps }

func newProgress(ios *cmdutil.IOStreams, quiet bool) *progress {
	return &progress{cmdutil.NewSteps(ios, quiet)}
}

// StepStarted implements provision.Reporter.
func (p *progress) StepStarted(kind, name string) { p.Started(kind + " " + name) }

// StepDone implements provision.Reporter.
func (p *progress) StepDone(c provision.Change) {
	detail := c.Summary()
	if c.Err != nil {
		detail = c.Err.Error()
	}
	failed := c.Action == provision.Failed || c.Action == provision.Blocked
	p.Done(c.Kind+" "+c.Name, p.Line(failed, c.Kind, c.Name, string(c.Action), detail, c.Elapsed))
}
