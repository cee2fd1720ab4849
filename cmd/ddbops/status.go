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
		Long: `Read every resource (nothing is changed) and compare it with the stack's
recorded desired state: exists / missing / drifted, with what differs, or
foreign (same name, no stack tag); then the invoke URL and auth mode. A flag,
variable or config file value that differs from the record is listed as
pending: ddbops setup applies it (docs/provisioning.md#status). The code hash
is compared with the last deployed one, or with --handler-zip.`,
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

func runStatus(ctx context.Context, o *statusOptions) (err error) {
	r := o.begin("status", o.Settings.spec())
	defer func() {
		err = r.end(err, func() any {
			return provision.NewStatusDoc(nil, r.spec, provision.CallsOf(r.rec), time.Since(r.start), err)
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
		if err := r.out.Write(provision.NewStatusDoc(rep, r.spec, provision.CallsOf(r.rec), time.Since(r.start), nil)); err != nil {
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
