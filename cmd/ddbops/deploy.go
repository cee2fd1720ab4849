package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
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

func newDeployCmd(f *Factory, runF func(context.Context, *deployOptions) error) *cobra.Command {
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
		Args: cmdutil.NoArgs,
		RunE: provRunE(f, &opts.provDeps, opts, runF, runDeploy),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.DryRun, "dry-run", false, "show what would change and change nothing")
	fs.IntVar(&opts.Memory, "memory", 0, "Lambda memory in MB")
	fs.IntVar(&opts.Timeout, "timeout", 0, "Lambda timeout in seconds")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "deployment zip to upload (from ddbops package) instead of building the handler")
	bindConfig(fs, "memory", "memory")
	bindConfig(fs, "timeout", "timeout")
	completeValues(cmd, map[string][]string{"memory": memorySizes})
	_ = cmd.MarkFlagFilename("handler-zip", "zip")
	return cmd
}

func runDeploy(ctx context.Context, o *deployOptions) error {
	spec := o.Settings.spec()
	spec.Memory, spec.Timeout = int32(o.Memory), int32(o.Timeout)
	_, err := o.converge(ctx, "deploy", spec, o.HandlerZip, o.DryRun, func(r *stackRun) (*provision.Result, error) {
		for _, d := range r.pending {
			if !slices.Contains(provision.DeployConfigKeys, d.Field) {
				r.note("the configuration changes %s (from %s); deploy applies only %s: ddbops setup applies it",
					d, o.Settings.Source(d.Field), strings.Join(provision.DeployConfigKeys, ", "))
			}
		}
		return r.prov.Deploy(ctx, provision.DeployOptions{DryRun: o.DryRun})
	}, func(r *stackRun, res *provision.Result) {
		fmt.Fprintf(o.IO.Out, "Deployed stack %s: %s\n", spec.Stack, r.summary(res.Changes))
		printEndpointSummary(o.IO.Out, res.InvokeURL, res.Auth, r.prov.State().APIKeyID, r.spec.EndpointURL)
	})
	return err
}
