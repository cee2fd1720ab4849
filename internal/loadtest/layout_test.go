package loadtest

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

var (
	svgRe    = regexp.MustCompile(`(?s)<svg id="([^"]+)".*?</svg>`)
	textRe   = regexp.MustCompile(`<text x="([-0-9.]+)" y="([-0-9.]+)" text-anchor="(\w+)" class="([\w -]+)">([^<]*)</text>`)
	markerRe = regexp.MustCompile(`<line class="marker" x1="([-0-9.]+)" y1="([-0-9.]+)" x2="[-0-9.]+" y2="([-0-9.]+)"`)
	failedRe = regexp.MustCompile(`(?s)<g class="pts failed">(.*?)</g>`)
	fillRe   = regexp.MustCompile(`fill="(#[0-9a-f]{6})"`)
	keyRe    = regexp.MustCompile(`class="legend-key"[^>]*?(?:fill|stroke)="(#[0-9a-f]{6})"`)
	longNum  = regexp.MustCompile(`\d\.\d{4,}|\d{5,}\.\d`)
)

func fontOf(class string) float64 {
	switch {
	case strings.Contains(class, "legend"):
		return legendFont
	case strings.Contains(class, "strong"), strings.Contains(class, "axis-title"):
		return 12
	case strings.Contains(class, "empty"):
		return 14
	}
	return tickFont
}

// TestReportLabelsNeverOverlap renders the report of a 2 s run, a 60 s
// run, the 10 s run with a stall and a sweep, and checks every chart: tick
// labels are clean 1-2-5 values; no two texts' boxes overlap (with the
// estimate the layout uses, which is generous for real fonts); no marker
// line runs through a label; the legend keys have every colour a failed
// point is drawn in.
// spectrumRe finds the percentile chart's curve (its points attribute on
// either side of its class).
var spectrumRe = regexp.MustCompile(`<polyline[^>]*class="spectrum"[^>]*points="([^"]+)"|<polyline[^>]*points="([^"]+)"[^>]*class="spectrum"`)

func TestReportLabelsNeverOverlap(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]ReportInput{
		"2s":    {Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Op: wire.OpRead, Keys: 100, Run: syntheticRunFor(3, 50, 4, false, 2*time.Second)},
		"60s":   {Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Op: wire.OpRead, Keys: 100, Run: syntheticRunFor(5, 100, 12, true, 60*time.Second)},
		"stall": {Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Op: wire.OpRead, Run: syntheticRun(11, 200, 9, true)},
		"1.3s":  {Target: "http://127.0.0.1:3000/prod/DynamoDBManager", Op: wire.OpPing, Run: syntheticRunFor(7, 300, 2, false, 1300*time.Millisecond)},
		"sweep": {Target: "https://abc.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Op: wire.OpRead, Sweep: syntheticSweep(t)},
	} {
		page := renderReport(t, in)
		charts := svgRe.FindAllStringSubmatch(page, -1)
		if len(charts) < 4 {
			t.Fatalf("%s: %d charts", name, len(charts))
		}
		for _, c := range charts {
			id, svg := c[1], c[0]
			type label struct {
				b     box
				class string
				txt   string
			}
			var labels []label
			for _, m := range textRe.FindAllStringSubmatch(svg, -1) {
				x, _ := strconv.ParseFloat(m[1], 64)
				y, _ := strconv.ParseFloat(m[2], 64)
				txt := html.UnescapeString(m[5])
				labels = append(labels, label{textBox(x, y, m[3], txt, fontOf(m[4])), m[4], txt})
				if m[4] == "tick" && longNum.MatchString(txt) {
					t.Errorf("%s %s: tick label %q", name, id, txt)
				}
			}
			for i := range labels {
				for j := i + 1; j < len(labels); j++ {
					if labels[i].b.overlaps(labels[j].b) {
						t.Errorf("%s %s: %q (%s) overlaps %q (%s)", name, id, labels[i].txt, labels[i].class, labels[j].txt, labels[j].class)
					}
				}
			}
			for _, m := range markerRe.FindAllStringSubmatch(svg, -1) {
				x, _ := strconv.ParseFloat(m[1], 64)
				y1, _ := strconv.ParseFloat(m[2], 64)
				y2, _ := strconv.ParseFloat(m[3], 64)
				for _, l := range labels {
					if strings.Contains(l.class, "marker-label") && l.b.crossedBy(x, min(y1, y2), max(y1, y2)) {
						t.Errorf("%s %s: a marker line at x=%.1f runs through %q", name, id, x, l.txt)
					}
				}
			}
			// The percentile chart's curve runs through none of its labels.
			if m := spectrumRe.FindStringSubmatch(svg); m != nil {
				var pts [][2]float64
				for _, p := range strings.Fields(m[1] + m[2]) {
					xs, ys, _ := strings.Cut(p, ",")
					x, _ := strconv.ParseFloat(xs, 64)
					y, _ := strconv.ParseFloat(ys, 64)
					pts = append(pts, [2]float64{x, y})
				}
				if len(pts) < 2 {
					t.Errorf("%s %s: spectrum curve of %d points", name, id, len(pts))
				}
				for _, l := range labels {
					if !strings.Contains(l.class, "marker-label") {
						continue
					}
					for i := 1; i < len(pts); i++ {
						if l.b.segmentCrosses(pts[i-1], pts[i]) {
							t.Errorf("%s %s: the curve runs through %q", name, id, l.txt)
							break
						}
					}
				}
			}
			if f := failedRe.FindStringSubmatch(svg); f != nil {
				keys := map[string]bool{}
				for _, k := range keyRe.FindAllStringSubmatch(svg, -1) {
					keys[k[1]] = true
				}
				for _, c := range fillRe.FindAllStringSubmatch(f[1], -1) {
					if !keys[c[1]] {
						t.Errorf("%s %s: failed points drawn in %s, which no legend key shows (%v)", name, id, c[1], keys)
					}
				}
			}
		}
	}
}

func TestTicksAreCleanMultiples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max  float64
		want string
	}{{2, "0 0.2 0.4 0.6 0.8 1 1.2 1.4 1.6 1.8 2"}, {60, "0 10 20 30 40 50 60"}, {1.3, "0 0.2 0.4 0.6 0.8 1 1.2 1.4"}, {0.35, "0 0.05 0.1 0.15 0.2 0.25 0.3 0.35"}} {
		ticks, _ := linearTicks(0, tc.max, 10)
		var got []string
		for _, v := range ticks {
			got = append(got, fmtTick(v))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("ticks to %g: %v, want %s", tc.max, got, tc.want)
		}
	}
	// A narrow axis gets fewer ticks, never overlapping labels.
	ticks, _ := axisTicks(0, 2, 120, secondsLabel)
	if len(ticks) > 4 {
		t.Errorf("120 px for 0–2 s: %d ticks %v", len(ticks), ticks)
	}
}

// TestLayoutKeepsLabelsOffCurves: a label box that a curve's segment runs
// through, or ends in, does not fit; one beside the curve does.
func TestLayoutKeepsLabelsOffCurves(t *testing.T) {
	t.Parallel()
	curve := [][2]float64{{0, 100}, {50, 100}, {100, 0}} // flat, then rising steeply
	l := &layout{clip: box{0, 0, 200, 200}, paths: [][][2]float64{curve}}
	for _, tc := range []struct {
		name string
		b    box
		want bool
	}{
		{"above the flat part", box{5, 80, 45, 95}, true},
		{"across the flat part", box{5, 95, 45, 105}, false},
		{"across the rising part, no point inside", box{60, 60, 90, 70}, false},
		{"left of the rising part", box{40, 40, 60, 50}, true},
		{"right of the rising part", box{90, 60, 120, 70}, true},
		{"holding the corner point", box{48, 98, 52, 102}, false},
		{"below the curve's end, parallel to nothing", box{101, 0, 150, 10}, true},
	} {
		if got := l.fits(tc.b); got != tc.want {
			t.Errorf("%s %+v: fits %v, want %v", tc.name, tc.b, got, tc.want)
		}
	}
}
