package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/provision"
)

// deployOptions are `ddbops deploy`'s flags and dependencies.
type deployOptions struct {
	provDeps
	DryRun     bool
	Memory     int
	Timeout    int
	HandlerZip string
}

func newDeployCmd(f *Factory) *cobra.Command { return deployCmd(f, runDeploy) }

// deployCmd builds the command around run, so a test can observe the parsed
// options without calling AWS.
func deployCmd(f *Factory, run func(context.Context, *deployOptions) error) *cobra.Command {
	opts := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Push handler code and function configuration, then redeploy the API stage",
		Long: `Build the handler (or take --handler-zip), upload it only when its
CodeSha256 differs from the deployed code, apply the function configuration
(memory, timeout, architecture, runtime, environment), wait until Lambda
reports the update Successful, and create a new deployment of the REST API
on the stage. The stack must exist (ddbops setup).`,
		Example: `  ddbops deploy
  ddbops deploy --memory 1024 --timeout 30
  ddbops deploy --handler-zip bootstrap.zip --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.provDeps = newProvDeps(f)
			opts.Settings = f.Settings
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.DryRun, "dry-run", false, "show what would change and change nothing")
	fs.IntVar(&opts.Memory, "memory", 128, "Lambda memory in MB")
	fs.IntVar(&opts.Timeout, "timeout", 10, "Lambda timeout in seconds")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "deployment zip to upload (from ddbops package) instead of building the handler")
	bindConfig(fs, "memory", "memory")
	bindConfig(fs, "timeout", "timeout")
	return cmd
}

func runDeploy(ctx context.Context, o *deployOptions) (err error) {
	start := time.Now()
	spec := specFromSettings(o.Settings)
	spec.Memory, spec.Timeout = int32(o.Memory), int32(o.Timeout)
	var sess *stackSession
	out := newJSONOut(o.IO, o.Settings)
	defer func() {
		err = out.orFail(err, func() any { return failedResultJSON("deploy", o.Settings, sess, time.Since(start), err) })
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
	res, err := sess.prov.Deploy(ctx, provision.DeployOptions{DryRun: o.DryRun})
	sess.progress.Close()
	err = provErr(err)
	if o.Settings.JSON() {
		if jerr := out.write(newResultJSON("deploy", sess, res, time.Since(start), err)); jerr != nil {
			return jerr
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
	fmt.Fprintf(o.IO.Out, "Deployed stack %s: %s in %s (%d AWS calls, %d mutating)\n",
		spec.Stack, planCounts(res.Changes, false), fmtElapsed(time.Since(start)), total, mut)
	printEndpointSummary(o.IO.Out, res.InvokeURL, res.Auth, sess.prov.State().APIKeyID)
	return nil
}
