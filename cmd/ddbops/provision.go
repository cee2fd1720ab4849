package main

import (
	"context"
	"errors"
	"fmt"
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
	progress *provision.StepPrinter
	// recorded is the stack's recorded desired state (open), pending what
	// the configuration changes in it (provision.DesiredSpec).
	recorded provision.Spec
	pending  []provision.Diff
	base     provision.Spec // the configuration's spec, before the record
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
	return &stackRun{provDeps: d, command: command, start: time.Now(), out: cmdutil.NewJSONOut(d.IO.Out, d.Settings.JSON()), spec: spec, base: spec}
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
	st, err := provision.LoadStackState(r.StatePath)
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
	st2, notes := provision.Locate(&cfg, st, r.spec.Stack)
	for _, n := range notes {
		r.note("%s", n)
	}
	if st2 != st {
		if err := r.desire(nil); err != nil {
			return err
		}
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
	r.progress = provision.NewStepPrinter(r.IO, r.Settings.Quiet)
	r.prov, err = provision.New(provision.Options{
		Spec: spec, Clients: provision.NewClients(cfg, r.rec), Code: code,
		StatePath: r.StatePath, Reporter: r.progress,
	})
	if err != nil {
		return cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	return nil
}

// desire sets r.spec to the desired state (explicit settings over the
// record st over the defaults; provision.Desire), r.recorded and
// r.pending, and validates it.
func (r *stackRun) desire(st *provision.State) error {
	d, err := provision.Desire(r.base, r.Settings.Explicit, st, r.applies)
	if err != nil {
		return fmt.Errorf("state file %s: %w", r.StatePath, err)
	}
	probe := d.Spec
	if probe.Region == "" {
		probe.Region = "us-east-1"
	}
	if err := probe.Validate(); err != nil {
		return r.Settings.invalidSetting(err)
	}
	r.spec, r.recorded, r.pending = d.Spec, d.Recorded, d.Pending
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
	build := func(ctx context.Context, arch string) ([]byte, error) {
		return r.Build(ctx, pkgzip.Options{Arch: arch})
	}
	return provision.BuiltCode(build, func() provision.Reporter { return r.progress }), nil
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
	err = provision.WithHint(err)
	if r.Settings.JSON() {
		if jerr := r.out.Write(r.result(res, err)); jerr != nil {
			return jerr
		}
		return err
	}
	if dryRun && res != nil {
		_ = cmdutil.WriteTable(r.IO.Out, provision.PlanRows(res.Changes), false)
		if planLine == nil {
			planLine = func() string {
				return fmt.Sprintf("Plan: %s (%s)", provision.PlanCounts(res.Changes, true), r.calls("dry run: nothing was changed"))
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
	c := provision.CallsOf(r.rec)
	return fmt.Sprintf("%s in %s (%d AWS calls, %d mutating)", provision.PlanCounts(cs, false), cmdutil.FormatElapsed(time.Since(r.start)), c.Total, c.Mutating)
}

func (r *stackRun) calls(what string) string {
	c := provision.CallsOf(r.rec)
	return fmt.Sprintf("%s; %d AWS calls, %d mutating", what, c.Total, c.Mutating)
}

// result is the -o json document of res (provision.NewReport).
func (r *stackRun) result(res *provision.Result, err error) provision.Report {
	return provision.NewReport(r.command, r.spec, res, provision.CallsOf(r.rec), r.backupARN, time.Since(r.start), err)
}
