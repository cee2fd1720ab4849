package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// syntheticRun is a deterministic 10 s run at rate req/s: log-normal
// latencies around base ms, a 600 ms stall at 4 s when stall is set, a few
// 404s, 500s and transport errors.
func syntheticRun(seed uint64, rate int, base float64, stall bool) *Result {
	return syntheticRunFor(seed, rate, base, stall, 10*time.Second)
}

// syntheticRunFor is syntheticRun lasting d.
func syntheticRunFor(seed uint64, rate int, base float64, stall bool, d time.Duration) *Result {
	rng := rand.New(rand.NewPCG(seed, 42))
	r := &Result{Start: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), Rate: rate, Duration: d, Workers: 64}
	interval := time.Second / time.Duration(rate)
	r.Planned = int64(r.Duration / interval)
	for i := int64(0); i < r.Planned; i++ {
		due := time.Duration(i+1) * interval
		lat := base * math.Exp(rng.NormFloat64()*0.35)
		if s := due.Seconds(); stall && s >= 4 && s < 4.6 {
			lat += (4.6 - s) * 1000 // the stall: requests due during it wait for its end
		}
		h := Hit{Due: due, Sent: due + 50*time.Microsecond, Latency: time.Duration(lat * float64(time.Millisecond)), Code: 200, BytesIn: 120, BytesOut: 60}
		switch {
		case i%97 == 0:
			h.Code = 404
		case i%331 == 0:
			h.Code = 500
		case i%577 == 0:
			h.Code, h.Error, h.BytesIn = 0, "connection reset by peer", 0
		}
		r.Hits = append(r.Hits, h)
	}
	r.MaxWorkers = 12
	return r
}

func syntheticSweep(t *testing.T) *SweepResult {
	t.Helper()
	prices, err := LoadPrices("")
	if err != nil {
		t.Fatal(err)
	}
	sw := &SweepResult{Function: "LambdaFunctionOverHttps", Architecture: "arm64", LogGroup: "/aws/lambda/LambdaFunctionOverHttps",
		Op: wire.OpRead, RequestedRate: 50, DurationS: 10, OriginalMemoryMB: 128, Restored: true, Prices: prices}
	for i, m := range []int{128, 512, 1024} {
		r := syntheticRun(uint64(i+1), 50, 60/math.Sqrt(float64(m)/128)+18, false)
		for j := range r.Hits { // no errors in a sweep run
			r.Hits[j].Code, r.Hits[j].Error = 200, ""
		}
		sr := &SizeResult{MemoryMB: m, Summary: Summarize(r), Result: r,
			Warmup: []Probe{{LatencyMS: 480 / float64(i+1), Code: 200}, {LatencyMS: 30, Code: 200}}}
		billed := 24 / math.Sqrt(float64(m)/128)
		sr.Lambda = &LambdaStats{Invocations: sr.Requests, Expected: sr.Requests, ColdStarts: 1, InitMeanMS: 90 - float64(i)*10,
			InitMaxMS: 90, BilledMeanMS: billed, BilledP99MS: billed * 2, MaxMemoryUsedMB: 38}
		c, err := prices.PerMillion("arm64", m, billed, wire.OpRead)
		if err != nil {
			t.Fatal(err)
		}
		sr.Cost = &c
		sw.Sizes = append(sw.Sizes, sr)
	}
	sw.Recommendation = Recommend(sw.Sizes, DefaultMargin)
	return sw
}

func renderReport(t *testing.T, in ReportInput) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// embeddedData returns the report's JSON data block.
func embeddedData(t *testing.T, page string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="ddbops-bench-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("report has no data block")
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	return data
}

func assertSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script src", "<link", "@import", "url(", "<img", "<iframe"} {
		if strings.Contains(page, bad) {
			t.Errorf("report references external content: %q", bad)
		}
	}
	// The only scheme-qualified strings allowed are the SVG namespace and
	// the target shown as text.
	for _, u := range regexp.MustCompile(`(?:src|href)\s*=\s*"[a-z]+://`).FindAllString(page, -1) {
		t.Errorf("report fetches %s", u)
	}
}

func TestHTMLReportSingleRun(t *testing.T) {
	t.Parallel()
	run := syntheticRun(7, 200, 12, true)
	page := renderReport(t, ReportInput{Target: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Auth: "iam", Op: wire.OpRead, Keys: 100, Run: run, Version: "test"})
	assertSelfContained(t, page)
	s := Summarize(run)
	for _, want := range []string{
		`id="run-latency"`, `id="run-histogram"`, `id="run-percentiles"`, `id="run-status"`,
		"ddbops bench — read at 200 req/s", "abc123.execute-api",
		FormatMS(s.LatencyMS.P99) + " ms", "connection reset by peer", "HTTP 404 Not Found",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	data := embeddedData(t, page)
	sum := data["summary"].(map[string]any)
	if int(sum["requests"].(float64)) != s.Requests || sum["status_codes"].(map[string]any)["404"] == nil {
		t.Errorf("data summary = %v", sum)
	}
	if series := data["series"].([]any); len(series) < 10 {
		t.Errorf("series has %d slices", len(series))
	}
	// Every hit is drawn (under maxScatter): 2xx in the ok group, the
	// rest in the failed group.
	if got := strings.Count(page, `r="1.8"`); got != s.StatusCodes["200"] {
		t.Errorf("%d 2xx points drawn, want %d", got, s.StatusCodes["200"])
	}
}

func TestHTMLReportDownsamplesLargeRuns(t *testing.T) {
	t.Parallel()
	run := syntheticRun(3, 2000, 5, true) // 20 000 hits
	page := renderReport(t, ReportInput{Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Op: wire.OpPing, Run: run})
	if got := strings.Count(page, `r="1.8"`); got != maxScatter {
		t.Errorf("%d points drawn, want %d", got, maxScatter)
	}
	if !strings.Contains(page, "2xx points drawn (LTTB)") {
		t.Error("legend does not say the points were downsampled")
	}
}

func TestHTMLReportSweep(t *testing.T) {
	t.Parallel()
	sw := syntheticSweep(t)
	page := renderReport(t, ReportInput{Target: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Auth: "iam", Op: wire.OpRead, Sweep: sw})
	assertSelfContained(t, page)
	for _, want := range []string{`id="sweep-latency"`, `id="sweep-cost"`, `id="sweep-table"`, `id="mem-128-latency"`, `id="mem-1024-status"`,
		"128 MB", "512 MB", "1024 MB", `class="rec"`, sw.Recommendation.Explanation, "as of " + sw.Prices.AsOf, "restored to 128 MB"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, sr := range sw.Sizes {
		if !strings.Contains(page, FormatMS(sr.LatencyMS.P99)) {
			t.Errorf("%d MB p99 %s not shown", sr.MemoryMB, FormatMS(sr.LatencyMS.P99))
		}
	}
	data := embeddedData(t, page)
	if sizes := data["sweep"].(map[string]any)["sizes"].([]any); len(sizes) != 3 {
		t.Errorf("data has %d sizes", len(sizes))
	}
}

func TestHTMLReportEmptyRun(t *testing.T) {
	t.Parallel()
	r := &Result{Rate: 10, Duration: time.Second, Workers: 1, Interrupted: true}
	page := renderReport(t, ReportInput{Target: "http://x", Op: wire.OpPing, Run: r})
	if !strings.Contains(page, "no requests were sent") {
		t.Error("empty run has no explanation")
	}
	if err := WriteHTML(&bytes.Buffer{}, ReportInput{}); err == nil {
		t.Error("nothing to report: no error")
	}
}

// chromium returns the headless browser's path, or skips: the browser is
// an optional tool on developer machines.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium) — the report's rendering is not checked")
	return ""
}

// runChromium runs the browser headless on page with extra flags. A
// browser that cannot start is a skip, unless emulators are required.
func runChromium(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--disable-component-update", "--user-data-dir=" + t.TempDir(), "--window-size=1400,3000"}, extra...)
	args = append(args, "file://"+page)
	// A Proc of testenv: the browser dies with the test, also when the
	// test binary is killed.
	cmd := exec.CommandContext(ctx, bin, args...)
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	p := testenv.StartReading(t, cmd)
	out, rerr := io.ReadAll(p.Stdout())
	err := p.Wait()
	if err == nil {
		err = rerr
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 600 {
			msg = msg[len(msg)-600:]
		}
		if testenv.RequireEmulators() {
			t.Fatalf("chromium %v: %v: %s", extra, err, msg)
		}
		t.Skipf("chromium could not render the report (%v): %s", err, msg)
	}
	return out
}

func TestHTMLReportRendersInChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		in    ReportInput
		svgs  []string
		texts []string
	}{
		{
			name:  "single",
			in:    ReportInput{Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Auth: "apikey", Op: wire.OpRead, Keys: 100, Run: syntheticRun(11, 200, 9, true)},
			svgs:  []string{"run-latency", "run-histogram", "run-percentiles", "run-status"},
			texts: []string{"Latency over time", "Status codes over time"},
		},
		{
			name:  "2s",
			in:    ReportInput{Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Auth: "none", Op: wire.OpRead, Keys: 100, Run: syntheticRunFor(3, 50, 4, false, 2*time.Second)},
			svgs:  []string{"run-latency", "run-histogram", "run-percentiles", "run-status"},
			texts: []string{"Latency over time"},
		},
		{
			name:  "60s",
			in:    ReportInput{Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Auth: "apikey", Op: wire.OpRead, Keys: 100, Run: syntheticRunFor(5, 100, 12, true, 60*time.Second)},
			svgs:  []string{"run-latency", "run-histogram", "run-percentiles", "run-status"},
			texts: []string{"Latency over time"},
		},
		{
			name:  "sweep",
			in:    ReportInput{Target: "https://abc123.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Auth: "iam", Op: wire.OpRead, Sweep: syntheticSweep(t)},
			svgs:  []string{"sweep-latency", "sweep-cost", "mem-128-latency", "mem-512-histogram", "mem-1024-status"},
			texts: []string{"Cost per million requests", "Recommended", "is the cheapest size"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(dir, tc.name+".html")
			if err := os.WriteFile(page, []byte(renderReport(t, tc.in)), 0o600); err != nil {
				t.Fatal(err)
			}
			dom := string(runChromium(t, bin, page, "--dump-dom"))
			for _, id := range tc.svgs {
				re := regexp.MustCompile(`(?s)<svg id="` + id + `".*?</svg>`)
				el := re.FindString(dom)
				if el == "" {
					t.Errorf("rendered DOM lacks <svg id=%q>", id)
					continue
				}
				if !strings.Contains(el, "<circle") && !strings.Contains(el, "<rect") && !strings.Contains(el, "<polyline") {
					t.Errorf("<svg id=%q> has no marks after rendering", id)
				}
			}
			for _, s := range tc.texts {
				if !strings.Contains(dom, s) {
					t.Errorf("rendered DOM lacks %q", s)
				}
			}
			if !strings.Contains(dom, `id="ddbops-bench-data"`) {
				t.Error("rendered DOM lacks the data block")
			}

			shot := filepath.Join(dir, tc.name+".png")
			runChromium(t, bin, page, "--screenshot="+shot, "--hide-scrollbars")
			f, err := os.Open(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if colors := distinctColors(img); colors < 50 {
				t.Errorf("screenshot has %d distinct colours: the page looks blank", colors)
			}
			if dst := os.Getenv("DDBOPS_REPORT_SCREENSHOT_DIR"); dst != "" {
				b, _ := os.ReadFile(shot)
				_ = os.WriteFile(filepath.Join(dst, tc.name+".png"), b, 0o644)
				h, _ := os.ReadFile(page)
				_ = os.WriteFile(filepath.Join(dst, tc.name+".html"), h, 0o644)
			}
		})
	}
}

func distinctColors(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	return len(seen)
}
