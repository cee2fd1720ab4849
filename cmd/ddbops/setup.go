package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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

func newSetupCmd(f *Factory) *cobra.Command { return setupCmd(f, runSetup) }

// setupCmd builds the command around run, so a test can observe the parsed
// options without calling AWS.
func setupCmd(f *Factory, run func(context.Context, *setupOptions) error) *cobra.Command {
	opts := &setupOptions{}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create or converge every AWS resource of the stack and deploy the API",
		Long: `Create, or bring back to the desired state, everything the stack needs:
the IAM policy and role, the function's log group, the Lambda function, the
DynamoDB table and the REST API (resource, POST method, Lambda proxy
integration, invoke permission, deployment to the stage, stage throttling,
and for --auth apikey an API key with a usage plan). Every resource carries
the tag ddbops:stack=<stack>; resources are found by name and that tag, so
a lost state file orphans nothing.

Setup is idempotent: a re-run on an unchanged stack makes no mutating AWS
call, and a re-run after a failure resumes where it stopped. It never
modifies a same-named resource without the stack's tag: it stops and names
it. --dry-run prints the plan (create / update / unchanged, with what
differs) and changes nothing.

Code: --handler-zip FILE, else the handler is built as 'ddbops package'
does, only when the function is created or its architecture changes. To
push new code to an existing function use 'ddbops deploy'.`,
		Example: `  ddbops setup
  ddbops setup --dry-run
  ddbops setup --auth apikey --memory 512 --arch x86_64
  ddbops setup --handler-zip bootstrap.zip -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.provDeps = newProvDeps(f)
			opts.Settings = f.Settings
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	fs.StringVar(&opts.Auth, "auth", "iam", "API authorization: iam (SigV4), apikey (x-api-key) or none (open to the internet)")
	fs.IntVar(&opts.Memory, "memory", 128, "Lambda memory in MB")
	fs.StringVar(&opts.Arch, "arch", "arm64", "Lambda architecture: arm64 or x86_64")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "deployment zip to use (from ddbops package) instead of building the handler")
	fs.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (--auth none on a terminal)")
	fs.StringVar(&opts.CORS, "cors", "", "browser origins allowed to call the API (OPTIONS preflight and Access-Control-Allow-Origin): comma-separated scheme://host[:port], or * for any; empty = none")
	bindConfig(fs, "auth", "auth")
	bindConfig(fs, "memory", "memory")
	bindConfig(fs, "arch", "arch")
	bindConfig(fs, "cors", "cors")
	return cmd
}

func runSetup(ctx context.Context, o *setupOptions) (err error) {
	start := time.Now()
	spec := specFromSettings(o.Settings)
	spec.Auth, spec.Memory, spec.Arch = o.Auth, int32(o.Memory), o.Arch
	spec.CORSOrigins = provision.SplitCORSOrigins(o.CORS)
	var sess *stackSession
	out := newJSONOut(o.IO, o.Settings)
	defer func() {
		err = out.orFail(err, func() any { return failedResultJSON("setup", o.Settings, sess, time.Since(start), err) })
	}()
	code, err := handlerCode(o.provDeps, o.HandlerZip, func() *progress { return sess.progress })
	if err != nil {
		return err
	}
	sess, err = openStack(ctx, o.provDeps, spec, code)
	if err != nil {
		return err
	}
	defer sess.progress.Close()
	if spec.Auth == wire.AuthNone && !o.DryRun && !o.Yes && o.IO.IsInTTY {
		ok, err := confirm(o.IO, "--auth none: the API will accept unauthenticated requests from anyone on the internet. Continue?")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("setup cancelled: nothing was changed")
		}
	}
	res, err := sess.prov.Setup(ctx, provision.SetupOptions{DryRun: o.DryRun, CompareCode: o.HandlerZip != ""})
	sess.progress.Close()
	err = provErr(err)
	if o.Settings.JSON() {
		if jerr := out.write(newResultJSON("setup", sess, res, time.Since(start), err)); jerr != nil {
			return jerr
		}
		if err == nil && spec.Auth == wire.AuthNone && !o.DryRun {
			warnOpenAPI(o.IO.ErrOut, res.InvokeURL, spec.Table)
		}
		return err
	}
	if o.DryRun && res != nil {
		printPlan(o.IO.Out, res.Changes)
		fmt.Fprintf(o.IO.Out, "\nPlan: %s (%s)\n", planCounts(res.Changes, true), callsLine(sess, "dry run: nothing was changed"))
		return err
	}
	if err != nil {
		return err
	}
	total, mut := sess.rec.Counts()
	fmt.Fprintf(o.IO.Out, "Stack %s is ready: %s in %s (%d AWS calls, %d mutating)\n",
		spec.Stack, planCounts(res.Changes, false), fmtElapsed(time.Since(start)), total, mut)
	printEndpointSummary(o.IO.Out, res.InvokeURL, spec.Auth, res.APIKeyID)
	if spec.Auth == wire.AuthNone {
		warnOpenAPI(o.IO.ErrOut, res.InvokeURL, spec.Table)
	}
	return nil
}

func callsLine(s *stackSession, what string) string {
	t, m := s.rec.Counts()
	return fmt.Sprintf("%s; %d AWS calls, %d mutating", what, t, m)
}

func warnOpenAPI(w io.Writer, url, table string) {
	fmt.Fprintf(w, "warning: auth none: anyone on the internet can POST to %s and read or change the table %s; use --auth iam or apikey unless that is intended\n", url, table)
}

// printPlan renders a plan (or a teardown's list) as a table.
func printPlan(w io.Writer, cs []provision.Change) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tRESOURCE\tNAME\tDETAILS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Action, c.Kind, c.Name, c.Summary())
	}
	_ = tw.Flush()
}

// printEndpointSummary tells how to call the API that was set up.
func printEndpointSummary(w io.Writer, url, auth, keyID string) {
	if url == "" {
		return
	}
	fmt.Fprintf(w, "  invoke URL: %s\n", url)
	switch auth {
	case wire.AuthIAM:
		fmt.Fprintln(w, "  auth:       iam (requests are signed with SigV4; ddbops call signs with your AWS credentials)")
	case wire.AuthAPIKey:
		fmt.Fprintf(w, "  auth:       apikey (x-api-key header; key id %s, value: aws apigateway get-api-key --api-key %s --include-value)\n", keyID, keyID)
	default:
		fmt.Fprintln(w, "  auth:       none (open API)")
	}
	fmt.Fprintln(w, "  try:        ddbops call create --id 1 --name Bob")
}
