package loadtest

import (
	"context"
	"fmt"
	"io"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// Bench is one `ddbops bench` over a resolved target: create the ids the
// operation needs, warm up, then one open-loop run, or a memory sweep when
// Sweep is set (docs/loadtest.md).
type Bench struct {
	Flags
	Seed      bool
	Requester Requester
	Doer      Doer
	Table     string // the table request bodies name
	Where     string // the target for people (URL and auth)
	URL, Auth string // the target, for the run's document
	Report    string // the HTML report file ("" = none), named in the document
	Version   string
	// Sweep, when set, is run with this bench's attack over its sizes.
	Sweep *Sweep
	// RunAttack runs an attack (label: the sweep's size, "" for a single
	// run), e.g. with a progress bar; nil runs it as is.
	RunAttack func(ctx context.Context, label string, a *Attack) (*Result, error)
	Logf      func(format string, args ...any)
}

// Outcome is what a bench produced: the -o json document and its text
// form, the HTML report's input (WithReport: there is something to
// report), and the run's own error (an interruption, a failed restore).
type Outcome struct {
	Doc        any
	Text       func(io.Writer)
	Report     ReportInput
	WithReport bool
	Err        error
}

func (b *Bench) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

func (b *Bench) run(ctx context.Context, label string, a *Attack) (*Result, error) {
	if b.RunAttack != nil {
		return b.RunAttack(ctx, label, a)
	}
	return a.Run(ctx)
}

// Run runs the bench. An error before any result (bad workload: a usage
// error; a target that fails the seeding or the warm-up, with a hint) is
// returned alone; with an outcome, its Err is the run's own.
func (b *Bench) Run(ctx context.Context) (*Outcome, error) {
	w := Workload{Op: b.Op, Keys: b.Keys, Table: b.Table}
	bodies, err := w.Bodies()
	if err != nil {
		return nil, cmdutil.UsageErrorf("%v", err)
	}
	if w.NeedsSeed() && b.Seed {
		b.logf("creating %d ids (%s … %s) so that every %s finds its item", b.Keys, KeyID(1), KeyID(b.Keys), b.Op)
		if err := Seed(ctx, b.Requester, b.Doer, w.SeedBodies(), min(b.Workers, 16)); err != nil {
			return nil, cmdutil.WithHint(fmt.Errorf("bench %s: %w", b.Where, err), "check the target and its auth with: ddbops call ping")
		}
	}
	attack := Attack{Rate: b.Rate, Duration: b.Duration, Workers: b.Workers, Requester: b.Requester, Doer: b.Doer, Bodies: bodies}
	report := ReportInput{Target: b.Where, Op: b.Op, Keys: b.Keys, Version: b.Version}
	if sw := b.Sweep; sw != nil {
		sw.Attack, sw.Workload, sw.Warmup, sw.Margin, sw.LogWait, sw.Logf = attack, w, b.Warmup, b.Margin/100, b.LogWait, b.Logf
		sw.RunAttack = func(ctx context.Context, memory int, a *Attack) (*Result, error) {
			return b.run(ctx, fmt.Sprintf("%d MB", memory), a)
		}
		b.logf("memory sweep of %s over %v MB: %s at %d req/s for %s each → %s", sw.Function, b.Memory, b.Op, b.Rate, cmdutil.FormatDuration(b.Duration), b.Where)
		res, runErr := sw.Run(ctx)
		if res == nil {
			return nil, runErr
		}
		report.Sweep = res
		return &Outcome{Doc: res, Text: res.WriteText, Report: report, WithReport: len(res.Sizes) > 0, Err: runErr}, nil
	}
	var warm []Probe
	if b.Warmup > 0 {
		warm = Warmup(ctx, b.Requester, b.Doer, bodies, b.Warmup)
		if err := Unreachable(warm); err != nil {
			return nil, cmdutil.WithHint(fmt.Errorf("bench %s: %w", b.Where, err), "is the target up? try: ddbops call ping")
		}
	}
	b.logf("%s at %d req/s for %s (≤ %d in flight) → %s", b.Op, b.Rate, cmdutil.FormatDuration(b.Duration), b.Workers, b.Where)
	res, runErr := b.run(ctx, "", &attack)
	if res == nil {
		return nil, runErr
	}
	report.Run = res
	doc := &RunReport{Op: b.Op, Target: b.URL, Auth: b.Auth, Summary: Summarize(res), Warmup: warm, Report: b.Report,
		Describe: b.Where, Keys: b.Keys, Duration: b.Duration}
	return &Outcome{Doc: doc, Text: doc.WriteText, Report: report, WithReport: true, Err: runErr}, nil
}
