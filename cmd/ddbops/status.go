package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
)

// statusOptions are `ddbops status`'s flags and dependencies.
type statusOptions struct {
	provDeps
	ExitCode   bool
	HandlerZip string
}

func newStatusCmd(f *Factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every resource of the stack: exists, missing, drifted or foreign",
		Long: `Read every resource of the stack (no change is made) and compare it with the
desired state: one row per resource with exists / missing / drifted (and
what differs: memory, timeout, architecture, runtime, environment, code
hash, role, policy document, trust policy, log retention, method
authorization, integration URI, permission source ARN, stage throttling) /
foreign (a same-named resource without the stack's tag), then the invoke URL
and auth mode.

Resources are compared with the stack's recorded desired state (what setup
and deploy were told; docs/provisioning.md#desired-state), so status reports
changes made behind ddbops' back; a flag, variable or config file value that
differs from it is listed as pending (ddbops setup applies it). The code hash
is compared with the last deployed one, or with --handler-zip when given.`,
		Example: `  ddbops status
  ddbops status --exit-code || ddbops setup
  ddbops status -o json | jq '.resources[] | select(.status != "exists")'`,
		Args: cmdutil.NoArgs,
		RunE: provRunE(f, &opts.provDeps, opts, runF, runStatus),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.ExitCode, "exit-code", false, "exit 1 when any resource is missing, drifted or foreign")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "compare the deployed code with this zip")
	_ = cmd.MarkFlagFilename("handler-zip", "zip")
	return cmd
}

type statusJSON struct {
	*provision.StatusReport
	APICalls  provision.Calls `json:"apiCalls"`
	ElapsedMS int64           `json:"elapsedMs"`
	Error     string          `json:"error,omitempty"`
}

func runStatus(ctx context.Context, o *statusOptions) (err error) {
	r := o.begin("status", o.Settings.spec())
	defer func() {
		err = r.end(err, func() any {
			// No report: the stack's state is unknown, not in sync.
			return statusJSON{StatusReport: &provision.StatusReport{Stack: r.spec.Stack, Region: r.spec.Region, WantAuth: r.spec.Auth, Rows: []provision.StatusRow{}},
				APICalls: provision.CallsOf(r.rec), ElapsedMS: time.Since(r.start).Milliseconds(), Error: cmdutil.ErrString(err)}
		})
	}()
	r.asRecorded = true
	if err := r.open(ctx, nil); err != nil {
		return err
	}
	so := provision.StatusOptions{CodeSha256: r.prov.State().CodeSha256, Pending: r.pending}
	if o.HandlerZip != "" {
		b, err := readHandlerZip(o.HandlerZip)
		if err != nil {
			return err
		}
		so.CodeSha256 = provision.CodeSha256(b)
	}
	rep, err := r.prov.Status(ctx, so)
	if err != nil {
		return provision.WithHint(err)
	}
	if o.Settings.JSON() {
		if err := r.out.Write(statusJSON{StatusReport: rep, APICalls: provision.CallsOf(r.rec), ElapsedMS: time.Since(r.start).Milliseconds()}); err != nil {
			return err
		}
	} else {
		printStatus(o.IO, rep, o.Settings.Source)
	}
	if o.ExitCode && !rep.OK {
		return &cmdutil.SilentError{Code: cmdutil.ExitError}
	}
	return nil
}

func printStatus(ios *cmdutil.IOStreams, rep *provision.StatusReport, source func(string) string) {
	cs := ios.ColorScheme()
	colors := map[string]func(string) string{provision.StatusExists: cs.Green, provision.StatusMissing: cs.Yellow, provision.StatusDrifted: cs.Yellow, provision.StatusForeign: cs.Red}
	rows := rep.Table()
	for _, row := range rows[1:] {
		if c, ok := colors[row[2]]; ok {
			row[2] = c(row[2])
		}
	}
	_ = cmdutil.WriteTable(ios.Out, rows, false)
	fmt.Fprintln(ios.Out)
	for _, line := range rep.Summary(source) {
		fmt.Fprintln(ios.Out, line)
	}
}
