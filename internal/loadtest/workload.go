package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

// Ops lists the operations bench can send, in the order help text shows
// them (delete is left out: it would empty the ids the other operations
// need).
var Ops = []string{wire.OpRead, wire.OpCreate, wire.OpUpdate, wire.OpList, wire.OpEcho, wire.OpPing}

// KeyPrefix starts every id bench reads or writes, so its items are easy to
// tell from real data.
const KeyPrefix = "bench-"

// Workload is what every request of a run does.
type Workload struct {
	Op string
	// Keys is how many ids read, create, update and echo spread over
	// (bench-1 … bench-N, round robin).
	Keys int
	// Table is sent as "tableName" in the DynamoDB operations, as the
	// tutorial's bodies do; "" leaves it out.
	Table string
}

// Validate reports an unknown operation or key count.
func (w Workload) Validate() error {
	found := false
	for _, op := range Ops {
		found = found || op == w.Op
	}
	if !found {
		return fmt.Errorf("op %q: want one of %s", w.Op, strings.Join(Ops, ", "))
	}
	if w.Keys < 1 {
		return fmt.Errorf("keys %d: must be at least 1", w.Keys)
	}
	return nil
}

// KeyID is the id of key i (1-based).
func KeyID(i int) string { return fmt.Sprintf("%s%d", KeyPrefix, i) }

// Bodies returns the request bodies the run cycles through, encoded once so
// that no request pays for JSON encoding. create is a plain PutItem (no
// condition), so it overwrites like `call create --overwrite` and never
// answers 409; update and read need the ids to exist (see Seed).
func (w Workload) Bodies() ([][]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	switch w.Op {
	case wire.OpList:
		return [][]byte{mustJSON(wire.Request{Operation: wire.OpList, TableName: w.Table, Payload: map[string]any{wire.KeyLimit: 10}})}, nil
	case wire.OpPing:
		return [][]byte{mustJSON(wire.Request{Operation: wire.OpPing})}, nil
	}
	out := make([][]byte, w.Keys)
	for i := range out {
		id := KeyID(i + 1)
		var p map[string]any
		switch w.Op {
		case wire.OpRead:
			p = map[string]any{wire.KeyKey: map[string]any{wire.KeyAttribute: id}}
		case wire.OpCreate:
			p = map[string]any{wire.KeyItem: benchItem(id)}
		case wire.OpUpdate:
			p = map[string]any{
				"Key":                             map[string]any{"id": id},
				wire.KeyUpdateExpression:          "SET #n = :n",
				wire.KeyExpressionAttributeNames:  map[string]string{"#n": "name"},
				wire.KeyExpressionAttributeValues: map[string]any{":n": "ddbops bench (updated)"},
			}
		case wire.OpEcho:
			p = benchItem(id)
		}
		req := wire.Request{Operation: w.Op, Payload: p}
		if w.Op != wire.OpEcho {
			req.TableName = w.Table
		}
		out[i] = mustJSON(req)
	}
	return out, nil
}

// NeedsSeed reports whether the ids must exist before the run: a read or
// update of a missing id answers 404, and list should return items.
func (w Workload) NeedsSeed() bool {
	return w.Op == wire.OpRead || w.Op == wire.OpUpdate || w.Op == wire.OpList
}

// SeedBodies are the create requests that make bench-1 … bench-N exist.
func (w Workload) SeedBodies() [][]byte {
	out := make([][]byte, w.Keys)
	for i := range out {
		out[i] = mustJSON(wire.Request{Operation: wire.OpCreate, TableName: w.Table, Payload: map[string]any{wire.KeyItem: benchItem(KeyID(i + 1))}})
	}
	return out
}

func benchItem(id string) map[string]any {
	return map[string]any{wire.KeyAttribute: id, "name": "ddbops bench", "source": "ddbops bench"}
}

func mustJSON(r wire.Request) []byte {
	b, err := wire.Encode(r)
	if err != nil {
		panic(err) // only static values are encoded here
	}
	return b
}

// NewHTTPClient returns the client a run sends with: over rt when not nil
// (e.g. the in-process local stack), else over a transport tuned for load:
// keep-alive connections (up to workers idle per host, so a burst never
// closes and re-dials), no transparent gzip (bodies are discarded, not
// read), and no redirects (the first answer is the one measured).
func NewHTTPClient(rt http.RoundTripper, workers int, timeout time.Duration) *http.Client {
	if rt == nil {
		rt = &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   10 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          0, // no global limit
			MaxIdleConnsPerHost:   max(workers, 2),
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		}
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Seed sends the workload's seed requests, concurrency at a time, and fails
// on the first answer that is not 2xx (wrong auth shows up here, before the
// run).
func Seed(ctx context.Context, rq Requester, doer Doer, bodies [][]byte, concurrency int) error {
	concurrency = max(1, min(concurrency, len(bodies)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if _, err := Once(ctx, rq, doer, bodies[i]); err != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("seed %s: %w", KeyID(i+1), err)
						cancel()
					})
				}
			}
		}()
	}
feed:
	for i := range bodies {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Probe is one request sent outside the measured run (warm-up).
type Probe struct {
	LatencyMS float64 `json:"latency_ms"`
	Code      int     `json:"code"`
	Error     string  `json:"error,omitempty"`
}

// Warmup sends n requests one after the other and returns each one's
// latency: the first after a configuration change is the cold start as a
// client sees it.
func Warmup(ctx context.Context, rq Requester, doer Doer, bodies [][]byte, n int) []Probe {
	out := make([]Probe, 0, n)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		start := time.Now()
		code, err := Once(ctx, rq, doer, bodies[i%len(bodies)])
		p := Probe{LatencyMS: ms(time.Since(start)), Code: code}
		if err != nil && code == 0 {
			p.Error = errorText(err)
		}
		out = append(out, p)
	}
	return out
}

// StatusError is a non-2xx answer to a single request.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Once sends one request and returns its status; a non-2xx answer is a
// *StatusError carrying the API's error message.
func Once(ctx context.Context, rq Requester, doer Doer, body []byte) (int, error) {
	req, err := rq.NewRequest(ctx, body)
	if err != nil {
		return 0, err
	}
	resp, err := doer.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, &StatusError{Code: resp.StatusCode, Message: apiMessage(b)}
	}
	return resp.StatusCode, nil
}

// apiMessage extracts the message of the wire contract's error body or of
// API Gateway's own {"message": …}.
func apiMessage(b []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	msg := e.Message
	if e.Error.Message != "" {
		msg = e.Error.Message
		if e.Error.Code != "" {
			msg = e.Error.Code + ": " + msg
		}
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}
