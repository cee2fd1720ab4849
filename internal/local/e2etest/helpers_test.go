package e2etest

import (
	"bufio"
	"encoding/json"
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
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
)

// ---- the binary ----

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// ddbops builds ./cmd/ddbops once for the package.
func ddbops(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "ddbops-e2e-")
		if err != nil {
			build.err = err
			return
		}
		build.dir = dir
		bin := filepath.Join(dir, "ddbops")
		cmd := exec.Command(testenv.GoTool(t), "build", "-o", bin, "./cmd/ddbops")
		cmd.Dir = testenv.ModuleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/ddbops: %v\n%s", err, out)
			return
		}
		build.path = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// command is the exec.Cmd of argv; every process of these tests starts
// through testenv (Start, StartReading, Run): its own process group and a
// parent-death signal, so nothing outlives the test binary.
func command(argv ...string) *exec.Cmd {
	return exec.Command(argv[0], argv[1:]...)
}

// ---- ddbops local ----

// readyDoc is `ddbops local -o json`'s ready document.
type readyDoc struct {
	URL    string   `json:"url"`
	Auth   string   `json:"auth"`
	APIKey string   `json:"apiKey"`
	PID    int      `json:"pid"`
	CORS   []string `json:"cors"`
}

// server is one `ddbops local` process.
type server struct {
	p      *testenv.Proc
	doc    readyDoc
	addr   string // host:port
	port   string
	stdout *testenv.SyncBuffer // after the ready document
	stderr *testenv.SyncBuffer
	readyc chan readyDoc
	text   bool
	done   chan struct{}
	code   int
}

// spec says how to start a server.
type spec struct {
	args   []string // after `ddbops local`
	env    []string
	prefix []string // a wrapper that execs its arguments (prlimit)
	global []string // flags before `local`
	text   bool     // no -o json: wait for the ready line instead
}

// baseEnv: no user config, no API key, no AWS profile of the machine.
func baseEnv(t *testing.T) []string {
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "DDBOPS_API_KEY=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DDBOPS_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// launch starts ddbops with sp and returns at once.
func launch(t *testing.T, sp spec) *server {
	t.Helper()
	argv := append(append(append([]string{}, sp.prefix...), ddbops(t)), sp.global...)
	argv = append(argv, "local", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data"))
	if !sp.text {
		argv = append(argv, "-o", "json")
	}
	argv = append(argv, sp.args...)
	cmd := command(argv...)
	cmd.Env = append(baseEnv(t), sp.env...)
	s := &server{stdout: &testenv.SyncBuffer{}, stderr: &testenv.SyncBuffer{}, done: make(chan struct{}), text: sp.text}
	cmd.Stderr = s.stderr
	s.p = testenv.StartReading(t, cmd)
	ready := make(chan readyDoc, 1)
	go func() {
		br := bufio.NewReader(s.p.Stdout())
		var doc readyDoc
		if json.NewDecoder(io.TeeReader(br, s.stdout)).Decode(&doc) == nil && doc.URL != "" {
			ready <- doc
		}
		_, _ = io.Copy(s.stdout, br)
		s.code = s.p.ExitCode()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.p.Stop()
		<-s.done
		if t.Failed() {
			t.Logf("ddbops local stderr:\n%s", s.stderr)
		}
	})
	s.readyc = ready
	return s
}

// start starts ddbops local and waits for its ready document.
func start(t *testing.T, sp spec) *server {
	t.Helper()
	s := launch(t, sp)
	s.waitReady(t)
	return s
}

func (s *server) waitReady(t *testing.T) {
	t.Helper()
	if s.text {
		s.waitReadyLine(t)
		return
	}
	select {
	case s.doc = <-s.readyc:
	case <-s.done:
		t.Fatalf("ddbops local exited with %d before it was ready:\n%s", s.code, s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local not ready after 60s:\n%s", s.stderr)
	}
	// The ready line comes last: then everything else is written.
	waitFor(t, "the ready line", func() bool { return strings.Contains(s.stderr.String(), "ddbops local: ready on ") })
	host := strings.TrimPrefix(s.doc.URL, "http://")
	s.addr, _, _ = strings.Cut(host, "/")
	_, s.port, _ = net.SplitHostPort(s.addr)
}

// waitReadyLine waits for the text ready line on stderr.
func (s *server) waitReadyLine(t *testing.T) {
	t.Helper()
	const prefix = "ddbops local: ready on "
	waitFor(t, "the ready line", func() bool {
		if !s.alive() {
			t.Fatalf("ddbops local exited with %d before it was ready:\n%s", s.code, s.stderr)
		}
		return strings.Contains(s.stderr.String(), prefix)
	})
	_, rest, _ := strings.Cut(s.stderr.String(), prefix)
	s.doc.URL, _, _ = strings.Cut(rest, " ")
	s.doc.PID = s.p.Pid()
	host := strings.TrimPrefix(s.doc.URL, "http://")
	s.addr, _, _ = strings.Cut(host, "/")
	_, s.port, _ = net.SplitHostPort(s.addr)
}

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	_ = s.p.Signal(syscall.SIGTERM)
	return s.exit(t)
}

// exit waits for the server to exit on its own.
func (s *server) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local still running after 60s:\n%s", s.stderr)
		return 0
	}
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ---- raw HTTP ----

const route = "/prod/DynamoDBManager"

// answer is one parsed response.
type answer struct {
	status int
	header http.Header
	body   string
	closed bool // the server said Connection: close
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.body) }

// roundTrip writes raw on a new connection and reads one answer.
func (s *server) roundTrip(t *testing.T, raw string) answer {
	t.Helper()
	a, err := s.tryRoundTrip(raw, 20*time.Second)
	if err != nil {
		t.Fatalf("%q: %v", firstLine(raw), err)
	}
	return a
}

func (s *server) tryRoundTrip(raw string, timeout time.Duration) (answer, error) {
	c, err := net.DialTimeout("tcp", s.addr, timeout)
	if err != nil {
		return answer{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, raw); err != nil {
		return answer{}, err
	}
	return readAnswer(c, raw)
}

// readAnswer reads one answer to req (whose method decides whether a body
// follows) from c.
func readAnswer(c net.Conn, req string) (answer, error) {
	method, _, _ := strings.Cut(req, " ")
	res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b), closed: res.Close}, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// request builds a raw POST of body to target with the header lines hdr
// (each "Name: value"), a Host for the server unless hdr has one, and
// Connection: close.
func (s *server) request(target, body string, hdr ...string) string {
	var b strings.Builder
	b.WriteString("POST " + target + " HTTP/1.1\r\n")
	hasHost := false
	for _, h := range hdr {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			hasHost = true
		}
	}
	if !hasHost {
		b.WriteString("Host: " + s.addr + "\r\n")
	}
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return b.String()
}

// post sends body to the route with hdr.
func (s *server) post(t *testing.T, body string, hdr ...string) answer {
	t.Helper()
	return s.roundTrip(t, s.request(route, body, hdr...))
}

func createBody(id string) string {
	return `{"operation":"create","payload":{"Item":{"id":"` + id + `"}}}`
}

func readBody(id string) string {
	return `{"operation":"read","payload":{"Key":{"id":"` + id + `"}}}`
}

// stored reports whether the item id exists, asked the plain way (no
// Origin, the server's own Host) with hdr for auth.
func (s *server) stored(t *testing.T, id string, hdr ...string) bool {
	t.Helper()
	a := s.post(t, readBody(id), hdr...)
	switch a.status {
	case 200:
		return true
	case 404:
		return false
	}
	t.Fatalf("read %s: %s", id, a)
	return false
}

// ping asks for "pong" and reports the answer.
func (s *server) ping(t *testing.T, hdr ...string) answer {
	t.Helper()
	return s.post(t, `{"operation":"ping"}`, hdr...)
}

// fds counts the server's open descriptors.
func (s *server) fds(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.doc.PID))
	if err != nil {
		t.Fatalf("descriptors of ddbops local: %v", err)
	}
	return len(es)
}

// rss returns the server's resident anonymous memory (heap, stacks: what
// the process itself holds) and its whole resident set, in bytes.
func (s *server) rss(t *testing.T) (anon, total int64) {
	t.Helper()
	anon, total, err := testenv.ProcMemory(s.doc.PID)
	if err != nil {
		t.Fatalf("ddbops local: %v", err)
	}
	return anon, total
}

// skipShort skips a test of the fault layer (hundreds of connections or
// megabytes of bodies, a browser) under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: a fault-layer test (many connections, large bodies or a browser)")
	}
}

// waitFor polls cond until it holds or 60 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pong checks that a is the ping's answer.
func pong(a answer) bool { return a.status == 200 && a.body == `"pong"` }
