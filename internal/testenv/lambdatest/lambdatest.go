// Package lambdatest runs the handler as Lambda runs it, for the runtime
// and parity test layers: the bootstrap packaged exactly as `ddbops
// package` zips it, under the Lambda Runtime Interface Emulator, pointed
// at a DynamoDB-compatible server. It is apart from testenv because it
// packages with internal/pkgzip, whose own tests use testenv.
package lambdatest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/testenv"
)

// The handler is packaged once per test process, for the machine's
// architecture, and the zip kept in memory; every caller extracts its own
// copy.
var packaged struct {
	once sync.Once
	done chan struct{}
	zip  []byte
	err  error
}

func init() { packaged.done = make(chan struct{}) }

// Prepare starts packaging the handler in the background, so that a test
// overlaps it with other setup (building the RIE, starting emulators). The
// test waits for it to finish before it ends, so that no build is cut off
// half-way when the test process exits.
func Prepare(t testing.TB) {
	t.Helper()
	testenv.SkipShort(t, "runtime")
	root, goTool := testenv.ModuleRoot(t), testenv.GoTool(t)
	go pack(root, goTool)
	t.Cleanup(func() { <-packaged.done })
}

func pack(root, goTool string) {
	packaged.once.Do(func() {
		defer close(packaged.done)
		arch := "x86_64"
		if runtime.GOARCH == "arm64" {
			arch = "arm64"
		}
		art, err := pkgzip.Package(context.Background(), pkgzip.Options{Arch: arch, SourceDir: root, Go: goTool})
		if err != nil {
			packaged.err = fmt.Errorf("package the handler: %w", err)
			return
		}
		packaged.zip = art.Zip
	})
}

// Bootstrap packages the handler (once per test process) and extracts the
// zip's bootstrap, with the mode the zip records, into a directory of its
// own; it returns the bootstrap's path.
func Bootstrap(t testing.TB) string {
	t.Helper()
	pack(testenv.ModuleRoot(t), testenv.GoTool(t))
	if packaged.err != nil {
		t.Fatal(packaged.err)
	}
	path, err := extract(packaged.zip, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// extract writes the zip's only entry, bootstrap, into dir.
func extract(z []byte, dir string) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return "", fmt.Errorf("read the handler zip: %w", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != pkgzip.EntryName {
		return "", fmt.Errorf("handler zip: want exactly one entry, %s; got %d entries", pkgzip.EntryName, len(zr.File))
	}
	zf := zr.File[0]
	rc, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	path := filepath.Join(dir, pkgzip.EntryName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, zf.Mode().Perm())
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("extract bootstrap: %w", err)
	}
	return path, f.Close()
}

// StartFunction runs the packaged bootstrap under the RIE as the function
// serving table in the DynamoDB at endpoint (see testenv.FunctionEnv), and
// stops both when the test ends. Without the RIE it skips (or fails, see
// testenv.SkipOrFail) before packaging.
func StartFunction(t testing.TB, table, endpoint string) *testenv.RIE {
	t.Helper()
	testenv.BuildRIE(t)
	return testenv.StartRIE(t, Bootstrap(t), testenv.FunctionEnv(t, table, endpoint)...)
}
