// Command coldstart compares the cold start of the packaged Go handler
// (bootstrap) with Python + boto3's import and client creation, measured the
// same way for both: from exec to the first poll of the Lambda Runtime API's
// /runtime/invocation/next, which is when a function is ready for its first
// event. A tiny in-process Runtime API on loopback records that poll. Runs
// alternate between the two so that machine load drifts affect both alike;
// medians are compared as a ratio (docs/benchmarks.md#rules).
//
// Usage: go run ./bench/coldstart -bootstrap /path/to/bootstrap [-n 20] [-python python3] [-json]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"time"
)

// pythonInit is what a Python function does before its first event: import
// boto3 and create a DynamoDB client at module scope (as the tutorial's code
// does), then ask the Runtime API for work.
const pythonInit = `
import os, urllib.request
import boto3
client = boto3.client("dynamodb")
urllib.request.urlopen("http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/next")
`

type result struct {
	Samples   int       `json:"samples"`
	GoMs      quantiles `json:"go_ms"`
	PythonMs  quantiles `json:"python_ms"`
	Ratio     float64   `json:"ratio_python_over_go_p50"`
	Bootstrap string    `json:"bootstrap"`
	Python    string    `json:"python"`
}

type quantiles struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	Max float64 `json:"max"`
}

func main() {
	bootstrap := flag.String("bootstrap", "", "path of the packaged handler binary (from ddbops package)")
	python := flag.String("python", "python3", "Python interpreter with boto3")
	n := flag.Int("n", 20, "cold starts of each")
	asJSON := flag.Bool("json", false, "print one JSON document")
	flag.Parse()
	if *bootstrap == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "coldstart: -bootstrap is required and -n must be positive")
		os.Exit(2)
	}
	var goMs, pyMs []float64
	for i := 0; i < *n; i++ {
		d, err := coldStart(exec.Command(*bootstrap))
		if err != nil {
			fail("go bootstrap", err)
		}
		goMs = append(goMs, ms(d))
		d, err = coldStart(exec.Command(*python, "-c", pythonInit))
		if err != nil {
			fail("python + boto3", err)
		}
		pyMs = append(pyMs, ms(d))
	}
	r := result{Samples: *n, GoMs: summarize(goMs), PythonMs: summarize(pyMs), Bootstrap: *bootstrap, Python: *python}
	r.Ratio = r.PythonMs.P50 / r.GoMs.P50
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	}
	fmt.Printf("cold start, exec → first /runtime/invocation/next poll, %d runs each (ms)\n", r.Samples)
	fmt.Printf("%-16s %8s %8s %8s %8s\n", "", "min", "p50", "p90", "max")
	fmt.Printf("%-16s %8.1f %8.1f %8.1f %8.1f\n", "go bootstrap", r.GoMs.Min, r.GoMs.P50, r.GoMs.P90, r.GoMs.Max)
	fmt.Printf("%-16s %8.1f %8.1f %8.1f %8.1f\n", "python + boto3", r.PythonMs.Min, r.PythonMs.P50, r.PythonMs.P90, r.PythonMs.Max)
	fmt.Printf("python+boto3 / go (p50): %.1f×\n", r.Ratio)
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "coldstart: %s: %v\n", what, err)
	os.Exit(1)
}

// coldStart runs cmd against a fresh Runtime API and returns the time from
// exec to its first poll for an event; the process is then killed.
func coldStart(cmd *exec.Cmd) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	polled := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			select {
			case polled <- time.Now():
			default:
			}
			<-r.Context().Done() // hold the poll open, as Lambda does between events
			return
		}
		http.NotFound(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"TABLE_NAME=lambda-apigateway",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDCOLDSTART0000000", "AWS_SECRET_ACCESS_KEY=not-a-secret",
		"AWS_LAMBDA_FUNCTION_NAME=LambdaFunctionOverHttps", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case t := <-polled:
		return t.Sub(start), nil
	case err := <-exited:
		if err == nil {
			err = errors.New("exited before polling for an event")
		}
		return 0, fmt.Errorf("exited before polling for an event: %w", err)
	case <-ctx.Done():
		return 0, errors.New("no poll for an event within 30s")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(v []float64) quantiles {
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 { return s[int(q*float64(len(s)-1)+0.5)] }
	return quantiles{Min: s[0], P50: at(0.5), P90: at(0.9), Max: s[len(s)-1]}
}
