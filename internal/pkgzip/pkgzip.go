// Package pkgzip builds the Lambda handler (cmd/handler) into a
// reproducible deployment zip holding one executable named bootstrap: the
// same handler source built by the same Go toolchain gives the same bytes,
// hence the same CodeSha256, whichever machine, directory or user runs it.
package pkgzip

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ddbops/ddbops"
)

// ModulePath is the module whose cmd/handler is packaged.
const ModulePath = "github.com/ddbops/ddbops"

// EntryName is the one file in the zip: the name provided.al2023 runs.
const EntryName = "bootstrap"

// ModTime is the modification time recorded for bootstrap in every zip
// (the earliest time a zip's MS-DOS date can hold), so that the build time
// never reaches the bytes.
var ModTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// deflateLevel is pinned rather than flate.DefaultCompression, whose
// meaning could change between Go releases; higher levels barely shrink a
// handler zip for much more compression time.
const deflateLevel = 6

// entryMode is bootstrap's Unix mode: Lambda executes it as any user.
const entryMode fs.FileMode = 0o755

// handlerPkg is the package built, relative to the module root.
const handlerPkg = "./cmd/handler"

// ErrNoGo reports that no go command could be found: packaging compiles
// the handler, so it needs a Go toolchain.
var ErrNoGo = errors.New("go not found on PATH")

// goarch maps Lambda architecture names to GOARCH, and fixes the
// microarchitecture level to Go's default so that a GOAMD64/GOARM64 in the
// caller's environment cannot change the bytes.
var goarch = map[string]struct{ arch, levelVar, level string }{
	"arm64":  {"arm64", "GOARM64", "v8.0"},
	"x86_64": {"amd64", "GOAMD64", "v1"},
}

// Arches lists the accepted values of Options.Arch (Lambda's names).
func Arches() []string { return []string{"arm64", "x86_64"} }

// ValidArch reports whether a is a Lambda architecture Build accepts.
func ValidArch(a string) bool {
	_, ok := goarch[a]
	return ok
}

// Options says what to build.
type Options struct {
	// Arch is the Lambda architecture: "arm64" or "x86_64".
	Arch string
	// SourceDir is a ddbops module root; "" finds one from the working
	// directory upwards, else uses the source embedded in the binary.
	SourceDir string
	// Go is the go command; "" looks it up on PATH.
	Go string
	// Embedded builds the source embedded in this binary even when a
	// checkout could be found (SourceDir must then be "").
	Embedded bool
	// Log, when not nil, receives one line per step.
	Log io.Writer
}

// Artifact is a built handler.
type Artifact struct {
	// Zip is the deployment package: one entry, bootstrap.
	Zip []byte
	// Binary is bootstrap itself.
	Binary []byte
	// Arch is the Lambda architecture it was built for.
	Arch string
	// GoVersion is the toolchain that compiled it, read from the binary.
	GoVersion string
	// Source is the checkout's module root, or "" when the source embedded
	// in this binary was built.
	Source string
	// CodeSha256 is CodeSha256(Zip).
	CodeSha256 string
}

// Build compiles the handler and returns the zip's bytes.
func Build(ctx context.Context, opts Options) ([]byte, error) {
	a, err := Package(ctx, opts)
	if err != nil {
		return nil, err
	}
	return a.Zip, nil
}

// CodeSha256 returns the base64 SHA-256 of a zip, as Lambda reports it.
func CodeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Package compiles the handler for opts.Arch and zips it. Every error
// starts with "build handler: ".
func Package(ctx context.Context, opts Options) (*Artifact, error) {
	if !ValidArch(opts.Arch) {
		return nil, fmt.Errorf("build handler: invalid architecture %q: want %s", opts.Arch, strings.Join(Arches(), " or "))
	}
	if opts.Embedded && opts.SourceDir != "" {
		return nil, errors.New("build handler: SourceDir and Embedded are exclusive")
	}
	goCmd := opts.Go
	if goCmd == "" {
		p, err := exec.LookPath("go")
		if err != nil {
			return nil, fmt.Errorf("build handler: %w", ErrNoGo)
		}
		goCmd = p
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}

	dir := opts.SourceDir
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("build handler: %w", err)
		}
		dir = abs
		if err := checkCheckout(dir); err != nil {
			return nil, fmt.Errorf("build handler: %w", err)
		}
	} else if !opts.Embedded {
		wd, err := os.Getwd()
		if err == nil {
			dir, _ = FindCheckout(wd)
		}
	}
	source := dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "ddbops-handler-src-")
		if err != nil {
			return nil, fmt.Errorf("build handler: %w", err)
		}
		defer os.RemoveAll(tmp)
		if err := extract(ddbops.HandlerSource(), tmp); err != nil {
			return nil, fmt.Errorf("build handler: extract embedded source: %w", err)
		}
		dir = tmp
		logf("building the handler source embedded in ddbops for %s", opts.Arch)
	} else {
		logf("building the handler from the checkout %s for %s", dir, opts.Arch)
	}

	start := time.Now()
	bin, err := compile(ctx, goCmd, dir, opts.Arch)
	if err != nil {
		return nil, fmt.Errorf("build handler: %w", err)
	}
	z, err := Zip(bin)
	if err != nil {
		return nil, fmt.Errorf("build handler: %w", err)
	}
	a := &Artifact{Zip: z, Binary: bin, Arch: opts.Arch, Source: source, CodeSha256: CodeSha256(z)}
	if bi, err := buildinfo.Read(bytes.NewReader(bin)); err == nil {
		a.GoVersion = bi.GoVersion
		for _, s := range bi.Settings {
			// An empty variable cannot override `go env -w GOEXPERIMENT=...`.
			if s.Key == "GOEXPERIMENT" {
				logf("warning: built with GOEXPERIMENT=%s (see go env GOENV); this zip differs from a default build", s.Value)
			}
		}
	}
	logf("built bootstrap (%s, %d bytes, zipped %d bytes) in %s", a.GoVersion, len(bin), len(z), time.Since(start).Round(100*time.Millisecond))
	return a, nil
}

// compile runs go build in dir and returns the binary.
func compile(ctx context.Context, goCmd, dir, arch string) ([]byte, error) {
	out, err := os.MkdirTemp("", "ddbops-handler-bin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	binPath := filepath.Join(out, EntryName)
	cmd := exec.CommandContext(ctx, goCmd, BuildArgs(binPath)...)
	cmd.Dir = dir
	cmd.Env = BuildEnv(os.Environ(), arch)
	cmd.WaitDelay = 5 * time.Second
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("run %s: %w", goCmd, err)
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if msg := summarize(output.String()); msg != "" {
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("go build: %w", err)
	}
	return os.ReadFile(binPath)
}

// BuildArgs are the go command's arguments: the flags of `ddbops package`
// (docs/provisioning.md), plus -buildvcs=false so that a checkout's VCS
// state (commit, dirty flag) never reaches the binary: an embedded copy has
// none.
func BuildArgs(outPath string) []string {
	return []string{
		"build",
		"-tags", "lambda.norpc",
		"-trimpath",
		"-buildvcs=false",
		"-ldflags=-s -w -buildid=",
		"-o", outPath,
		handlerPkg,
	}
}

// keptGoVars are the go command's variables taken from the caller: where
// modules come from and where caches live, and the toolchain selection.
// Everything else that starts with GO or CGO_ is dropped or fixed, so
// that nothing in the environment changes the bytes.
var keptGoVars = map[string]bool{
	"GOPROXY": true, "GONOPROXY": true, "GOPRIVATE": true, "GONOSUMDB": true,
	"GOSUMDB": true, "GOINSECURE": true, "GOAUTH": true, "GOVCS": true,
	"GOMODCACHE": true, "GOCACHE": true, "GOCACHEPROG": true, "GOPATH": true,
	"GOTMPDIR": true, "GOENV": true, "GOTOOLCHAIN": true,
}

// BuildEnv returns environ with the build fixed for arch: cross-compiled
// without cgo, GOFLAGS, GOWORK, GOEXPERIMENT and microarchitecture levels
// reset. GOFLAGS is set (to the default -mod=readonly) rather than emptied
// because an empty variable would let a `go env -w GOFLAGS=...` through.
func BuildEnv(environ []string, arch string) []string {
	g := goarch[arch]
	env := make([]string, 0, len(environ)+8)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_")) && !keptGoVars[k] {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"CGO_ENABLED=0",
		"GOOS=linux",
		"GOARCH="+g.arch,
		g.levelVar+"="+g.level,
		"GOFLAGS=-mod=readonly",
		"GOWORK=off",
	)
}

// position is the "file:line:col: " prefix of a compiler message.
var position = regexp.MustCompile(`^\S+:\d+(:\d+)?: `)

// summarize keeps the useful lines of go build's output: the errors, not
// the "# package" headers or download progress, and each message once
// (a missing module is reported at every import of it).
func summarize(output string) string {
	const maxLines = 4
	var lines []string
	seen := map[string]bool{}
	more := 0
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "go: downloading ") ||
			strings.HasPrefix(l, "go: finding ") {
			continue
		}
		msg := position.ReplaceAllString(l, "")
		if len(lines) == maxLines || seen[msg] {
			more++
			continue
		}
		seen[msg] = true
		lines = append(lines, l)
	}
	msg := strings.Join(lines, "; ")
	if more > 0 {
		msg += " (and " + strconv.Itoa(more) + " more lines)"
	}
	return msg
}

// Zip writes binary as the only entry, bootstrap, of a zip whose bytes
// depend on nothing else: fixed name, time, mode, compression method and
// level, no comment.
func Zip(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// Pin the level: the default could change between Go releases.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, deflateLevel)
	})
	h := &zip.FileHeader{Name: EntryName, Method: zip.Deflate, Modified: ModTime}
	h.SetMode(entryMode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	if _, err := w.Write(binary); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

// Verify reports whether r (size bytes) is a deployment zip of the shape
// Zip writes: exactly one regular file, named bootstrap. The error says
// what differs.
func Verify(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if errors.Is(err, zip.ErrFormat) {
		return errors.New("not a zip file")
	}
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	names := make([]string, 0, len(zr.File))
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if len(zr.File) != 1 || zr.File[0].Name != EntryName {
		if len(names) > 3 {
			names = append(names[:3], "...")
		}
		return fmt.Errorf("holds %d entries (%s), want only %s", len(zr.File), strings.Join(names, ", "), EntryName)
	}
	if !zr.File[0].Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", EntryName)
	}
	return nil
}

// FindCheckout walks up from dir to the first go.mod of module
// github.com/ddbops/ddbops that has a cmd/handler package, and returns
// that directory.
func FindCheckout(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if checkCheckout(dir) == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// checkCheckout says why dir is not a ddbops module root with the handler.
func checkCheckout(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: no go.mod", dir)
		}
		return err
	}
	if m := modulePath(b); m != ModulePath {
		return fmt.Errorf("%s: module %q is not %s", dir, m, ModulePath)
	}
	if fi, err := os.Stat(filepath.Join(dir, "cmd", "handler")); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: no cmd/handler", dir)
	}
	return nil
}

// modulePath returns the module directive's path of a go.mod file.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}

// extract copies the embedded handler source to dir, without tests and
// test data: they are not needed to build and are not part of the binary.
func extract(src fs.FS, dir string) error {
	if _, err := fs.Stat(src, "cmd/handler/main.go"); err != nil {
		return fmt.Errorf("this ddbops binary embeds no cmd/handler/main.go: %w", err)
	}
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		if strings.HasSuffix(path.Base(p), "_test.go") {
			return nil
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
