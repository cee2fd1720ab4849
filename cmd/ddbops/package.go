package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/pkgzip"
)

// packageOptions are `ddbops package`'s flags and dependencies.
type packageOptions struct {
	IO    *IOStreams
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

func newPackageCmd(f *Factory) *cobra.Command {
	return packageCmd(f, runPackage)
}

// packageCmd builds the command around run, so that a test can observe
// the parsed options without building anything.
func packageCmd(f *Factory, run func(context.Context, *packageOptions) error) *cobra.Command {
	opts := &packageOptions{IO: f.IO, Build: pkgzip.Package}
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Build the Lambda handler into a reproducible bootstrap.zip",
		Long: `Compile the Lambda handler (cmd/handler) for linux/<arch> without cgo and
zip it as the single executable "bootstrap" that the provided.al2023 runtime
runs. The same handler source built by the same Go version gives a
byte-identical zip, hence the same CodeSha256, so deploy can skip
unchanged code.

Inside a ddbops source checkout the checkout's handler is built; elsewhere
(an installed ddbops) the handler source embedded in this binary is built.
Either way a Go toolchain must be on PATH; third-party modules come from the
module cache or GOPROXY.`,
		Example: `  ddbops package
  ddbops package --arch x86_64 --out dist/bootstrap-x86_64.zip
  ddbops package -o json | jq -r .codeSha256`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.JSON = f.Settings.JSON()
			opts.Quiet = f.Settings.Quiet
			return run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", "bootstrap.zip", "zip file to write (replaced only if it is a previous handler zip)")
	fl.StringVar(&opts.Arch, "arch", "arm64", "Lambda architecture: arm64|x86_64 (config key arch)")
	bindConfig(fl, "arch", "arch")
	return cmd
}

func runPackage(ctx context.Context, opts *packageOptions) error {
	if !pkgzip.ValidArch(opts.Arch) {
		return usageErrorf("invalid --arch %q: want %s", opts.Arch, strings.Join(pkgzip.Arches(), " or "))
	}
	if opts.Out == "" {
		return usageErrorf("--out must name a file")
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return fmt.Errorf("package: %w", err)
	}
	// Checked before the build, which may take minutes, and again before
	// the rename.
	if out, err = replaceableOut(out); err != nil {
		return err
	}

	var progress io.Writer
	if !opts.Quiet {
		progress = opts.IO.ErrOut
	}
	a, err := opts.Build(ctx, pkgzip.Options{Arch: opts.Arch, Log: progress})
	if err != nil {
		if errors.Is(err, pkgzip.ErrNoGo) {
			return withHint(err, "ddbops compiles the handler: install Go 1.26 or later (https://go.dev/dl/), or pass a zip built elsewhere with --handler-zip")
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return withHint(err, "a first build downloads modules through GOPROXY; for the full compiler output run `GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc ./cmd/handler` in a ddbops checkout")
	}
	if err := writeFileAtomic(out, a.Zip); err != nil {
		return err
	}

	res := packageResult{Path: out, Bytes: len(a.Zip), Arch: a.Arch, CodeSha256: a.CodeSha256, GoVersion: a.GoVersion}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "path        %s\nbytes       %d (%s)\narch        %s\ncodeSha256  %s\ngoVersion   %s\n",
		res.Path, res.Bytes, humanBytes(res.Bytes), res.Arch, res.CodeSha256, res.GoVersion)
	return err
}

// replaceableOut returns the file to write for out (a symlink is written
// through), or an error when out holds something that is not a previous
// handler zip: a build must never destroy a user's file.
func replaceableOut(out string) (string, error) {
	if target, err := filepath.EvalSymlinks(out); err == nil {
		out = target
	}
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	hint := "choose another --out, or move the file away"
	if fi.IsDir() {
		return "", withHint(fmt.Errorf("package: --out %s is a directory", out), "name the zip file, e.g. --out "+filepath.Join(out, "bootstrap.zip"))
	}
	if !fi.Mode().IsRegular() {
		return "", withHint(fmt.Errorf("package: refusing to overwrite %s: not a regular file", out), hint)
	}
	f, err := os.Open(out)
	if err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	defer f.Close()
	if err := pkgzip.Verify(f, fi.Size()); err != nil {
		return "", withHint(fmt.Errorf("package: refusing to overwrite %s: %w", out, err), hint)
	}
	return out, nil
}

// writeFileAtomic replaces path with data: readers see the old zip or the
// new one, never a partial file.
func writeFileAtomic(path string, data []byte) error {
	if _, err := replaceableOut(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("package: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("package: write %s: %w", path, err)
	}
	fail := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("package: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("package: write %s: %w", path, err)
	}
	return nil
}

// humanBytes renders n in KiB/MiB for people; JSON carries the exact count.
func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
