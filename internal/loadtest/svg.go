package loadtest

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Small SVG plotting helpers for the HTML report: scales, nice ticks and
// an axis frame. Charts are drawn in Go so the report needs no script and
// no network.

// scale maps data values to pixels, linearly or logarithmically.
type scale struct {
	min, max float64
	lo, hi   float64 // pixel range (hi may be < lo for y axes)
	log      bool
}

func (s scale) pos(v float64) float64 {
	a, b, x := s.min, s.max, v
	if s.log {
		a, b, x = math.Log10(a), math.Log10(b), math.Log10(math.Max(v, s.min))
	}
	if b == a {
		return (s.lo + s.hi) / 2
	}
	t := (x - a) / (b - a)
	t = math.Max(0, math.Min(1, t))
	return s.lo + t*(s.hi-s.lo)
}

// niceStep is 1, 2 or 5 × 10^k, about span/n.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// linearTicks returns 1-2-5 ticks covering [0 or min, max] and the
// rounded-up max. Tick values are multiples of the step rounded to its
// decimals, so labels read 0.6, never 0.6000000000000001.
func linearTicks(min, max float64, n int) ([]float64, float64) {
	if max <= min {
		max = min + 1
	}
	step := niceStep(max-min, n)
	p := math.Pow(10, float64(stepDecimals(step)))
	round := func(v float64) float64 { return math.Round(v*p) / p }
	top := round(math.Ceil(max/step-1e-9) * step)
	var ticks []float64
	for i := math.Floor(min/step + 1e-9); i*step <= top+step/2; i++ {
		ticks = append(ticks, round(i*step))
	}
	return ticks, top
}

// stepDecimals is how many decimals multiples of step need (0 for 1, 2, 5,
// 10 …; 1 for 0.2, 0.5; 2 for 0.05).
func stepDecimals(step float64) int {
	return max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
}

// axisTicks are linearTicks for a horizontal axis of px pixels whose
// labels (label(v), tickFont px high) never overlap: the fewest steps
// back from about ten until every label fits its slot with room to spare.
func axisTicks(min, max, px float64, label func(float64) string) ([]float64, float64) {
	for n := 10; ; n-- {
		ticks, top := linearTicks(min, max, n)
		widest := 0.0
		for _, t := range ticks {
			widest = math.Max(widest, textWidth(label(t), tickFont))
		}
		if n <= 2 || len(ticks) < 2 || widest+12 <= px/float64(len(ticks)-1) {
			return ticks, top
		}
	}
}

// logRange widens [min, max] to whole 1-2-5 steps and returns its ticks.
func logRange(min, max float64) (lo, hi float64, ticks []float64) {
	min = math.Max(min, 0.001)
	max = math.Max(max, min*1.0001)
	lo = math.Pow(10, math.Floor(math.Log10(min)))
	hi = math.Pow(10, math.Ceil(math.Log10(max)))
	for d := lo; d < hi*1.0001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v >= lo*0.9999 && v <= hi*1.0001 {
				ticks = append(ticks, v)
			}
		}
	}
	// Tighten the ends to the 1-2-5 ticks around the data.
	for len(ticks) > 2 && ticks[1] <= min {
		ticks = ticks[1:]
	}
	for len(ticks) > 2 && ticks[len(ticks)-2] >= max {
		ticks = ticks[:len(ticks)-1]
	}
	return ticks[0], ticks[len(ticks)-1], ticks
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000 && math.Mod(v, 1000) == 0:
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Font sizes of the chart texts (report.html.tmpl), in chart units.
const (
	tickFont   = 11.0
	markerFont = 11.0
	legendFont = 12.0
)

// textWidth estimates the width of txt at size, generously (0.62 em a
// character: the font is the reader's), so that labels laid out apart by
// it stay apart.
func textWidth(txt string, size float64) float64 {
	return 0.62 * size * float64(len([]rune(txt)))
}

// box is the extent of a label in chart units.
type box struct{ x0, y0, x1, y1 float64 }

// textBox is the box of txt drawn at (x, y) (y the baseline) with anchor.
func textBox(x, y float64, anchor, txt string, size float64) box {
	w := textWidth(txt, size)
	switch anchor {
	case "end":
		x -= w
	case "middle":
		x -= w / 2
	}
	return box{x, y - size, x + w, y + 0.2*size} // cap height to descenders
}

func (a box) overlaps(b box) bool { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }

// crossedBy reports whether the vertical line at x from y0 to y1 runs
// through a.
func (a box) crossedBy(x, y0, y1 float64) bool { return x > a.x0 && x < a.x1 && y0 < a.y1 && a.y0 < y1 }

// vline is a vertical marker line.
type vline struct{ x, y0, y1 float64 }

// segmentCrosses reports whether the segment from p to q runs through a
// (Liang–Barsky clipping of the segment to the box).
func (a box) segmentCrosses(p, q [2]float64) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q[0]-p[0], q[1]-p[1]
	for _, c := range [4][2]float64{{-dx, p[0] - a.x0}, {dx, a.x1 - p[0]}, {-dy, p[1] - a.y0}, {dy, a.y1 - p[1]}} {
		den, num := c[0], c[1]
		if den == 0 {
			if num < 0 {
				return false // parallel to this edge and outside it
			}
			continue
		}
		t := num / den
		if den < 0 {
			t0 = max(t0, t)
		} else {
			t1 = min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// layout places labels so that none overlaps another, a placed line, a
// curve or a kept-clear area, and no placed line runs through one.
type layout struct {
	boxes []box
	lines []vline
	paths [][][2]float64 // curves (polyline points) no label may cross
	clip  box            // labels stay inside
}

// fits reports whether b can be placed.
func (l *layout) fits(b box) bool {
	if b.x0 < l.clip.x0 || b.x1 > l.clip.x1 || b.y0 < l.clip.y0 || b.y1 > l.clip.y1 {
		return false
	}
	for _, o := range l.boxes {
		if b.overlaps(o) {
			return false
		}
	}
	for _, ln := range l.lines {
		if b.crossedBy(ln.x, ln.y0, ln.y1) {
			return false
		}
	}
	for _, pts := range l.paths {
		for i := 1; i < len(pts); i++ {
			if b.segmentCrosses(pts[i-1], pts[i]) {
				return false
			}
		}
	}
	return true
}

// lineFits reports whether ln runs through no placed box.
func (l *layout) lineFits(ln vline) bool {
	for _, o := range l.boxes {
		if o.crossedBy(ln.x, ln.y0, ln.y1) {
			return false
		}
	}
	return true
}

// svgBuf accumulates one <svg> element.
type svgBuf struct {
	b    strings.Builder
	w, h float64
}

func newSVG(id, label string, w, h float64) *svgBuf {
	s := &svgBuf{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg id="%s" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		esc(id), w, h, esc(label))
	return s
}

func (s *svgBuf) raw(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func (s *svgBuf) text(x, y float64, anchor, class, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(txt))
}

func (s *svgBuf) String() string { return s.b.String() + "</svg>" }

func esc(s string) string { return html.EscapeString(s) }

// frame draws horizontal grid lines with y labels, x ticks with labels, and
// the axis titles.
func (s *svgBuf) frame(x, y scale, xTicks, yTicks []float64, xFmt, yFmt func(float64) string, xTitle, yTitle string) {
	for _, t := range yTicks {
		py := y.pos(t)
		s.raw(`<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x.lo, py, x.hi, py)
		s.text(x.lo-6, py+4, "end", "tick", yFmt(t))
	}
	for _, t := range xTicks {
		px := x.pos(t)
		s.raw(`<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, y.lo, px, y.lo+4)
		s.text(px, y.lo+18, "middle", "tick", xFmt(t))
	}
	s.raw(`<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x.lo, y.lo, x.hi, y.lo)
	if xTitle != "" {
		s.text((x.lo+x.hi)/2, y.lo+34, "middle", "axis-title", xTitle)
	}
	if yTitle != "" {
		s.raw(`<text class="axis-title" text-anchor="middle" transform="translate(%.1f %.1f) rotate(-90)">%s</text>`, x.lo-46, (y.lo+y.hi)/2, esc(yTitle))
	}
}

// legend draws colour keys in a row starting at (x, y), wrapping to a
// second row at the right edge. Text widths are estimated generously
// (7.6 px a character at 12 px), since the font is the reader's.
func (s *svgBuf) legend(x, y float64, items []legendItem) {
	x0 := x
	for _, it := range items {
		width := 36 + textWidth(it.Label, legendFont)
		if x > x0 && x+width > s.w-4 {
			x, y = x0, y+18
		}
		switch it.Shape {
		case "line":
			s.raw(`<line class="legend-key" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5" %s/>`, x, y-4, x+18, y-4, it.Color, it.Extra)
		case "dot":
			s.raw(`<circle class="legend-key" cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, x+6, y-4, it.Color)
		default:
			s.raw(`<rect class="legend-key" x="%.1f" y="%.1f" width="12" height="12" rx="2" fill="%s"/>`, x, y-10, it.Color)
		}
		s.text(x+24, y, "start", "legend", it.Label)
		x += width
	}
}

type legendItem struct {
	Label, Color, Shape, Extra string
}

// polyline renders points as an SVG polyline.
func polyline(pts [][2]float64, color, class string, width float64, dash string) string {
	if len(pts) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<polyline class="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round"`, class, color, width)
	if dash != "" {
		fmt.Fprintf(&b, ` stroke-dasharray="%s"`, dash)
	}
	b.WriteString(` points="`)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", p[0], p[1])
	}
	b.WriteString(`"/>`)
	return b.String()
}
