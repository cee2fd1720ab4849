// Package loadtest is ddbops' load generator and Lambda memory sweep: an
// open-loop constant-rate attacker that measures latency from each
// request's intended send time, the summary and HTML report built from its
// results, the parser of Lambda REPORT log lines, and the price table that
// turns billed duration into cost per million requests.
package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// Requester builds one ready-to-send, authenticated request carrying body
// (signed per request for IAM auth). *client.Client satisfies it.
type Requester interface {
	NewRequest(ctx context.Context, body []byte) (*http.Request, error)
}

// Doer sends a request. *http.Client satisfies it.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Attack is one open-loop, constant-rate run.
type Attack struct {
	// Rate is the intended send rate in requests per second. Hit i is due
	// at start + (i+1)/Rate whatever happened to earlier hits.
	Rate int
	// Duration is how long hits are due for: Rate × Duration hits in all.
	Duration time.Duration
	// Workers caps the requests in flight (it is not the pacing). When
	// every worker is busy, due hits wait for one; their latency still
	// counts from the time they were due.
	Workers int
	// Requester builds each request; Doer sends it (use NewHTTPClient).
	Requester Requester
	Doer      Doer
	// Bodies are sent round robin: hit i carries Bodies[i%len(Bodies)].
	Bodies [][]byte
	// Grace is how long in-flight requests may finish after ctx is
	// cancelled before they are abandoned (default 2s).
	Grace time.Duration
	// Progress, when set, is updated as hits are sent and answered.
	Progress *Progress
}

// Progress counts hits as they happen, for a progress display. Safe for
// concurrent use.
type Progress struct {
	Sent   atomic.Int64
	Done   atomic.Int64
	Errors atomic.Int64 // answered with a non-2xx status or not answered
}

// Hit is the outcome of one request. Times are offsets from the run's
// start.
type Hit struct {
	// Due is when the pacer intended to send the request.
	Due time.Duration
	// Sent is when a worker started it (Due, or later when every worker
	// was busy).
	Sent time.Duration
	// Latency runs from Due to the end of the response body.
	Latency time.Duration
	// Code is the HTTP status, 0 when no response arrived.
	Code     uint16
	BytesIn  int64
	BytesOut int64
	// Error is the transport error, "" when a response arrived.
	Error string
}

// OK reports whether the hit got a 2xx answer.
func (h *Hit) OK() bool { return h.Code >= 200 && h.Code < 300 }

// Result is everything one run measured.
type Result struct {
	Start    time.Time
	Rate     int
	Duration time.Duration
	Workers  int
	// Planned is the number of hits due over Duration.
	Planned int64
	// Hits in order of Due.
	Hits []Hit
	// MaxWorkers is how many workers were started (≤ Workers).
	MaxWorkers int
	// Interrupted is set when ctx was cancelled before every hit was sent;
	// Abandoned counts requests still in flight after the grace period.
	Interrupted bool
	Abandoned   int64
}

// Validate reports a configuration that cannot run.
func (a *Attack) Validate() error {
	switch {
	case a.Rate <= 0:
		return fmt.Errorf("rate %d: must be a positive number of requests per second", a.Rate)
	case a.Rate > 1_000_000:
		return fmt.Errorf("rate %d: at most 1000000 requests per second", a.Rate)
	case a.Duration <= 0:
		return fmt.Errorf("duration %s: must be positive", cmdutil.FormatDuration(a.Duration))
	case a.Workers <= 0:
		return fmt.Errorf("workers %d: must be at least 1", a.Workers)
	case a.Requester == nil || a.Doer == nil:
		return errors.New("attack: no target")
	case len(a.Bodies) == 0:
		return errors.New("attack: no request body")
	}
	switch n := a.Hits(); {
	case n == 0:
		return fmt.Errorf("rate %d for %s: not a single request is due", a.Rate, cmdutil.FormatDuration(a.Duration))
	case n > MaxHits:
		return fmt.Errorf("rate %d for %s: %d requests, more than the %d one run records (lower the rate or the duration)", a.Rate, cmdutil.FormatDuration(a.Duration), n, MaxHits)
	}
	return nil
}

// MaxHits bounds one run: every request is kept (about 60 bytes each) for
// the percentiles over time and the report.
const MaxHits = 10_000_000

// Hits is the number of requests the attack sends when not interrupted.
func (a *Attack) Hits() int64 {
	return int64(a.Duration / a.interval())
}

func (a *Attack) interval() time.Duration {
	return time.Second / time.Duration(a.Rate)
}

// hit is one due request handed to a worker.
type hit struct {
	seq int64
	due time.Duration
}

// Run sends the hits and returns what it measured. When ctx is cancelled it
// stops sending, lets in-flight requests finish for Grace, and returns the
// partial result together with an error wrapping ctx's error.
func (a *Attack) Run(ctx context.Context) (*Result, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	grace := a.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	// Requests outlive ctx by the grace period, so after Ctrl-C the answers
	// already on their way are still measured.
	reqCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	total := a.Hits()
	pacer := vegeta.ConstantPacer{Freq: a.Rate, Per: time.Second}
	interval := a.interval()
	r := &run{Attack: a, reqCtx: reqCtx, stop: ctx, start: time.Now()}

	var (
		shards  []*[]Hit
		wg      sync.WaitGroup
		workers int
	)
	hits := make(chan hit)
	// Each worker appends to its own slice, so recording a hit takes no
	// lock and no channel send; the slices are merged at the end.
	initial := min(a.Workers, 4)
	spawn := func(capacity int) {
		shard := make([]Hit, 0, capacity)
		shards = append(shards, &shard)
		workers++
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(hits, &shard)
		}()
	}
	for range initial {
		spawn(min(int(total)/initial+16, 1<<16))
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var sent int64
loop:
	for sent < total {
		wait, stop := pacer.Pace(time.Since(r.start), uint64(sent))
		if stop {
			break
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				break loop
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break
		}
		h := hit{seq: sent, due: time.Duration(sent+1) * interval}
		select {
		case hits <- h:
		default:
			// Every started worker is busy: start another up to the cap,
			// else wait for one (the hit's latency keeps counting from due).
			if workers < a.Workers {
				spawn(64) // later workers only absorb the overflow
			}
			select {
			case hits <- h:
			case <-ctx.Done():
				break loop
			}
		}
		sent++
	}
	close(hits)

	interrupted := ctx.Err() != nil && sent < total
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if interrupted {
		select {
		case <-done:
		case <-time.After(grace):
			abandon()
			<-done
		}
	} else {
		<-done
	}

	res := &Result{
		Start:       r.start,
		Rate:        a.Rate,
		Duration:    a.Duration,
		Workers:     a.Workers,
		Planned:     total,
		MaxWorkers:  workers,
		Interrupted: interrupted,
		Abandoned:   r.abandoned.Load(),
	}
	n := 0
	for _, s := range shards {
		n += len(*s)
	}
	res.Hits = make([]Hit, 0, n)
	for _, s := range shards {
		res.Hits = append(res.Hits, *s...)
	}
	slices.SortFunc(res.Hits, func(x, y Hit) int { return cmp.Compare(x.Due, y.Due) })
	if interrupted {
		// Ctrl-C is the user's, not a failure: say what the results cover
		// (exit 130 through context.Canceled).
		return res, &cmdutil.InterruptedError{Msg: fmt.Sprintf("bench interrupted after %s of %s: the results above cover the %d of %d requests sent",
			cmdutil.FormatElapsed(time.Since(r.start)), cmdutil.FormatDuration(a.Duration), len(res.Hits), total)}
	}
	return res, nil
}

// run is the state one Run shares with its workers.
type run struct {
	*Attack
	reqCtx    context.Context // cancelled when in-flight requests are abandoned
	stop      context.Context // cancelled when no more hits may be sent
	start     time.Time
	abandoned atomic.Int64
}

// work sends the hits it receives. Hits received after stop is cancelled
// are dropped: they were never sent. Requests abandoned after the grace
// period are counted, not recorded.
func (r *run) work(hits <-chan hit, out *[]Hit) {
	nb := int64(len(r.Bodies))
	for h := range hits {
		if r.stop.Err() != nil {
			continue
		}
		res, abandoned := r.send(h.due, r.Bodies[h.seq%nb])
		if abandoned {
			r.abandoned.Add(1)
			continue
		}
		*out = append(*out, res)
	}
}

func (r *run) send(due time.Duration, body []byte) (h Hit, abandoned bool) {
	h.Due = due
	h.BytesOut = int64(len(body))
	h.Sent = time.Since(r.start)
	p := r.Progress
	if p != nil {
		p.Sent.Add(1)
	}
	req, err := r.Requester.NewRequest(r.reqCtx, body)
	if err == nil {
		var resp *http.Response
		resp, err = r.Doer.Do(req)
		if err == nil {
			h.Code = uint16(resp.StatusCode)
			h.BytesIn, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	h.Latency = time.Since(r.start) - due
	if err != nil {
		if r.reqCtx.Err() != nil {
			return h, true
		}
		h.Error = errorText(err)
	}
	if p != nil {
		p.Done.Add(1)
		if err != nil || !h.OK() {
			p.Errors.Add(1)
		}
	}
	return h, false
}

// errorText is a transport error without the method and URL net/http
// prefixes it with.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + err.Error()
	}
	return err.Error()
}
