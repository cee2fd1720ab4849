package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
)

// benchEnv isolates a command-line test: empty working directory, no
// config file, no DDBOPS_BENCH_* or AWS profile from the machine.
func benchEnv(t *testing.T, env map[string]string) {
	t.Helper()
	t.Chdir(t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"DDBOPS_BENCH_RATE", "DDBOPS_BENCH_DURATION", "DDBOPS_BENCH_WORKERS", "DDBOPS_BENCH_KEYS", "DDBOPS_API_KEY", "DDBOPS_OUTPUT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestBenchFlags checks that flags, the environment and config files reach
// the options; nothing is sent.
func TestBenchFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(cfg, []byte("bench-workers: 8\nbench-keys: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type want struct {
		op                  string
		rate, workers, keys int
		duration            time.Duration
		memory              []int
		report, url         string
		seed                bool
		warmup              int
	}
	def := want{op: "read", rate: 50, workers: 256, keys: 100, duration: 10 * time.Second, seed: true, warmup: 5}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{"defaults", nil, nil, def},
		{"flags", []string{"--op", "update", "--rate", "1000", "--duration", "5s", "--workers", "3", "--keys", "9", "--memory", "128,512,1024",
			"--report", "r.html", "--url", "http://127.0.0.1:1/prod/DynamoDBManager", "--seed=false", "--warmup", "0"}, nil,
			want{op: "update", rate: 1000, workers: 3, keys: 9, duration: 5 * time.Second, memory: []int{128, 512, 1024}, report: "r.html",
				url: "http://127.0.0.1:1/prod/DynamoDBManager", seed: false, warmup: 0}},
		{"environment", nil, map[string]string{"DDBOPS_BENCH_RATE": "77", "DDBOPS_BENCH_DURATION": "3s"},
			want{op: "read", rate: 77, workers: 256, keys: 100, duration: 3 * time.Second, seed: true, warmup: 5}},
		{"config file", []string{"--config", cfg}, nil,
			want{op: "read", rate: 50, workers: 8, keys: 7, duration: 10 * time.Second, seed: true, warmup: 5}},
		{"flag beats env and file", []string{"--config", cfg, "--workers", "2", "--rate", "5"}, map[string]string{"DDBOPS_BENCH_RATE": "77", "DDBOPS_BENCH_WORKERS": "4"},
			want{op: "read", rate: 5, workers: 2, keys: 7, duration: 10 * time.Second, seed: true, warmup: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			benchEnv(t, tt.env)
			ios, _, errOut := testIO()
			f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
			root := newRootCmd(f)
			if c, _, err := root.Find([]string{"bench"}); err == nil {
				root.RemoveCommand(c)
			}
			var got *benchOptions
			root.AddCommand(newBenchCmd(f, func(_ context.Context, o *benchOptions) error {
				got = o
				return nil
			}))
			root.SetArgs(append([]string{"bench"}, tt.args...))
			if err := root.Execute(); err != nil {
				t.Fatalf("execute: %v (stderr %q)", err, errOut)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			g := want{op: got.Op, rate: got.Rate, workers: got.Workers, keys: got.Keys, duration: got.Duration, memory: got.Memory,
				report: got.Report, url: got.Target.URL, seed: got.Seed, warmup: got.Warmup}
			if g.op != tt.want.op || g.rate != tt.want.rate || g.workers != tt.want.workers || g.keys != tt.want.keys ||
				g.duration != tt.want.duration || !equalInts(g.memory, tt.want.memory) || g.report != tt.want.report ||
				g.url != tt.want.url || g.seed != tt.want.seed || g.warmup != tt.want.warmup {
				t.Errorf("options = %+v\nwant      %+v", g, tt.want)
			}
			if got.Resolver == nil || got.IO != ios {
				t.Error("dependencies not wired")
			}
		})
	}
}

func equalInts(a, b []int) bool {
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

// TestBenchUsageErrors runs the real command line: bad input exits 2
// before any request is sent.
func TestBenchUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown op", []string{"--op", "delete"}, nil, `invalid --op "delete": want one of read, create, update, list, echo, ping`},
		{"zero rate", []string{"--rate", "0"}, nil, "invalid --rate 0"},
		{"negative duration", []string{"--duration", "-1s"}, nil, "invalid --duration -1s"},
		{"nothing due", []string{"--rate", "1", "--duration", "100ms"}, nil, "not a single request is due"},
		{"too many requests", []string{"--rate", "100000", "--duration", "2m"}, nil, "more than 10000000 requests in one run"},
		{"zero workers", []string{"--workers", "0"}, nil, "invalid --workers 0"},
		{"zero keys", []string{"--keys", "0"}, nil, "invalid --keys 0"},
		{"memory too small", []string{"--memory", "64"}, nil, "invalid --memory 64: Lambda allows 128 to 10240 MB"},
		{"memory twice", []string{"--memory", "128,128"}, nil, "128 MB is listed twice"},
		{"memory not a number", []string{"--memory", "lots"}, nil, "invalid argument"},
		{"memory with local", []string{"--memory", "128", "--local"}, nil, "cannot be used with --local"},
		{"url and local", []string{"--url", "http://127.0.0.1:1/prod/DynamoDBManager", "--local"}, nil, "--url and --local: choose one target"},
		{"bad auth", []string{"--url", "http://127.0.0.1:1/x", "--auth", "basic"}, nil, `invalid --auth "basic"`},
		{"bad rate from env", nil, map[string]string{"DDBOPS_BENCH_RATE": "fast"}, `invalid value "fast" for bench-rate`},
		{"argument", []string{"extra"}, nil, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			benchEnv(t, tt.env)
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, append([]string{"bench"}, tt.args...))
			if code != cmdutil.ExitUsage {
				t.Errorf("exit code %d, want %d (stderr %q)", code, cmdutil.ExitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", errOut, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// serveLocalStack serves a fresh local stack over HTTP and returns its
// invoke URL.
func serveLocalStack(t *testing.T, auth, key string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	st, err := local.Open(context.Background(), withDefaults(local.Options{DataDir: t.TempDir(), Auth: auth, APIKey: key, Log: &bytes.Buffer{}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := st.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/prod/DynamoDBManager"
}

type benchDoc struct {
	Op          string             `json:"op"`
	Target      string             `json:"target"`
	Auth        string             `json:"auth"`
	Requests    int                `json:"requests"`
	Rate        float64            `json:"rate"`
	Throughput  float64            `json:"throughput"`
	Success     float64            `json:"success"`
	StatusCodes map[string]int     `json:"status_codes"`
	LatencyMS   map[string]float64 `json:"latency_ms"`
	Interrupted bool               `json:"interrupted"`
	Warmup      []any
	Report      string
}

func TestBenchAgainstLocalStack(t *testing.T) {
	const key = "bench-test-key-0123456789abcdef"
	for _, op := range []string{"read", "create", "update", "list", "echo", "ping"} {
		t.Run(op, func(t *testing.T) {
			benchEnv(t, nil)
			url := serveLocalStack(t, "apikey", key, nil)
			report := filepath.Join(t.TempDir(), "bench.html")
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, []string{"bench", "--url", url, "--api-key", key, "--op", op,
				"--rate", "100", "--duration", "1s", "--keys", "10", "--warmup", "2", "-o", "json", "--report", report})
			if code != cmdutil.ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			var doc benchDoc
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
			}
			if doc.Requests != 100 || doc.Success != 1 || doc.StatusCodes["200"] != 100 || doc.Op != op || doc.Auth != "apikey" {
				t.Errorf("doc = %+v", doc)
			}
			for _, k := range []string{"min", "mean", "p50", "p90", "p95", "p99", "max"} {
				if _, ok := doc.LatencyMS[k]; !ok {
					t.Errorf("latency_ms lacks %s", k)
				}
			}
			if len(doc.Warmup) != 2 || doc.Report != report {
				t.Errorf("warmup %v report %q", doc.Warmup, doc.Report)
			}
			page, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(page), `<svg id="run-latency"`) {
				t.Error("report has no latency chart")
			}
			if strings.Contains(out.String()+errOut.String()+string(page), key) {
				t.Error("the API key leaked into the output or the report")
			}
		})
	}
}

func TestBenchTextOutput(t *testing.T) {
	benchEnv(t, nil)
	url := serveLocalStack(t, "none", "", nil)
	ios, out, errOut := testIO()
	code := Execute(context.Background(), ios, []string{"bench", "--url", url, "--rate", "50", "--duration", "1s", "--keys", "5"})
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Target       " + url + " (auth none)", "Operation    read over 5 ids; 50 req/s for 1s",
		"Requests     50 sent of 50 planned", "Success      100.00%", "Status codes 200 × 50", "Latency ms   min", "Errors       none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "bench: creating 5 ids (bench-1 … bench-5)") {
		t.Errorf("stderr %q: no seeding line", errOut)
	}
}

func TestBenchLocalInProcess(t *testing.T) {
	benchEnv(t, nil)
	dir := t.TempDir()
	ios, out, errOut := testIO()
	code := Execute(context.Background(), ios, []string{"bench", "--local", "--data-dir", dir, "--op", "read",
		"--rate", "100", "--duration", "1s", "--keys", "3", "-o", "json", "-q"})
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc benchDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Requests != 100 || doc.Success != 1 {
		t.Errorf("doc = %+v", doc)
	}
	if errOut.Len() != 0 {
		t.Errorf("-q: stderr %q", errOut)
	}
}

func TestBenchUnreachableTarget(t *testing.T) {
	benchEnv(t, nil)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/prod/DynamoDBManager"
	srv.Close()
	ios, _, errOut := testIO()
	code := Execute(context.Background(), ios, []string{"bench", "--url", url, "--op", "ping", "--rate", "10", "--duration", "1s"})
	if code != cmdutil.ExitError || !strings.Contains(errOut.String(), "no answer to 5 warm-up requests") || !strings.Contains(errOut.String(), "hint:") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
	// read seeds first, and reports the failing request.
	ios, _, errOut = testIO()
	code = Execute(context.Background(), ios, []string{"bench", "--url", url, "--rate", "10", "--duration", "1s"})
	if code != cmdutil.ExitError || !strings.Contains(errOut.String(), "seed bench-") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestBenchWrongAPIKeyFailsBeforeTheRun(t *testing.T) {
	benchEnv(t, nil)
	url := serveLocalStack(t, "apikey", "right-key-0123456789abcdef0123", nil)
	ios, out, errOut := testIO()
	code := Execute(context.Background(), ios, []string{"bench", "--url", url, "--api-key", "wrong-key-0123456789abcdef0123", "--rate", "10", "--duration", "1s"})
	if code != cmdutil.ExitError || !strings.Contains(errOut.String(), "HTTP 403") || out.Len() != 0 {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}

// TestBenchInterrupt: Ctrl-C mid-run prints what was measured and exits 130.
func TestBenchInterrupt(t *testing.T) {
	benchEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	url := serveLocalStack(t, "none", "", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 60 {
				cancel()
			}
			h.ServeHTTP(w, r)
		})
	})
	ios, out, errOut := testIO()
	code := Execute(ctx, ios, []string{"bench", "--url", url, "--op", "ping", "--rate", "200", "--duration", "10s", "--warmup", "0", "-o", "json"})
	if code != cmdutil.ExitInterrupt {
		t.Fatalf("exit %d, want %d (stderr %q)", code, cmdutil.ExitInterrupt, errOut)
	}
	var doc benchDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("no JSON document after Ctrl-C: %v\n%s", err, out)
	}
	if !doc.Interrupted || doc.Requests < 59 || doc.Requests >= 2000 {
		t.Errorf("doc = %+v", doc)
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr %q", errOut)
	}
	// Ctrl-C is said in ddbops' words, not as "context canceled", and on a
	// terminal it starts on a line of its own, not after the echoed ^C.
	if s := errOut.String(); strings.Contains(s, "context canceled") || !strings.Contains(s, "bench interrupted after ") ||
		!strings.Contains(s, " of 10s: the results above cover the ") {
		t.Errorf("stderr %q", s)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	ios, _, errOut = testIO()
	ios.IsErrTTY = true
	if code := Execute(ctx2, ios, []string{"bench", "--url", url, "--op", "ping", "--rate", "200", "--duration", "10s", "--warmup", "0", "-q"}); code != cmdutil.ExitInterrupt ||
		!strings.HasPrefix(errOut.String(), "\n") {
		t.Errorf("interrupted on a terminal: exit %d, stderr %q", code, errOut)
	}
}

func TestBenchSweepRefusals(t *testing.T) {
	benchEnv(t, nil)
	ios, _, errOut := testIO()
	code := Execute(context.Background(), ios, []string{"bench", "--memory", "128,256"})
	if code != cmdutil.ExitError || !strings.Contains(errOut.String(), "no stack recorded") || !strings.Contains(errOut.String(), "run ddbops setup") {
		t.Errorf("no state: exit %d stderr %q", code, errOut)
	}

	if err := provision.SaveState(".ddbops/state.json", &provision.State{Stack: "ddbops", Region: "us-east-1",
		InvokeURL: "https://abc.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", FunctionName: "LambdaFunctionOverHttps"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testenv.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testenv.SecretAccessKey)
	ios, _, errOut = testIO()
	code = Execute(context.Background(), ios, []string{"bench", "--memory", "128", "--url", "http://127.0.0.1:1/prod/DynamoDBManager"})
	if code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "--url is another API") {
		t.Errorf("foreign url: exit %d stderr %q", code, errOut)
	}
}

// TestBenchSweepCommandLine runs `bench --memory` end to end: the function
// lives in moto (found through the state file's region and endpoint), the
// API is a local stack, and the log group does not exist (no cost, but a
// complete client-side comparison). The function ends at its original
// memory.
func TestBenchSweepCommandLine(t *testing.T) {
	m := testenv.StartMoto(t)
	benchEnv(t, map[string]string{
		"AWS_ACCESS_KEY_ID":           testenv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       testenv.SecretAccessKey,
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
	})
	cfg := m.AWSConfig(t)
	ctx := context.Background()
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("lambda-apigateway-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	fw, _ := zw.Create("bootstrap")
	_, _ = fw.Write([]byte("#!/bin/sh\n"))
	_ = zw.Close()
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("LambdaFunctionOverHttps"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: role.Role.Arn, Code: &types.FunctionCode{ZipFile: zb.Bytes()}, MemorySize: aws.Int32(128),
		Architectures: []types.Architecture{types.ArchitectureArm64},
		Environment:   &types.Environment{Variables: map[string]string{"TABLE_NAME": "lambda-apigateway"}},
	}); err != nil {
		t.Fatal(err)
	}
	url := serveLocalStack(t, "none", "", nil)
	if err := provision.SaveState(".ddbops/state.json", &provision.State{Stack: "ddbops", Region: testenv.Region, EndpointURL: m.URL,
		Auth: "none", InvokeURL: url, FunctionName: "LambdaFunctionOverHttps", LogGroupName: "/aws/lambda/LambdaFunctionOverHttps"}); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "sweep.html")
	ios, out, errOut := testIO()
	code := Execute(ctx, ios, []string{"bench", "--memory", "256,512", "--rate", "20", "--duration", "1s", "--warmup", "1",
		"--log-wait", "0", "-o", "json", "--report", report})
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc struct {
		Function       string `json:"function"`
		Restored       bool   `json:"restored"`
		OriginalMemory int    `json:"original_memory_mb"`
		Sizes          []struct {
			MemoryMB int     `json:"memory_mb"`
			Requests int     `json:"requests"`
			Success  float64 `json:"success"`
		} `json:"sizes"`
		Recommendation *struct {
			MemoryMB int `json:"memory_mb"`
		} `json:"recommendation"`
		Prices struct {
			AsOf string `json:"as_of"`
		} `json:"prices"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if !doc.Restored || doc.OriginalMemory != 128 || len(doc.Sizes) != 2 || doc.Sizes[0].MemoryMB != 256 || doc.Sizes[1].MemoryMB != 512 {
		t.Errorf("doc = %+v", doc)
	}
	for _, s := range doc.Sizes {
		if s.Requests != 20 || s.Success != 1 {
			t.Errorf("size %+v", s)
		}
	}
	if doc.Recommendation == nil || doc.Prices.AsOf == "" {
		t.Errorf("recommendation %+v, prices as of %q", doc.Recommendation, doc.Prices.AsOf)
	}
	if !strings.Contains(errOut.String(), "does not exist: no REPORT lines") {
		t.Errorf("stderr %q: missing log group not reported", errOut)
	}
	got, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("LambdaFunctionOverHttps")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.MemorySize) != 128 {
		t.Errorf("memory after the sweep = %d, want 128", aws.ToInt32(got.MemorySize))
	}
	if page, err := os.ReadFile(report); err != nil || !strings.Contains(string(page), `id="sweep-latency"`) {
		t.Errorf("report: %v", err)
	}
}
