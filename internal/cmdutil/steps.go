package cmdutil

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Steps renders the steps of a long operation on ErrOut: one line per
// finished step. On a terminal the marks are ✓ / ✗ in colour and a spinner
// names the steps still running; elsewhere (CI logs, pipes, --no-color)
// the marks are plain "ok" / "FAIL" and nothing is redrawn. Quiet prints
// nothing.
type Steps struct {
	w     io.Writer
	tty   bool
	cs    ColorScheme
	quiet bool

	mu      sync.Mutex
	running map[string]time.Time
	spun    bool // a spinner line is on screen
	frame   int
	stop    chan struct{}
	done    chan struct{}
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewSteps returns a step printer on ios.ErrOut with its spinner running.
func NewSteps(ios *IOStreams, quiet bool) *Steps {
	p := &Steps{w: ios.ErrOut, tty: ios.IsErrTTY, cs: ios.ErrColorScheme(), quiet: quiet, running: map[string]time.Time{}}
	p.Resume()
	return p
}

// Resume starts the spinner again after Close (on a terminal only).
func (p *Steps) Resume() {
	if !p.tty || p.quiet || p.stop != nil {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.spin(p.stop, p.done)
}

// Close stops the spinner and clears its line; it may be called again.
func (p *Steps) Close() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
}

func (p *Steps) spin(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			p.mu.Lock()
			p.clearLocked()
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

func (p *Steps) clearLocked() {
	if p.spun {
		fmt.Fprint(p.w, EraseLine)
		p.spun = false
	}
}

func (p *Steps) drawLocked() {
	if len(p.running) == 0 {
		p.clearLocked()
		return
	}
	names := make([]string, 0, len(p.running))
	var oldest time.Time
	for k, t := range p.running {
		names = append(names, k)
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	sort.Strings(names)
	p.frame = (p.frame + 1) % len(spinFrames)
	line := fmt.Sprintf("%s %s (%s)", spinFrames[p.frame], strings.Join(names, ", "), time.Since(oldest).Round(100*time.Millisecond))
	fmt.Fprint(p.w, EraseLine+line)
	p.spun = true
}

// Started says the step named key is running (for the spinner).
func (p *Steps) Started(key string) {
	if p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[key] = time.Now()
}

// Done prints line for the step named key, which stops running.
func (p *Steps) Done(key, line string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, key)
	p.clearLocked()
	fmt.Fprintln(p.w, line)
}

// Warn prints a warning line.
func (p *Steps) Warn(msg string) { p.Info(p.cs.Yellow("warning: ") + msg) }

// Info prints a plain diagnostic line.
func (p *Steps) Info(msg string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, msg)
}

// Mark is ✓/✗ on a colour terminal and ok/FAIL elsewhere, so logs stay
// ASCII and greppable.
func (p *Steps) Mark(failed bool) string {
	switch {
	case p.cs.Enabled && failed:
		return p.cs.Red("✗")
	case p.cs.Enabled:
		return p.cs.Green("✓")
	case failed:
		return "FAIL"
	}
	return "ok  "
}

// Line is the line of a finished step: mark, kind, name, result, detail
// and elapsed time in columns.
func (p *Steps) Line(failed bool, kind, name, result, detail string, elapsed time.Duration) string {
	if detail != "" {
		detail = "  " + detail
	}
	el := ""
	if elapsed > 0 {
		el = "  " + FormatElapsed(elapsed)
	}
	return fmt.Sprintf("%s %-17s %-40s %-9s%s%s", p.Mark(failed), kind, name, result, detail, el)
}

// FormatElapsed renders d for people: 850ms, 1.5s, 2m3s.
func FormatElapsed(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
