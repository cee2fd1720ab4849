package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/loadtest"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// benchOptions holds `ddbops bench`'s flags and dependencies.
type benchOptions struct {
	IO       *IOStreams
	Settings Settings
	Version  string

	Target         targetFlags
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

	// Resolve finds the target exactly as `call` does.
	Resolve func(ctx context.Context, tf targetFlags) (*resolvedTarget, error)
	// SweepDeps returns the AWS clients and recorded function of a sweep.
	SweepDeps func(ctx context.Context) (*sweepDeps, error)
}

// sweepDeps is what a memory sweep needs from AWS and the state file.
type sweepDeps struct {
	Lambda    loadtest.LambdaAPI
	Logs      loadtest.LogsAPI
	Function  string
	LogGroup  string
	InvokeURL string
}

func newBenchCmd(f *Factory) *cobra.Command { return benchCmd(f, runBench) }

// benchCmd builds the command with run as its body (tests replace it).
func benchCmd(f *Factory, run func(context.Context, *benchOptions) error) *cobra.Command {
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
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			opts.Settings = f.Settings
			opts.Version = f.Version
			opts.Resolve = func(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
				return resolveTarget(ctx, f, tf)
			}
			opts.SweepDeps = func(ctx context.Context) (*sweepDeps, error) { return loadSweepDeps(ctx, f) }
			return run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	addTargetFlags(fl, &opts.Target)
	fl.StringVar(&opts.Op, "op", wire.OpRead, "operation: "+strings.Join(loadtest.Ops, "|"))
	fl.IntVar(&opts.Rate, "rate", 50, "requests per second (config bench-rate)")
	fl.DurationVar(&opts.Duration, "duration", 10*time.Second, "how long to send (config bench-duration)")
	fl.IntVar(&opts.Workers, "workers", 256, "cap on requests in flight, not the pacing (config bench-workers)")
	fl.IntVar(&opts.Keys, "keys", 100, "ids the operations spread over: bench-1 … bench-N (config bench-keys)")
	fl.IntVar(&opts.Warmup, "warmup", 5, "requests sent one by one before the measured run (not counted)")
	fl.BoolVar(&opts.Seed, "seed", true, "create the ids first for read, update and list (--seed=false when they exist)")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", client.DefaultTimeout, "give up on a request after this long (counted as an error)")
	fl.IntSliceVar(&opts.Memory, "memory", nil, "sweep these Lambda memory sizes in MB, e.g. 128,512,1024 (the recorded AWS stack only)")
	fl.Float64Var(&opts.Margin, "margin", 10, "sweep recommendation: percent of the fastest p99 a cheaper size may be slower by")
	fl.StringVar(&opts.Prices, "prices", "", "price table overriding the embedded configs/prices.yaml (same keys)")
	fl.DurationVar(&opts.LogWait, "log-wait", 90*time.Second, "sweep: how long to wait for REPORT lines to reach CloudWatch Logs")
	fl.StringVar(&opts.Report, "report", "", "write a self-contained HTML report to this file")
	bindConfig(fl, "rate", "bench-rate")
	bindConfig(fl, "duration", "bench-duration")
	bindConfig(fl, "workers", "bench-workers")
	bindConfig(fl, "keys", "bench-keys")
	return cmd
}

// validate reports bad flag values as usage errors (exit 2).
func (o *benchOptions) validate() error {
	switch {
	case !slices.Contains(loadtest.Ops, o.Op):
		return usageErrorf("invalid --op %q: want one of %s", o.Op, strings.Join(loadtest.Ops, ", "))
	case o.Rate <= 0 || o.Rate > 1_000_000:
		return usageErrorf("invalid --rate %d: want 1 to 1000000 requests per second", o.Rate)
	case o.Duration <= 0:
		return usageErrorf("invalid --duration %s: must be positive", o.Duration)
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) == 0:
		return usageErrorf("--rate %d for --duration %s: not a single request is due", o.Rate, o.Duration)
	case int64(o.Duration/(time.Second/time.Duration(o.Rate))) > loadtest.MaxHits:
		return usageErrorf("--rate %d for --duration %s: more than %d requests in one run; lower --rate or --duration", o.Rate, o.Duration, loadtest.MaxHits)
	case o.Workers < 1:
		return usageErrorf("invalid --workers %d: must be at least 1", o.Workers)
	case o.Keys < 1:
		return usageErrorf("invalid --keys %d: must be at least 1", o.Keys)
	case o.Warmup < 0:
		return usageErrorf("invalid --warmup %d: must be 0 or more", o.Warmup)
	case o.RequestTimeout <= 0:
		return usageErrorf("invalid --request-timeout %s: must be positive", o.RequestTimeout)
	case o.Margin < 0:
		return usageErrorf("invalid --margin %g: must be 0 or more percent", o.Margin)
	case o.LogWait < 0:
		return usageErrorf("invalid --log-wait %s: must be 0 or more", o.LogWait)
	}
	seen := map[int]bool{}
	for _, m := range o.Memory {
		if m < 128 || m > 10240 {
			return usageErrorf("invalid --memory %d: Lambda allows 128 to 10240 MB", m)
		}
		if seen[m] {
			return usageErrorf("invalid --memory: %d MB is listed twice", m)
		}
		seen[m] = true
	}
	if len(o.Memory) > 0 && o.Target.Local {
		return usageErrorf("--memory sweeps the Lambda function on AWS; it cannot be used with --local")
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
	var deps *sweepDeps
	if len(o.Memory) > 0 {
		if deps, err = o.SweepDeps(ctx); err != nil {
			return err
		}
		if o.Target.URL != "" && !sameURL(o.Target.URL, deps.InvokeURL) {
			return usageErrorf("--memory sweeps the function behind the recorded invoke URL; --url is another API")
		}
	}
	var prices *loadtest.Prices
	if len(o.Memory) > 0 || o.Prices != "" {
		if prices, err = loadtest.LoadPrices(o.Prices); err != nil {
			return withHint(err, "fix the file given to --prices (keys of configs/prices.yaml)")
		}
	}

	rt, err := o.Resolve(ctx, o.Target)
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
		return usageErrorf("%v", err)
	}
	target := describeTarget(rt)

	if w.NeedsSeed() && o.Seed {
		o.logf("creating %d ids (%s … %s) so that every %s finds its item", o.Keys, loadtest.KeyID(1), loadtest.KeyID(o.Keys), o.Op)
		if err := loadtest.Seed(ctx, c, doer, w.SeedBodies(), min(o.Workers, 16)); err != nil {
			return withHint(fmt.Errorf("bench %s: %w", target, err), "check the target and its auth with: ddbops call ping")
		}
	}
	attack := loadtest.Attack{
		Rate: o.Rate, Duration: o.Duration, Workers: o.Workers,
		Requester: c, Doer: doer, Bodies: bodies,
	}
	if len(o.Memory) > 0 {
		return o.runSweep(ctx, deps, prices, attack, w, target)
	}

	var warm []loadtest.Probe
	if o.Warmup > 0 {
		warm = loadtest.Warmup(ctx, c, doer, bodies, o.Warmup)
		if err := unreachable(warm); err != nil {
			return withHint(fmt.Errorf("bench %s: %w", target, err), "is the target up? try: ddbops call ping")
		}
	}
	o.logf("%s at %d req/s for %s (≤ %d in flight) → %s", o.Op, o.Rate, o.Duration, o.Workers, target)
	res, runErr := o.attackWithProgress(ctx, "", &attack)
	if res == nil {
		return runErr
	}
	sum := loadtest.Summarize(res)
	if o.Report != "" {
		if err := writeReport(o.Report, loadtest.ReportInput{Target: target, Op: o.Op, Keys: o.Keys, Run: res, Version: o.Version}); err != nil {
			return errors.Join(runErr, err)
		}
		o.logf("report written to %s", o.Report)
	}
	if o.Settings.JSON() {
		doc := struct {
			Op     string `json:"op"`
			Target string `json:"target"`
			Auth   string `json:"auth"`
			loadtest.Summary
			Warmup []loadtest.Probe `json:"warmup,omitempty"`
			Report string           `json:"report,omitempty"`
		}{Op: o.Op, Target: rt.Target.URL, Auth: rt.Target.Auth, Summary: sum, Warmup: warm, Report: o.Report}
		if err := writeJSON(o.IO.Out, doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.IO.Out, "Target       %s\n", target)
		fmt.Fprintf(o.IO.Out, "Operation    %s%s; %d req/s for %s\n", o.Op, keysNote(o), o.Rate, o.Duration)
		sum.WriteText(o.IO.Out)
		fmt.Fprintln(o.IO.Out, "Latency is measured from each request's intended send time (open loop).")
	}
	return runErr
}

func (o *benchOptions) runSweep(ctx context.Context, deps *sweepDeps, prices *loadtest.Prices, attack loadtest.Attack, w loadtest.Workload, target string) error {
	sw := &loadtest.Sweep{
		Lambda:   deps.Lambda,
		Logs:     deps.Logs,
		Function: deps.Function,
		LogGroup: deps.LogGroup,
		Sizes:    o.Memory,
		Attack:   attack,
		Workload: w,
		Warmup:   o.Warmup,
		Prices:   prices,
		Margin:   o.Margin / 100,
		LogWait:  o.LogWait,
		Logf:     o.logf,
		RunAttack: func(ctx context.Context, memory int, a *loadtest.Attack) (*loadtest.Result, error) {
			return o.attackWithProgress(ctx, fmt.Sprintf("%d MB", memory), a)
		},
	}
	if o.LogWait == 0 {
		sw.LogWait = time.Nanosecond // one look, no waiting
	}
	o.logf("memory sweep of %s over %v MB: %s at %d req/s for %s each → %s", deps.Function, o.Memory, o.Op, o.Rate, o.Duration, target)
	res, runErr := sw.Run(ctx)
	if res == nil {
		return runErr
	}
	if o.Report != "" && len(res.Sizes) > 0 {
		if err := writeReport(o.Report, loadtest.ReportInput{Target: target, Op: o.Op, Keys: o.Keys, Sweep: res, Version: o.Version}); err != nil {
			return errors.Join(runErr, err)
		}
		o.logf("report written to %s", o.Report)
	}
	if o.Settings.JSON() {
		if err := writeJSON(o.IO.Out, res); err != nil {
			return errors.Join(runErr, err)
		}
	} else {
		res.WriteText(o.IO.Out)
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
	desc := "sending"
	if label != "" {
		desc = label
	}
	bar := progressbar.NewOptions64(a.Hits(),
		progressbar.OptionSetWriter(o.IO.ErrOut),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionEnableColorCodes(!o.Settings.NoColor),
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.Describe(fmt.Sprintf("%s · errors %d", desc, p.Errors.Load()))
				_ = bar.Set64(p.Sent.Load())
			}
		}
	}()
	res, err := a.Run(ctx)
	close(done)
	wg.Wait()
	_ = bar.Finish()
	_ = bar.Clear()
	return res, err
}

// unreachable is an error when no warm-up request got any HTTP answer.
func unreachable(probes []loadtest.Probe) error {
	for _, p := range probes {
		if p.Code != 0 {
			return nil
		}
	}
	if len(probes) == 0 {
		return nil
	}
	return fmt.Errorf("no answer to %d warm-up requests: %s", len(probes), probes[0].Error)
}

func keysNote(o *benchOptions) string {
	switch o.Op {
	case wire.OpList, wire.OpPing:
		return ""
	}
	return fmt.Sprintf(" over %d ids", o.Keys)
}

// describeTarget names the target for people: its URL and auth, never a
// secret.
func describeTarget(rt *resolvedTarget) string {
	auth := rt.Target.Auth
	if auth == "" {
		auth = wire.AuthNone
	}
	if rt.Kind == targetInProcess {
		return fmt.Sprintf("the local stack in %s, in-process", rt.Source)
	}
	return fmt.Sprintf("%s (%s auth)", rt.Target.URL, auth)
}

// writeReport writes the HTML report through a temporary file, so a failed
// write never leaves half a report under the final name.
func writeReport(path string, in loadtest.ReportInput) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".ddbops-report-*.html")
	if err != nil {
		return withHint(fmt.Errorf("write report %s: %w", path, err), "check that the directory exists and is writable")
	}
	defer os.Remove(tmp.Name())
	if err := loadtest.WriteHTML(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// loadSweepDeps finds the recorded function and builds the Lambda and
// CloudWatch Logs clients in its region and endpoint.
func loadSweepDeps(ctx context.Context, f *Factory) (*sweepDeps, error) {
	path := f.Settings.StateFile
	st, err := provision.LoadState(path)
	if errors.Is(err, provision.ErrNoState) {
		return nil, withHint(fmt.Errorf("--memory: no stack recorded in %s", path),
			"run ddbops setup first: the sweep changes the memory of the function it created")
	}
	if err != nil {
		return nil, err
	}
	g := *f
	if g.Settings.Region == "" {
		g.Settings.Region = st.Region
	}
	if g.Settings.EndpointURL == "" {
		g.Settings.EndpointURL = st.EndpointURL
	}
	cfg, err := g.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	fn := st.FunctionName
	if fn == "" {
		fn = f.Settings.Function
	}
	return &sweepDeps{
		Lambda:    lambda.NewFromConfig(cfg),
		Logs:      cloudwatchlogs.NewFromConfig(cfg),
		Function:  fn,
		LogGroup:  st.LogGroupName,
		InvokeURL: st.InvokeURL,
	}, nil
}
