package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/testenv"
)

// TestLocalFlags checks flag, environment and default binding of
// `ddbops local` without starting a server.
func TestLocalFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want localOptions
		code int
	}{
		{name: "defaults", want: localOptions{Addr: "127.0.0.1:3000", DataDir: ".ddbops/local", Auth: "apikey", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Region: "us-east-1", MaxConns: 1024, MaxBodyBytesInFlight: 32 << 20}},
		{name: "flags", args: []string{"--addr", "127.0.0.1:0", "--data-dir", "d", "--auth", "none", "--api-key", "k0123456789012345678901", "--dynamodb-endpoint", "http://127.0.0.1:8000"},
			want: localOptions{Addr: "127.0.0.1:0", DataDir: "d", Auth: "none", APIKey: "k0123456789012345678901", APIKeySource: "--api-key", DynamoDBEndpoint: "http://127.0.0.1:8000", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Region: "us-east-1", MaxConns: 1024, MaxBodyBytesInFlight: 32 << 20}},
		{name: "environment", env: map[string]string{"DDBOPS_ADDR": "127.0.0.1:9", "DDBOPS_DATA_DIR": "e", "DDBOPS_LOCAL_AUTH": "iam", "DDBOPS_API_KEY": "env-key-0123456789012345", "DDBOPS_DYNAMODB_ENDPOINT": "http://127.0.0.1:1", "DDBOPS_TABLE": "t2", "DDBOPS_STAGE": "dev"},
			want: localOptions{Addr: "127.0.0.1:9", DataDir: "e", Auth: "iam", APIKey: "env-key-0123456789012345", APIKeySource: "DDBOPS_API_KEY", DynamoDBEndpoint: "http://127.0.0.1:1", Table: "t2", Stage: "dev", Resource: "DynamoDBManager", Region: "us-east-1", MaxConns: 1024, MaxBodyBytesInFlight: 32 << 20}},
		{name: "flag beats environment", args: []string{"--auth", "none", "--api-key", "flag-key-0123456789012345"}, env: map[string]string{"DDBOPS_LOCAL_AUTH": "iam", "DDBOPS_API_KEY": "env-key-0123456789012345"},
			want: localOptions{Addr: "127.0.0.1:3000", DataDir: ".ddbops/local", Auth: "none", APIKey: "flag-key-0123456789012345", APIKeySource: "--api-key", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Region: "us-east-1", MaxConns: 1024, MaxBodyBytesInFlight: 32 << 20}},
		{name: "hardening flags", args: []string{"--cors", "http://localhost:5173", "--allow-remote-unauthenticated", "--max-conns", "7", "--max-body-bytes-in-flight", "2097152"},
			want: localOptions{Addr: "127.0.0.1:3000", DataDir: ".ddbops/local", Auth: "apikey", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Region: "us-east-1",
				CORS: "http://localhost:5173", AllowRemoteUnauthenticated: true, MaxConns: 7, MaxBodyBytesInFlight: 2 << 20}},
		{name: "hardening environment", env: map[string]string{"DDBOPS_CORS": "http://a.example,http://b.example", "DDBOPS_LOCAL_MAX_CONNS": "9", "DDBOPS_LOCAL_MAX_BODY_BYTES_IN_FLIGHT": "1048576"},
			want: localOptions{Addr: "127.0.0.1:3000", DataDir: ".ddbops/local", Auth: "apikey", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Region: "us-east-1",
				CORS: "http://a.example,http://b.example", MaxConns: 9, MaxBodyBytesInFlight: 1 << 20}},
		{name: "no connections", args: []string{"--max-conns", "0"}, code: cmdutil.ExitUsage},
		{name: "body budget under one body", args: []string{"--max-body-bytes-in-flight", "1048575"}, code: cmdutil.ExitUsage},
		{name: "bad auth", args: []string{"--auth", "basic"}, code: cmdutil.ExitUsage},
		{name: "arguments", args: []string{"extra"}, code: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the environment is process-wide.
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Chdir(t.TempDir())
			for _, k := range []string{"DDBOPS_ADDR", "DDBOPS_DATA_DIR", "DDBOPS_LOCAL_AUTH", "DDBOPS_API_KEY", "DDBOPS_DYNAMODB_ENDPOINT", "DDBOPS_TABLE", "DDBOPS_STAGE", "DDBOPS_CORS", "DDBOPS_LOCAL_MAX_CONNS", "DDBOPS_LOCAL_MAX_BODY_BYTES_IN_FLIGHT"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got *localOptions
			ios, _, errOut := testIO()
			f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
			code := executeWith(f, "local", newLocalCmd, func(_ context.Context, o *localOptions) error { got = o; return nil }, tt.args)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			if tt.code != 0 {
				return
			}
			got.IO, got.AWSConfig, got.Env = nil, nil, cmdutil.Env{}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunLocal runs the command in-process: the ready line, the -o json
// document, a request with the printed API key, and a clean stop that
// leaves the data on disk and the data dir free.
func TestRunLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, errOut := &testenv.SyncBuffer{}, &testenv.SyncBuffer{}
	opts := &localOptions{
		IO:   &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Addr: "127.0.0.1:0", DataDir: dir, Auth: "apikey",
		Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", JSON: true,
		Env: cmdutil.Env{Getenv: func(string) string { return "" }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runLocal(ctx, opts) }()
	waitFor(t, "the ready line", func() bool { return strings.Contains(errOut.String(), "ready on") })

	var doc localReady
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatalf("-o json output: %v: %q", err, out.String())
	}
	if doc.Auth != "apikey" || len(doc.APIKey) != 40 || !strings.HasSuffix(doc.URL, "/prod/DynamoDBManager") || doc.DataDir != dir || doc.Engine != "embedded" {
		t.Errorf("ready document %+v", doc)
	}
	for _, want := range []string{"ddbops local: API key " + doc.APIKey + " (generated, saved to ", "ddbops local: ready on " + doc.URL + " (auth apikey)\n"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	req, _ := http.NewRequest(http.MethodPost, doc.URL, strings.NewReader(`{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`))
	req.Header.Set("x-api-key", doc.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if info, err := local.Discover(dir); err != nil || info == nil || info.URL != doc.URL {
		t.Errorf("Discover while running: %+v %v", info, err)
	}

	cancel() // Ctrl-C
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runLocal after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runLocal did not stop")
	}
	if !strings.Contains(errOut.String(), "stopped; every write committed, data dir released") {
		t.Errorf("stderr: %s", errOut.String())
	}
	st, err := local.Open(context.Background(), withDefaults(local.Options{DataDir: dir, Auth: "none", LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatalf("data dir not released: %v", err)
	}
	if st.Recovery().Items != 1 {
		t.Errorf("after stop: %+v", st.Recovery())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Started again, the banner counts the one item in the singular.
	errOut = &testenv.SyncBuffer{}
	opts.IO = &cmdutil.IOStreams{In: strings.NewReader(""), Out: &testenv.SyncBuffer{}, ErrOut: errOut}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- runLocal(ctx, opts) }()
	waitFor(t, "the ready line", func() bool { return strings.Contains(errOut.String(), "ready on") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "ddbops local: data dir "+dir+": 1 item, table lambda-apigateway") {
		t.Errorf("banner over one item:\n%s", errOut.String())
	}
}

// TestRunLocalErrors: a busy port and a busy data dir are one-line
// errors with a hint.
func TestRunLocalErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	holder, err := local.Open(context.Background(), withDefaults(local.Options{DataDir: dir, Auth: "none"}))
	if err != nil {
		t.Fatal(err)
	}
	ios, _, errOut := testIO()
	opts := &localOptions{IO: ios, Addr: "127.0.0.1:0", DataDir: dir, Auth: "none", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Env: cmdutil.Env{Getenv: func(string) string { return "" }}}
	err = runLocal(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "data dir is in use by another ddbops process (pid ") {
		t.Errorf("busy data dir: %v", err)
	}
	holder.Close()

	busy := testenv.FreeAddr(t)
	ln, err := net.Listen("tcp", busy)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	opts = &localOptions{IO: ios, Addr: busy, DataDir: t.TempDir(), Auth: "none", Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager", Env: cmdutil.Env{Getenv: func(string) string { return "" }}}
	err = runLocal(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "listen on "+busy) {
		t.Errorf("busy port: %v (%s)", err, errOut)
	}
	var buf bytes.Buffer
	cmdutil.PrintError(&buf, err)
	if !strings.Contains(buf.String(), "hint: ") {
		t.Errorf("no hint: %s", buf.String())
	}
}

// ---- subprocess tests: the real binary ----

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ddbopsBinary builds ./cmd/ddbops once for the package's tests.
func ddbopsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ddbops-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ddbops")
		cmd := exec.Command(testenv.GoTool(t), "build", "-o", binPath, ".")
		cmd.Dir = filepath.Join(testenv.ModuleRoot(t), "cmd", "ddbops")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// localProc is a running `ddbops local` subprocess.
type localProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *testenv.SyncBuffer
	exited chan error
}

// startLocal runs `ddbops local -o json` on a free port over dir and
// waits for its ready document.
func startLocal(t *testing.T, bin, dir string, extra ...string) *localProc {
	t.Helper()
	args := append([]string{"local", "--addr", "127.0.0.1:0", "--data-dir", dir, "--auth", "none", "-o", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &localProc{cmd: cmd, stderr: &testenv.SyncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	docs := make(chan localReady, 1)
	go func() {
		var doc localReady
		if json.NewDecoder(bufio.NewReader(stdout)).Decode(&doc) == nil {
			docs <- doc
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	select {
	case doc := <-docs:
		p.url = doc.URL
	case err := <-p.exited:
		t.Fatalf("ddbops local exited before ready: %v: %s", err, p.stderr)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("ddbops local not ready: %s", p.stderr)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	})
	return p
}

func postBody(client *http.Client, url, body string) (int, []byte, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// writers drives clients concurrent writers at url until stop is closed;
// each create of a new id and each increment of the client's counter that
// got a 200 is recorded as acknowledged.
type writers struct {
	mu      sync.Mutex
	acked   map[string]bool // ids created
	incs    map[int]int     // acknowledged increments per client
	tried   map[int]int     // attempted increments per client
	total   atomic.Int64
	cycle   int
	clients int
}

func (w *writers) run(url string, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range w.clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var body, id string
				if i%2 == 0 {
					id = fmt.Sprintf("c%d-k%d-%d", w.cycle, c, i)
					body = fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":%q,"cycle":%d}}}`, id, w.cycle)
				} else {
					w.mu.Lock()
					w.tried[c]++
					w.mu.Unlock()
					body = fmt.Sprintf(`{"operation":"update","payload":{"Key":{"id":"counter-%d"},"UpdateExpression":"SET n = if_not_exists(n, :z) + :one","ExpressionAttributeValues":{":z":0,":one":1}}}`, c)
				}
				status, _, err := postBody(client, url, body)
				if err != nil {
					return // the server is gone
				}
				if status != 200 {
					continue
				}
				w.total.Add(1)
				w.mu.Lock()
				if id != "" {
					w.acked[id] = true
				} else {
					w.incs[c]++
				}
				w.mu.Unlock()
			}
		})
	}
	return &wg
}

// TestLocalCrashLosesNoAcknowledgedWrite kill -9s a real `ddbops local`
// during concurrent writes from 4 clients, three times, and proves after
// each restart that every acknowledged write is there.
func TestLocalCrashLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	bin := ddbopsBinary(t)
	dir := t.TempDir()
	w := &writers{acked: map[string]bool{}, incs: map[int]int{}, tried: map[int]int{}, clients: 4}
	const cycles, perCycle = 3, 200
	for cycle := range cycles {
		w.cycle = cycle
		p := startLocal(t, bin, dir)
		if cycle == 0 {
			for c := range w.clients {
				body := fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"counter-%d","n":0}}}`, c)
				if status, b, err := postBody(http.DefaultClient, p.url, body); err != nil || status != 200 {
					t.Fatalf("create counter: %d %s %v", status, b, err)
				}
			}
		}
		stop := make(chan struct{})
		start := w.total.Load()
		wg := w.run(p.url, stop)
		waitFor(t, "acknowledged writes", func() bool { return w.total.Load()-start >= perCycle })
		// kill -9 in mid-stream: the writers are still sending.
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		close(stop)
		wg.Wait()
	}
	if w.total.Load() < cycles*perCycle {
		t.Fatalf("only %d acknowledged writes", w.total.Load())
	}

	p := startLocal(t, bin, dir)
	client := &http.Client{Timeout: 10 * time.Second}
	w.mu.Lock()
	defer w.mu.Unlock()
	missing := 0
	for id := range w.acked {
		status, body, err := postBody(client, p.url, fmt.Sprintf(`{"operation":"read","payload":{"Key":{"id":%q}}}`, id))
		if err != nil || status != 200 {
			missing++
			t.Errorf("acknowledged create %s: %d %s %v", id, status, body, err)
		}
	}
	for c := range w.clients {
		status, body, err := postBody(client, p.url, fmt.Sprintf(`{"operation":"read","payload":{"Key":{"id":"counter-%d"}}}`, c))
		var got struct{ Item struct{ N int } }
		if err != nil || status != 200 || json.Unmarshal(body, &got) != nil {
			t.Errorf("counter %d: %d %s %v", c, status, body, err)
			continue
		}
		// Acknowledged increments are all there; unacknowledged ones may
		// or may not be (they were in flight at the kill).
		if got.Item.N < w.incs[c] || got.Item.N > w.tried[c] {
			t.Errorf("counter %d = %d, acknowledged %d, attempted %d", c, got.Item.N, w.incs[c], w.tried[c])
		}
	}
	t.Logf("%d acknowledged writes over %d kill -9 cycles (%d creates), %d missing", w.total.Load(), cycles, len(w.acked), missing)
}

// TestLocalGracefulShutdown: SIGTERM during writes finishes in-flight
// requests, flushes the journal, releases the data dir and exits 0.
func TestLocalGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := ddbopsBinary(t)
	dir := t.TempDir()
	w := &writers{acked: map[string]bool{}, incs: map[int]int{}, tried: map[int]int{}, clients: 3}
	p := startLocal(t, bin, dir)
	stop := make(chan struct{})
	wg := w.run(p.url, stop)
	waitFor(t, "acknowledged writes", func() bool { return w.total.Load() >= 50 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	close(stop)
	wg.Wait()
	if !strings.Contains(p.stderr.String(), "stopped; every write committed, data dir released") {
		t.Errorf("stderr: %s", p.stderr)
	}
	st, err := local.Open(context.Background(), withDefaults(local.Options{DataDir: dir, Auth: "none", LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatalf("data dir after SIGTERM: %v", err)
	}
	defer st.Close()
	if got := st.Recovery().Items; got < len(w.acked) {
		t.Errorf("%d items after restart, %d creates acknowledged", got, len(w.acked))
	}
}

// TestRunLocalUserKeyNotLogged: a key the user passed is not echoed on
// stderr (a generated one is: the user needs to learn it).
func TestRunLocalUserKeyNotLogged(t *testing.T) {
	t.Parallel()
	const key = "user-secret-key-0123456789"
	out, errOut := &testenv.SyncBuffer{}, &testenv.SyncBuffer{}
	opts := &localOptions{
		IO:   &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Auth: "apikey", APIKey: key, APIKeySource: "DDBOPS_API_KEY",
		Table: "lambda-apigateway", Stage: "prod", Resource: "DynamoDBManager",
		Env: cmdutil.Env{Getenv: func(string) string { return "" }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runLocal(ctx, opts) }()
	waitFor(t, "the ready line", func() bool { return strings.Contains(errOut.String(), "ready on") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut.String(), key) || !strings.Contains(errOut.String(), "API key from DDBOPS_API_KEY") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	// The try line reads the key from where it came: $DDBOPS_API_KEY, or
	// the --api-key the user typed (not a variable that may be unset); the
	// item count agrees with its number.
	if !strings.Contains(errOut.String(), `-H "x-api-key: $DDBOPS_API_KEY"`) || !strings.Contains(errOut.String(), ": 0 items,") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	errOut2 := &testenv.SyncBuffer{}
	opts.IO = &cmdutil.IOStreams{In: strings.NewReader(""), Out: &testenv.SyncBuffer{}, ErrOut: errOut2}
	opts.APIKeySource = "--api-key"
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- runLocal(ctx, opts) }()
	waitFor(t, "the ready line", func() bool { return strings.Contains(errOut2.String(), "ready on") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := errOut2.String(); strings.Contains(s, key) || strings.Contains(s, "$DDBOPS_API_KEY") || !strings.Contains(s, `-H "x-api-key: <the key given to --api-key>"`) {
		t.Errorf("stderr:\n%s", s)
	}
}

// TestTuneLocalRuntime: ddbops local runs Go code on one thread and
// collects less often, unless the environment sets GOMAXPROCS or GOGC,
// and the restore function puts both back. Not parallel: it changes the
// test binary's runtime while it runs.
func TestTuneLocalRuntime(t *testing.T) {
	procs, gc := runtime.GOMAXPROCS(0), debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	if procs < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(procs)
	}
	before := runtime.GOMAXPROCS(0)
	env := func(vars map[string]string) cmdutil.Env {
		return cmdutil.Env{Getenv: func(k string) string { return vars[k] }}
	}

	restore := tuneLocalRuntime(env(nil))
	gotProcs, gotGC := runtime.GOMAXPROCS(0), debug.SetGCPercent(400)
	restore()
	if gotProcs != 1 || gotGC != 400 {
		t.Errorf("unset environment: GOMAXPROCS %d, GOGC %d; want 1, 400", gotProcs, gotGC)
	}
	if runtime.GOMAXPROCS(0) != before || debug.SetGCPercent(gc) != gc {
		t.Errorf("not restored: GOMAXPROCS %d (want %d)", runtime.GOMAXPROCS(0), before)
	}

	restore = tuneLocalRuntime(env(map[string]string{"GOMAXPROCS": "2", "GOGC": "100"}))
	gotProcs, gotGC = runtime.GOMAXPROCS(0), debug.SetGCPercent(gc)
	restore()
	if gotProcs != before || gotGC != gc {
		t.Errorf("environment sets both: GOMAXPROCS %d, GOGC %d; want %d, %d (untouched)", gotProcs, gotGC, before, gc)
	}
}
