package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/loadtest"
	"github.com/ddbops/ddbops/internal/target"
	"github.com/ddbops/ddbops/internal/wire"
)

// benchOptions holds `ddbops bench`'s flags and dependencies.
type benchOptions struct {
	IO       *cmdutil.IOStreams
	Settings Settings
	Version  string
	// Resolver finds the target exactly as `call` does, and the recorded
	// function of a sweep.
	Resolver *target.Resolver

	Target         target.Flags
	Op             string
	Rate           int
	Duration       time.Duration
	Workers        int
	Keys           int
	Warmup         int
	Seed           bool
	RequestTimeout time.Duration
	Memory         []int
	Margin         float64 // percent
	Prices         string
	LogWait        time.Duration
	Report         string
}

func newBenchCmd(f *Factory, runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench [--url URL|--local] [--op OP] [--rate N] [--duration D] [--workers N] [--memory 128,512,1024] [--report FILE.html]",
		Short: "Load-test the API open loop; sweep Lambda memory sizes with cost",
		Long: `Sends --rate requests per second for --duration, whatever the response
times (open loop), and measures each request's latency from the time it was
due to be sent, so a stalled backend shows up in the percentiles instead of
slowing the load down. Targets and signs exactly as ddbops call does: --url,
--local, or the stack recorded by ddbops setup.

read, update and list first create the ids bench-1 … bench-N (--keys) so
that every request finds its item; create overwrites them (no 409s).

--memory 128,512,1024 runs the same load against the recorded Lambda
function at each memory size (forcing a cold start for each), reads the
REPORT lines from CloudWatch Logs, and prints latency, billed duration,
cold starts and cost per million requests side by side with a
recommendation. The original memory is restored at the end, also on error
and Ctrl-C.

--report FILE.html writes a self-contained HTML report with charts.`,
		Example: `  ddbops bench --local --op read --rate 200 --duration 10s
  ddbops bench --url http://127.0.0.1:3000/prod/DynamoDBManager --api-key $KEY --rate 1000 --duration 5s -o json
  ddbops bench --op read --rate 50 --duration 30s --report bench.html
  ddbops bench --memory 128,512,1024 --rate 20 --duration 60s --report sweep.html`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Settings, opts.Version, opts.Resolver = f.IO, f.Settings, f.Version, f.Resolver()
			return runOr(cmd.Context(), opts, runF, runBench)
		},
	}
	fl := cmd.Flags()
	addTargetFlags(fl, &opts.Target)
	fl.StringVar(&opts.Op, "op", "", "operation: "+strings.Join(loadtest.Ops, "|"))
	fl.IntVar(&opts.Rate, "rate", 0, "requests per second")
	cmdutil.DurationVar(fl, &opts.Duration, "duration", 0, "how long to send")
	fl.IntVar(&opts.Workers, "workers", 0, "cap on requests in flight, not the pacing")
	fl.IntVar(&opts.Keys, "keys", 0, "ids the operations spread over: bench-1 … bench-N")
	fl.IntVar(&opts.Warmup, "warmup", 0, "requests sent one by one before the measured run (not counted)")
	fl.BoolVar(&opts.Seed, "seed", false, "create the ids first for read, update and list (--seed=false when they exist)")
	cmdutil.DurationVar(fl, &opts.RequestTimeout, "request-timeout", 0, "give up on a request after this long (counted as an error)")
	fl.IntSliceVar(&opts.Memory, "memory", nil, "sweep these Lambda memory sizes in MB, e.g. 128,512,1024 (the recorded AWS stack only)")
	fl.Float64Var(&opts.Margin, "margin", 0, "sweep recommendation: percent of the fastest p99 a cheaper size may be slower by")
	fl.StringVar(&opts.Prices, "prices", "", "price table overriding the embedded configs/prices.yaml (same keys)")
	cmdutil.DurationVar(fl, &opts.LogWait, "log-wait", 0, "sweep: how long to wait for REPORT lines to reach CloudWatch Logs")
	fl.StringVar(&opts.Report, "report", "", "write a self-contained HTML report to this file")
	for name, key := range map[string]string{"op": "bench-op", "rate": "bench-rate", "duration": "bench-duration", "workers": "bench-workers",
		"keys": "bench-keys", "warmup": "bench-warmup", "seed": "bench-seed", "request-timeout": "request-timeout",
		"margin": "bench-margin", "log-wait": "bench-log-wait"} {
		bindConfig(fl, name, key)
	}
	completeValues(cmd, map[string][]string{"auth": wire.AuthModes, "op": loadtest.Ops, "memory": memorySizes})
	_ = cmd.MarkFlagFilename("report", "html")
	_ = cmd.MarkFlagFilename("prices", "yaml", "yml")
	_ = cmd.MarkFlagDirname("data-dir")
	return cmd
}

// validate reports bad flag values as usage errors (exit 2).
func (o *benchOptions) validate() error {
	switch {
	case !slices.Contains(loadtest.Ops, o.Op):
		return cmdutil.UsageErrorf("invalid --op %q: want one of %s", o.Op, strings.Join(loadtest.Ops, ", "))
	case o.Rate <= 0 || o.Rate > 1_000_000:
		return cmdutil.UsageErrorf("invalid --rate %d: want 1 to 1000000 requests per second", o.Rate)
	case o.Duration <= 0:
		return cmdutil.UsageErrorf("invalid --duration %s: must be positive", o.Duration)
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) == 0:
		return cmdutil.UsageErrorf("--rate %d for --duration %s: not a single request is due", o.Rate, o.Duration)
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) > loadtest.MaxHits:
		return cmdutil.UsageErrorf("--rate %d for --duration %s: more than %d requests in one run; lower --rate or --duration", o.Rate, o.Duration, loadtest.MaxHits)
	case o.Workers < 1:
		return cmdutil.UsageErrorf("invalid --workers %d: must be at least 1", o.Workers)
	case o.Keys < 1:
		return cmdutil.UsageErrorf("invalid --keys %d: must be at least 1", o.Keys)
	case o.Warmup < 0:
		return cmdutil.UsageErrorf("invalid --warmup %d: must be 0 or more", o.Warmup)
	case o.RequestTimeout <= 0:
		return cmdutil.UsageErrorf("invalid --request-timeout %s: must be positive", o.RequestTimeout)
	case o.Margin < 0:
		return cmdutil.UsageErrorf("invalid --margin %g: must be 0 or more percent", o.Margin)
	case o.LogWait < 0:
		return cmdutil.UsageErrorf("invalid --log-wait %s: must be 0 or more", o.LogWait)
	}
	seen := map[int]bool{}
	for _, m := range o.Memory {
		if m < 128 || m > 10240 {
			return cmdutil.UsageErrorf("invalid --memory %d: Lambda allows 128 to 10240 MB", m)
		}
		if seen[m] {
			return cmdutil.UsageErrorf("invalid --memory: %d MB is listed twice", m)
		}
		seen[m] = true
	}
	if len(o.Memory) > 0 && o.Target.Local {
		return cmdutil.UsageErrorf("--memory sweeps the Lambda function on AWS; it cannot be used with --local")
	}
	return nil
}

func (o *benchOptions) logf(format string, args ...any) {
	if !o.Settings.Quiet {
		fmt.Fprintf(o.IO.ErrOut, "bench: "+format+"\n", args...)
	}
}

func runBench(ctx context.Context, o *benchOptions) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	var fn *target.Function
	if len(o.Memory) > 0 {
		if fn, err = o.Resolver.Function(ctx); err != nil {
			return err
		}
		if o.Target.URL != "" && !target.SameURL(o.Target.URL, fn.InvokeURL) {
			return cmdutil.UsageErrorf("--memory sweeps the function behind the recorded invoke URL; --url is another API")
		}
	}
	var prices *loadtest.Prices
	if len(o.Memory) > 0 || o.Prices != "" {
		if prices, err = loadtest.LoadPrices(o.Prices); err != nil {
			return cmdutil.WithHint(err, "fix the file given to --prices (keys of configs/prices.yaml)")
		}
	}

	rt, err := o.Resolver.Resolve(ctx, o.Target)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rt.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close local stack: %w", cerr)
		}
	}()
	c, err := client.New(rt.Target, client.WithUserAgent("ddbops/"+o.Version))
	if err != nil {
		return fmt.Errorf("bench target: %w", err)
	}
	doer := loadtest.NewHTTPClient(rt.Target.Transport, o.Workers, o.RequestTimeout)
	w := loadtest.Workload{Op: o.Op, Keys: o.Keys, Table: rt.Target.TableName}
	bodies, err := w.Bodies()
	if err != nil {
		return cmdutil.UsageErrorf("%v", err)
	}
	where := rt.Describe()

	if w.NeedsSeed() && o.Seed {
		o.logf("creating %d ids (%s … %s) so that every %s finds its item", o.Keys, loadtest.KeyID(1), loadtest.KeyID(o.Keys), o.Op)
		if err := loadtest.Seed(ctx, c, doer, w.SeedBodies(), min(o.Workers, 16)); err != nil {
			return cmdutil.WithHint(fmt.Errorf("bench %s: %w", where, err), "check the target and its auth with: ddbops call ping")
		}
	}
	attack := loadtest.Attack{
		Rate: o.Rate, Duration: o.Duration, Workers: o.Workers,
		Requester: c, Doer: doer, Bodies: bodies,
	}
	report := loadtest.ReportInput{Target: where, Op: o.Op, Keys: o.Keys, Version: o.Version}
	if len(o.Memory) > 0 {
		sw := loadtest.NewSweep(fn.AWS, fn.Name, fn.LogGroup, o.Memory)
		sw.Attack, sw.Workload, sw.Warmup, sw.Prices, sw.Margin, sw.LogWait, sw.Logf = attack, w, o.Warmup, prices, o.Margin/100, o.LogWait, o.logf
		sw.RunAttack = func(ctx context.Context, memory int, a *loadtest.Attack) (*loadtest.Result, error) {
			return o.attackWithProgress(ctx, fmt.Sprintf("%d MB", memory), a)
		}
		o.logf("memory sweep of %s over %v MB: %s at %d req/s for %s each → %s", fn.Name, o.Memory, o.Op, o.Rate, o.Duration, where)
		res, runErr := sw.Run(ctx)
		if res == nil {
			return runErr
		}
		report.Sweep = res
		return o.render(runErr, report, len(res.Sizes) > 0, res, res.WriteText)
	}

	var warm []loadtest.Probe
	if o.Warmup > 0 {
		warm = loadtest.Warmup(ctx, c, doer, bodies, o.Warmup)
		if err := loadtest.Unreachable(warm); err != nil {
			return cmdutil.WithHint(fmt.Errorf("bench %s: %w", where, err), "is the target up? try: ddbops call ping")
		}
	}
	o.logf("%s at %d req/s for %s (≤ %d in flight) → %s", o.Op, o.Rate, o.Duration, o.Workers, where)
	res, runErr := o.attackWithProgress(ctx, "", &attack)
	if res == nil {
		return runErr
	}
	report.Run = res
	doc := &loadtest.RunReport{Op: o.Op, Target: rt.Target.URL, Auth: rt.Target.Auth, Summary: loadtest.Summarize(res), Warmup: warm, Report: o.Report,
		Describe: where, Keys: o.Keys, Duration: o.Duration}
	return o.render(runErr, report, true, doc, doc.WriteText)
}

// render writes the HTML report (when asked for and withReport), then the
// result: doc with -o json, else text. The run's own error runErr (an
// interruption, a failed restore) is returned with any of its own.
func (o *benchOptions) render(runErr error, report loadtest.ReportInput, withReport bool, doc any, text func(io.Writer)) error {
	if o.Report != "" && withReport {
		if err := loadtest.WriteReport(o.Report, report); err != nil {
			return errors.Join(runErr, err)
		}
		o.logf("report written to %s", o.Report)
	}
	if o.Settings.JSON() {
		if err := cmdutil.WriteJSON(o.IO.Out, doc); err != nil {
			return errors.Join(runErr, err)
		}
	} else {
		text(o.IO.Out)
	}
	return runErr
}

// attackWithProgress runs a, with a progress bar (elapsed, sent, errors)
// on a terminal.
func (o *benchOptions) attackWithProgress(ctx context.Context, label string, a *loadtest.Attack) (*loadtest.Result, error) {
	if !o.IO.IsErrTTY || o.Settings.Quiet {
		return a.Run(ctx)
	}
	p := &loadtest.Progress{}
	a.Progress = p
	if label == "" {
		label = "sending"
	}
	stop := cmdutil.StartProgressBar(o.IO, a.Hits(), label, func() (int64, int64) { return p.Sent.Load(), p.Errors.Load() })
	defer stop()
	return a.Run(ctx)
}
