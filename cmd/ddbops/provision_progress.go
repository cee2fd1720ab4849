package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ddbops/ddbops/internal/provision"
)

// progress renders provisioning steps on stderr: one line per finished
// step with its mark, resource, result and elapsed time. On a terminal the
// marks are ✓ / ✗ in colour and a spinner names the steps still running;
// elsewhere (CI logs, pipes, --no-color) the marks are plain "ok" / "FAIL"
// and nothing is redrawn. -q prints nothing.
type progress struct {
	w       io.Writer
	tty     bool
	color   bool
	quiet   bool
	verbose bool

	mu      sync.Mutex
	running map[string]time.Time
	spun    bool // a spinner line is on screen
	frame   int
	stop    chan struct{}
	done    chan struct{}
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newProgress(ios *IOStreams, s Settings) *progress {
	p := &progress{
		w: ios.ErrOut, tty: ios.IsErrTTY, color: ios.IsErrTTY && !s.NoColor,
		quiet: s.Quiet, verbose: s.Verbose, running: map[string]time.Time{},
	}
	if p.tty && !p.quiet {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin()
	}
	return p
}

// Close stops the spinner and clears its line.
func (p *progress) Close() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
}

func (p *progress) spin() {
	defer close(p.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
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

func (p *progress) clearLocked() {
	if p.spun {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.spun = false
	}
}

func (p *progress) drawLocked() {
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
	fmt.Fprint(p.w, "\r\x1b[K"+line)
	p.spun = true
}

// StepStarted implements provision.Reporter.
func (p *progress) StepStarted(kind, name string) {
	if p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[kind+" "+name] = time.Now()
}

// StepDone implements provision.Reporter.
func (p *progress) StepDone(c provision.Change) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, c.Kind+" "+c.Name)
	p.clearLocked()
	fmt.Fprintln(p.w, p.line(c))
}

// Warn implements provision.Reporter.
func (p *progress) Warn(msg string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, p.paint("33", "warning: ")+msg)
}

// Info prints a plain diagnostic line.
func (p *progress) Info(msg string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, msg)
}

func (p *progress) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// mark is ✓/✗ on a colour terminal and ok/FAIL elsewhere, so logs stay
// ASCII and greppable.
func (p *progress) mark(failed bool) string {
	switch {
	case p.color && failed:
		return p.paint("31", "✗")
	case p.color:
		return p.paint("32", "✓")
	case failed:
		return "FAIL"
	}
	return "ok  "
}

func (p *progress) line(c provision.Change) string {
	failed := c.Action == provision.Failed || c.Action == provision.Blocked
	detail := c.Summary()
	if c.Err != nil {
		detail = c.Err.Error()
	}
	if detail != "" {
		detail = "  " + detail
	}
	elapsed := ""
	if c.Elapsed > 0 {
		elapsed = "  " + fmtElapsed(c.Elapsed)
	}
	return fmt.Sprintf("%s %-17s %-40s %-9s%s%s", p.mark(failed), c.Kind, c.Name, c.Action, detail, elapsed)
}

func fmtElapsed(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
