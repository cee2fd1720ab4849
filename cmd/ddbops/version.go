package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version recorded by `go install` is used.
var version = ""

func buildVersion() string { return cmdutil.BuildVersion(version) }

// versionOptions are `ddbops version`'s dependencies.
type versionOptions struct {
	IO      *cmdutil.IOStreams
	JSON    bool
	Version string
}

func newVersionCmd(f *Factory, runF func(context.Context, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ddbops version",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.JSON, opts.Version = f.IO, f.Settings.JSON(), f.Version
			return runOr(cmd.Context(), opts, runF, runVersion)
		},
	}
}

func runVersion(_ context.Context, o *versionOptions) error {
	info := cmdutil.NewVersionInfo(o.Version)
	return cmdutil.WriteJSONOrText(o.IO.Out, o.JSON, info, "ddbops "+info.String())
}
