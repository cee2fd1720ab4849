package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
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

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ddbops version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := versionInfo{Version: f.Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
			if f.Settings.JSON() {
				return writeJSON(f.IO.Out, info)
			}
			_, err := fmt.Fprintf(f.IO.Out, "ddbops %s (%s %s/%s)\n", info.Version, info.Go, info.OS, info.Arch)
			return err
		},
	}
}
