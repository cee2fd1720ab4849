package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// LatencyMS is a latency distribution in milliseconds. Percentiles come
// from vegeta's t-digest; min and max are exact.
type LatencyMS struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// ErrorCount is one kind of failed request and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

// Summary is what a run measured, in the shape of `bench -o json`
// (docs/loadtest.md).
type Summary struct {
	// Requests is the number of requests sent (answered or not).
	Requests int `json:"requests"`
	// Rate is the achieved send rate: requests / (last send − first send).
	Rate float64 `json:"rate"`
	// RequestedRate is --rate.
	RequestedRate int `json:"requested_rate"`
	// Throughput is 2xx responses / (end of last response − first send).
	Throughput float64 `json:"throughput"`
	// Success is the ratio of 2xx responses to requests, 0..1.
	Success float64 `json:"success"`
	// StatusCodes counts responses by HTTP status; "0" is no response.
	StatusCodes map[string]int `json:"status_codes"`
	// LatencyMS is measured from each request's intended send time to the
	// end of its response.
	LatencyMS LatencyMS `json:"latency_ms"`
	// SendDelayMS is how late requests left compared to their intended
	// time (queueing behind --workers, or a busy client machine).
	SendDelayMS struct {
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"send_delay_ms"`
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// DurationS is first to last send; WaitS is last send to last answer.
	DurationS float64 `json:"duration_s"`
	WaitS     float64 `json:"wait_s"`
	// Errors lists transport errors and non-2xx statuses, most frequent first.
	Errors []ErrorCount `json:"errors"`
	// Planned is rate × duration; fewer are sent when interrupted.
	Planned int64 `json:"planned"`
	// Workers is the --workers cap; MaxWorkers how many were needed.
	Workers     int  `json:"workers"`
	MaxWorkers  int  `json:"max_workers"`
	Interrupted bool `json:"interrupted,omitempty"`
	// Abandoned counts requests still unanswered when an interrupted run
	// gave up waiting; they are not in Requests.
	Abandoned int64 `json:"abandoned,omitempty"`
}

// Summarize aggregates the hits of r through vegeta's Metrics (t-digest
// percentiles, status codes, bytes).
func Summarize(r *Result) Summary {
	s := Summary{
		RequestedRate: r.Rate,
		Planned:       r.Planned,
		Workers:       r.Workers,
		MaxWorkers:    r.MaxWorkers,
		Interrupted:   r.Interrupted,
		Abandoned:     r.Abandoned,
		StatusCodes:   map[string]int{},
		Errors:        []ErrorCount{},
	}
	if len(r.Hits) == 0 {
		return s
	}
	var m vegeta.Metrics
	var delay vegeta.LatencyMetrics
	errs := map[string]int{}
	var vr vegeta.Result
	firstSent, lastSent, lastEnd := r.Hits[0].Sent, r.Hits[0].Sent, time.Duration(0)
	ok := 0
	for i := range r.Hits {
		h := &r.Hits[i]
		vr = vegeta.Result{
			Code:      h.Code,
			Timestamp: r.Start.Add(h.Due),
			Latency:   h.Latency,
			BytesIn:   uint64(h.BytesIn),
			BytesOut:  uint64(h.BytesOut),
		}
		m.Add(&vr)
		delay.Add(max(h.Sent-h.Due, 0))
		firstSent = min(firstSent, h.Sent)
		lastSent = max(lastSent, h.Sent)
		lastEnd = max(lastEnd, h.Due+h.Latency)
		switch {
		case h.Error != "":
			errs[h.Error]++
		case h.OK():
			ok++
		default:
			errs[statusText(h.Code)]++
		}
	}
	m.Close()

	s.Requests = len(r.Hits)
	s.StatusCodes = m.StatusCodes
	s.BytesIn, s.BytesOut = int64(m.BytesIn.Total), int64(m.BytesOut.Total)
	s.Success = float64(ok) / float64(s.Requests)
	if span := lastSent - firstSent; span > 0 {
		s.Rate = float64(s.Requests) / span.Seconds()
	}
	if span := lastEnd - firstSent; span > 0 {
		s.Throughput = float64(ok) / span.Seconds()
	}
	s.DurationS = (lastSent - firstSent).Seconds()
	s.WaitS = max(lastEnd-lastSent, 0).Seconds()
	l := m.Latencies
	s.LatencyMS = LatencyMS{
		Min: ms(l.Min), Mean: ms(l.Mean), P50: ms(l.P50), P90: ms(l.P90),
		P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max),
	}
	s.SendDelayMS.P99 = ms(delay.Quantile(0.99))
	s.SendDelayMS.Max = ms(delay.Max)
	for e, n := range errs {
		s.Errors = append(s.Errors, ErrorCount{Error: e, Count: n})
	}
	slices.SortFunc(s.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Error, b.Error))
	})
	return s
}

func statusText(code uint16) string {
	return fmt.Sprintf("HTTP %d %s", code, http.StatusText(int(code)))
}

// ms converts to milliseconds rounded to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

// FormatMS renders milliseconds with precision that suits the magnitude.
func FormatMS(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// WriteText prints the summary for people, one fact per line.
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Requests     %d sent of %d planned, %d workers max (cap %d)\n", s.Requests, s.Planned, s.MaxWorkers, s.Workers)
	fmt.Fprintf(w, "Rate         %.1f/s sent (requested %d/s), throughput %.1f/s successful\n", s.Rate, s.RequestedRate, s.Throughput)
	fmt.Fprintf(w, "Success      %s\n", pct(s.Success))
	fmt.Fprintf(w, "Status codes %s\n", s.statusLine())
	l := s.LatencyMS
	fmt.Fprintf(w, "Latency ms   min %s  mean %s  p50 %s  p90 %s  p95 %s  p99 %s  max %s\n",
		FormatMS(l.Min), FormatMS(l.Mean), FormatMS(l.P50), FormatMS(l.P90), FormatMS(l.P95), FormatMS(l.P99), FormatMS(l.Max))
	fmt.Fprintf(w, "Send delay   p99 %s ms  max %s ms (behind the intended send time)\n", FormatMS(s.SendDelayMS.P99), FormatMS(s.SendDelayMS.Max))
	var inMean, outMean float64
	if s.Requests > 0 {
		inMean, outMean = float64(s.BytesIn)/float64(s.Requests), float64(s.BytesOut)/float64(s.Requests)
	}
	fmt.Fprintf(w, "Bytes        in %d (%.0f/req)  out %d (%.0f/req)\n", s.BytesIn, inMean, s.BytesOut, outMean)
	fmt.Fprintf(w, "Duration     %.3fs sending + %.3fs waiting\n", s.DurationS, s.WaitS)
	if len(s.Errors) == 0 {
		fmt.Fprintln(w, "Errors       none")
	}
	for i, e := range s.Errors {
		if i == 5 {
			fmt.Fprintf(w, "             … %d more kinds\n", len(s.Errors)-5)
			break
		}
		label := "Errors      "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintf(w, "%s %d × %s\n", label, e.Count, e.Error)
	}
	if s.Interrupted {
		fmt.Fprintf(w, "Interrupted  after %d of %d requests", s.Requests, s.Planned)
		if s.Abandoned > 0 {
			fmt.Fprintf(w, "; %d still in flight were abandoned", s.Abandoned)
		}
		fmt.Fprintln(w)
	}
}

func (s *Summary) statusLine() string {
	if len(s.StatusCodes) == 0 {
		return "none"
	}
	return strings.Join(s.statusList(), ", ")
}

// statusList is "code × count" in code order.
func (s *Summary) statusList() []string {
	codes := make([]string, 0, len(s.StatusCodes))
	for c := range s.StatusCodes {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return cmp.Compare(x, y)
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s × %d", c, s.StatusCodes[c])
	}
	return parts
}

func pct(r float64) string { return strconv.FormatFloat(r*100, 'f', 2, 64) + "%" }

// RunReport is one load test (no sweep) in the shape of `bench -o json`.
type RunReport struct {
	Op     string `json:"op"`
	Target string `json:"target"`
	Auth   string `json:"auth"`
	Summary
	Warmup []Probe `json:"warmup,omitempty"`
	Report string  `json:"report,omitempty"`

	// For the text form: Describe names the target for people, Keys is the
	// number of ids the operation spread over, Duration the requested one.
	Describe string        `json:"-"`
	Keys     int           `json:"-"`
	Duration time.Duration `json:"-"`
}

// WriteText prints the run for people: target, operation, the summary.
func (r *RunReport) WriteText(w io.Writer) {
	keys := ""
	if r.Op != wire.OpList && r.Op != wire.OpPing {
		keys = fmt.Sprintf(" over %d ids", r.Keys)
	}
	fmt.Fprintf(w, "Target       %s\n", r.Describe)
	fmt.Fprintf(w, "Operation    %s%s; %d req/s for %s\n", r.Op, keys, r.RequestedRate, cmdutil.FormatDuration(r.Duration))
	r.Summary.WriteText(w)
	fmt.Fprintln(w, "Latency is measured from each request's intended send time (open loop).")
}
