package loadtest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// recordingLambda records UpdateFunctionConfiguration calls and can fail
// the n-th one.
type recordingLambda struct {
	LambdaAPI
	mu      sync.Mutex
	updates []*lambda.UpdateFunctionConfigurationInput
	failAt  int // 1-based; 0 never
}

func (r *recordingLambda) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opt ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	r.mu.Lock()
	r.updates = append(r.updates, in)
	n := len(r.updates)
	r.mu.Unlock()
	if n == r.failAt {
		return nil, errors.New("injected failure")
	}
	return r.LambdaAPI.UpdateFunctionConfiguration(ctx, in, opt...)
}

func (r *recordingLambda) memories() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, u := range r.updates {
		out = append(out, int(aws.ToInt32(u.MemorySize)))
	}
	return out
}

// fakeFunction plays the Lambda service behind API Gateway: for each
// request it logs a REPORT line to moto's CloudWatch Logs with the memory
// size moto says the function has now, with an Init Duration on the first
// invocation after each configuration change, then answers 200.
type fakeFunction struct {
	t        *testing.T
	lambda   *lambda.Client
	logs     *cloudwatchlogs.Client
	name     string
	group    string
	mu       sync.Mutex
	last     string // nonce of the last configuration seen
	n        int
	onInvoke func(memory int)
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cfg, err := f.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(f.name)})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	mem := int(aws.ToInt32(cfg.MemorySize))
	nonce := ""
	if cfg.Environment != nil {
		nonce = cfg.Environment.Variables[NonceVar]
	}
	f.mu.Lock()
	cold := nonce != f.last
	f.last = nonce
	f.n++
	id := fmt.Sprintf("req-%06d", f.n)
	f.mu.Unlock()
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		id, 256.0/float64(mem), 1+256/mem, mem, 30+mem/64)
	if cold {
		line += "Init Duration: 81.50 ms\t"
	}
	_, err = f.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(f.group),
		LogStreamName: aws.String("2026/11/28/[$LATEST]bench"),
		LogEvents:     []logtypes.InputLogEvent{{Message: aws.String(line + "\n"), Timestamp: aws.Int64(time.Now().UnixMilli())}},
	})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if f.onInvoke != nil {
		f.onInvoke(mem)
	}
	_, _ = w.Write([]byte(`"pong"`))
}

type sweepEnv struct {
	lambda *lambda.Client
	logs   *cloudwatchlogs.Client
	fn     *fakeFunction
	srv    *httptest.Server
	name   string
	env    map[string]string
}

func tinyZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("#!/bin/sh\necho never run\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newSweepEnv creates, in a fresh moto, a 128 MB arm64 function with its
// role and log group, and an HTTP endpoint that plays the function.
func newSweepEnv(t *testing.T) *sweepEnv {
	t.Helper()
	m := testenv.StartMoto(t)
	cfg := m.AWSConfig(t)
	ctx := context.Background()
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("lambda-apigateway-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &sweepEnv{
		lambda: lambda.NewFromConfig(cfg),
		logs:   cloudwatchlogs.NewFromConfig(cfg),
		name:   "LambdaFunctionOverHttps",
		env:    map[string]string{"TABLE_NAME": "lambda-apigateway"},
	}
	_, err = e.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(e.name),
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          role.Role.Arn,
		Code:          &types.FunctionCode{ZipFile: tinyZip(t)},
		MemorySize:    aws.Int32(128),
		Timeout:       aws.Int32(10),
		Architectures: []types.Architecture{types.ArchitectureArm64},
		Environment:   &types.Environment{Variables: maps.Clone(e.env)},
	})
	if err != nil {
		t.Fatal(err)
	}
	group := "/aws/lambda/" + e.name
	if _, err := e.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("2026/11/28/[$LATEST]bench")}); err != nil {
		t.Fatal(err)
	}
	e.fn = &fakeFunction{t: t, lambda: e.lambda, logs: e.logs, name: e.name, group: group}
	e.srv = httptest.NewServer(e.fn)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *sweepEnv) sweep(t *testing.T, rec *recordingLambda, sizes ...int) *Sweep {
	t.Helper()
	prices, err := LoadPrices("")
	if err != nil {
		t.Fatal(err)
	}
	w := Workload{Op: wire.OpRead, Keys: 10}
	bodies, err := w.Bodies()
	if err != nil {
		t.Fatal(err)
	}
	return &Sweep{
		Lambda:   rec,
		Logs:     e.logs,
		Function: e.name,
		Sizes:    sizes,
		Attack: Attack{
			Rate: 20, Duration: time.Second, Workers: 4,
			Requester: plainRequester{url: e.srv.URL}, Doer: NewHTTPClient(nil, 4, 10*time.Second),
			Bodies: bodies,
		},
		Workload:   w,
		Warmup:     2,
		Prices:     prices,
		LogWait:    20 * time.Second,
		LogPoll:    100 * time.Millisecond,
		UpdateWait: 30 * time.Second,
		Logf:       t.Logf,
	}
}

// assertRestored checks moto holds the original memory and environment,
// and that the last update the sweep made was the restore.
func (e *sweepEnv) assertRestored(t *testing.T, rec *recordingLambda) {
	t.Helper()
	cfg, err := e.lambda.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(e.name)})
	if err != nil {
		t.Fatal(err)
	}
	if m := aws.ToInt32(cfg.MemorySize); m != 128 {
		t.Errorf("memory after the sweep = %d MB, want 128 restored", m)
	}
	if cfg.Environment == nil || !maps.Equal(cfg.Environment.Variables, e.env) {
		t.Errorf("environment after the sweep = %+v, want %v", cfg.Environment, e.env)
	}
	mems := rec.memories()
	if len(mems) == 0 || mems[len(mems)-1] != 128 {
		t.Errorf("updates %v: the last one should restore 128 MB", mems)
	}
}

func TestSweepAgainstMoto(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	rec := &recordingLambda{LambdaAPI: e.lambda}
	s := e.sweep(t, rec, 256, 512, 1024)
	res, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.memories(); !slicesEqual(got, []int{256, 512, 1024, 128}) {
		t.Errorf("UpdateFunctionConfiguration memories = %v, want [256 512 1024 128]", got)
	}
	nonces := map[string]bool{}
	for i, u := range rec.updates[:3] {
		n := u.Environment.Variables[NonceVar]
		if n == "" || nonces[n] {
			t.Errorf("update %d: nonce %q is missing or reused: no forced cold start", i, n)
		}
		nonces[n] = true
		if u.Environment.Variables["TABLE_NAME"] != "lambda-apigateway" {
			t.Errorf("update %d dropped the function's own environment: %v", i, u.Environment.Variables)
		}
	}
	e.assertRestored(t, rec)
	if !res.Restored || res.OriginalMemoryMB != 128 || res.Architecture != "arm64" {
		t.Errorf("result: restored %v original %d arch %s", res.Restored, res.OriginalMemoryMB, res.Architecture)
	}
	if len(res.Sizes) != 3 {
		t.Fatalf("sizes = %d", len(res.Sizes))
	}
	for _, sr := range res.Sizes {
		l := sr.Lambda
		if l == nil {
			t.Fatalf("%d MB: no REPORT lines read", sr.MemoryMB)
		}
		// Every run request logged exactly one REPORT line with this
		// size's memory; warm-up lines are outside the run's stats.
		if sr.Success != 1 || l.Invocations != sr.Requests || l.Expected != sr.Requests {
			t.Errorf("%d MB: success %v, %d REPORT lines for %d requests (expected %d)", sr.MemoryMB, sr.Success, l.Invocations, sr.Requests, l.Expected)
		}
		if l.ColdStarts != 1 || l.InitMaxMS != 81.5 {
			t.Errorf("%d MB: cold starts %d init max %v, want the one forced by the update", sr.MemoryMB, l.ColdStarts, l.InitMaxMS)
		}
		wantBilled := float64(1 + 256/sr.MemoryMB)
		if l.BilledMeanMS != wantBilled || l.MaxMemoryUsedMB != 30+sr.MemoryMB/64 {
			t.Errorf("%d MB: billed mean %v (want %v), max used %d", sr.MemoryMB, l.BilledMeanMS, wantBilled, l.MaxMemoryUsedMB)
		}
		want, _ := s.Prices.PerMillion("arm64", sr.MemoryMB, wantBilled, wire.OpRead)
		if sr.Cost == nil || *sr.Cost != want {
			t.Errorf("%d MB: cost %+v, want %+v", sr.MemoryMB, sr.Cost, want)
		}
		if len(sr.Warmup) != 2 || sr.Warmup[0].Code != 200 {
			t.Errorf("%d MB: warm-up %+v", sr.MemoryMB, sr.Warmup)
		}
	}
	if res.Recommendation == nil {
		t.Error("no recommendation")
	}
	var buf bytes.Buffer
	res.WriteText(&buf)
	for _, want := range []string{"256 MB", "512 MB", "1024 MB", "Recommendation:", "restored to 128 MB", "as of " + s.Prices.AsOf} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	t.Logf("\n%s", buf.String())
}

func TestSweepRestoresAfterFailure(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	rec := &recordingLambda{LambdaAPI: e.lambda, failAt: 2} // the update to 512 MB fails
	res, err := e.sweep(t, rec, 256, 512, 1024).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "512 MB") {
		t.Fatalf("err = %v, want the injected failure of the 512 MB update", err)
	}
	if got := rec.memories(); !slicesEqual(got, []int{256, 512, 128}) {
		t.Errorf("updates = %v, want [256 512 128]", got)
	}
	e.assertRestored(t, rec)
	if res == nil || !res.Restored || len(res.Sizes) != 1 || res.Sizes[0].Requests != 20 {
		t.Errorf("partial result = %+v, want the 256 MB run measured and the function restored", res)
	}
}

func TestSweepRestoresAfterInterrupt(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	e.fn.onInvoke = func(memory int) {
		if memory == 512 {
			once.Do(cancel) // Ctrl-C while the function runs at 512 MB
		}
	}
	rec := &recordingLambda{LambdaAPI: e.lambda}
	res, err := e.sweep(t, rec, 256, 512, 1024).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := rec.memories(); !slicesEqual(got, []int{256, 512, 128}) {
		t.Errorf("updates = %v, want [256 512 128]", got)
	}
	e.assertRestored(t, rec)
	if res == nil || !res.Restored {
		t.Errorf("result = %+v, want restored", res)
	}
}

func TestSweepRejectsBadSizes(t *testing.T) {
	t.Parallel()
	prices, _ := LoadPrices("")
	for _, sizes := range [][]int{nil, {64}, {128, 20000}} {
		s := &Sweep{Sizes: sizes, Prices: prices}
		if _, err := s.Run(context.Background()); err == nil {
			t.Errorf("sizes %v: no error", sizes)
		}
	}
}

func TestRecommend(t *testing.T) {
	t.Parallel()
	size := func(mem int, p99 float64, success float64, cost float64) *SizeResult {
		sr := &SizeResult{MemoryMB: mem}
		sr.Requests, sr.Success, sr.LatencyMS.P99 = 100, success, p99
		if cost > 0 {
			sr.Cost = &Cost{Total: cost}
		}
		return sr
	}
	for _, tc := range []struct {
		name  string
		sizes []*SizeResult
		want  int // 0: no recommendation
	}{
		{"cheapest within 10% of the fastest", []*SizeResult{size(128, 40, 1, 3.71), size(512, 21, 1, 3.73), size(1024, 20, 1, 3.76)}, 512},
		{"fastest is also cheapest", []*SizeResult{size(128, 40, 1, 3.80), size(1024, 20, 1, 3.75)}, 1024},
		{"errors disqualify", []*SizeResult{size(128, 20, 0.99, 3.70), size(256, 30, 1, 3.72)}, 256},
		{"no costs: smallest within margin", []*SizeResult{size(128, 30, 1, 0), size(512, 21, 1, 0), size(1024, 20, 1, 0)}, 512},
		{"nothing succeeded", []*SizeResult{size(128, 20, 0.5, 3.7)}, 0},
	} {
		rec := Recommend(tc.sizes, 0.10)
		switch {
		case tc.want == 0 && rec != nil:
			t.Errorf("%s: recommended %d MB", tc.name, rec.MemoryMB)
		case tc.want != 0 && (rec == nil || rec.MemoryMB != tc.want):
			t.Errorf("%s: got %+v, want %d MB", tc.name, rec, tc.want)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
