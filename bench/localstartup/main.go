// Command localstartup measures how fast `ddbops local` starts: the time
// from exec to the ready line and to the first answered request, on an
// empty data dir and on one whose journal holds N items (written through
// the API, then the server killed with SIGKILL so that the next start
// replays and compacts the whole journal), then again from the compacted
// snapshot. Used by bench/local-vs-moto.sh; not a test (no timing is
// asserted anywhere).
//
//	go run ./bench/localstartup -ddbops /path/to/ddbops -items 0,10000,100000
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
)

func main() {
	bin := flag.String("ddbops", "ddbops", "ddbops binary")
	items := flag.String("items", "0,10000", "comma-separated item counts")
	workers := flag.Int("workers", 32, "concurrent clients that load the items")
	flag.Parse()
	if err := run(*bin, *items, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "localstartup:", err)
		os.Exit(1)
	}
}

func run(bin, items string, workers int) error {
	tmp, err := os.MkdirTemp("", "localstartup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("%-10s %-28s %10s %12s\n", "items", "data dir holds", "ready ms", "1st reply ms")
	for _, f := range strings.Split(items, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("bad item count %q", f)
		}
		dir := filepath.Join(tmp, "d"+strconv.Itoa(n))
		holds := "nothing (first start)"
		if n > 0 {
			if err := load(bin, dir, n, workers); err != nil {
				return err
			}
			holds = "journal (replay + compact)"
		}
		for _, what := range []string{holds, "snapshot"} {
			ready, first, err := measure(bin, dir)
			if err != nil {
				return err
			}
			fmt.Printf("%-10d %-28s %10.1f %12.1f\n", n, what, ms(ready), ms(first))
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
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
		return nil, fmt.Errorf("ddbops local exited: %v: %s", err, log.String())
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		return nil, errors.New("ddbops local not ready after 5 minutes")
	}
}

// measure starts the server, sends one read and stops it with SIGTERM.
func measure(bin, dir string) (ready, first time.Duration, err error) {
	t0 := time.Now()
	p, err := start(bin, dir)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.Post(p.url, "application/json", strings.NewReader(`{"operation":"read","payload":{"Key":{"id":"1"}}}`))
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	first = time.Since(t0)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.exit; err != nil {
		return 0, 0, fmt.Errorf("ddbops local after SIGTERM: %w", err)
	}
	return p.ready, first, nil
}

// load writes n items through the API, then kills the server so that
// they all stay in the journal.
func load(bin, dir string, n, workers int) error {
	p, err := start(bin, dir)
	if err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{"operation": "create", "payload": map[string]any{
					"Item": map[string]any{"id": strconv.FormatInt(i, 10), "name": "user " + strconv.FormatInt(i, 10), "n": i, "tags": []string{"a", "b"}},
				}})
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
