// Package testenv starts the real components the emulator and runtime test
// layers run against (moto_server, the Lambda Runtime Interface Emulator)
// on free loopback ports, and applies the project's skip rule: skip with a
// clear reason when a component is missing, fail instead when
// DDBOPS_REQUIRE_EMULATORS=1 (as .ci/run sets).
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Fake credentials and region every emulator test uses. They never leave
// loopback.
const (
	AccessKeyID     = "AKIDDBOPSTEST0000000"
	SecretAccessKey = "ddbops-test-secret-access-key-not-real"
	Region          = "us-east-1"
)

// RequireEmulators reports whether missing emulators must fail the run.
func RequireEmulators() bool { return os.Getenv("DDBOPS_REQUIRE_EMULATORS") == "1" }

// SkipOrFail skips t with reason, or fails it when emulators are required.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if RequireEmulators() {
		t.Fatalf("DDBOPS_REQUIRE_EMULATORS=1 but %s", reason)
	}
	t.Skip(reason)
}

// SkipShort skips t under `go test -short`, which leaves out the emulator,
// runtime and fault layers (docs/testing.md#layers): every helper that
// starts or builds a real component calls it first.
func SkipShort(t testing.TB, layer string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: the %s layer is skipped", layer)
	}
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("release port: %v", err)
	}
	return addr
}

// ModuleRoot returns the directory holding ddbops' go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate testenv source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// GoTool returns the path of the go command: the one on PATH, as `go test`
// itself was started (and as `go` puts its own bin directory first on the
// PATH of the tests it runs).
func GoTool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found: %v", err)
	}
	return p
}

// Moto is a running moto_server.
type Moto struct {
	URL string
	p   *Proc
}

// StartMoto starts moto_server on a free loopback port and stops it when
// the test ends. Without moto_server on PATH it skips (or fails, see
// SkipOrFail).
//
// moto_server is often a pyenv shim: a bash script that execs pyenv, which
// execs the moto_server script, which is the Python server. Each step
// execs (none forks), so the server is the process Start made and gets its
// parent-death signal; TestChildrenDieWithTheTestBinary checks it.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	SkipShort(t, "emulator")
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		SkipOrFail(t, "moto_server is not on PATH (pip install 'moto[server]')")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		host, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "-H", host, "-p", port)
		out := &SyncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
		p, err := start(cmd)
		if err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		m := &Moto{URL: "http://" + addr, p: p}
		if err := waitHTTP(m.URL+"/moto-api/", 60*time.Second, p.Done()); err != nil {
			p.Stop()
			lastErr = fmt.Errorf("%v; output: %s", err, out.String())
			continue
		}
		t.Cleanup(p.Stop)
		return m
	}
	t.Fatalf("moto_server did not start: %v", lastErr)
	return nil
}

// Pid is the process id of the server.
func (m *Moto) Pid() int { return m.p.Pid() }

// Reset clears every resource moto holds.
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(m.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	_ = resp.Body.Close()
}

// AWSConfig returns an SDK configuration that sends every call to moto
// with fake static credentials.
func (m *Moto) AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	return StaticConfig(t, m.URL)
}

// StaticConfig returns an SDK configuration for endpoint with the fake
// test credentials and region, ignoring the machine's AWS files.
func StaticConfig(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(),
		awsconfig.WithRegion(Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		awsconfig.WithBaseEndpoint(endpoint),
		awsconfig.WithSharedConfigFiles([]string{}),
		awsconfig.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return cfg
}

// waitHTTP polls url until it answers, the deadline passes, or the
// process exits (exited may be nil).
func waitHTTP(url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before %s answered", url)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer within %s", url, timeout)
}

// WaitHTTP polls url until any HTTP answer arrives or timeout passes.
func WaitHTTP(url string, timeout time.Duration) error { return waitHTTP(url, timeout, nil) }

var (
	rieOnce sync.Once
	riePath string
	rieErr  error
)

// BuildRIE builds the Lambda Runtime Interface Emulator pinned as a tool in
// go.mod (once per test process) and returns the binary's path. `go tool
// -n` keeps the binary in the build cache: nothing is left in the temp
// directory and later test processes reuse it.
func BuildRIE(t testing.TB) string {
	t.Helper()
	SkipShort(t, "runtime")
	rieOnce.Do(func() {
		cmd := exec.Command(GoTool(t), "tool", "-n", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
		cmd.Dir = ModuleRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			rieErr = fmt.Errorf("go tool -n aws-lambda-rie: %v: %s", err, stderr.Bytes())
			return
		}
		riePath = string(bytes.TrimSpace(b))
	})
	if rieErr != nil {
		SkipOrFail(t, "cannot build the Lambda Runtime Interface Emulator: %v", rieErr)
	}
	return riePath
}

// RIE is a running Runtime Interface Emulator with a bootstrap under it.
type RIE struct {
	// InvokeURL is the emulator's invoke endpoint
	// (/2015-03-31/functions/function/invocations).
	InvokeURL string
	logs      *SyncBuffer
	p         *Proc
}

// StartRIE runs bootstrap under the emulator on free loopback ports for
// both --runtime-interface-emulator-address and --runtime-api-address, with
// env added to the environment, and stops it when the test ends.
func StartRIE(t testing.TB, bootstrap string, env ...string) *RIE {
	t.Helper()
	rie := BuildRIE(t)
	emuAddr, apiAddr := FreeAddr(t), FreeAddr(t)
	logs := &SyncBuffer{}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", apiAddr,
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	p := Start(t, cmd)
	r := &RIE{InvokeURL: "http://" + emuAddr + "/2015-03-31/functions/function/invocations", logs: logs, p: p}
	t.Cleanup(func() {
		// Runs before Start's cleanup: the output is complete once the
		// emulator is stopped.
		p.Stop()
		if t.Failed() {
			t.Logf("aws-lambda-rie output:\n%s", logs.String())
		}
	})
	// The emulator answers any path once its HTTP server is up.
	if err := waitHTTP("http://"+emuAddr+"/", 30*time.Second, p.Done()); err != nil {
		t.Fatalf("aws-lambda-rie: %v; output: %s", err, logs.String())
	}
	return r
}

// Logs returns what the emulator and the function printed so far.
func (r *RIE) Logs() string { return r.logs.String() }

// Pid is the process id of the emulator (the function's runtime is its
// child).
func (r *RIE) Pid() int { return r.p.Pid() }
