package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// LambdaAPI is the part of the Lambda API a sweep uses; *lambda.Client
// satisfies it (GetFunction feeds the SDK's FunctionUpdatedV2 waiter).
type LambdaAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
}

// LogsAPI is the part of CloudWatch Logs a sweep uses; *cloudwatchlogs.Client
// satisfies it.
type LogsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// NonceVar is the environment variable a sweep sets to a fresh value with
// every memory size, so that Lambda starts new execution environments
// (a cold start) even when the memory does not change.
const NonceVar = "DDBOPS_BENCH_NONCE"

// DefaultMargin is how much slower than the fastest size the recommended
// size may be (10%).
const DefaultMargin = 0.10

// Sweep runs the same attack against a function at several memory sizes.
type Sweep struct {
	Lambda   LambdaAPI
	Logs     LogsAPI
	Function string
	// LogGroup holds the REPORT lines; "" uses the function's logging
	// configuration, else /aws/lambda/<Function>.
	LogGroup string
	Sizes    []int
	// Attack is the run every size gets (Progress is ignored; see Run).
	Attack   Attack
	Workload Workload
	// Warmup requests are sent one by one after each configuration change
	// and before the run, and reported separately.
	Warmup int
	Prices *Prices
	// Margin for the recommendation (DefaultMargin when 0).
	Margin float64
	// LogWait bounds how long to wait for REPORT lines to reach CloudWatch
	// Logs after the last run (0: look once, without waiting); LogPoll is
	// the poll interval (default 5s).
	LogWait time.Duration
	LogPoll time.Duration
	// UpdateWait bounds each wait for a configuration update (default 5m).
	UpdateWait time.Duration
	// Logf prints one progress line (may be nil).
	Logf func(format string, args ...any)
	// RunAttack runs one size's attack (nil: a.Run). The CLI wraps it
	// with a progress bar.
	RunAttack func(ctx context.Context, memoryMB int, a *Attack) (*Result, error)
}

// SizeResult is what one memory size measured.
type SizeResult struct {
	MemoryMB int `json:"memory_mb"`
	Summary
	Warmup []Probe `json:"warmup"`
	// Lambda summarises the REPORT lines of the size's warm-up and run.
	Lambda *LambdaStats `json:"lambda,omitempty"`
	// Cost is per million requests, from the mean billed duration of the
	// run; absent when no REPORT line was found.
	Cost *Cost `json:"cost_per_million,omitempty"`

	Result *Result `json:"-"`

	windowStart, loadStart, windowEnd time.Time
	invocations                       []Invocation
}

// LambdaStats summarises REPORT lines.
type LambdaStats struct {
	// Invocations is the number of REPORT lines found for the run (after
	// warm-up); Expected is the number of 2xx answers the run got (each was
	// an invocation, so fewer lines means some were not delivered yet).
	Invocations int `json:"invocations"`
	Expected    int `json:"expected"`
	// ColdStarts counts lines with an Init Duration (warm-up and run).
	ColdStarts      int     `json:"cold_starts"`
	InitMeanMS      float64 `json:"init_mean_ms"`
	InitMaxMS       float64 `json:"init_max_ms"`
	DurationMeanMS  float64 `json:"duration_mean_ms"`
	DurationP99MS   float64 `json:"duration_p99_ms"`
	BilledMeanMS    float64 `json:"billed_mean_ms"`
	BilledP99MS     float64 `json:"billed_p99_ms"`
	MaxMemoryUsedMB int     `json:"max_memory_used_mb"`
	// Failed counts invocations that timed out or crashed.
	Failed int `json:"failed"`
}

// Recommendation is the cheapest size whose client p99 latency is within
// Margin of the fastest size's.
type Recommendation struct {
	MemoryMB    int     `json:"memory_mb"`
	FastestMB   int     `json:"fastest_memory_mb"`
	FastestP99  float64 `json:"fastest_p99_ms"`
	Margin      float64 `json:"margin"`
	CostPerMil  float64 `json:"cost_per_million,omitempty"`
	Explanation string  `json:"explanation"`
}

// SweepResult is the whole sweep, in the shape of `bench --memory -o json`.
type SweepResult struct {
	Function         string          `json:"function"`
	Architecture     string          `json:"architecture"`
	LogGroup         string          `json:"log_group"`
	Op               string          `json:"op"`
	RequestedRate    int             `json:"requested_rate"`
	DurationS        float64         `json:"duration_s"`
	OriginalMemoryMB int             `json:"original_memory_mb"`
	Restored         bool            `json:"restored"`
	Sizes            []*SizeResult   `json:"sizes"`
	Recommendation   *Recommendation `json:"recommendation,omitempty"`
	Prices           *Prices         `json:"prices"`
}

// Run sweeps the sizes in order and restores the function's original
// memory and environment at the end — also after an error and after ctx is
// cancelled (the restore runs on a context that survives cancellation). It
// returns what was measured so far together with any error.
func (s *Sweep) Run(ctx context.Context) (res *SweepResult, err error) {
	if len(s.Sizes) == 0 {
		return nil, errors.New("memory sweep: no sizes")
	}
	for _, m := range s.Sizes {
		if m < 128 || m > 10240 {
			return nil, fmt.Errorf("memory %d MB: Lambda allows 128 to 10240 MB", m)
		}
	}
	if s.Prices == nil {
		return nil, errors.New("memory sweep: no price table")
	}
	fn := aws.String(s.Function)
	orig, err := s.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn})
	if err != nil {
		return nil, fmt.Errorf("get function configuration %s: %w", s.Function, err)
	}
	origMemory := int(aws.ToInt32(orig.MemorySize))
	origEnv := map[string]string{}
	if orig.Environment != nil {
		maps.Copy(origEnv, orig.Environment.Variables)
	}
	// A nonce left by an earlier sweep whose restore failed is not part of
	// the configuration to restore.
	delete(origEnv, NonceVar)
	arch := string(types.ArchitectureX8664)
	if len(orig.Architectures) > 0 {
		arch = string(orig.Architectures[0])
	}
	logGroup, pattern := s.logTarget(orig.LoggingConfig)

	res = &SweepResult{
		Function:         s.Function,
		Architecture:     arch,
		LogGroup:         logGroup,
		Op:               s.Workload.Op,
		RequestedRate:    s.Attack.Rate,
		DurationS:        s.Attack.Duration.Seconds(),
		OriginalMemoryMB: origMemory,
		Prices:           s.Prices,
	}
	changed := false
	defer func() {
		if !changed {
			res.Restored = true
			return
		}
		// Ctrl-C must not stop the restore: give it its own deadline.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.updateWait()+time.Minute)
		defer cancel()
		s.logf("restoring %s to %d MB", s.Function, origMemory)
		if rerr := s.configure(rctx, origMemory, origEnv); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore %s to %d MB: %w (run: aws lambda update-function-configuration --function-name %s --memory-size %d)",
				s.Function, origMemory, rerr, s.Function, origMemory))
			return
		}
		res.Restored = true
	}()

	for _, size := range s.Sizes {
		env := maps.Clone(origEnv)
		env[NonceVar] = strconv.FormatInt(time.Now().UnixNano(), 36)
		s.logf("%d MB: updating %s (new execution environments)", size, s.Function)
		changed = true
		if err := s.configure(ctx, size, env); err != nil {
			return res, fmt.Errorf("set %s to %d MB: %w", s.Function, size, err)
		}
		sr := &SizeResult{MemoryMB: size, windowStart: time.Now()}
		res.Sizes = append(res.Sizes, sr)
		if s.Warmup > 0 {
			s.logf("%d MB: warming up with %d requests (the first is a cold start)", size, s.Warmup)
			sr.Warmup = Warmup(ctx, s.Attack.Requester, s.Attack.Doer, s.Attack.Bodies, s.Warmup)
		}
		if err := ctx.Err(); err != nil {
			return res, &cmdutil.InterruptedError{Msg: fmt.Sprintf("memory sweep interrupted at %d MB", size)}
		}
		a := s.Attack
		a.Progress = nil
		sr.loadStart = time.Now()
		s.logf("%d MB: %d req/s for %s", size, a.Rate, cmdutil.FormatDuration(a.Duration))
		r, err := s.runAttack(ctx, size, &a)
		sr.windowEnd = time.Now()
		if r != nil {
			sr.Result = r
			sr.Summary = Summarize(r)
		}
		if err != nil {
			return res, fmt.Errorf("%d MB: %w", size, err)
		}
	}

	if err := s.collectReports(ctx, logGroup, pattern, res.Sizes); err != nil {
		return res, err
	}
	for _, sr := range res.Sizes {
		if sr.Lambda == nil || sr.Lambda.Invocations == 0 {
			continue
		}
		c, err := s.Prices.PerMillion(arch, sr.MemoryMB, sr.Lambda.BilledMeanMS, s.Workload.Op)
		if err != nil {
			return res, err
		}
		sr.Cost = &c
	}
	res.Recommendation = Recommend(res.Sizes, s.margin())
	return res, nil
}

func (s *Sweep) runAttack(ctx context.Context, size int, a *Attack) (*Result, error) {
	if s.RunAttack != nil {
		return s.RunAttack(ctx, size, a)
	}
	return a.Run(ctx)
}

func (s *Sweep) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Sweep) margin() float64 {
	if s.Margin > 0 {
		return s.Margin
	}
	return DefaultMargin
}

func (s *Sweep) updateWait() time.Duration {
	if s.UpdateWait > 0 {
		return s.UpdateWait
	}
	return 5 * time.Minute
}

// logTarget returns the log group holding the REPORT lines and the filter
// pattern that selects them in the function's log format.
func (s *Sweep) logTarget(lc *types.LoggingConfig) (group, pattern string) {
	group, pattern = s.LogGroup, "REPORT"
	if lc != nil {
		if group == "" && aws.ToString(lc.LogGroup) != "" {
			group = aws.ToString(lc.LogGroup)
		}
		if lc.LogFormat == types.LogFormatJson {
			pattern = `{ $.type = "platform.report" }`
		}
	}
	if group == "" {
		group = "/aws/lambda/" + s.Function
	}
	return group, pattern
}

// configure sets memory and environment, unless they already are, and waits
// until the update is done (LastUpdateStatus Successful).
func (s *Sweep) configure(ctx context.Context, memory int, env map[string]string) error {
	fn := aws.String(s.Function)
	waiter := lambda.NewFunctionUpdatedV2Waiter(s.Lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = time.Second
		o.MaxDelay = 5 * time.Second
	})
	// An update still in progress (ours or someone's) makes the next one
	// fail with ResourceConflictException: wait for it first.
	if err := waiter.Wait(ctx, &lambda.GetFunctionInput{FunctionName: fn}, s.updateWait()); err != nil {
		return fmt.Errorf("wait for earlier update: %w", err)
	}
	cur, err := s.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn})
	if err != nil {
		return fmt.Errorf("get function configuration: %w", err)
	}
	var curEnv map[string]string
	if cur.Environment != nil {
		curEnv = cur.Environment.Variables
	}
	if int(aws.ToInt32(cur.MemorySize)) == memory && maps.Equal(curEnv, env) {
		return nil
	}
	_, err = s.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: fn,
		MemorySize:   aws.Int32(int32(memory)),
		Environment:  &types.Environment{Variables: env},
	})
	if err != nil {
		return fmt.Errorf("update function configuration: %w", err)
	}
	if err := waiter.Wait(ctx, &lambda.GetFunctionInput{FunctionName: fn}, s.updateWait()); err != nil {
		return fmt.Errorf("wait for update: %w", err)
	}
	return nil
}

// collectReports reads the REPORT lines of every size's time window,
// polling until each window has at least as many lines as the size had 2xx
// answers (log delivery lags by seconds) or LogWait has passed.
func (s *Sweep) collectReports(ctx context.Context, group, pattern string, sizes []*SizeResult) error {
	wait, poll := s.LogWait, s.LogPoll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	deadline := time.Now().Add(wait)
	s.logf("reading REPORT lines from %s", group)
	for {
		missing := 0
		for _, sr := range sizes {
			warm, load := sr.okCounts()
			if sr.Lambda != nil && len(sr.invocations) >= warm+load {
				continue
			}
			invs, err := s.readWindow(ctx, group, pattern, sr)
			var nf *logtypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				// Nothing logged yet, or logs go elsewhere: no billed
				// durations, but the client-side numbers still stand.
				s.logf("log group %s does not exist: no REPORT lines, no cost", group)
				return nil
			}
			if err != nil {
				return err
			}
			sr.invocations = invs
			sr.Lambda = lambdaStats(invs, sr.loadStart, load)
			missing += max(warm+load-len(invs), 0)
		}
		if missing == 0 || !time.Now().Before(deadline) {
			if missing > 0 {
				s.logf("gave up waiting for %d REPORT lines after %s; costs use the lines found", missing, wait)
			}
			return nil
		}
		s.logf("waiting for %d more REPORT lines to reach CloudWatch Logs", missing)
		t := time.NewTimer(min(poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("reading REPORT lines interrupted: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// okCounts is the number of 2xx answers of the warm-up and of the run:
// each of them was an invocation that logs a REPORT line.
func (sr *SizeResult) okCounts() (warm, load int) {
	for _, p := range sr.Warmup {
		if p.Code >= 200 && p.Code < 300 {
			warm++
		}
	}
	if sr.Result != nil {
		for i := range sr.Result.Hits {
			if sr.Result.Hits[i].OK() {
				load++
			}
		}
	}
	return warm, load
}

// readWindow returns the REPORT lines of sr's memory size logged between
// the start of its warm-up and a little after its run.
func (s *Sweep) readWindow(ctx context.Context, group, pattern string, sr *SizeResult) ([]Invocation, error) {
	p := cloudwatchlogs.NewFilterLogEventsPaginator(s.Logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(pattern),
		// Allow for clock skew and for answers still being logged.
		StartTime: aws.Int64(sr.windowStart.Add(-time.Second).UnixMilli()),
		EndTime:   aws.Int64(sr.windowEnd.Add(5 * time.Second).UnixMilli()),
	})
	var out []Invocation
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read REPORT lines from %s: %w", group, err)
		}
		for _, ev := range page.Events {
			inv, ok := ParseReportLine(aws.ToString(ev.Message))
			// Stragglers of the previous size carry its memory size.
			if !ok || inv.MemorySizeMB != sr.MemoryMB {
				continue
			}
			inv.TimestampMS = aws.ToInt64(ev.Timestamp)
			out = append(out, inv)
		}
	}
	return out, nil
}

// lambdaStats summarises invocations: billed and run durations from the
// lines logged after loadStart (the run), cold starts from all of them.
func lambdaStats(invs []Invocation, loadStart time.Time, expected int) *LambdaStats {
	st := &LambdaStats{Expected: expected}
	var billed, dur vegeta.LatencyMetrics
	var initSum float64
	cut := loadStart.UnixMilli()
	for _, inv := range invs {
		if inv.Cold() {
			st.ColdStarts++
			initSum += inv.InitMS
			st.InitMaxMS = max(st.InitMaxMS, inv.InitMS)
		}
		st.MaxMemoryUsedMB = max(st.MaxMemoryUsedMB, inv.MaxMemoryUsedMB)
		if inv.TimestampMS < cut {
			continue // warm-up
		}
		st.Invocations++
		if inv.Status != "" {
			st.Failed++
		}
		billed.Add(msDuration(inv.BilledMS))
		dur.Add(msDuration(inv.DurationMS))
	}
	if st.ColdStarts > 0 {
		st.InitMeanMS = round3(initSum / float64(st.ColdStarts))
	}
	if st.Invocations > 0 {
		st.BilledMeanMS = ms(billed.Total / time.Duration(st.Invocations))
		st.BilledP99MS = ms(billed.Quantile(0.99))
		st.DurationMeanMS = ms(dur.Total / time.Duration(st.Invocations))
		st.DurationP99MS = ms(dur.Quantile(0.99))
	}
	return st
}

func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// Recommend picks, among the sizes whose every request succeeded, the
// cheapest one (cost per million) whose client p99 latency is within
// margin of the lowest p99; ties go to less memory. Without costs it picks
// the smallest size within the margin. nil when no size qualifies.
func Recommend(sizes []*SizeResult, margin float64) *Recommendation {
	var ok []*SizeResult
	for _, sr := range sizes {
		if sr.Requests > 0 && sr.Success == 1 {
			ok = append(ok, sr)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	fastest := slices.MinFunc(ok, func(a, b *SizeResult) int {
		return cmp.Or(cmp.Compare(a.LatencyMS.P99, b.LatencyMS.P99), cmp.Compare(a.MemoryMB, b.MemoryMB))
	})
	limit := fastest.LatencyMS.P99 * (1 + margin)
	var within []*SizeResult
	costs := true
	for _, sr := range ok {
		if sr.LatencyMS.P99 <= limit {
			within = append(within, sr)
			costs = costs && sr.Cost != nil
		}
	}
	rec := &Recommendation{FastestMB: fastest.MemoryMB, FastestP99: fastest.LatencyMS.P99, Margin: margin}
	if costs {
		best := slices.MinFunc(within, func(a, b *SizeResult) int {
			return cmp.Or(cmp.Compare(a.Cost.Total, b.Cost.Total), cmp.Compare(a.MemoryMB, b.MemoryMB))
		})
		rec.MemoryMB, rec.CostPerMil = best.MemoryMB, best.Cost.Total
		rec.Explanation = fmt.Sprintf("%d MB is the cheapest size (%.4f per million requests) whose client p99 (%s ms) is within %.0f%% of the fastest, %d MB (p99 %s ms)",
			best.MemoryMB, best.Cost.Total, FormatMS(best.LatencyMS.P99), margin*100, fastest.MemoryMB, FormatMS(fastest.LatencyMS.P99))
		return rec
	}
	best := slices.MinFunc(within, func(a, b *SizeResult) int { return cmp.Compare(a.MemoryMB, b.MemoryMB) })
	rec.MemoryMB = best.MemoryMB
	rec.Explanation = fmt.Sprintf("%d MB is the smallest size whose client p99 (%s ms) is within %.0f%% of the fastest, %d MB (p99 %s ms); no billed durations were found, so cost was not compared",
		best.MemoryMB, FormatMS(best.LatencyMS.P99), margin*100, fastest.MemoryMB, FormatMS(fastest.LatencyMS.P99))
	return rec
}
