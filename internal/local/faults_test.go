package local

// The local stack under faults, with the real `ddbops local` binary as a
// subprocess: kill -9 during concurrent writes, a read-only data dir, a
// disk that fills up while serving or before a start, and a damaged
// database file.
//
// The read-only and disk-full scenarios need what stops root too: a
// read-only bind mount and a small tmpfs, each in a private mount
// namespace (unshare -m) so that nothing is mounted outside the test and
// the kernel removes the mounts when the namespace's last process exits.
// Where mount namespaces are not available they are skipped with the
// reason.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/testenv"
)

// ---- the real binary ----

var ddbopsBuild struct {
	mu    sync.Mutex
	users int
	path  string
}

// ddbopsBinary builds ./cmd/ddbops once for the tests running at the
// same time and removes it when the last of them ends.
func ddbopsBinary(t *testing.T) string {
	t.Helper()
	b := &ddbopsBuild
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.path == "" {
		dir, err := os.MkdirTemp("", "ddbops-faults-")
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "ddbops")
		cmd := exec.Command(testenv.GoTool(t), "build", "-o", bin, "./cmd/ddbops")
		cmd.Dir = testenv.ModuleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			t.Fatalf("go build ./cmd/ddbops: %v\n%s", err, out)
		}
		b.path = bin
	}
	b.users++
	bin := b.path
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.users--; b.users == 0 {
			os.RemoveAll(filepath.Dir(b.path))
			b.path = ""
		}
	})
	return bin
}

// readyDoc is the part of `ddbops local -o json`'s document the tests
// use: the ready document, or the error document of a failed start.
type readyDoc struct {
	URL   string `json:"url"`
	PID   int    `json:"pid"`
	Items int    `json:"items"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// proc is one `ddbops local` subprocess.
type proc struct {
	p      *testenv.Proc
	doc    readyDoc
	stderr *testenv.SyncBuffer
	ready  chan readyDoc
	done   chan struct{} // closed once the process has exited
	code   int           // exit code, valid after done
	errDoc string        // the -o json error document's message, valid after done
}

// localArgs are the arguments of `ddbops local` over dir on a free port.
func localArgs(bin, dir string) []string {
	return []string{bin, "local", "--addr", "127.0.0.1:0", "--data-dir", dir, "--auth", "none", "-o", "json"}
}

// startProc runs argv (ddbops local, possibly behind nsenter/unshare,
// which exec it) and returns at once; the process is killed when the test
// ends.
func startProc(t *testing.T, argv []string) *proc {
	t.Helper()
	return startProcIn(t, "", argv)
}

// startProcIn is startProc with the working directory cwd ("" for the
// test's).
func startProcIn(t *testing.T, cwd string, argv []string) *proc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "DDBOPS_API_KEY=")
	p := &proc{stderr: &testenv.SyncBuffer{}, ready: make(chan readyDoc, 1), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	// Its own process group and a parent-death signal: nothing survives
	// the test binary (testenv.StartReading).
	p.p = testenv.StartReading(t, cmd)
	go func() {
		stdout := p.p.Stdout()
		var doc readyDoc
		if json.NewDecoder(bufio.NewReader(stdout)).Decode(&doc) == nil {
			if doc.Error != nil {
				p.errDoc = doc.Error.Message
			} else {
				p.ready <- doc
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.code = p.p.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.p.Stop()
		<-p.done
	})
	return p
}

// waitReady waits for the ready document; it fails the test if the
// process exits first.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	select {
	case p.doc = <-p.ready:
	case <-p.done:
		t.Fatalf("ddbops local exited with %d before it was ready:\n%s", p.code, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local not ready after 60s:\n%s", p.stderr)
	}
}

// waitExit waits for the process to exit on its own and returns its code.
func (p *proc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local still running after 60s:\n%s", p.stderr)
		return 0
	}
}

// startLocal starts ddbops local and waits until it is ready.
func startLocal(t *testing.T, argv []string) *proc {
	t.Helper()
	p := startProc(t, argv)
	p.waitReady(t)
	return p
}

// runFailing runs argv, which must exit by itself, and returns its exit
// code and stderr.
func runFailing(t *testing.T, argv []string) (int, string) {
	t.Helper()
	p := startProc(t, argv)
	select {
	case doc := <-p.ready:
		t.Fatalf("ddbops local started (%s) where it should have failed:\n%s", doc.URL, p.stderr)
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local neither failed nor started within 60s:\n%s", p.stderr)
	}
	// -o json: the same error as one document on stdout.
	if line, _, _ := strings.Cut(p.stderr.String(), "\n"); p.errDoc != line {
		t.Errorf("-o json error document %q, want the stderr line %q", p.errDoc, line)
	}
	return p.code, p.stderr.String()
}

// checkOneLineError asserts the documented failure shape of a start:
// exit 1 and nothing on stderr but one error line "ddbops local: ..."
// holding want, and a hint.
func checkOneLineError(t *testing.T, code int, stderr string, want ...string) {
	t.Helper()
	if line := checkErrorExit(t, code, stderr, want...); !strings.HasPrefix(stderr, line) {
		t.Errorf("stderr has more than the error line and a hint:\n%s", stderr)
	}
}

// checkErrorExit asserts exit 1 and a last line "ddbops local: ..."
// holding want, followed by at most hints, and returns that line.
func checkErrorExit(t *testing.T, code int, stderr string, want ...string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	i := len(lines) - 1
	for i > 0 && strings.HasPrefix(lines[i], "hint: ") {
		i--
	}
	if code != 1 || !strings.HasPrefix(lines[i], "ddbops local: ") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and a last line \"ddbops local: ...\"", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("error line %q does not say %q", lines[i], w)
		}
	}
	for _, leak := range []string{"goroutine", "panic", ".go:"} {
		if strings.Contains(stderr, leak) {
			t.Errorf("stderr leaks %q:\n%s", leak, stderr)
		}
	}
	return lines[i]
}

// ---- clients ----

var faultClient = &http.Client{Timeout: 30 * time.Second}

// call posts body to url and returns the status and body; err is a
// transport error (the server is gone, or went away mid-request).
func call(url, body string) (int, []byte, error) {
	resp, err := faultClient.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// scan lists every item of the table, page by page.
func scan(t *testing.T, url string) map[string]map[string]any {
	t.Helper()
	items := map[string]map[string]any{}
	body := `{"operation":"list","payload":{"Limit":100}}`
	for {
		status, b, err := call(url, body)
		if err != nil || status != 200 {
			t.Fatalf("list: %d %s %v", status, b, err)
		}
		var page struct {
			Items            []map[string]any
			LastEvaluatedKey map[string]any
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			t.Fatalf("list: %v: %s", err, b)
		}
		for _, it := range page.Items {
			items[it["id"].(string)] = it
		}
		if page.LastEvaluatedKey == nil {
			return items
		}
		lek, _ := json.Marshal(page.LastEvaluatedKey)
		body = fmt.Sprintf(`{"operation":"list","payload":{"Limit":100,"ExclusiveStartKey":%s}}`, lek)
	}
}

// counterValue reads n of item it.
func counterValue(t *testing.T, it map[string]any) int {
	t.Helper()
	n, ok := it["n"].(json.Number)
	if !ok {
		t.Fatalf("counter %v has no number n", it)
	}
	v, err := strconv.Atoi(string(n))
	if err != nil {
		t.Fatalf("counter %v: %v", it, err)
	}
	return v
}

// ledger records what the server acknowledged and what was in flight when
// it died (unknown outcome: DynamoDB's own rule for a request without an
// answer).
type ledger struct {
	mu         sync.Mutex
	acked      map[string]bool // creates that got 200
	unknown    map[string]bool // creates that got no answer, or a 500
	gone       map[string]bool // unknown creates found missing after a restart
	incAcked   []int           // per counter: acknowledged increments (+ the durable base)
	incUnknown []int           // per counter: increments with no answer
	cycleAcks  int             // writes acknowledged in the current cycle
	failures   []string        // answers that no fault explains
	internal   [][]byte        // bodies of the 500s
	allow500   bool            // a 500 is expected (the disk fills up)
}

func newLedger(counters int) *ledger {
	return &ledger{acked: map[string]bool{}, unknown: map[string]bool{}, gone: map[string]bool{},
		incAcked: make([]int, counters), incUnknown: make([]int, counters)}
}

// writer is one client: it alternates unique creates (conditional, so
// that a duplicate would show as 409) and increments of its own counter
// until stop closes or the server stops answering.
func (l *ledger) writer(url, prefix string, c int, stop <-chan struct{}, payload string) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		var body, id string
		if i%2 == 0 {
			id = fmt.Sprintf("%s-w%d-%d", prefix, c, i/2)
			body = fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":%q,"writer":%d,"pad":%q},"ConditionExpression":"attribute_not_exists(id)"}}`, id, c, payload)
		} else {
			body = fmt.Sprintf(`{"operation":"update","payload":{"Key":{"id":"counter-%d"},"UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":1}}}`, c)
		}
		status, b, err := call(url, body)
		l.mu.Lock()
		switch {
		case err == nil && status == 200:
			l.cycleAcks++
			if id != "" {
				l.acked[id] = true
			} else {
				l.incAcked[c]++
			}
		case err != nil || (status == 500 && l.allow500):
			if status == 500 {
				l.internal = append(l.internal, b)
			}
			if id != "" {
				l.unknown[id] = true
			} else {
				l.incUnknown[c]++
			}
		default:
			l.failures = append(l.failures, fmt.Sprintf("writer %d: %d %s", c, status, b))
		}
		l.mu.Unlock()
		if err != nil || status != 200 {
			return
		}
	}
}

// verify checks a restarted server against the ledger: every
// acknowledged create is there, every item is one that was sent, every
// counter is between its acknowledged and its attempted increments. Then
// it settles the unknowns (what is there now is durable).
func (l *ledger) verify(t *testing.T, url, prefix string) (items, unknownKept int) {
	t.Helper()
	got := scan(t, url)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.failures {
		t.Errorf("unexpected answer: %s", f)
	}
	l.failures = nil
	for id := range l.acked {
		if got[id] == nil {
			t.Errorf("acknowledged create %s is missing", id)
		}
	}
	for id := range got {
		if strings.HasPrefix(id, prefix) && !l.acked[id] && !l.unknown[id] {
			t.Errorf("item %s is there but was never acknowledged nor in flight (gone before: %v)", id, l.gone[id])
		}
	}
	for id := range l.unknown {
		if got[id] != nil {
			l.acked[id] = true
			unknownKept++
		} else {
			l.gone[id] = true
		}
	}
	clear(l.unknown)
	for c := range l.incAcked {
		it := got[fmt.Sprintf("counter-%d", c)]
		if it == nil {
			t.Errorf("counter-%d is missing", c)
			continue
		}
		n := counterValue(t, it)
		if n < l.incAcked[c] || n > l.incAcked[c]+l.incUnknown[c] {
			t.Errorf("counter-%d = %d: want ≥ %d acknowledged and ≤ %d acknowledged + in flight", c, n, l.incAcked[c], l.incAcked[c]+l.incUnknown[c])
		}
		unknownKept += n - l.incAcked[c]
		l.incAcked[c], l.incUnknown[c] = n, 0
	}
	return len(got), unknownKept
}

// createCounters creates counter-0 … counter-(n-1) at 0.
func createCounters(t *testing.T, url string, n int) {
	t.Helper()
	for c := range n {
		body := fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"counter-%d","n":0}}}`, c)
		if status, b, err := call(url, body); err != nil || status != 200 {
			t.Fatalf("create counter-%d: %d %s %v", c, status, b, err)
		}
	}
}

// ---- kill -9 ----

// TestFaultKillLoop kill -9s a real `ddbops local` six times while four
// clients write (unique conditional creates and `SET n = n + :one`
// increments), and after every restart proves that no acknowledged write
// was lost and nothing that was never sent appeared.
func TestFaultKillLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	dir := t.TempDir()
	const cycles, clients = 6, 4
	l := newLedger(clients)
	p := startLocal(t, localArgs(bin, dir))
	createCounters(t, p.doc.URL, clients)
	var report []string
	total := 0
	for cycle := range cycles {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() { l.writer(p.doc.URL, fmt.Sprintf("k%d", cycle+1), c, stop, "") })
		}
		// Vary the moment of the kill from cycle to cycle.
		want := 150 + 50*cycle
		deadline := time.Now().Add(60 * time.Second)
		for {
			l.mu.Lock()
			n := l.cycleAcks
			l.mu.Unlock()
			if n >= want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cycle %d: only %d acknowledged writes in 60s:\n%s", cycle, n, p.stderr)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := p.p.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		close(stop)
		wg.Wait()

		l.mu.Lock()
		acks := l.cycleAcks
		inflight := len(l.unknown)
		for _, u := range l.incUnknown {
			inflight += u
		}
		l.cycleAcks = 0
		l.mu.Unlock()
		total += acks

		p = startLocal(t, localArgs(bin, dir))
		items, kept := l.verify(t, p.doc.URL, "k")
		if p.doc.Items != items {
			t.Errorf("cycle %d: the ready document says %d items, the table holds %d", cycle+1, p.doc.Items, items)
		}
		report = append(report, fmt.Sprintf("cycle %d: %4d writes acknowledged, %d in flight at the kill (%d of them applied), %5d items after restart",
			cycle+1, acks, inflight, kept, items))
		if t.Failed() {
			break
		}
	}
	if total < 500 {
		t.Errorf("only %d writes acknowledged in all", total)
	}
	if !t.Failed() {
		t.Logf("kill -9 × %d, %d clients, %d acknowledged writes in all, 0 lost:\n%s", cycles, clients, total, strings.Join(report, "\n"))
	}
}

// ---- read-only data dir ----

// mountNS reports why private mount namespaces with tmpfs and bind mounts
// cannot be used here ("" when they can).
var mountNS = sync.OnceValue(func() string {
	if _, err := exec.LookPath("unshare"); err != nil {
		return "unshare(1) not found"
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		return "nsenter(1) not found"
	}
	dir, err := os.MkdirTemp("", "ddbops-mountns-")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=64k tmpfs "$1" && mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"`, "sh", dir).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("private mount namespaces are not available (%v: %s)", err, bytes.TrimSpace(out))
	}
	return ""
})

func needMountNS(t *testing.T) {
	t.Helper()
	if why := mountNS(); why != "" {
		t.Skipf("needs a private mount namespace to make a directory read-only or full for root: %s", why)
	}
}

// dirFiles returns the name and content of every regular file in dir.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// populated returns a data dir holding five items, written by two
// servers, the last one stopped cleanly.
func populated(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	p := startLocal(t, localArgs(bin, dir))
	for i := range 3 {
		if status, b, err := call(p.doc.URL, fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"%d"}}}`, i)); err != nil || status != 200 {
			t.Fatalf("create: %d %s %v", status, b, err)
		}
	}
	stopProc(t, p)
	p = startLocal(t, localArgs(bin, dir))
	for i := 3; i < 5; i++ {
		if status, b, err := call(p.doc.URL, fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"%d"}}}`, i)); err != nil || status != 200 {
			t.Fatalf("create: %d %s %v", status, b, err)
		}
	}
	stopProc(t, p)
	return dir
}

// stopProc stops p with SIGTERM and expects a clean exit.
func stopProc(t *testing.T, p *proc) {
	t.Helper()
	if err := p.p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, p.stderr)
	}
}

// TestFaultReadOnlyDataDir: `ddbops local` on a data dir it cannot write
// fails at start with one clear line and exit 1, and changes nothing.
// Permission bits do not stop root, so the data dir is made read-only
// with a read-only bind mount (EROFS), and, where mounts are not
// possible, with a database path that is a directory.
func TestFaultReadOnlyDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)

	t.Run("database path is a directory", func(t *testing.T) {
		t.Parallel()
		dir := populated(t, bin)
		db := filepath.Join(dir, store.DBFile)
		if err := os.Rename(db, db+".moved"); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(db, 0o700); err != nil {
			t.Fatal(err)
		}
		before := dirFiles(t, dir)
		code, stderr := runFailing(t, localArgs(bin, dir))
		checkOneLineError(t, code, stderr, "open data dir", db, "is not a regular file")
		t.Logf("database path is a directory: %s", strings.SplitN(stderr, "\n", 2)[0])
		if after := dirFiles(t, dir); !mapsEqualExcept(before, after, "/"+store.LockFile) {
			t.Errorf("the failed start changed the data dir:\nbefore %q\nafter  %q", before, after)
		}
	})

	for _, tt := range []struct {
		name, sub string
		want      []string
	}{
		{"read-only bind mount, existing data", "", []string{"open data dir", "read-only file system"}},
		{"read-only bind mount, data dir to create", "new", []string{"open data dir", "mkdir", "read-only file system"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			needMountNS(t)
			dir := populated(t, bin)
			before := dirFiles(t, dir)
			argv := append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c",
				`mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`, "sh", dir},
				localArgs(bin, filepath.Join(dir, tt.sub))...)
			code, stderr := runFailing(t, argv)
			checkOneLineError(t, code, stderr, tt.want...)
			t.Logf("%s: %s", tt.name, strings.SplitN(stderr, "\n", 2)[0])
			if after := dirFiles(t, dir); !mapsEqualExcept(before, after) {
				t.Errorf("the read-only data dir changed:\nbefore %q\nafter  %q", before, after)
			}
			// The same data dir, writable again, serves everything.
			p := startLocal(t, localArgs(bin, dir))
			if got := len(scan(t, p.doc.URL)); got != 5 {
				t.Errorf("%d items after the failed start, want 5", got)
			}
		})
	}
}

// mapsEqualExcept compares file maps, ignoring the named files' content
// (the lock file holds the PID of its last holder).
func mapsEqualExcept(a, b map[string]string, ignore ...string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v != w && !slices.Contains(ignore, k)) {
			return false
		}
	}
	return true
}

// ---- disk full ----

// tmpfsNS is a private mount namespace holding a small tmpfs at dir (the
// same path as outside, where dir stays an empty directory).
type tmpfsNS struct {
	holder *testenv.Proc
	dir    string
}

func newTmpfsNS(t *testing.T, size string) *tmpfsNS {
	t.Helper()
	needMountNS(t)
	dir := t.TempDir()
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1" && echo mounted && exec sleep 3600`, "sh", dir, size)
	var errb testenv.SyncBuffer
	cmd.Stderr = &errb
	holder := testenv.StartReading(t, cmd)
	line, _ := bufio.NewReader(holder.Stdout()).ReadString('\n')
	if line != "mounted\n" {
		t.Fatalf("mount tmpfs: %s", errb.String())
	}
	return &tmpfsNS{holder: holder, dir: dir}
}

// wrap runs argv inside the namespace (nsenter execs it: same PID).
func (n *tmpfsNS) wrap(argv []string) []string {
	return append([]string{"nsenter", "-t", strconv.Itoa(n.holder.Pid()), "-m", "--"}, argv...)
}

// path is where the test process reaches a file of the tmpfs.
func (n *tmpfsNS) path(rel string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", n.holder.Pid()), n.dir, rel)
}

func (n *tmpfsNS) resize(t *testing.T, size string) {
	t.Helper()
	if out, err := exec.Command("nsenter", n.wrap([]string{"mount", "-o", "remount,size=" + size, n.dir})[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("resize tmpfs: %v: %s", err, out)
	}
}

// fill writes a file until the tmpfs is full.
func (n *tmpfsNS) fill(t *testing.T) {
	t.Helper()
	f, err := os.Create(n.path("filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}

// TestFaultDiskFull: the data dir's filesystem (a 256 KiB tmpfs) fills up
// while clients write. The write that hits it gets a 500 and is not
// acknowledged, and so does every write until there is room; the server
// goes on serving reads meanwhile, and once space is freed the same server
// writes again. After a restart every acknowledged write is there, and
// whatever else is there was one of the writes that got a 500 or no
// answer (outcome unknown, as with DynamoDB). Then a full disk at start:
// exit 1 with a clear line, data untouched; a little room (far less than
// the data) is enough to start again.
func TestFaultDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	ns := newTmpfsNS(t, "256k")
	data := filepath.Join(ns.dir, "data")
	argv := ns.wrap(localArgs(bin, data))
	const clients = 4
	l := newLedger(clients)
	l.allow500 = true

	p := startLocal(t, argv)
	createCounters(t, p.doc.URL, clients)
	pad := strings.Repeat("x", 900)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() { l.writer(p.doc.URL, "f", c, stop, pad) })
	}
	// Every writer stops at its first 500 or dead connection; the
	// watchdog only guards against a disk that never fills.
	watchdog := time.AfterFunc(2*time.Minute, func() { close(stop) })
	wg.Wait()
	if !watchdog.Stop() {
		t.Fatalf("no write failed in 2 minutes on a 256 KiB tmpfs:\n%s", p.stderr)
	}
	l.mu.Lock()
	acked, failed := len(l.acked), len(l.unknown)
	for c := range clients {
		acked += l.incAcked[c]
		failed += l.incUnknown[c]
	}
	internal := l.internal
	l.mu.Unlock()
	if acked == 0 || len(internal) == 0 {
		t.Fatalf("%d writes acknowledged, %d answered 500: the disk did not fill up as planned", acked, len(internal))
	}
	for _, b := range internal {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code != "InternalError" {
			t.Errorf("500 body %s: want error code InternalError", b)
		}
		for _, leak := range []string{"no space", "data.db", "/"} {
			if strings.Contains(e.Error.Message, leak) {
				t.Errorf("500 body names %q: %s", leak, b)
			}
		}
	}
	// The server says why, once per failed request, in its log.
	logLine := firstLine(p.stderr.String(), "time=")
	if !strings.Contains(p.stderr.String(), "write not stored (not acknowledged): no space left on device") {
		t.Errorf("the server's log does not say why the writes failed:\n%s", p.stderr)
	}
	// Still serving: reads work, writes still fail.
	if status, b, err := call(p.doc.URL, `{"operation":"read","payload":{"Key":{"id":"counter-0"}}}`); err != nil || status != 200 {
		t.Fatalf("read on a full disk: %d %s %v", status, b, err)
	}
	if status, b, err := call(p.doc.URL, `{"operation":"create","payload":{"Item":{"id":"still-full","pad":"`+pad+`"}}}`); err != nil || status != 500 {
		t.Fatalf("write on a full disk: %d %s %v", status, b, err)
	}
	l.mu.Lock()
	l.unknown["still-full"] = true
	l.mu.Unlock()

	// Room again: the same server writes.
	ns.resize(t, "16m")
	if status, b, err := call(p.doc.URL, `{"operation":"create","payload":{"Item":{"id":"f-after-room"}}}`); err != nil || status != 200 {
		t.Fatalf("write after space was freed: %d %s %v", status, b, err)
	}
	l.mu.Lock()
	l.acked["f-after-room"] = true
	l.mu.Unlock()
	items, kept := l.verify(t, p.doc.URL, "f")
	t.Logf("disk full while serving: %d writes acknowledged, %d not (%d answered 500, the rest no answer), %d of those applied anyway, %d items; the same server wrote again once there was room\nserver log: %s",
		acked, failed, len(internal), kept, items, logLine)

	// A restart finds the same.
	stopProc(t, p)
	p = startLocal(t, argv)
	if got, _ := l.verify(t, p.doc.URL, "f"); got != items {
		t.Errorf("after a restart: %d items, want %d", got, items)
	}

	// A full disk at start.
	stopProc(t, p)
	before := dirFiles(t, ns.path("data"))
	ns.fill(t)
	code, stderr := runFailing(t, argv)
	checkOneLineError(t, code, stderr, "no space left on device")
	if after := dirFiles(t, ns.path("data")); !mapsEqualExcept(before, after, "/"+store.LockFile) {
		t.Errorf("a start on a full disk changed the data dir:\nbefore %q\nafter  %q", before, after)
	}
	// Free 64 KiB, a fraction of the data: enough to start and write.
	dbSize := len(before["/"+store.DBFile])
	st, err := os.Stat(ns.path("filler"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(ns.path("filler"), st.Size()-64<<10); err != nil {
		t.Fatal(err)
	}
	p = startLocal(t, argv)
	if got := scan(t, p.doc.URL); len(got) != items {
		t.Errorf("after the full-disk start: %d items, want %d", len(got), items)
	}
	if status, b, err := call(p.doc.URL, `{"operation":"create","payload":{"Item":{"id":"after-full"}}}`); err != nil || status != 200 {
		t.Errorf("write after 64 KiB were freed: %d %s %v", status, b, err)
	}
	t.Logf("disk full at start: %s\n64 KiB freed (the database is %d KiB): started and wrote", strings.SplitN(stderr, "\n", 2)[0], dbSize>>10)
}

// ---- damaged database ----

// TestFaultDamagedDatabase: bytes of the database file flipped, one at a
// time, at the places that matter (records, keys, page and element
// headers, both meta pages, the free list) and in between: a start on
// the damaged copy either fails with one clear line naming the file and
// what to do, exit 1 and nothing changed, or serves every item exactly
// (a flip in free space). Never fewer items, never a wrong one.
func TestFaultDamagedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	orig := t.TempDir()
	p := startLocal(t, localArgs(bin, orig))
	for i := range 120 {
		body := fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"item-%03d","v":%d,"s":%q}}}`, i, i, strings.Repeat("s", i%40))
		if status, b, err := call(p.doc.URL, body); err != nil || status != 200 {
			t.Fatalf("create: %d %s %v", status, b, err)
		}
	}
	if status, b, err := call(p.doc.URL, `{"operation":"create","payload":{"Item":{"id":"big","pad":"`+strings.Repeat("p", 30000)+`"}}}`); err != nil || status != 200 {
		t.Fatalf("create: %d %s %v", status, b, err)
	}
	want := scan(t, p.doc.URL)
	stopProc(t, p)
	files := dirFiles(t, orig)
	db := []byte(files["/"+store.DBFile])
	const page = 4096
	pages := len(db) / page
	var offsets []int
	for pg := range min(pages, 24) {
		for _, in := range []int{0, 10, 16 + 3, 16 + 8, 16 + 48, 200, page / 2} {
			offsets = append(offsets, pg*page+in)
		}
	}
	detected, served := 0, 0
	for _, off := range offsets {
		dir := t.TempDir()
		for name, content := range files {
			b := []byte(content)
			if name == "/"+store.DBFile {
				b = slices.Clone(b)
				b[off] ^= 0x04
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		before := dirFiles(t, dir)
		pr := startProc(t, localArgs(bin, dir))
		select {
		case pr.doc = <-pr.ready:
			got := scan(t, pr.doc.URL)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("offset %d: served %d items, want the %d written, exactly", off, len(got), len(want))
			}
			served++
		case <-pr.done:
			code, stderr := pr.code, pr.stderr.String()
			checkErrorExit(t, code, stderr, "ddbops local: open data dir "+dir+": database "+filepath.Join(dir, store.DBFile)+" is damaged: ", "restore a copy of it, or start on a new data dir")
			if after := dirFiles(t, dir); !mapsEqualExcept(before, after, "/"+store.LockFile) {
				t.Fatalf("offset %d: a refused start changed the data dir", off)
			}
			if detected == 0 {
				t.Logf("e.g. %s", strings.SplitN(stderr, "\n", 2)[0])
			}
			detected++
		case <-time.After(60 * time.Second):
			t.Fatalf("offset %d: neither started nor failed", off)
		}
		pr.p.Stop()
		<-pr.done
	}
	t.Logf("%d flips: %d refused at start, %d served every item exactly", len(offsets), detected, served)
	if detected == 0 {
		t.Fatal("no flip was detected")
	}
}

func firstLine(s, prefix string) string {
	for l := range strings.Lines(s) {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
