package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// setupOptions are `ddbops setup`'s flags and dependencies.
type setupOptions struct {
	provDeps
	DryRun     bool
	Auth       string
	Memory     int
	Arch       string
	HandlerZip string
	Yes        bool
	CORS       string
}

func newSetupCmd(f *Factory, runF func(context.Context, *setupOptions) error) *cobra.Command {
	opts := &setupOptions{}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create or converge every AWS resource of the stack and deploy the API",
		Long: `Create, or converge to the desired state, every resource of the stack (IAM
policy and role, log group, function, table, REST API with its method,
integration, permission, stage deployment and throttling, and for apikey a key
and usage plan), each tagged ddbops:stack=<stack>. Idempotent: an unchanged
stack gets no mutating call, a failed run resumes, a same-named resource
without the tag is never touched. --dry-run prints the plan and changes nothing.

What setup is told (a flag, DDBOPS_* or the config file) is recorded as the
stack's desired state; a later run that is not told a value keeps the recorded
one (docs/provisioning.md#desired-state). --auth none needs --yes without a
terminal. Code: --handler-zip, else the handler is built as 'ddbops package'
does when needed; 'ddbops deploy' pushes new code.`,
		Example: `  ddbops setup
  ddbops setup --dry-run
  ddbops setup --auth apikey --memory 512 --arch x86_64
  ddbops setup --handler-zip bootstrap.zip -o json`,
		Args: cmdutil.NoArgs,
		RunE: provRunE(f, &opts.provDeps, opts, runF, runSetup),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	fs.StringVar(&opts.Auth, "auth", "", "API authorization: iam (SigV4), apikey (x-api-key) or none (open to the internet)")
	fs.IntVar(&opts.Memory, "memory", 0, "Lambda memory in MB")
	fs.StringVar(&opts.Arch, "arch", "", "Lambda architecture: arm64 or x86_64")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "deployment zip to use (from ddbops package) instead of building the handler")
	fs.StringVar(&opts.CORS, "cors", "", "browser origins allowed to call the API (OPTIONS preflight and Access-Control-Allow-Origin): comma-separated scheme://host[:port], or * for any; empty = none")
	fs.BoolVar(&opts.Yes, "yes", false, "confirm --auth none without asking (required when stdin is not a terminal)")
	bindConfig(fs, "auth", "auth")
	bindConfig(fs, "memory", "memory")
	bindConfig(fs, "arch", "arch")
	bindConfig(fs, "cors", "cors")
	completeValues(cmd, map[string][]string{"auth": wire.AuthModes, "arch": pkgzip.Arches(), "memory": memorySizes})
	_ = cmd.MarkFlagFilename("handler-zip", "zip")
	return cmd
}

func runSetup(ctx context.Context, o *setupOptions) error {
	spec := o.Settings.spec()
	spec.Auth, spec.Memory, spec.Arch = o.Auth, int32(o.Memory), o.Arch
	spec.CORSOrigins = provision.SplitCORSOrigins(o.CORS)
	_, err := o.converge(ctx, "setup", spec, o.HandlerZip, o.DryRun, func(r *stackRun) (*provision.Result, error) {
		// r.spec is the desired state: auth none may be the record's.
		if r.spec.Auth == wire.AuthNone && !o.DryRun && !o.Yes {
			if !o.IO.IsInTTY {
				return nil, cmdutil.WithHint(cmdutil.UsageErrorf("setup --auth none opens the API to anyone on the internet, and stdin is not a terminal to confirm"),
					"pass --yes to open it (auth none from "+cmp.Or(o.Settings.Source("auth"), "the stack's recorded desired state")+"), or use --auth iam|apikey")
			}
			if err := r.confirm("--auth none: the API will accept unauthenticated requests from anyone on the internet. Continue?",
				"setup cancelled: nothing was changed"); err != nil {
				return nil, err
			}
		}
		res, err := r.prov.Setup(ctx, provision.SetupOptions{DryRun: o.DryRun, CompareCode: o.HandlerZip != ""})
		if err == nil && !o.DryRun && r.spec.Auth == wire.AuthNone { // on stderr with -o json too
			fmt.Fprintf(o.IO.ErrOut, "warning: auth none: anyone on the internet can POST to %s and read or change the table %s; use --auth iam or apikey unless that is intended\n", res.InvokeURL, r.spec.Table)
		}
		return res, err
	}, func(r *stackRun, res *provision.Result) {
		fmt.Fprintf(o.IO.Out, "Stack %s is ready: %s\n", r.spec.Stack, r.summary(res.Changes))
		printEndpointSummary(o.IO.Out, res.InvokeURL, r.spec.Auth, res.APIKeyID, r.spec.EndpointURL)
	})
	return err
}

// printEndpointSummary tells how to call the API that was set up.
func printEndpointSummary(w io.Writer, url, auth, keyID, endpoint string) {
	for _, line := range provision.EndpointSummary(url, auth, keyID, endpoint) {
		fmt.Fprintln(w, "  "+line)
	}
}
