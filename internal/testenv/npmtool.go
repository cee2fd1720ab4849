package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NPMPrefix is where .ci/run installs the npm tools the tests use
// (npm install --prefix "$DDBOPS_NPM_PREFIX" ...): $DDBOPS_NPM_PREFIX
// when set, else ddbops/npm under the user cache directory.
func NPMPrefix() string {
	if p := os.Getenv("DDBOPS_NPM_PREFIX"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "ddbops", "npm")
}

// NPMTool returns the path of the executable bin from the npm package pkg
// (e.g. "dynalite", "dynalite@4"): on PATH, else under NPMPrefix. Without it
// the test skips with the install command, or fails when emulators are
// required (SkipOrFail).
func NPMTool(t testing.TB, bin, pkg string) string {
	t.Helper()
	SkipShort(t, "emulator")
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	p := filepath.Join(NPMPrefix(), "node_modules", ".bin", bin)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p
	}
	SkipOrFail(t, "%s is not installed (npm install --prefix %s %s)", bin, NPMPrefix(), pkg)
	return ""
}
