package pkgzip

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ddbops/ddbops"
	"github.com/ddbops/ddbops/internal/testenv"
)

func TestZipShape(t *testing.T) {
	t.Parallel()
	bin := bytes.Repeat([]byte("\x7fELF not really a binary "), 1000)
	z1, err := Zip(bin)
	if err != nil {
		t.Fatal(err)
	}
	z2, err := Zip(slices.Clone(bin))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(z1, z2) {
		t.Fatal("two zips of the same binary differ")
	}
	checkZip(t, z1, bin)
	if err := Verify(bytes.NewReader(z1), int64(len(z1))); err != nil {
		t.Fatalf("Verify of our own zip: %v", err)
	}
}

// checkZip asserts the zip holds exactly bootstrap = want, with the fixed
// mode, time and method.
func checkZip(t *testing.T, z, want []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatalf("read zip: %v", err)
	}
	if zr.Comment != "" {
		t.Errorf("zip comment = %q, want none", zr.Comment)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry name = %q, want bootstrap", f.Name)
	}
	if f.Mode() != 0o755 {
		t.Errorf("entry mode = %v, want -rwxr-xr-x", f.Mode())
	}
	if f.CreatorVersion>>8 != 3 { // 3 = Unix: the mode bits are honoured
		t.Errorf("creator OS = %d, want 3 (unix)", f.CreatorVersion>>8)
	}
	if !f.Modified.Equal(ModTime) {
		t.Errorf("entry time = %v, want %v", f.Modified, ModTime)
	}
	if f.Method != zip.Deflate {
		t.Errorf("method = %d, want deflate", f.Method)
	}
	if f.Comment != "" {
		t.Errorf("entry comment = %q", f.Comment)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read entry: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("entry content differs from the binary (%d vs %d bytes)", len(got), len(want))
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	mk := func(files ...string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, n := range files {
			w, err := zw.Create(n)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(n, "/") {
				_, _ = w.Write([]byte("x"))
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"only bootstrap", mk("bootstrap"), ""},
		{"not a zip", []byte("hello"), "not a zip file"},
		{"truncated zip", fakeTruncated(t), "not a zip file"},
		{"empty zip", mk(), "holds 0 entries"},
		{"other name", mk("main"), "holds 1 entries (main), want only bootstrap"},
		{"extra entry", mk("bootstrap", "README"), "holds 2 entries (bootstrap, README)"},
		{"many", mk("a", "b", "c", "d", "e"), "holds 5 entries (a, b, c, ...)"},
		{"directory", mk("bootstrap/"), "holds 1 entries"},
		{"symlink", symlinkZip(t), "bootstrap is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(bytes.NewReader(tt.data), int64(len(tt.data)))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func fakeTruncated(t *testing.T) []byte {
	z, err := Zip([]byte("binary"))
	if err != nil {
		t.Fatal(err)
	}
	return z[:len(z)-10]
}

func symlinkZip(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap"}
	h.SetMode(fs.ModeSymlink | 0o777)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("/bin/sh"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCodeSha256(t *testing.T) {
	t.Parallel()
	// sha256("") in base64, as Lambda would report it for an empty body.
	if got, want := CodeSha256(nil), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; got != want {
		t.Fatalf("CodeSha256(nil) = %q, want %q", got, want)
	}
}

func TestBuildEnv(t *testing.T) {
	t.Parallel()
	in := []string{
		"HOME=/home/u", "PATH=/usr/bin", "HTTPS_PROXY=http://proxy:3128",
		"GOPROXY=https://proxy.example", "GOMODCACHE=/m", "GOCACHE=/c", "GOPATH=/gp",
		"GOPRIVATE=example.com/*", "GONOSUMDB=example.com/*", "GOTOOLCHAIN=go1.26.8+auto",
		"GOFLAGS=-race -mod=mod", "GOEXPERIMENT=boringcrypto", "GOAMD64=v3", "GOARM64=v9.0",
		"GOOS=darwin", "GOARCH=386", "CGO_ENABLED=1", "CGO_CFLAGS=-O3", "GOWORK=/w/go.work",
		"GOROOT=/old/go", "GODEBUG=x=1", "GOBIN=/b",
	}
	for _, tt := range []struct {
		arch string
		want []string
	}{
		{"arm64", []string{"GOARCH=arm64", "GOARM64=v8.0"}},
		{"x86_64", []string{"GOARCH=amd64", "GOAMD64=v1"}},
	} {
		env := BuildEnv(in, tt.arch)
		got := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if _, dup := got[k]; dup {
				t.Errorf("%s: %s set twice", tt.arch, k)
			}
			got[k] = v
		}
		want := map[string]string{
			"HOME": "/home/u", "PATH": "/usr/bin", "HTTPS_PROXY": "http://proxy:3128",
			"GOPROXY": "https://proxy.example", "GOMODCACHE": "/m", "GOCACHE": "/c", "GOPATH": "/gp",
			"GOPRIVATE": "example.com/*", "GONOSUMDB": "example.com/*", "GOTOOLCHAIN": "go1.26.8+auto",
			"CGO_ENABLED": "0", "GOOS": "linux", "GOFLAGS": "-mod=readonly", "GOWORK": "off",
		}
		for _, kv := range tt.want {
			k, v, _ := strings.Cut(kv, "=")
			want[k] = v
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.arch, k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %s=%s leaked into the build environment", tt.arch, k, got[k])
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"compile errors", "# github.com/ddbops/ddbops/cmd/handler\ncmd/handler/main.go:5:2: undefined: x\ncmd/handler/main.go:6:2: undefined: y\n",
			"cmd/handler/main.go:5:2: undefined: x; cmd/handler/main.go:6:2: undefined: y"},
		{"downloads dropped", "go: downloading github.com/aws/aws-lambda-go v1.55.1\ngo: github.com/aws/aws-lambda-go@v1.55.1: dial tcp: lookup proxy.golang.org: no such host\n",
			"go: github.com/aws/aws-lambda-go@v1.55.1: dial tcp: lookup proxy.golang.org: no such host"},
		{"capped", "a\nb\nc\nd\ne\nf\n", "a; b; c; d (and 2 more lines)"},
		{"same message once", "# x\ncmd/handler/main.go:14:2: module lookup disabled by GOPROXY=off\ncmd/handler/main.go:15:2: module lookup disabled by GOPROXY=off\ninternal/handler/h.go:18:2: module lookup disabled by GOPROXY=off\n",
			"cmd/handler/main.go:14:2: module lookup disabled by GOPROXY=off (and 2 more lines)"},
		{"empty", "\n\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("summarize = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestModulePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"module github.com/ddbops/ddbops\n\ngo 1.26\n", "github.com/ddbops/ddbops"},
		{"// a comment\nmodule \"github.com/ddbops/ddbops\" // trailing\n", "github.com/ddbops/ddbops"},
		{"module example.com/fork\n", "example.com/fork"},
		{"go 1.26\n", ""},
	}
	for _, tt := range tests {
		if got := modulePath([]byte(tt.in)); got != tt.want {
			t.Errorf("modulePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// writeTree creates files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindCheckout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"ddbops/go.mod":                        "module github.com/ddbops/ddbops\n",
		"ddbops/cmd/handler/main.go":           "package main\n",
		"ddbops/internal/x/y/keep":             "",
		"ddbops/nested/go.mod":                 "module example.com/nested\n", // another module inside: keep walking up
		"ddbops/nested/sub/keep":               "",
		"fork/go.mod":                          "module example.com/fork\n",
		"fork/cmd/handler/main.go":             "package main\n",
		"old/go.mod":                           "module github.com/ddbops/ddbops\n", // no cmd/handler
		"old/cmd/ddbops/main.go":               "package main\n",
		"ddbops/cmd/handler/testdata/keep.txt": "",
	})
	want := filepath.Join(root, "ddbops")
	tests := []struct {
		start string
		want  string
	}{
		{"ddbops", want},
		{"ddbops/internal/x/y", want},
		{"ddbops/cmd/handler/testdata", want},
		{"ddbops/nested/sub", want},
		{"fork", ""},
		{"old/cmd/ddbops", ""},
	}
	for _, tt := range tests {
		got, ok := FindCheckout(filepath.Join(root, tt.start))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("FindCheckout(%s) = %q, %v; want %q", tt.start, got, ok, tt.want)
		}
	}
}

func TestPackageOptionErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"go.mod": "module example.com/other\n", "cmd/handler/main.go": "package main\n"})
	ok := t.TempDir()
	writeTree(t, ok, map[string]string{"go.mod": "module github.com/ddbops/ddbops\n\ngo 1.26\n", "cmd/handler/main.go": "package main\n\nfunc main() {}\n"})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		opts    Options
		wantErr string
	}{
		{"bad arch", context.Background(), Options{Arch: "amd64"}, `build handler: invalid architecture "amd64": want arm64 or x86_64`},
		{"empty arch", context.Background(), Options{}, `build handler: invalid architecture ""`},
		{"not ddbops", context.Background(), Options{Arch: "arm64", SourceDir: dir}, `is not github.com/ddbops/ddbops`},
		{"no go.mod", context.Background(), Options{Arch: "arm64", SourceDir: filepath.Join(dir, "cmd")}, "no go.mod"},
		{"exclusive", context.Background(), Options{Arch: "arm64", SourceDir: dir, Embedded: true}, "exclusive"},
		{"missing go", context.Background(), Options{Arch: "arm64", SourceDir: ok, Go: filepath.Join(dir, "no-such-go")}, "build handler: run "},
		{"canceled", canceled, Options{Arch: "arm64", SourceDir: ok, Go: testenv.GoTool(t)}, "build handler: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Package(tt.ctx, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Package = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestPackageGoNotOnPath(t *testing.T) {
	// Not parallel: it empties PATH for the process.
	t.Setenv("PATH", t.TempDir())
	_, err := Package(context.Background(), Options{Arch: "arm64", SourceDir: t.TempDir()})
	if !errors.Is(err, ErrNoGo) || err.Error() != "build handler: go not found on PATH" {
		t.Fatalf("Package without go = %v, want %q", err, "build handler: go not found on PATH")
	}
}

// TestPackageCompileErrors builds a module of the right name whose handler
// does not compile: the error is the compiler's lines, not the go
// command's package header, in one line.
func TestPackageCompileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":              "module github.com/ddbops/ddbops\n\ngo 1.26\n",
		"cmd/handler/main.go": "package main\n\nfunc main() {\n\tundefinedThing()\n}\n",
	})
	_, err := Package(context.Background(), Options{Arch: "x86_64", SourceDir: dir, Go: testenv.GoTool(t)})
	if err == nil {
		t.Fatal("Package of a broken handler succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "build handler: ") || !strings.Contains(msg, "cmd/handler/main.go:4:2: undefined: undefinedThing") {
		t.Errorf("error = %q, want the compiler's line", msg)
	}
	if strings.Contains(msg, "# github.com") || strings.Contains(msg, "\n") || strings.Contains(msg, dir) {
		t.Errorf("error = %q: want one line without the package header or temp paths", msg)
	}
}

func TestExtractSkipsTests(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"go.mod":                           "module github.com/ddbops/ddbops\n",
		"cmd/handler/main.go":              "package main\n",
		"internal/handler/handler.go":      "package handler\n",
		"internal/handler/handler_test.go": "package handler\n",
		"internal/handler/testdata/a.json": "{}",
	})
	dst := t.TempDir()
	if err := extract(os.DirFS(src), dst); err != nil {
		t.Fatal(err)
	}
	var got []string
	_ = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(got)
	want := []string{"cmd/handler/main.go", "go.mod", "internal/handler/handler.go"}
	if !slices.Equal(got, want) {
		t.Fatalf("extracted %v, want %v", got, want)
	}
	if err := extract(os.DirFS(t.TempDir()), t.TempDir()); err == nil || !strings.Contains(err.Error(), "embeds no cmd/handler/main.go") {
		t.Fatalf("extract of an empty tree = %v", err)
	}
}

// requireHandler fails the test unless this checkout has the handler's main.
func requireHandler(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(testenv.ModuleRoot(t), "cmd", "handler", "main.go")); err != nil {
		t.Fatalf("this checkout has no cmd/handler/main.go: %v", err)
	}
}

// The real handler builds are shared by the tests of this process: a
// build is seconds with a warm cache, minutes with a cold one.
var (
	buildsMu sync.Mutex
	builds   = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	a    *Artifact
	err  error
}

// build packages the real handler once per (arch, route, key) per process.
func build(t *testing.T, arch string, embedded bool, key string) *Artifact {
	t.Helper()
	requireHandler(t)
	id := arch + "/" + map[bool]string{false: "checkout", true: "embedded"}[embedded] + "/" + key
	buildsMu.Lock()
	r := builds[id]
	if r == nil {
		r = &buildResult{}
		builds[id] = r
	}
	buildsMu.Unlock()
	r.once.Do(func() {
		opts := Options{Arch: arch, Go: testenv.GoTool(t), Embedded: embedded}
		if !embedded {
			opts.SourceDir = testenv.ModuleRoot(t)
		}
		r.a, r.err = Package(context.Background(), opts)
	})
	if r.err != nil {
		t.Fatalf("Package(%s): %v", id, r.err)
	}
	return r.a
}

func TestPackageReproducible(t *testing.T) {
	t.Parallel()
	first := build(t, "x86_64", false, "first")
	second := build(t, "x86_64", false, "second")
	if !bytes.Equal(first.Zip, second.Zip) {
		t.Fatalf("two builds of the same source differ: %s vs %s", first.CodeSha256, second.CodeSha256)
	}
	if first.CodeSha256 != CodeSha256(first.Zip) || first.CodeSha256 == "" {
		t.Errorf("Artifact.CodeSha256 = %q, want CodeSha256(Zip)", first.CodeSha256)
	}
	if first.Source != testenv.ModuleRoot(t) {
		t.Errorf("Source = %q, want the checkout", first.Source)
	}
	checkZip(t, first.Zip, first.Binary)
}

func TestPackageEmbeddedMatchesCheckout(t *testing.T) {
	t.Parallel()
	for _, arch := range Arches() {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			checkout := build(t, arch, false, "first")
			embedded := build(t, arch, true, "first")
			if embedded.Source != "" {
				t.Errorf("embedded Source = %q, want empty", embedded.Source)
			}
			if !bytes.Equal(checkout.Zip, embedded.Zip) {
				t.Fatalf("checkout build %s != embedded build %s", checkout.CodeSha256, embedded.CodeSha256)
			}
		})
	}
}

// TestPackageArchitectures checks each zip's binary: the right ELF
// machine, static (no interpreter), the contract's build settings, and the
// zip size budget (5 MiB, docs/provisioning.md#package).
func TestPackageArchitectures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arch    string
		machine elf.Machine
		goarch  string
	}{
		{"arm64", elf.EM_AARCH64, "arm64"},
		{"x86_64", elf.EM_X86_64, "amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			t.Parallel()
			a := build(t, tt.arch, false, "first")
			if a.Arch != tt.arch {
				t.Errorf("Arch = %q", a.Arch)
			}
			checkZip(t, a.Zip, a.Binary)
			if len(a.Zip) > 5<<20 {
				t.Errorf("zip is %d bytes, over the 5 MiB budget", len(a.Zip))
			}
			f, err := elf.NewFile(bytes.NewReader(a.Binary))
			if err != nil {
				t.Fatalf("bootstrap is not ELF: %v", err)
			}
			if f.Machine != tt.machine || f.Class != elf.ELFCLASS64 {
				t.Errorf("ELF machine %v class %v, want %v 64-bit", f.Machine, f.Class, tt.machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("bootstrap is dynamically linked (has PT_INTERP); want static (CGO_ENABLED=0)")
				}
			}
			if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
				t.Error("bootstrap has a symbol table or DWARF; want -s -w")
			}
			if id := goBuildID(t, f); id != "" {
				t.Errorf("Go build ID %q; want none (-buildid=)", id)
			}
			bi, err := buildinfo.Read(bytes.NewReader(a.Binary))
			if err != nil {
				t.Fatalf("build info: %v", err)
			}
			if a.GoVersion != bi.GoVersion || !strings.HasPrefix(a.GoVersion, "go1.") {
				t.Errorf("GoVersion = %q, binary says %q", a.GoVersion, bi.GoVersion)
			}
			if bi.Path != "github.com/ddbops/ddbops/cmd/handler" {
				t.Errorf("main package %q", bi.Path)
			}
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			for k, v := range map[string]string{
				"-tags": "lambda.norpc", "-trimpath": "true", // -trimpath keeps -ldflags out of the build info
				"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": tt.goarch,
			} {
				if settings[k] != v {
					t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
				}
			}
			for k := range settings {
				if strings.HasPrefix(k, "vcs") || k == "GOEXPERIMENT" {
					t.Errorf("build setting %s=%s would make builds differ", k, settings[k])
				}
			}
		})
	}
}

// goBuildID returns the ID in the .note.go.buildid ELF note ("" when absent).
func goBuildID(t *testing.T, f *elf.File) string {
	t.Helper()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	b, err := sec.Data()
	if err != nil || len(b) < 12 {
		t.Fatalf("read build ID note: %v", err)
	}
	namesz, descsz := f.ByteOrder.Uint32(b[0:4]), f.ByteOrder.Uint32(b[4:8])
	off := 12 + (namesz+3)&^3
	if int(off+descsz) > len(b) {
		t.Fatalf("malformed build ID note")
	}
	return string(b[off : off+descsz])
}

// TestPackageEmbeddedSourceCoversHandler proves the embedded tree is what the
// checkout builds: every file of every package of this module that
// cmd/handler depends on is embedded, with the same content, and so are
// go.mod and go.sum. It fails when the handler grows a new internal
// package that source.go does not list yet.
func TestPackageEmbeddedSourceCoversHandler(t *testing.T) {
	t.Parallel()
	requireHandler(t)
	root := testenv.ModuleRoot(t)
	cmd := exec.Command(testenv.GoTool(t), "list", "-deps", "-tags", "lambda.norpc",
		"-f", `{{if .Module}}{{if eq .Module.Path "github.com/ddbops/ddbops"}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}{{end}}{{end}}`,
		"./cmd/handler")
	cmd.Dir = root
	cmd.Env = BuildEnv(os.Environ(), "x86_64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := []string{"go.mod", "go.sum"}
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if parts[0] == "" {
			continue
		}
		rel, err := filepath.Rel(root, parts[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range parts[1:] {
			want = append(want, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if !slices.Contains(want, "cmd/handler/main.go") {
		t.Fatalf("go list found no cmd/handler/main.go in %q", out)
	}
	src := ddbops.HandlerSource()
	for _, p := range want {
		got, err := fs.ReadFile(src, p)
		if err != nil {
			t.Errorf("%s is needed to build the handler but not embedded (add it to source.go)", p)
			continue
		}
		disk, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, disk) {
			t.Errorf("embedded %s differs from the checkout", p)
		}
	}
}

// TestPackageGoExperiment: GOEXPERIMENT in the environment is dropped; one
// written with `go env -w` cannot be, and is reported.
func TestPackageGoExperiment(t *testing.T) {
	// Not parallel: it sets process environment variables.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":              "module github.com/ddbops/ddbops\n\ngo 1.26\n",
		"cmd/handler/main.go": "package main\n\nfunc main() {}\n",
	})
	goenv := filepath.Join(t.TempDir(), "goenv")
	if err := os.WriteFile(goenv, []byte("GOEXPERIMENT=fieldtrack\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         map[string]string
		wantSetting string
	}{
		{"environment variable dropped", map[string]string{"GOEXPERIMENT": "fieldtrack"}, ""},
		{"go env file reported", map[string]string{"GOENV": goenv}, "fieldtrack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var log bytes.Buffer
			a, err := Package(context.Background(), Options{Arch: "x86_64", SourceDir: dir, Go: testenv.GoTool(t), Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			bi, err := buildinfo.Read(bytes.NewReader(a.Binary))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, s := range bi.Settings {
				if s.Key == "GOEXPERIMENT" {
					got = s.Value
				}
			}
			if got != tt.wantSetting {
				t.Errorf("GOEXPERIMENT in the binary = %q, want %q", got, tt.wantSetting)
			}
			warned := strings.Contains(log.String(), "warning: built with GOEXPERIMENT="+tt.wantSetting)
			if warned != (tt.wantSetting != "") {
				t.Errorf("log %q: warning = %v, want %v", log.String(), warned, tt.wantSetting != "")
			}
		})
	}
}

// TestPackageColdCache rebuilds x86_64 with an empty build cache, so every
// package is compiled again rather than reused, and compares with the
// cached build. It costs a full compile (minutes on a busy machine), so it
// runs only when asked: DDBOPS_PACKAGE_COLD=1.
func TestPackageColdCache(t *testing.T) {
	if os.Getenv("DDBOPS_PACKAGE_COLD") != "1" {
		t.Skip("set DDBOPS_PACKAGE_COLD=1 to compare a build from an empty GOCACHE")
	}
	warm := build(t, "x86_64", false, "first")
	t.Setenv("GOCACHE", t.TempDir())
	cold, err := Package(context.Background(), Options{Arch: "x86_64", Go: testenv.GoTool(t), Embedded: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(warm.Zip, cold.Zip) {
		t.Fatalf("cold build %s != cached build %s", cold.CodeSha256, warm.CodeSha256)
	}
}
