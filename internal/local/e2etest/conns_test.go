package e2etest

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
)

func needPrlimit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prlimit")
	if err != nil {
		testenv.SkipOrFail(t, "prlimit (util-linux) is not on PATH")
	}
	return p
}

// dialN opens n idle connections to addr.
func dialN(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() { closeAll(conns) })
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d of %d: %v", len(conns)+1, n, err)
		}
		conns = append(conns, c)
	}
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// TestIdleConnectionsUnderLowFDLimit: under an open-file limit of 256,
// 400 idle connections come and go, three times, and the server answers
// the next ping each time: it holds at most what the limit leaves (the
// cap drops below local-max-conns and says so), the rest wait in the
// listen queue.
func TestIdleConnectionsUnderLowFDLimit(t *testing.T) {
	skipShort(t)
	t.Parallel()
	prlimit := needPrlimit(t)
	s := start(t, spec{prefix: []string{prlimit, "--nofile=256", "--"}, args: []string{"--auth", "none"}})
	if !strings.Contains(s.stderr.String(), "serving at most 192 connections at once: the open-file limit is 256 (local-max-conns is 1024)") {
		t.Errorf("no word of the lowered cap:\n%s", s.stderr)
	}
	for round := 1; round <= 3; round++ {
		conns := dialN(t, s.addr, 400)
		waitFor(t, "the server to hold its 192 connections", func() bool { return s.fds(t) >= 192 })
		if n := s.fds(t); n > 256 || !s.alive() {
			t.Fatalf("round %d: %d descriptors open, alive %v", round, n, s.alive())
		}
		closeAll(conns)
		if a := s.ping(t); !pong(a) {
			t.Fatalf("round %d: ping after 400 idle connections: %s", round, a)
		}
	}
	if strings.Contains(s.stderr.String(), "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", s.stderr)
	}
}

// TestAcceptBackoffOnEMFILE: when accept fails for want of descriptors
// (here the limit drops under a running server), the server retries with
// backoff, says so, and answers again once the connections are gone.
func TestAcceptBackoffOnEMFILE(t *testing.T) {
	skipShort(t)
	t.Parallel()
	prlimit := needPrlimit(t)
	s := start(t, spec{args: []string{"--auth", "none"}})
	if out, err := exec.Command(prlimit, "--pid", strconv.Itoa(s.doc.PID), "--nofile=100:100").CombinedOutput(); err != nil {
		t.Skipf("cannot lower the open-file limit of the server: %v: %s", err, out)
	}
	conns := dialN(t, s.addr, 200)
	waitFor(t, "an accept error", func() bool { return strings.Contains(s.stderr.String(), "accept: ") })
	line := s.stderr.String()[strings.Index(s.stderr.String(), "ddbops local: accept: "):]
	line, _, _ = strings.Cut(line, "\n")
	if !strings.Contains(line, "too many open files") || !strings.Contains(line, "retrying in") {
		t.Errorf("accept error line: %q", line)
	}
	// Reported at most once a second: a second report is a second
	// backoff round, at least a second later.
	waitFor(t, "a second accept error", func() bool { return strings.Count(s.stderr.String(), "ddbops local: accept: ") >= 2 })
	if !s.alive() {
		t.Fatalf("the server stopped on EMFILE:\n%s", s.stderr)
	}
	closeAll(conns)
	if a := s.ping(t); !pong(a) {
		t.Fatalf("ping after the descriptors came back: %s", a)
	}
}

// TestConnectionCap: with --max-conns 3 and three idle connections held,
// a fourth waits (accepted by nobody, not refused) until one of the three
// goes; then it is answered.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none", "--max-conns", "3"}})
	base := s.fds(t)
	idle := dialN(t, s.addr, 3)
	waitFor(t, "three accepted connections", func() bool { return s.fds(t) >= base+3 })
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := s.request(route, `{"operation":"ping"}`)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := readAnswer(c, req); err == nil {
		t.Fatal("a fourth connection was served while three were held")
	}
	if s.fds(t) > base+3 {
		t.Errorf("%d descriptors: more than three connections accepted", s.fds(t)-base)
	}
	_ = idle[0].Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if a, err := readAnswer(c, req); err != nil || !pong(a) {
		t.Fatalf("the waiting connection once a slot freed: %v %s", err, a)
	}
}
