package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/pkgzip"
)

// packageOptions are `ddbops package`'s flags and dependencies.
type packageOptions struct {
	IO    *cmdutil.IOStreams
	Out   string // zip to write
	Arch  string // arm64 | x86_64
	JSON  bool
	Quiet bool

	// Build makes the artifact: pkgzip.Package, replaced in tests.
	Build func(context.Context, pkgzip.Options) (*pkgzip.Artifact, error)
}

// packageResult is what `ddbops package` reports on stdout.
type packageResult struct {
	Path       string `json:"path"`
	Bytes      int    `json:"bytes"`
	Arch       string `json:"arch"`
	CodeSha256 string `json:"codeSha256"`
	GoVersion  string `json:"goVersion"`
}

func newPackageCmd(f *Factory, runF func(context.Context, *packageOptions) error) *cobra.Command {
	opts := &packageOptions{IO: f.IO, Build: pkgzip.Package}
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Build the Lambda handler into a reproducible bootstrap.zip",
		Long: `Compile the handler (cmd/handler) for linux/<arch> without cgo into a zip
holding the one executable "bootstrap" of the provided.al2023 runtime. Same
source and Go version, same bytes and CodeSha256, so deploy skips unchanged
code. A checkout's handler is built, else the source embedded in this binary;
a Go toolchain must be on PATH (docs/provisioning.md#package).`,
		Example: `  ddbops package
  ddbops package --arch x86_64 --out dist/bootstrap-x86_64.zip
  ddbops package -o json | jq -r .codeSha256`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.Settings.JSON()
			opts.Quiet = f.Settings.Quiet
			return runOr(cmd.Context(), opts, runF, runPackage)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "", "zip file to write (replaced only if it is a previous handler zip)")
	fl.StringVar(&opts.Arch, "arch", "", "Lambda architecture: arm64|x86_64 (config key arch)")
	bindConfig(fl, "out", "package-out")
	bindConfig(fl, "arch", "arch")
	completeValues(cmd, map[string][]string{"arch": pkgzip.Arches()})
	_ = cmd.MarkFlagFilename("out", "zip")
	return cmd
}

func runPackage(ctx context.Context, opts *packageOptions) error {
	if !pkgzip.ValidArch(opts.Arch) {
		return cmdutil.UsageErrorf("invalid --arch %q: want %s", opts.Arch, strings.Join(pkgzip.Arches(), " or "))
	}
	if opts.Out == "" {
		return cmdutil.UsageErrorf("--out must name a file")
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return fmt.Errorf("package: %w", err)
	}
	// Checked before the build, which may take minutes, and again before
	// the rename.
	if out, err = pkgzip.Replaceable(out); err != nil {
		return err
	}

	var progress io.Writer
	if !opts.Quiet {
		progress = opts.IO.ErrOut
	}
	a, err := opts.Build(ctx, pkgzip.Options{Arch: opts.Arch, Log: progress})
	if err != nil {
		if errors.Is(err, pkgzip.ErrNoGo) {
			return cmdutil.WithHint(err, "ddbops compiles the handler: install Go 1.26 or later (https://go.dev/dl/), or pass a zip built elsewhere with --handler-zip")
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return cmdutil.WithHint(err, "a first build downloads modules through GOPROXY; for the full compiler output run `GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc ./cmd/handler` in a ddbops checkout")
	}
	if err := pkgzip.WriteZip(out, a.Zip); err != nil {
		return err
	}

	res := packageResult{Path: out, Bytes: len(a.Zip), Arch: a.Arch, CodeSha256: a.CodeSha256, GoVersion: a.GoVersion}
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "path        %s\nbytes       %d (%s)\narch        %s\ncodeSha256  %s\ngoVersion   %s\n",
		res.Path, res.Bytes, cmdutil.HumanBytes(res.Bytes), res.Arch, res.CodeSha256, res.GoVersion)
	return err
}
