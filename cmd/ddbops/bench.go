package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

	Target target.Flags
	loadtest.Flags
	Seed   bool
	Prices string
	Report string
}

func newBenchCmd(f *Factory, runF func(context.Context, *benchOptions) error) *cobra.Command {
	opts := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench [--url URL|--local] [--op OP] [--rate N] [--duration D] [--workers N] [--memory 128,512,1024] [--report FILE.html]",
		Short: "Load-test the API open loop; sweep Lambda memory sizes with cost",
		Long: `Send --rate requests per second for --duration whatever the response times
(open loop), measuring each latency from when it was due. Targets and signs as
ddbops call does. read, update and list first create the ids bench-1 …
bench-N (--keys). --memory 128,512,1024 sweeps the recorded function's memory
(cold start each, REPORT lines, cost per million requests, a recommendation)
and restores it, also on error and Ctrl-C. --report writes a self-contained
HTML report. Details: docs/loadtest.md.`,
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

func (o *benchOptions) logf(format string, args ...any) {
	if !o.Settings.Quiet {
		fmt.Fprintf(o.IO.ErrOut, "bench: "+format+"\n", args...)
	}
}

func runBench(ctx context.Context, o *benchOptions) (err error) {
	o.Flags.Local = o.Target.Local
	if err := o.Flags.Validate(); err != nil {
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
	b := &loadtest.Bench{Flags: o.Flags, Seed: o.Seed, Requester: c, Doer: loadtest.NewHTTPClient(rt.Target.Transport, o.Workers, o.RequestTimeout),
		Table: rt.Target.TableName, Where: rt.Describe(), URL: rt.Target.URL, Auth: rt.Target.Auth, Report: o.Report, Version: o.Version,
		RunAttack: o.attackWithProgress, Logf: o.logf}
	if fn != nil {
		b.Sweep = loadtest.NewSweep(fn.AWS, fn.Name, fn.LogGroup, o.Memory)
		b.Sweep.Prices = prices
	}
	out, err := b.Run(ctx)
	if err != nil {
		return err
	}
	return o.render(out)
}

// render writes the HTML report (when asked for and there is something to
// report), then the result: the document with -o json, else text. The
// run's own error (an interruption, a failed restore) is returned with any
// of its own.
func (o *benchOptions) render(out *loadtest.Outcome) error {
	if o.Report != "" && out.WithReport {
		if err := loadtest.WriteReport(o.Report, out.Report); err != nil {
			return errors.Join(out.Err, err)
		}
		o.logf("report written to %s", o.Report)
	}
	if o.Settings.JSON() {
		if err := cmdutil.WriteJSON(o.IO.Out, out.Doc); err != nil {
			return errors.Join(out.Err, err)
		}
	} else {
		out.Text(o.IO.Out)
	}
	return out.Err
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
