package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DynaliteEnv names the dynalite executable to use, overriding the search.
const DynaliteEnv = "DDBOPS_DYNALITE"

// DynaliteCacheDir is where `npm install --prefix DIR dynalite@4` puts the
// dynalite the tests find when it is not on PATH:
// $XDG_CACHE_HOME/ddbops/dynalite (by default ~/.cache/ddbops/dynalite).
func DynaliteCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ddbops", "dynalite")
	}
	return ""
}

// Dynalite is a running dynalite, the Node.js DynamoDB emulator (npm
// package dynalite@4), keeping its tables in memory.
type Dynalite struct {
	URL string
	p   *proc
}

// findDynalite returns the dynalite executable: $DDBOPS_DYNALITE, else
// dynalite on PATH, else the one installed under DynaliteCacheDir.
func findDynalite() (string, error) {
	if p := os.Getenv(DynaliteEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", DynaliteEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("dynalite"); err == nil {
		return p, nil
	}
	if dir := DynaliteCacheDir(); dir != "" {
		p := filepath.Join(dir, "node_modules", ".bin", "dynalite")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("dynalite is not on PATH, %s is unset and %s holds none (npm install --prefix %s dynalite@4)",
		DynaliteEnv, DynaliteCacheDir(), DynaliteCacheDir())
}

// StartDynalite starts dynalite on a free loopback port and stops it when
// the test ends. Tables become ACTIVE as soon as they are created. Without
// node or dynalite it skips (or fails, see SkipOrFail).
func StartDynalite(t testing.TB) *Dynalite {
	t.Helper()
	bin, err := findDynalite()
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		SkipOrFail(t, "node is not on PATH, dynalite needs it")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		host, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "--host", host, "--port", port,
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		out := &SyncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		p, err := startProc(cmd)
		if err != nil {
			t.Fatalf("start dynalite: %v", err)
		}
		d := &Dynalite{URL: "http://" + addr, p: p}
		// Any HTTP answer means it is serving.
		if err := waitHTTP(d.URL+"/", 30*time.Second, p.done); err != nil {
			p.stop()
			lastErr = fmt.Errorf("%v; output: %s", err, out.String())
			continue
		}
		t.Cleanup(p.stop)
		return d
	}
	t.Fatalf("dynalite did not start: %v", lastErr)
	return nil
}
