// Command localstartup measures how fast `ddbops local` starts and how
// much memory it holds: the time from exec to the ready line and to the
// first answered request, and the server's own memory (RssAnon of
// /proc/PID/status) after that first answer and after a first write, on
// an empty data dir and on one holding N items written through the API
// with the server then killed with SIGKILL ("after kill -9"), then again
// after a clean stop. Several binaries given as label=path run side by
// side, item count by item count. Used by bench/local-vs-moto.sh and
// bench/local-store.sh; not a test (no timing is asserted anywhere).
//
//	go run ./bench/localstartup -ddbops before=/tmp/old -ddbops after=/tmp/new -items 0,200000 [-pad 100000]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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

type binaries []string

func (b *binaries) String() string     { return strings.Join(*b, ",") }
func (b *binaries) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var bins binaries
	flag.Var(&bins, "ddbops", "ddbops binary, or label=path (repeatable)")
	items := flag.String("items", "0,10000", "comma-separated item counts")
	pad := flag.Int("pad", 0, "bytes of padding per item (a string attribute)")
	workers := flag.Int("workers", 32, "concurrent clients that load the items")
	flag.Parse()
	if len(bins) == 0 {
		bins = binaries{"ddbops"}
	}
	if err := run(bins, *items, *pad, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "localstartup:", err)
		os.Exit(1)
	}
}

func run(bins binaries, items string, pad, workers int) error {
	tmp, err := os.MkdirTemp("", "localstartup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("%-8s %-10s %-22s %10s %12s %14s %14s %12s\n", "binary", "items", "data dir", "ready ms", "1st reply ms", "RssAnon MiB", "after write", "dir MiB")
	for _, f := range strings.Split(items, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("bad item count %q", f)
		}
		for _, b := range bins {
			label, bin, ok := strings.Cut(b, "=")
			if !ok {
				label, bin = filepath.Base(b), b
			}
			dir := filepath.Join(tmp, label+"-"+strconv.Itoa(n))
			holds := "empty (first start)"
			if n > 0 {
				if err := load(bin, dir, n, pad, workers); err != nil {
					return fmt.Errorf("%s: %w", label, err)
				}
				holds = "after kill -9"
			}
			for _, what := range []string{holds, "after clean stop"} {
				m, err := measure(bin, dir)
				if err != nil {
					return fmt.Errorf("%s: %w", label, err)
				}
				fmt.Printf("%-8s %-10d %-22s %10.1f %12.1f %14.1f %14.1f %12.1f\n", label, n, what, ms(m.ready), ms(m.first), mib(m.rss), mib(m.rssWrite), mib(dirSize(dir)))
			}
			_ = os.RemoveAll(dir)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b int64) float64        { return float64(b) / (1 << 20) }

type proc struct {
	cmd   *exec.Cmd
	url   string
	ready time.Duration
	exit  chan error
}

// start execs `ddbops local` and waits for the ready line on stderr.
func start(bin, dir string) (*proc, error) {
	cmd := exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--data-dir", dir, "--auth", "none")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exit: make(chan error, 1)}
	urls := make(chan string, 1)
	var log bytes.Buffer
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			log.WriteString(line + "\n")
			logMu.Unlock()
			if rest, ok := strings.CutPrefix(line, "ddbops local: ready on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
		p.exit <- cmd.Wait()
	}()
	select {
	case p.url = <-urls:
		p.ready = time.Since(t0)
		return p, nil
	case err := <-p.exit:
		logMu.Lock()
		defer logMu.Unlock()
		return nil, fmt.Errorf("ddbops local exited: %v: %s", err, log.String())
	case <-time.After(10 * time.Minute):
		_ = cmd.Process.Kill()
		return nil, errors.New("ddbops local not ready after 10 minutes")
	}
}

type measurement struct {
	ready, first  time.Duration
	rss, rssWrite int64
}

// measure starts the server, sends one read, notes its memory, writes one
// item (a large data dir's background check finishes first), notes its
// memory again and stops it with SIGTERM.
func measure(bin, dir string) (m measurement, err error) {
	t0 := time.Now()
	p, err := start(bin, dir)
	if err != nil {
		return m, err
	}
	if err := post(p.url, `{"operation":"read","payload":{"Key":{"id":"1"}}}`); err != nil {
		return m, err
	}
	m.first, m.ready = time.Since(t0), p.ready
	m.rss = rssAnon(p.cmd.Process.Pid)
	if err := post(p.url, `{"operation":"update","payload":{"Key":{"id":"startup-probe"},"UpdateExpression":"SET n = :n","ExpressionAttributeValues":{":n":1}}}`); err != nil {
		return m, err
	}
	m.rssWrite = rssAnon(p.cmd.Process.Pid)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.exit; err != nil {
		return m, fmt.Errorf("ddbops local after SIGTERM: %w", err)
	}
	return m, nil
}

func post(url, body string) error {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%s: HTTP %d", body, resp.StatusCode)
	}
	return nil
}

// rssAnon is the process's own resident memory (not the page cache of a
// mapped file), in bytes; -1 without /proc.
func rssAnon(pid int) int64 {
	anon, _, err := testenv.ProcMemory(pid)
	if err != nil {
		return -1
	}
	return anon
}

// dirSize is the apparent size of the files in dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// load writes n items through the API, then kills the server with SIGKILL.
func load(bin, dir string, n, pad, workers int) error {
	p, err := start(bin, dir)
	if err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	padding := strings.Repeat("p", pad)
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				item := map[string]any{"id": strconv.FormatInt(i, 10), "name": "user " + strconv.FormatInt(i, 10), "n": i, "tags": []string{"a", "b"}}
				if pad > 0 {
					item["pad"] = padding
				}
				body, _ := json.Marshal(map[string]any{"operation": "create", "payload": map[string]any{"Item": item}})
				resp, err := client.Post(p.url, "application/json", bytes.NewReader(body))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("create: HTTP %d", resp.StatusCode)
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exit
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}
