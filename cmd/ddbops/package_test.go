package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/testenv"
)

// TestPackageFlags checks that flags, the environment and config files
// reach the options; nothing is built.
func TestPackageFlags(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(cfgFile, []byte("arch: x86_64\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantOut  string
		wantArch string
		wantJSON bool
		wantQ    bool
	}{
		{"defaults", nil, nil, "bootstrap.zip", "arm64", false, false},
		{"flags", []string{"--out", "dist/b.zip", "--arch", "x86_64", "-o", "json", "-q"}, nil, "dist/b.zip", "x86_64", true, true},
		{"arch from config file", []string{"--config", cfgFile}, nil, "bootstrap.zip", "x86_64", false, false},
		{"arch from env", nil, map[string]string{"DDBOPS_ARCH": "x86_64"}, "bootstrap.zip", "x86_64", false, false},
		{"flag beats env", []string{"--arch", "arm64"}, map[string]string{"DDBOPS_ARCH": "x86_64"}, "bootstrap.zip", "arm64", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("DDBOPS_ARCH", "")
			os.Unsetenv("DDBOPS_ARCH")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ios, _, errOut := testIO()
			f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
			root := newRootCmd(f)
			if c, _, err := root.Find([]string{"package"}); err == nil {
				root.RemoveCommand(c)
			}
			var got *packageOptions
			root.AddCommand(newPackageCmd(f, func(_ context.Context, o *packageOptions) error {
				got = o
				return nil
			}))
			root.SetArgs(append([]string{"package"}, tt.args...))
			if err := root.Execute(); err != nil {
				t.Fatalf("execute: %v (stderr %q)", err, errOut)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			if got.Out != tt.wantOut || got.Arch != tt.wantArch || got.JSON != tt.wantJSON || got.Quiet != tt.wantQ {
				t.Errorf("opts = out %q arch %q json %v quiet %v; want %q %q %v %v",
					got.Out, got.Arch, got.JSON, got.Quiet, tt.wantOut, tt.wantArch, tt.wantJSON, tt.wantQ)
			}
			if got.Build == nil || got.IO != ios {
				t.Error("dependencies not wired")
			}
		})
	}
}

// TestPackageUsageErrors runs the real command line: bad input exits 2
// before anything is built.
func TestPackageUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"bad arch", []string{"package", "--arch", "amd64"}, nil, `invalid --arch "amd64": want arm64 or x86_64`},
		{"bad arch from env", []string{"package"}, map[string]string{"DDBOPS_ARCH": "sparc"}, `invalid --arch "sparc"`},
		{"empty out", []string{"package", "--out", ""}, nil, "--out must name a file"},
		{"argument", []string{"package", "extra"}, nil, "takes no arguments"},
		{"unknown flag", []string{"package", "--zip", "x"}, nil, "unknown flag: --zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, tt.args)
			if code != cmdutil.ExitUsage {
				t.Errorf("exit code %d, want %d", code, cmdutil.ExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", errOut, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out)
			}
			if _, err := os.Stat("bootstrap.zip"); err == nil {
				t.Error("a zip was written")
			}
		})
	}
}

// fakeZip returns a handler-shaped zip whose content is tag.
func fakeZip(t *testing.T, tag string) []byte {
	t.Helper()
	z, err := pkgzip.Zip([]byte(tag))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func zipWith(t *testing.T, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		if _, err := zw.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRunPackage(t *testing.T) {
	t.Parallel()
	newZip := fakeZip(t, "new handler")
	oldZip := fakeZip(t, "old handler")
	tests := []struct {
		name      string
		arch      string
		outRel    string // --out relative to the test's directory; "" = bootstrap.zip
		existing  []byte // content of --out before the run; nil = absent
		outIsDir  bool
		json      bool
		quiet     bool
		buildErr  error
		wantErr   string
		wantHint  string
		wantUsage bool
		wantBuilt bool
	}{
		{name: "new file", arch: "arm64", wantBuilt: true},
		{name: "creates the directory", arch: "arm64", outRel: "dist/x86/handler.zip", wantBuilt: true},
		{name: "json", arch: "x86_64", json: true, wantBuilt: true},
		{name: "quiet", arch: "arm64", quiet: true, wantBuilt: true},
		{name: "replaces a previous handler zip", arch: "arm64", existing: oldZip, wantBuilt: true},
		{name: "refuses a text file", arch: "arm64", existing: []byte("my notes\n"), wantErr: "refusing to overwrite", wantHint: "choose another --out"},
		{name: "refuses another zip", arch: "arm64", existing: zipWith(t, "bootstrap", "secrets.txt"), wantErr: "holds 2 entries (bootstrap, secrets.txt), want only bootstrap"},
		{name: "refuses a directory", arch: "arm64", outIsDir: true, wantErr: "is a directory"},
		{name: "invalid arch", arch: "x86", wantErr: `invalid --arch "x86"`, wantUsage: true},
		{name: "build fails", arch: "arm64", buildErr: errors.New("build handler: cmd/handler/main.go:3:1: syntax error"), wantErr: "build handler: cmd/handler/main.go:3:1: syntax error", wantHint: "go build"},
		{name: "no go", arch: "arm64", buildErr: fmt.Errorf("build handler: %w", pkgzip.ErrNoGo), wantErr: "build handler: go not found on PATH", wantHint: "install Go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "bootstrap.zip")
			if tt.outRel != "" {
				out = filepath.Join(dir, tt.outRel)
			}
			if tt.outIsDir {
				if err := os.Mkdir(out, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.existing != nil {
				if err := os.WriteFile(out, tt.existing, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ios, stdout, stderr := testIO()
			built := false
			opts := &packageOptions{IO: ios, Out: out, Arch: tt.arch, JSON: tt.json, Quiet: tt.quiet,
				Build: func(_ context.Context, o pkgzip.Options) (*pkgzip.Artifact, error) {
					built = true
					if o.Arch != tt.arch || o.SourceDir != "" || o.Embedded {
						t.Errorf("build options %+v", o)
					}
					if o.Log != nil {
						fmt.Fprintln(o.Log, "building the handler")
					}
					if tt.buildErr != nil {
						return nil, tt.buildErr
					}
					return &pkgzip.Artifact{Zip: newZip, Arch: o.Arch, GoVersion: "go1.26.8", CodeSha256: pkgzip.CodeSha256(newZip)}, nil
				}}
			err := runPackage(context.Background(), opts)

			if built != (tt.wantBuilt || tt.buildErr != nil) {
				t.Errorf("built = %v", built)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var ue *cmdutil.UsageError
				if errors.As(err, &ue) != tt.wantUsage {
					t.Errorf("usage error = %v, want %v", !tt.wantUsage, tt.wantUsage)
				}
				var he *cmdutil.HintError
				if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
					t.Errorf("hint missing or wrong: %v", err)
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q on error", stdout)
				}
				if !tt.outIsDir {
					got, _ := os.ReadFile(out)
					if !bytes.Equal(got, tt.existing) {
						t.Error("--out changed although the run failed")
					}
				}
				assertNoTempFiles(t, dir)
				return
			}
			if err != nil {
				t.Fatalf("runPackage: %v", err)
			}
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, newZip) {
				t.Fatalf("--out holds %d bytes (%v), want the new zip", len(got), err)
			}
			if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
				t.Errorf("zip file mode %v, want 0644", fi.Mode().Perm())
			}
			assertNoTempFiles(t, filepath.Dir(out))
			if tt.quiet != (stderr.Len() == 0) {
				t.Errorf("quiet=%v but stderr = %q", tt.quiet, stderr)
			}
			sha := pkgzip.CodeSha256(newZip)
			if tt.json {
				var doc map[string]any
				dec := json.NewDecoder(stdout)
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("stdout is not JSON: %v", err)
				}
				if dec.More() {
					t.Error("more than one JSON document on stdout")
				}
				want := map[string]any{"path": out, "bytes": float64(len(newZip)), "arch": tt.arch, "codeSha256": sha, "goVersion": "go1.26.8"}
				if fmt.Sprint(doc) != fmt.Sprint(want) {
					t.Errorf("JSON = %v, want %v", doc, want)
				}
				return
			}
			for _, want := range []string{out, fmt.Sprint(len(newZip)), tt.arch, sha, "go1.26.8"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout %q lacks %q", stdout, want)
				}
			}
		})
	}
}

func TestPackageWritesThroughSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "real.zip")
	if err := os.WriteFile(target, fakeZip(t, "old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "bootstrap.zip")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	newZip := fakeZip(t, "new")
	ios, _, _ := testIO()
	err := runPackage(context.Background(), &packageOptions{IO: ios, Out: link, Arch: "arm64", Quiet: true,
		Build: func(context.Context, pkgzip.Options) (*pkgzip.Artifact, error) {
			return &pkgzip.Artifact{Zip: newZip, Arch: "arm64"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, newZip) {
		t.Error("the symlink's target was not updated")
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

// TestPackageEndToEnd builds the real handler through the command line,
// outside any checkout, so the source embedded in the binary is used, as
// it is for an installed ddbops.
func TestPackageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler; skipped with -short")
	}
	if _, err := os.Stat(filepath.Join(testenv.ModuleRoot(t), "cmd", "handler", "main.go")); err != nil {
		t.Fatalf("this checkout has no cmd/handler/main.go: %v", err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	ios, stdout, stderr := testIO()
	code := Execute(context.Background(), ios, []string{"package", "--arch", "x86_64", "--out", "dist.zip", "-o", "json"})
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var res packageResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "dist.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(dir, "dist.zip") || res.Bytes != len(got) || res.Arch != "x86_64" ||
		res.CodeSha256 != pkgzip.CodeSha256(got) || !strings.HasPrefix(res.GoVersion, "go1.") {
		t.Errorf("result %+v does not describe the %d-byte file", res, len(got))
	}
	if err := pkgzip.Verify(bytes.NewReader(got), int64(len(got))); err != nil {
		t.Errorf("written zip: %v", err)
	}
	if !strings.Contains(stderr.String(), "embedded") {
		t.Errorf("progress %q does not say the embedded source was built", stderr)
	}
}
