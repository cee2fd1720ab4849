// Command localhardening measures `ddbops local` under the attacks
// docs/local-security.md defends against, against the real binary, and
// prints the figures (no timing is asserted anywhere; the tests in
// internal/local/e2etest assert the rules):
//
//   - idle: 400 idle connections under prlimit --nofile=256, three times:
//     is the server alive, does it answer the next ping;
//   - flood: 20,000 connections at once (this program raises its own
//     open-file limit): how many it holds, alive, the ping after they close;
//   - stalled: 400 clients announcing a 1 MiB body under --auth iam with a
//     garbage Authorization, sending all of it but the last byte: the
//     server's peak resident memory, what the clients get;
//   - cross-site: a POST with a foreign Origin, and one with a foreign Host
//     (DNS rebinding), under --auth none: is anything stored.
//
// With -before it runs the same against an older binary, side by side.
// Used by bench/local-hardening.sh.
//
//	go run ./bench/localhardening -ddbops ./ddbops [-before ./ddbops-old]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
)

func main() {
	bin := flag.String("ddbops", "", "ddbops binary to measure")
	before := flag.String("before", "", "an older ddbops binary to measure side by side")
	flood := flag.Int("flood", 20000, "connections of the flood")
	dial := flag.String("dial", "", "(internal) open -n connections to this address, print how many, hold them until stdin closes")
	n := flag.Int("n", 0, "(internal) connections for -dial")
	flag.Parse()
	if *dial != "" {
		holdConns(*dial, *n)
		return
	}
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "localhardening: -ddbops is required")
		os.Exit(2)
	}
	// The servers keep the open-file limit this process started with;
	// the clients need more.
	serverLimit := openFileLimit()
	bins := []struct{ name, path string }{{"this", *bin}}
	if *before != "" {
		bins = append([]struct{ name, path string }{{"before", *before}}, bins...)
	}
	prlimit, _ := exec.LookPath("prlimit")
	fmt.Printf("%d CPUs; open-file limit of the servers %d (but idle's), the flood from %d-connection client processes\n\n", numCPU(), serverLimit, perClient)
	var limitPrefix []string
	if prlimit != "" {
		limitPrefix = []string{prlimit, fmt.Sprintf("--nofile=%d:%d", serverLimit, serverLimit), "--"}
	}
	for _, b := range bins {
		fmt.Printf("== %s: %s\n", b.name, b.path)
		if prlimit == "" {
			fmt.Println("idle:       skipped (no prlimit on PATH)")
		} else {
			fmt.Println("idle:       " + idle(b.path, prlimit))
		}
		fmt.Println("flood:      " + floodRun(b.path, limitPrefix, *flood))
		fmt.Println("stalled:    " + stalled(b.path, limitPrefix))
		fmt.Println("cross-site: " + crossSite(b.path))
		fmt.Println()
	}
}

// ---- the server ----

type server struct {
	cmd    *exec.Cmd
	addr   string
	pid    int
	stderr *syncBuffer
	done   chan struct{}
	dir    string
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// start runs [prefix...] bin local --addr 127.0.0.1:0 args... and waits
// for its ready document.
func start(bin string, prefix []string, env []string, args ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "localhardening-")
	if err != nil {
		return nil, err
	}
	argv := append(append(append([]string{}, prefix...), bin, "local", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "-o", "json"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "DDBOPS_API_KEY=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{}), dir: dir}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct {
		URL string `json:"url"`
		PID int    `json:"pid"`
	}, 1)
	go func() {
		var doc struct {
			URL string `json:"url"`
			PID int    `json:"pid"`
		}
		br := bufio.NewReader(out)
		if json.NewDecoder(br).Decode(&doc) == nil {
			ready <- doc
		}
		_, _ = io.Copy(io.Discard, br)
		_ = cmd.Wait()
		close(s.done)
	}()
	select {
	case doc := <-ready:
		s.addr = strings.SplitN(strings.TrimPrefix(doc.URL, "http://"), "/", 2)[0]
		s.pid = doc.PID
		return s, nil
	case <-s.done:
		s.stop()
		return nil, fmt.Errorf("ddbops local exited: %s", strings.TrimSpace(s.stderr.String()))
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, errors.New("ddbops local not ready after 60s")
	}
}

func (s *server) stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	os.RemoveAll(s.dir)
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// exitLine is the last line of a dead server's stderr.
func (s *server) exitLine() string {
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	return lines[len(lines)-1]
}

// post sends body to the route and returns the status (0: no answer).
func (s *server) post(body string, hdr ...string) int {
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	req := "POST /prod/DynamoDBManager HTTP/1.1\r\n"
	host := true
	for _, h := range hdr {
		if strings.HasPrefix(h, "Host:") {
			host = false
		}
		req += h + "\r\n"
	}
	if host {
		req += "Host: " + s.addr + "\r\n"
	}
	req += "Connection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
		return 0
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func (s *server) ping() int { return s.post(`{"operation":"ping"}`) }

// pingWithin pings until it is answered 200 or d passes; it returns how
// long that took (-1: never).
func (s *server) pingWithin(d time.Duration) time.Duration {
	t0 := time.Now()
	for time.Since(t0) < d && s.alive() {
		if s.ping() == 200 {
			return time.Since(t0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1
}

func (s *server) fds() int {
	es, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid))
	return len(es)
}

// rss returns RssAnon and VmRSS in bytes (zero when unreadable).
func (s *server) rss() (anon, total int64) {
	anon, total, _ = testenv.ProcMemory(s.pid)
	return anon, total
}

// ---- the scenarios ----

func dialAll(addr string, n int, timeout time.Duration) []net.Conn {
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2000)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if c, err := net.DialTimeout("tcp", addr, timeout); err == nil {
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	var out []net.Conn
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

func idle(bin, prlimit string) string {
	s, err := start(bin, []string{prlimit, "--nofile=256", "--"}, nil, "--auth", "none")
	if err != nil {
		return "did not start: " + err.Error()
	}
	defer s.stop()
	var rounds []string
	for round := 1; round <= 3; round++ {
		conns := dialAll(s.addr, 400, 5*time.Second)
		time.Sleep(2 * time.Second)
		held := s.fds()
		closeAll(conns)
		if !s.alive() {
			return fmt.Sprintf("round %d: %d connections opened; the server EXITED: %s", round, len(conns), s.exitLine())
		}
		d := s.pingWithin(30 * time.Second)
		if d < 0 {
			return fmt.Sprintf("round %d: %d connections opened, %d descriptors; the next ping was NOT answered", round, len(conns), held)
		}
		rounds = append(rounds, fmt.Sprintf("%d fds held, ping %.0f ms after close", held, ms(d)))
	}
	return "prlimit --nofile=256, 3 × 400 idle connections: alive; " + strings.Join(rounds, "; ")
}

// perClient is how many connections one client process opens: each
// needs a descriptor per connection, and this machine may not let a
// process raise its limit.
const perClient = 5000

// floodDialTimeout lets a connect ride out the SYN retries (1, 2, 4, 8 s)
// of a full listen queue.
const floodDialTimeout = 20 * time.Second

func floodRun(bin string, prefix []string, n int) string {
	s, err := start(bin, prefix, nil, "--auth", "none")
	if err != nil {
		return "did not start: " + err.Error()
	}
	defer s.stop()
	self, err := os.Executable()
	if err != nil {
		return err.Error()
	}
	t0 := time.Now()
	type client struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		got   chan int
	}
	var clients []client
	for left := n; left > 0; left -= perClient {
		cmd := exec.Command(self, "-dial", s.addr, "-n", strconv.Itoa(min(left, perClient)))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			return "client: " + err.Error()
		}
		c := client{cmd: cmd, stdin: in, got: make(chan int, 1)}
		go func() {
			var k int
			_, _ = fmt.Fscan(out, &k)
			c.got <- k
		}()
		clients = append(clients, c)
	}
	established := 0
	for _, c := range clients {
		established += <-c.got
	}
	dialed := time.Since(t0)
	time.Sleep(2 * time.Second)
	held := s.fds()
	_, rss := s.rss()
	for _, c := range clients {
		_ = c.stdin.Close()
		_ = c.cmd.Wait()
	}
	if !s.alive() {
		return fmt.Sprintf("%d of %d connections established in %.1f s; the server EXITED: %s", established, n, dialed.Seconds(), s.exitLine())
	}
	d := s.pingWithin(60 * time.Second)
	if d < 0 {
		return fmt.Sprintf("%d of %d connections established; the next ping was NOT answered within 60 s", established, n)
	}
	return fmt.Sprintf("%d of %d connections established within %.0f s each (the others' connects timed out: the server accepts no more than its cap), server held %d descriptors, VmRSS %.0f MB; alive; ping %.0f ms after they closed",
		established, n, floodDialTimeout.Seconds(), held, float64(rss)/1e6, ms(d))
}

// holdConns is a flood client: it opens n connections, prints how many
// it got, and holds them until stdin closes.
func holdConns(addr string, n int) {
	conns := dialAll(addr, n, floodDialTimeout)
	fmt.Println(len(conns))
	_, _ = io.Copy(io.Discard, os.Stdin)
	closeAll(conns)
}

func stalled(bin string, prefix []string) string {
	env := []string{"AWS_ACCESS_KEY_ID=AKIDLOCALHARDENING01", "AWS_SECRET_ACCESS_KEY=local-hardening-secret-not-real-000000000", "AWS_REGION=us-east-1"}
	s, err := start(bin, prefix, env, "--auth", "iam")
	if err != nil {
		return "did not start: " + err.Error()
	}
	defer s.stop()
	_, base := s.rss()
	head := "POST /prod/DynamoDBManager HTTP/1.1\r\nHost: " + s.addr + "\r\nAuthorization: garbage\r\nContent-Length: 1048576\r\n\r\n"
	var peakAnon, peakTotal atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			a, v := s.rss()
			if a > peakAnon.Load() {
				peakAnon.Store(a)
			}
			if v > peakTotal.Load() {
				peakTotal.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var refused, other, none atomic.Int64
	var wg sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	for range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
			if err != nil {
				none.Add(1)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			_, _ = io.WriteString(c, head)
			go func() { _, _ = c.Write(make([]byte, 1<<20-1)) }()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			switch {
			case err != nil:
				none.Add(1)
			case res.StatusCode == 403:
				refused.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	time.Sleep(time.Second) // what the server holds once every body is in
	close(stop)
	<-sampled
	mu.Lock()
	closeAll(conns)
	mu.Unlock()
	alive := "alive"
	if !s.alive() {
		alive = "EXITED: " + s.exitLine()
	}
	return fmt.Sprintf("400 × 1 MiB bodies, garbage Authorization, --auth iam: %d answered 403, %d other, %d unanswered within 20 s; peak VmRSS %.0f MB (RssAnon %.0f MB; %.0f MB at rest); %s",
		refused.Load(), other.Load(), none.Load(), float64(peakTotal.Load())/1e6, float64(peakAnon.Load())/1e6, float64(base)/1e6, alive)
}

func crossSite(bin string) string {
	s, err := start(bin, nil, nil, "--auth", "none")
	if err != nil {
		return "did not start: " + err.Error()
	}
	defer s.stop()
	create := func(id string) string {
		return `{"operation":"create","payload":{"Item":{"id":"` + id + `"}}}`
	}
	stored := func(id string) bool {
		return s.post(`{"operation":"read","payload":{"Key":{"id":"`+id+`"}}}`) == 200
	}
	var parts []string
	for _, c := range []struct {
		name, id string
		hdr      []string
	}{
		{"foreign Origin (text/plain)", "xs-origin", []string{"Origin: http://evil.example", "Content-Type: text/plain"}},
		{"foreign Host (DNS rebinding)", "xs-host", []string{"Host: evil.example:3000"}},
	} {
		status := s.post(create(c.id), c.hdr...)
		what := "nothing stored"
		if stored(c.id) {
			what = "STORED"
		}
		parts = append(parts, fmt.Sprintf("%s: %d, %s", c.name, status, what))
	}
	return strings.Join(parts, "; ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func openFileLimit() uint64 {
	var r syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	return r.Cur
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(strings.Count(string(b), "processor\t:"), 1)
}
