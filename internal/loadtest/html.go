package loadtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/lttb"
)

// ReportInput is what the HTML report shows: one run, or a sweep.
type ReportInput struct {
	Target    string // where the requests went, for people (URL and auth)
	Auth      string // shown after Target when set
	Op        string
	Keys      int
	Generated time.Time
	// Run is a single run (nil for a sweep).
	Run *Result
	// Sweep is a memory sweep (nil for a single run).
	Sweep *SweepResult
	// Version of ddbops that wrote the report.
	Version string
}

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Parse(reportTemplate))

// Chart colours (Tailwind-like palette: readable on white, distinct in
// grey scale).
const (
	colOK     = "#2563eb"
	colP50    = "#0f172a"
	colP90    = "#0d9488"
	colP99    = "#ea580c"
	col4xx    = "#d97706"
	col5xx    = "#dc2626"
	colErr    = "#7f1d1d"
	col3xx    = "#7c3aed"
	colBilled = "#64748b"
)

// maxScatter bounds the points of the latency-over-time chart; more hits
// are downsampled with vegeta's largest-triangle-three-buckets, which keeps
// the spikes. Failed hits are always drawn.
const maxScatter = 6000

type kpi struct {
	Label, Value, Note, Class string
}

type runView struct {
	ID, Heading string
	KPIs        []kpi
	Latency     template.HTML
	Histogram   template.HTML
	Percentiles template.HTML
	Status      template.HTML
	Summary     Summary
	Errors      []ErrorCount
	StatusList  []string
	Warmup      []Probe
}

type sweepView struct {
	Latency        template.HTML
	Cost           template.HTML
	Rows           []sweepRow
	Recommendation string
	PricesNote     string
	Restored       string
}

type sweepRow struct {
	Memory, Requests, Errors, P50, P90, P99, BilledMean, BilledP99, Cold, Init, Used, Cost string
	Recommended                                                                            bool
}

type pageView struct {
	Title, Subtitle, Generated, Version string
	KPIs                                []kpi
	Sweep                               *sweepView
	Runs                                []runView
	Data                                template.JS
}

// reportData is the machine-readable copy of the report, embedded as JSON.
type reportData struct {
	Target     string         `json:"target"`
	Op         string         `json:"op"`
	Generated  time.Time      `json:"generated"`
	Summary    *Summary       `json:"summary,omitempty"`
	Series     []bucketStat   `json:"series,omitempty"`
	Sweep      *SweepResult   `json:"sweep,omitempty"`
	SizeSeries [][]bucketStat `json:"size_series,omitempty"`
}

// WriteHTML writes one self-contained HTML file: inline CSS and SVG, no
// script, no fetches.
func WriteHTML(w io.Writer, in ReportInput) error {
	if in.Generated.IsZero() {
		in.Generated = time.Now()
	}
	pv := pageView{
		Generated: in.Generated.UTC().Format("2006-01-02 15:04:05 MST"),
		Version:   in.Version,
	}
	data := reportData{Target: in.Target, Op: in.Op, Generated: in.Generated.UTC()}
	auth := ""
	if in.Auth != "" {
		auth = ", auth " + in.Auth
	}
	switch {
	case in.Sweep != nil:
		sw := in.Sweep
		pv.Title = fmt.Sprintf("ddbops bench — memory sweep of %s", sw.Function)
		pv.Subtitle = fmt.Sprintf("%s × %d req/s for %gs per size · %s%s · %s", in.Op, sw.RequestedRate, sw.DurationS, in.Target, auth, sw.Architecture)
		pv.Sweep = buildSweepView(sw)
		if rec := sw.Recommendation; rec != nil {
			pv.KPIs = append(pv.KPIs, kpi{Label: "Recommended", Value: fmt.Sprintf("%d MB", rec.MemoryMB), Class: "good",
				Note: fmt.Sprintf("cheapest within %.0f%% of the fastest p99", rec.Margin*100)})
		}
		pv.KPIs = append(pv.KPIs, kpi{Label: "Sizes", Value: strconv.Itoa(len(sw.Sizes)), Note: fmt.Sprintf("original %d MB", sw.OriginalMemoryMB)})
		data.Sweep = sw
		for _, sr := range sw.Sizes {
			if sr.Result == nil {
				continue
			}
			rv := buildRunView(fmt.Sprintf("mem-%d", sr.MemoryMB), fmt.Sprintf("%d MB", sr.MemoryMB), sr.Result, sr.Summary)
			rv.Warmup = sr.Warmup
			pv.Runs = append(pv.Runs, rv)
			data.SizeSeries = append(data.SizeSeries, buckets(sr.Result))
		}
	case in.Run != nil:
		s := Summarize(in.Run)
		keys := ""
		if in.Keys > 0 && in.Op != wire.OpPing && in.Op != wire.OpList {
			keys = fmt.Sprintf(" over %d ids", in.Keys)
		}
		pv.Title = fmt.Sprintf("ddbops bench — %s at %d req/s", in.Op, in.Run.Rate)
		pv.Subtitle = fmt.Sprintf("%s%s · %d req/s for %s · ≤ %d workers · %s%s", in.Op, keys, in.Run.Rate, cmdutil.FormatDuration(in.Run.Duration), in.Run.Workers, in.Target, auth)
		rv := buildRunView("run", "", in.Run, s)
		pv.KPIs = rv.KPIs
		rv.KPIs = nil
		pv.Runs = []runView{rv}
		data.Summary = &s
		data.Series = buckets(in.Run)
	default:
		return fmt.Errorf("write report: nothing to report")
	}
	b, err := json.Marshal(data) // escapes <, > and & so it cannot end the script element
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	pv.Data = template.JS(b)
	if err := reportTmpl.Execute(w, pv); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func buildRunView(id, heading string, r *Result, s Summary) runView {
	rv := runView{ID: id, Heading: heading, Summary: s, Errors: s.Errors, StatusList: s.statusList()}
	successClass := "good"
	if s.Success < 1 {
		successClass = "bad"
	}
	rateClass := ""
	if s.RequestedRate > 0 && s.Rate < 0.98*float64(s.RequestedRate) {
		rateClass = "warn"
	}
	l := s.LatencyMS
	rv.KPIs = []kpi{
		{Label: "Requests", Value: strconv.Itoa(s.Requests), Note: fmt.Sprintf("of %d planned", s.Planned)},
		{Label: "Rate sent", Value: fmt.Sprintf("%.1f/s", s.Rate), Note: fmt.Sprintf("requested %d/s", s.RequestedRate), Class: rateClass},
		{Label: "Throughput", Value: fmt.Sprintf("%.1f/s", s.Throughput), Note: "2xx answers per second"},
		{Label: "Success", Value: pct(s.Success), Note: fmt.Sprintf("%d errors", s.Requests-int(math.Round(s.Success*float64(s.Requests)))), Class: successClass},
		{Label: "p50", Value: FormatMS(l.P50) + " ms", Note: "median"},
		{Label: "p99", Value: FormatMS(l.P99) + " ms", Note: "p90 " + FormatMS(l.P90) + " · p95 " + FormatMS(l.P95)},
		{Label: "Max", Value: FormatMS(l.Max) + " ms", Note: "min " + FormatMS(l.Min) + " · mean " + FormatMS(l.Mean)},
	}
	rv.Latency = template.HTML(latencyOverTime(id+"-latency", r))
	rv.Histogram = template.HTML(latencyHistogram(id+"-histogram", r, s))
	rv.Percentiles = template.HTML(percentileSpectrum(id+"-percentiles", r))
	rv.Status = template.HTML(statusOverTime(id+"-status", r))
	return rv
}

// bucketStat is one time slice of a run.
type bucketStat struct {
	StartS float64 `json:"start_s"`
	Count  int     `json:"count"`
	OK     int     `json:"ok"`
	C3xx   int     `json:"3xx"`
	C4xx   int     `json:"4xx"`
	C5xx   int     `json:"5xx"`
	Failed int     `json:"no_response"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
}

// bucketWidth picks a slice width giving at most ~100 slices with, where
// the rate allows, at least ~20 requests each.
func bucketWidth(r *Result) time.Duration {
	total := r.Duration
	if n := len(r.Hits); n > 0 {
		total = max(total, r.Hits[n-1].Due)
	}
	candidates := []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute}
	for _, c := range candidates {
		if total/c <= 100 && float64(r.Rate)*c.Seconds() >= 20 {
			return c
		}
	}
	for _, c := range candidates {
		if total/c <= 100 {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// buckets slices a run by intended send time; per-slice percentiles come
// from vegeta's t-digest.
func buckets(r *Result) []bucketStat {
	if len(r.Hits) == 0 {
		return nil
	}
	w := bucketWidth(r)
	slot := func(due time.Duration) int { return int(max(due-1, 0) / w) } // due times are in (0, Duration]
	n := slot(r.Hits[len(r.Hits)-1].Due) + 1
	out := make([]bucketStat, n)
	lat := make([]vegeta.LatencyMetrics, n)
	for i := range r.Hits {
		h := &r.Hits[i]
		b := slot(h.Due)
		st := &out[b]
		st.Count++
		switch {
		case h.Code == 0:
			st.Failed++
		case h.Code < 300:
			st.OK++
		case h.Code < 400:
			st.C3xx++
		case h.Code < 500:
			st.C4xx++
		default:
			st.C5xx++
		}
		lat[b].Add(h.Latency)
	}
	for i := range out {
		out[i].StartS = (time.Duration(i) * w).Seconds()
		if out[i].Count > 0 {
			out[i].P50 = ms(lat[i].Quantile(0.5))
			out[i].P90 = ms(lat[i].Quantile(0.9))
			out[i].P99 = ms(lat[i].Quantile(0.99))
		}
	}
	return out
}

func secondsLabel(v float64) string { return fmtTick(v) + "s" }
func msLabel(v float64) string      { return fmtTick(v) }

// latencyOverTime: every request (downsampled past maxScatter) at its
// intended send time, coloured by outcome, on a log latency axis, with the
// per-slice p50 and p99 lines.
func latencyOverTime(id string, r *Result) string {
	const W, H = 1100.0, 380.0
	s := newSVG(id, "latency of each request over time", W, H)
	if len(r.Hits) == 0 {
		return s.empty("no requests were sent")
	}
	minL, maxL := math.Inf(1), 0.0
	var endS float64
	for i := range r.Hits {
		v := ms(r.Hits[i].Latency)
		minL, maxL = math.Min(minL, v), math.Max(maxL, v)
	}
	endS = math.Max(r.Duration.Seconds(), r.Hits[len(r.Hits)-1].Due.Seconds())
	lo, hi, yTicks := logRange(minL, maxL)
	xTicks, xTop := axisTicks(0, endS, W-90, secondsLabel)
	x := scale{min: 0, max: xTop, lo: 70, hi: W - 20}
	y := scale{min: lo, max: hi, lo: H - 50, hi: 34, log: true}
	s.frame(x, y, xTicks, yTicks, secondsLabel, msLabel, "intended send time", "latency (ms, log scale)")

	// Successful requests, downsampled.
	var okPts []lttb.Point
	for i := range r.Hits {
		h := &r.Hits[i]
		if h.OK() {
			okPts = append(okPts, lttb.Point{X: h.Due.Seconds(), Y: ms(h.Latency)})
		}
	}
	if len(okPts) > maxScatter {
		next := 0
		okPts, _ = lttb.Downsample(len(okPts), maxScatter, func(count int) ([]lttb.Point, error) {
			end := min(next+count, len(okPts))
			chunk := okPts[next:end]
			next = end
			return chunk, nil
		})
	}
	s.raw(`<g class="pts ok" fill="%s" fill-opacity="0.45">`, colOK)
	for _, p := range okPts {
		s.raw(`<circle cx="%.1f" cy="%.1f" r="1.8"/>`, x.pos(p.X), y.pos(p.Y))
	}
	s.raw(`</g>`)
	// Failures, all of them, on top, coloured by class as in the legend.
	failed := 0
	byClass := map[string]int{}
	s.raw(`<g class="pts failed">`)
	for i := range r.Hits {
		h := &r.Hits[i]
		if h.OK() {
			continue
		}
		failed++
		byClass[className(h.Code)]++
		c := classColor(h.Code)
		s.raw(`<circle cx="%.1f" cy="%.1f" r="2.6" fill="%s" fill-opacity="0.8"/>`, x.pos(h.Due.Seconds()), y.pos(ms(h.Latency)), c)
	}
	s.raw(`</g>`)

	bs := buckets(r)
	w := bucketWidth(r).Seconds()
	var p50, p99 [][2]float64
	for _, b := range bs {
		if b.Count == 0 {
			continue
		}
		cx := x.pos(b.StartS + w/2)
		p50 = append(p50, [2]float64{cx, y.pos(b.P50)})
		p99 = append(p99, [2]float64{cx, y.pos(b.P99)})
	}
	s.raw("%s", polyline(p99, colP99, "p99-line", 2.2, ""))
	s.raw("%s", polyline(p50, colP50, "p50-line", 2.2, ""))
	items := []legendItem{
		{Label: fmt.Sprintf("2xx (%d)", len(r.Hits)-failed), Color: colOK, Shape: "dot"},
	}
	for _, k := range []struct {
		name string
		code uint16
	}{{"3xx", 300}, {"4xx", 400}, {"5xx", 500}, {"no response", 0}} {
		if n := byClass[k.name]; n > 0 {
			items = append(items, legendItem{Label: fmt.Sprintf("%s (%d)", k.name, n), Color: classColor(k.code), Shape: "dot"})
		}
	}
	items = append(items,
		legendItem{Label: fmt.Sprintf("p50 per %s", fmtDur(bucketWidth(r))), Color: colP50, Shape: "line"},
		legendItem{Label: fmt.Sprintf("p99 per %s", fmtDur(bucketWidth(r))), Color: colP99, Shape: "line"})
	if len(okPts) < len(r.Hits)-failed {
		items = append(items, legendItem{Label: fmt.Sprintf("%d of %d 2xx points drawn (LTTB)", len(okPts), len(r.Hits)-failed), Color: "#fff"})
	}
	s.legend(72, 18, items)
	return s.String()
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return strconv.Itoa(int(d/time.Millisecond)) + " ms"
	}
	return cmdutil.FormatDuration(d)
}

// className is the legend's name of a failed answer's class.
func className(code uint16) string {
	switch {
	case code == 0:
		return "no response"
	case code < 400:
		return "3xx"
	case code < 500:
		return "4xx"
	}
	return "5xx"
}

func classColor(code uint16) string {
	switch {
	case code == 0:
		return colErr
	case code < 300:
		return colOK
	case code < 400:
		return col3xx
	case code < 500:
		return col4xx
	}
	return col5xx
}

// latencyHistogram counts requests in log-spaced latency bins and marks
// p50, p90 and p99.
func latencyHistogram(id string, r *Result, s Summary) string {
	const W, H = 540.0, 320.0
	sv := newSVG(id, "latency distribution", W, H)
	if len(r.Hits) == 0 {
		return sv.empty("no requests were sent")
	}
	lo, hi, xTicks := logRange(s.LatencyMS.Min, s.LatencyMS.Max)
	const bins = 48
	counts := make([]int, bins)
	llo, lhi := math.Log10(lo), math.Log10(hi)
	for i := range r.Hits {
		v := math.Log10(math.Max(ms(r.Hits[i].Latency), lo))
		b := int((v - llo) / (lhi - llo) * bins)
		counts[max(0, min(b, bins-1))]++
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	// Headroom above the tallest bar for the percentile labels' rows.
	yTicks, yTop := linearTicks(0, float64(top)*1.35, 5)
	x := scale{min: lo, max: hi, lo: 64, hi: W - 16, log: true}
	y := scale{min: 0, max: yTop, lo: H - 50, hi: 30}
	sv.frame(x, y, xTicks, yTicks, msLabel, func(v float64) string { return fmtTick(v) }, "latency (ms, log scale)", "requests")
	bw := (x.hi - x.lo) / bins
	sv.raw(`<g class="bars" fill="%s">`, colOK)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		py := y.pos(float64(c))
		sv.raw(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="1"><title>%d requests</title></rect>`, x.lo+float64(i)*bw+0.5, py, math.Max(bw-1, 1), y.lo-py, c)
	}
	sv.raw(`</g>`)
	// Each label sits at the top of its marker line, right of it or else
	// left, in the first row where it overlaps no other label and no other
	// marker's line runs through it (a marker's line ends at its label).
	l := &layout{clip: box{x.lo, 0, W - 2, y.lo}}
	for _, m := range []struct {
		label string
		v     float64
		col   string
	}{{"p50", s.LatencyMS.P50, colP50}, {"p90", s.LatencyMS.P90, colP90}, {"p99", s.LatencyMS.P99, colP99}} {
		px := x.pos(m.v)
		txt := m.label + " " + FormatMS(m.v) + " ms"
		var b box
		anchor, lx, ly := "start", px+4, y.hi+markerFont
	place:
		for row := 0; row < 8; row++ {
			for _, side := range []string{"start", "end"} {
				ax := px + 4
				if side == "end" {
					ax = px - 4
				}
				ay := y.hi + markerFont + float64(row)*(markerFont+4)
				c := textBox(ax, ay, side, txt, markerFont)
				if l.fits(c) && l.lineFits(vline{px, c.y0, y.lo}) {
					anchor, lx, ly, b = side, ax, ay, c
					break place
				}
			}
		}
		if b == (box{}) {
			b = textBox(lx, ly, anchor, txt, markerFont)
		}
		l.boxes = append(l.boxes, b)
		l.lines = append(l.lines, vline{px, b.y0, y.lo})
		sv.raw(`<line class="marker" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.6" stroke-dasharray="4 3"/>`, px, y.lo, px, b.y0, m.col)
		sv.text(lx, ly, anchor, "marker-label", txt)
	}
	return sv.String()
}

// empty ends a chart that has nothing to plot with why, centred.
func (s *svgBuf) empty(why string) string {
	s.text(s.w/2, s.h/2, "middle", "empty", why)
	return s.String()
}

// percentileSpectrum plots latency against percentile on the usual
// "nines" axis (50, 90, 99, 99.9 … evenly spaced).
func percentileSpectrum(id string, r *Result) string {
	const W, H = 540.0, 320.0
	sv := newSVG(id, "latency by percentile", W, H)
	n := len(r.Hits)
	if n == 0 {
		return sv.empty("no requests were sent")
	}
	var lm vegeta.LatencyMetrics
	for i := range r.Hits {
		lm.Add(r.Hits[i].Latency)
	}
	// nines(q) = -log10(1-q): 0 at p0, 1 at p90, 2 at p99 …; stop where
	// the run has too few requests to say anything.
	maxNines := math.Min(math.Max(math.Log10(float64(n)), 1), 5)
	var pts [][2]float64
	var vals []float64
	var qs []float64
	for k := 0.0; k <= maxNines*20; k++ {
		q := 1 - math.Pow(10, -k/20)
		qs = append(qs, k/20)
		vals = append(vals, ms(lm.Quantile(q)))
	}
	qs = append(qs, maxNines+0.25)
	vals = append(vals, ms(lm.Max))
	yTicks, yTop := linearTicks(0, vals[len(vals)-1], 5)
	x := scale{min: 0, max: maxNines + 0.25, lo: 64, hi: W - 24}
	y := scale{min: 0, max: yTop, lo: H - 50, hi: 24}
	var xTicks []float64
	for k := 0.0; k <= maxNines; k++ {
		xTicks = append(xTicks, k)
	}
	sv.frame(x, y, xTicks, yTicks, func(k float64) string {
		return "p" + strconv.FormatFloat(100*(1-math.Pow(10, -k)), 'f', -1, 64)
	}, msLabel, "percentile", "latency (ms)")
	for i := range qs {
		pts = append(pts, [2]float64{x.pos(qs[i]), y.pos(vals[i])})
	}
	// Shade under the curve, then the curve.
	area := fmt.Sprintf("M%.1f,%.1f ", x.lo, y.lo)
	for _, p := range pts {
		area += fmt.Sprintf("L%.1f,%.1f ", p[0], p[1])
	}
	area += fmt.Sprintf("L%.1f,%.1f Z", pts[len(pts)-1][0], y.lo)
	sv.raw(`<path d="%s" fill="%s" fill-opacity="0.10"/>`, area, colOK)
	sv.raw("%s", polyline(pts, colOK, "spectrum", 2.4, ""))
	type pctLabel struct {
		px, py float64
		txt    string
	}
	var labels []pctLabel
	l := &layout{clip: box{x.lo + 2, 2, W - 2, y.lo - 2}}
	l.paths = append(l.paths, pts) // labels keep off the curve too
	for _, m := range []struct {
		nines float64
		label string
		col   string
	}{{math.Log10(2), "p50", colP50}, {1, "p90", colP90}, {2, "p99", colP99}, {3, "p99.9", col5xx}} {
		if m.nines > maxNines {
			continue
		}
		v := ms(lm.Quantile(1 - math.Pow(10, -m.nines)))
		px, py := x.pos(m.nines), y.pos(v)
		sv.raw(`<circle class="pct" cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="#fff" stroke-width="1.5"/>`, px, py, m.col)
		l.boxes = append(l.boxes, box{px - 5, py - 5, px + 5, py + 5}) // labels keep off the points
		labels = append(labels, pctLabel{px, py, m.label + " " + FormatMS(v)})
	}
	end := pts[len(pts)-1]
	// The max label first, at the curve's end where room is scarcest, then
	// the percentiles from the right; each takes the first spot near its
	// point that overlaps no point and no label placed before it.
	labels = append(labels, pctLabel{end[0], end[1], "max " + FormatMS(vals[len(vals)-1]) + " ms"})
	for i := len(labels) - 1; i >= 0; i-- {
		lb := labels[i]
		type spot struct {
			dx, dy float64
			anchor string
		}
		spots := []spot{{-7, -8, "end"}, {7, -8, "start"}, {-7, 16, "end"}, {7, 16, "start"}}
		for k := 1.0; k <= 6; k++ {
			spots = append(spots, spot{-7, -8 - k*(markerFont+3), "end"}, spot{-7, 16 + k*(markerFont+3), "end"})
		}
		placed := false
		for _, sp := range spots {
			b := textBox(lb.px+sp.dx, lb.py+sp.dy, sp.anchor, lb.txt, markerFont)
			if l.fits(b) {
				l.boxes = append(l.boxes, b)
				sv.text(lb.px+sp.dx, lb.py+sp.dy, sp.anchor, "marker-label", lb.txt)
				placed = true
				break
			}
		}
		if !placed { // nowhere clear: the first spot, as before
			sv.text(lb.px-7, lb.py-8, "end", "marker-label", lb.txt)
		}
	}
	return sv.String()
}

// statusOverTime stacks each slice's answers by class.
func statusOverTime(id string, r *Result) string {
	const W, H = 1100.0, 260.0
	sv := newSVG(id, "status codes over time", W, H)
	bs := buckets(r)
	if len(bs) == 0 {
		return sv.empty("no requests were sent")
	}
	w := bucketWidth(r).Seconds()
	top := 0
	for _, b := range bs {
		top = max(top, b.Count)
	}
	yTicks, yTop := linearTicks(0, float64(top), 4)
	endS := float64(len(bs)) * w
	xTicks, xTop := axisTicks(0, endS, W-90, secondsLabel)
	x := scale{min: 0, max: xTop, lo: 70, hi: W - 20}
	y := scale{min: 0, max: yTop, lo: H - 50, hi: 30}
	sv.frame(x, y, xTicks, yTicks, secondsLabel, func(v float64) string { return fmtTick(v) }, "intended send time", "requests per "+fmtDur(bucketWidth(r)))
	bw := x.pos(w) - x.pos(0)
	totals := map[string]int{}
	for _, b := range bs {
		px := x.pos(b.StartS)
		base := 0
		for _, part := range []struct {
			name, col string
			n         int
		}{{"2xx", colOK, b.OK}, {"3xx", col3xx, b.C3xx}, {"4xx", col4xx, b.C4xx}, {"5xx", col5xx, b.C5xx}, {"no response", colErr, b.Failed}} {
			if part.n == 0 {
				continue
			}
			totals[part.name] += part.n
			y0, y1 := y.pos(float64(base)), y.pos(float64(base+part.n))
			sv.raw(`<rect class="status-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`,
				part.name[:1], px+0.5, y1, math.Max(bw-1, 0.8), y0-y1, part.col, part.name, part.n)
			base += part.n
		}
	}
	var items []legendItem
	for _, k := range []struct{ name, col string }{{"2xx", colOK}, {"3xx", col3xx}, {"4xx", col4xx}, {"5xx", col5xx}, {"no response", colErr}} {
		if totals[k.name] > 0 {
			items = append(items, legendItem{Label: fmt.Sprintf("%s (%d)", k.name, totals[k.name]), Color: k.col})
		}
	}
	sv.legend(72, 18, items)
	return sv.String()
}

func buildSweepView(sw *SweepResult) *sweepView {
	v := &sweepView{}
	for _, sr := range sw.Sizes {
		row := sweepRow{
			Memory:   fmt.Sprintf("%d MB", sr.MemoryMB),
			Requests: strconv.Itoa(sr.Requests),
			Errors:   strconv.Itoa(sr.Requests - int(math.Round(sr.Success*float64(sr.Requests)))),
			P50:      FormatMS(sr.LatencyMS.P50), P90: FormatMS(sr.LatencyMS.P90), P99: FormatMS(sr.LatencyMS.P99),
			BilledMean: "–", BilledP99: "–", Cold: "–", Init: "–", Used: "–", Cost: "–",
		}
		if l := sr.Lambda; l != nil {
			row.Cold = strconv.Itoa(l.ColdStarts)
			if l.ColdStarts > 0 {
				row.Init = FormatMS(l.InitMeanMS)
			}
			if l.Invocations > 0 {
				row.BilledMean, row.BilledP99 = FormatMS(l.BilledMeanMS), FormatMS(l.BilledP99MS)
				row.Used = fmt.Sprintf("%d MB", l.MaxMemoryUsedMB)
			}
		}
		if sr.Cost != nil {
			row.Cost = fmt.Sprintf("%.4f", sr.Cost.Total)
		}
		row.Recommended = sw.Recommendation != nil && sw.Recommendation.MemoryMB == sr.MemoryMB
		v.Rows = append(v.Rows, row)
	}
	if rec := sw.Recommendation; rec != nil {
		v.Recommendation = rec.Explanation + "."
	} else {
		v.Recommendation = "No recommendation: no size answered every request successfully."
	}
	if p := sw.Prices; p != nil {
		v.PricesNote = fmt.Sprintf("Cost per million requests = Lambda GB-s (%s; memory × mean billed duration) + Lambda requests + API Gateway REST requests + DynamoDB on-demand request units of %q. Prices: %s, %s, as of %s (%s).",
			sw.Architecture, sw.Op, p.Region, p.Currency, p.AsOf, p.Source)
	}
	if sw.Restored {
		v.Restored = fmt.Sprintf("%s was restored to %d MB after the sweep.", sw.Function, sw.OriginalMemoryMB)
	} else {
		v.Restored = fmt.Sprintf("WARNING: %s may not have been restored to %d MB.", sw.Function, sw.OriginalMemoryMB)
	}
	v.Latency = template.HTML(sweepLatency("sweep-latency", sw))
	v.Cost = template.HTML(sweepCost("sweep-cost", sw))
	return v
}

// sweepLatency: grouped bars per memory size — client p50/p90/p99 and the
// mean billed duration.
func sweepLatency(id string, sw *SweepResult) string {
	const W, H = 540.0, 340.0
	sv := newSVG(id, "latency by memory size", W, H)
	n := len(sw.Sizes)
	if n == 0 {
		return sv.empty("no size was measured")
	}
	top := 0.0
	for _, sr := range sw.Sizes {
		top = math.Max(top, sr.LatencyMS.P99)
	}
	yTicks, yTop := linearTicks(0, top, 5)
	x := scale{min: 0, max: float64(n), lo: 60, hi: W - 16}
	y := scale{min: 0, max: yTop, lo: H - 56, hi: 40}
	sv.frame(x, y, nil, yTicks, nil, msLabel, "", "ms")
	group := (x.hi - x.lo) / float64(n)
	bar := group * 0.8 / 4
	series := []struct {
		label, col string
		v          func(*SizeResult) float64
	}{
		{"client p50", colP50, func(s *SizeResult) float64 { return s.LatencyMS.P50 }},
		{"client p90", colP90, func(s *SizeResult) float64 { return s.LatencyMS.P90 }},
		{"client p99", colP99, func(s *SizeResult) float64 { return s.LatencyMS.P99 }},
		{"billed mean", colBilled, func(s *SizeResult) float64 {
			if s.Lambda == nil {
				return 0
			}
			return s.Lambda.BilledMeanMS
		}},
	}
	for i, sr := range sw.Sizes {
		gx := x.lo + float64(i)*group + group*0.1
		for j, se := range series {
			v := se.v(sr)
			py := y.pos(v)
			sv.raw(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="1.5"><title>%d MB %s: %s ms</title></rect>`,
				gx+float64(j)*bar, py, bar-2, y.lo-py, se.col, sr.MemoryMB, se.label, FormatMS(v))
		}
		label := fmt.Sprintf("%d MB", sr.MemoryMB)
		if sw.Recommendation != nil && sw.Recommendation.MemoryMB == sr.MemoryMB {
			label += " ★"
		}
		sv.text(gx+group*0.4, y.lo+18, "middle", "tick strong", label)
	}
	var items []legendItem
	for _, se := range series {
		items = append(items, legendItem{Label: se.label, Color: se.col})
	}
	sv.legend(62, 20, items)
	return sv.String()
}

// sweepCost: stacked cost per million requests by what is billed.
func sweepCost(id string, sw *SweepResult) string {
	const W, H = 540.0, 340.0
	sv := newSVG(id, "cost per million requests by memory size", W, H)
	n := len(sw.Sizes)
	top := 0.0
	for _, sr := range sw.Sizes {
		if sr.Cost != nil {
			top = math.Max(top, sr.Cost.Total)
		}
	}
	if n == 0 || top == 0 {
		return sv.empty("no billed durations were found, so no cost")
	}
	yTicks, yTop := linearTicks(0, top*1.12, 5)
	x := scale{min: 0, max: float64(n), lo: 60, hi: W - 16}
	y := scale{min: 0, max: yTop, lo: H - 56, hi: 58} // room for a two-row legend
	sv.frame(x, y, nil, yTicks, nil, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, "", "USD per million requests")
	group := (x.hi - x.lo) / float64(n)
	parts := []struct {
		label, col string
		v          func(*Cost) float64
	}{
		{"Lambda GB-s", colOK, func(c *Cost) float64 { return c.LambdaCompute }},
		{"Lambda requests", colP90, func(c *Cost) float64 { return c.LambdaRequests }},
		{"API Gateway", colBilled, func(c *Cost) float64 { return c.APIGateway }},
		{"DynamoDB", col4xx, func(c *Cost) float64 { return c.DynamoDB }},
	}
	for i, sr := range sw.Sizes {
		gx := x.lo + float64(i)*group + group*0.2
		bw := group * 0.6
		rec := sw.Recommendation != nil && sw.Recommendation.MemoryMB == sr.MemoryMB
		label := fmt.Sprintf("%d MB", sr.MemoryMB)
		if rec {
			label += " ★"
		}
		sv.text(gx+bw/2, y.lo+18, "middle", "tick strong", label)
		if sr.Cost == nil {
			sv.text(gx+bw/2, y.lo-8, "middle", "tick", "n/a")
			continue
		}
		base := 0.0
		for _, p := range parts {
			v := p.v(sr.Cost)
			y0, y1 := y.pos(base), y.pos(base+v)
			sv.raw(`<rect class="cost" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%d MB %s: %.4f</title></rect>`,
				gx, y1, bw, y0-y1, p.col, sr.MemoryMB, p.label, v)
			base += v
		}
		if rec {
			sv.raw(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#16a34a" stroke-width="2.5" rx="2"/>`, gx-2, y.pos(base)-2, bw+4, y.lo-y.pos(base)+2)
		}
		sv.text(gx+bw/2, y.pos(base)-7, "middle", "marker-label", fmt.Sprintf("%.4f", sr.Cost.Total))
	}
	var items []legendItem
	for _, p := range parts {
		items = append(items, legendItem{Label: p.label, Color: p.col})
	}
	sv.legend(62, 20, items)
	return sv.String()
}
