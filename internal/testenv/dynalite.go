package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"
)

// Dynalite is a running dynalite, the Node.js DynamoDB emulator (npm
// package dynalite@4), keeping its tables in memory.
type Dynalite struct {
	URL string
	p   *Proc
}

// StartDynalite starts dynalite on a free loopback port and stops it when
// the test ends. Tables become ACTIVE as soon as they are created. Without
// node or dynalite (found by NPMTool) it skips, or fails when emulators are
// required (SkipOrFail).
func StartDynalite(t testing.TB) *Dynalite {
	t.Helper()
	bin := NPMTool(t, "dynalite", "dynalite@4")
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
		p, err := start(cmd)
		if err != nil {
			t.Fatalf("start dynalite: %v", err)
		}
		d := &Dynalite{URL: "http://" + addr, p: p}
		// Any HTTP answer means it is serving.
		if err := waitHTTP(d.URL+"/", 30*time.Second, p.Done()); err != nil {
			p.Stop()
			lastErr = fmt.Errorf("%v; output: %s", err, out.String())
			continue
		}
		t.Cleanup(p.Stop)
		return d
	}
	t.Fatalf("dynalite did not start: %v", lastErr)
	return nil
}
