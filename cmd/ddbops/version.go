package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version recorded by `go install` is used.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

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
	info := versionInfo{Version: o.Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if o.JSON {
		return cmdutil.WriteJSON(o.IO.Out, info)
	}
	_, err := fmt.Fprintf(o.IO.Out, "ddbops %s (%s %s/%s)\n", info.Version, info.Go, info.OS, info.Arch)
	return err
}
