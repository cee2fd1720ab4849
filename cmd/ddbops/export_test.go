package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/export"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// exportEnv isolates a test from the machine's configuration and the
// process's DDBOPS_* environment.
func exportEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"DDBOPS_AUTH", "DDBOPS_MEMORY", "DDBOPS_ARCH", "DDBOPS_OUTPUT", "DDBOPS_API_KEY", "DDBOPS_LOCAL_AUTH", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return dir
}

// runDdbops runs the command line in-process and returns the exit code,
// stdout and stderr.
func runDdbops(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := testIO()
	code := Execute(context.Background(), ios, args)
	return code, out.String(), errOut.String()
}

// TestExportFlags checks that each format's flags reach the options.
func TestExportFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(*exportOptions) bool
	}{
		{"cloudformation defaults", []string{"cloudformation"}, func(o *exportOptions) bool {
			return o.Format == export.FormatCloudFormation && o.Out == "-" && !o.AuthSet && !o.MemorySet && !o.ArchSet
		}},
		{"cloudformation flags", []string{"cloudformation", "--auth", "apikey", "--memory", "512", "--arch", "x86_64", "--out", "t.yaml"}, func(o *exportOptions) bool {
			return o.Auth == "apikey" && o.AuthSet && o.Memory == 512 && o.MemorySet && o.Arch == "x86_64" && o.ArchSet && o.Out == "t.yaml"
		}},
		{"openapi flags", []string{"openapi", "--auth", "none", "--account-id", "123456789012"}, func(o *exportOptions) bool {
			return o.Format == export.FormatOpenAPI && o.Auth == "none" && o.AuthSet && o.AccountID == "123456789012"
		}},
		{"postman flags", []string{"postman", "--local", "--data-dir", "d", "--auth", "iam", "--out", "c.json"}, func(o *exportOptions) bool {
			return o.Format == export.FormatPostman && o.Target.Local && o.Target.DataDir == "d" && o.Target.Auth == "iam" && !o.AuthSet && o.Out == "c.json" && o.Resolver != nil
		}},
		{"postman url", []string{"postman", "--url", "https://x.example/prod/DynamoDBManager"}, func(o *exportOptions) bool {
			return o.Target.URL == "https://x.example/prod/DynamoDBManager" && !o.Target.Local
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportEnv(t)
			ios, _, errOut := testIO()
			f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
			root := newRootCmd(f)
			if c, _, err := root.Find([]string{"export"}); err == nil {
				root.RemoveCommand(c)
			}
			var got *exportOptions
			root.AddCommand(newExportCmd(f, func(_ context.Context, o *exportOptions) error {
				got = o
				return nil
			}))
			root.SetArgs(append([]string{"export"}, tt.args...))
			if err := root.Execute(); err != nil {
				t.Fatalf("execute: %v (stderr %q)", err, errOut)
			}
			if got == nil || !tt.check(got) {
				t.Errorf("options %+v", got)
			}
			if got.IO != ios || got.Settings.Stack != "ddbops" {
				t.Error("dependencies not wired")
			}
		})
	}
}

// TestExportUsageErrors: bad input exits 2 and writes nothing.
func TestExportUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"export", "cloudformation", "extra"},
		{"export", "cloudformation", "--auth", "basic"},
		{"export", "cloudformation", "--arch", "mips"},
		{"export", "cloudformation", "--memory", "64"},
		{"export", "openapi", "--auth", "x"},
		{"export", "postman", "--url", "ftp://x"},
		{"export", "postman", "--url", "http://x/", "--local"},
		{"export", "postman", "--auth", "basic", "--local"},
		{"export", "cloudformation", "--out", ""},
		{"export", "swagger"},
	} {
		exportEnv(t)
		code, out, errOut := runDdbops(t, args...)
		if code != cmdutil.ExitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and no output", args, code, out, errOut)
		}
	}
}

// TestExportSpecPrecedence: the desired-state rule of setup, deploy and
// status (provision.DesiredSpec): flags and explicit configuration beat
// what setup recorded, which beats the embedded defaults; another stack's
// record is ignored. (Before that rule, a record beat the config file too.)
func TestExportSpecPrecedence(t *testing.T) {
	dir := exportEnv(t)
	if err := os.WriteFile(filepath.Join(dir, "ddbops.yaml"), []byte("auth: apikey\nmemory: 256\ntimeout: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	settings := func(args ...string) Settings {
		ios, _, _ := testIO()
		f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
		root := newRootCmd(f)
		root.SetArgs(append([]string{"version"}, args...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return f.Settings
	}
	statePath := filepath.Join(dir, ".ddbops", "stacks", "ddbops", "state.json")
	save := func(st *provision.State) {
		if err := provision.SaveState(statePath, st); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		auth          string
		memory, tmout int32
		arch, region  string
	}
	check := func(name string, o *exportOptions, w want) {
		t.Helper()
		o.Env, o.StatePath = cmdutil.SystemEnv(), statePath
		spec, _, err := exportSpec(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := want{spec.Auth, spec.Memory, spec.Timeout, spec.Arch, spec.Region}
		if got != w {
			t.Errorf("%s: spec %+v, want %+v", name, got, w)
		}
	}
	s, defaults := settings(), settings("--config", empty)
	check("configuration", &exportOptions{Settings: s}, want{"apikey", 256, 20, "arm64", ""})

	save(&provision.State{Stack: "ddbops", Region: "eu-west-1", Auth: "none", Memory: 1024, Timeout: 30, Architecture: "x86_64"})
	check("recorded", &exportOptions{Settings: defaults}, want{"none", 1024, 30, "x86_64", "eu-west-1"})
	check("the config file beats the record", &exportOptions{Settings: s}, want{"apikey", 256, 20, "x86_64", "eu-west-1"})
	check("flags", &exportOptions{Settings: s, Auth: "iam", AuthSet: true, Memory: 512, MemorySet: true, Arch: "arm64", ArchSet: true},
		want{"iam", 512, 20, "arm64", "eu-west-1"})
	check("flags over the record", &exportOptions{Settings: defaults, Auth: "iam", AuthSet: true, Memory: 512, MemorySet: true, Arch: "arm64", ArchSet: true},
		want{"iam", 512, 30, "arm64", "eu-west-1"})

	save(&provision.State{Stack: "other", Region: "eu-west-1", Auth: "none", Memory: 1024})
	t.Setenv("AWS_REGION", "ap-south-1")
	check("another stack's record", &exportOptions{Settings: s}, want{"apikey", 256, 20, "arm64", "ap-south-1"})
}

// TestExportFiles runs the real command line: stdout by default, --out
// files (0644 under the umask), re-exports replace earlier ones, nothing
// else is ever replaced, -o json describes what was written.
func TestExportFiles(t *testing.T) {
	dir := exportEnv(t)
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	code, out, errOut := runDdbops(t, "export", "cloudformation")
	if code != 0 || !strings.HasPrefix(out, "# Generated by ddbops export cloudformation.") || !strings.Contains(out, "!Sub arn:${AWS::Partition}") {
		t.Fatalf("cloudformation to stdout: exit %d, stderr %q, stdout %.200q", code, errOut, out)
	}
	code, out, _ = runDdbops(t, "export", "cloudformation", "--auth", "apikey", "-o", "json")
	var tmpl struct {
		Resources map[string]struct{ Type string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &tmpl) != nil || tmpl.Resources[export.LogicalUsagePlan].Type != "AWS::ApiGateway::UsagePlan" {
		t.Fatalf("cloudformation -o json: exit %d, stdout %.300q", code, out)
	}

	path := filepath.Join(dir, "out", "stack.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runDdbops(t, "export", "cloudformation", "--out", path, "-o", "json")
	var res export.Written
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("cloudformation --out -o json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 || int(fi.Size()) != res.Bytes || res.Path != path || res.Format != "cloudformation" || res.Auth != "iam" || len(res.Resources) != 11 {
		t.Fatalf("written %v (%v), result %+v", fi, err, res)
	}
	// A re-export replaces its own file...
	if code, _, errOut := runDdbops(t, "export", "cloudformation", "--out", path, "--memory", "2048"); code != 0 {
		t.Fatalf("re-export: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("MemorySize: 2048")) {
		t.Error("re-export did not replace the template")
	}
	// ...but never a file that is not a previous export of that format.
	foreign := filepath.Join(dir, "notes.yaml")
	if err := os.WriteFile(foreign, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, path string }{{"cloudformation", foreign}, {"openapi", path}, {"postman", foreign}, {"openapi", dir}} {
		args := []string{"export", tc.format, "--out", tc.path}
		if tc.format == "postman" {
			args = append(args, "--url", "https://x.example/prod/DynamoDBManager")
		}
		code, _, errOut := runDdbops(t, args...)
		if code != cmdutil.ExitError || !strings.Contains(errOut, "export "+tc.format+": ") || !strings.Contains(errOut, "hint:") {
			t.Errorf("%s over %s: exit %d, stderr %q", tc.format, tc.path, code, errOut)
		}
	}
	if b, _ := os.ReadFile(foreign); string(b) != "my notes\n" {
		t.Errorf("a foreign file was changed: %q", b)
	}

	// openapi: warnings on stderr when account and region are unknown.
	api := filepath.Join(dir, "openapi.json")
	code, out, errOut = runDdbops(t, "export", "openapi", "--out", api)
	if code != 0 || !strings.Contains(out, "wrote openapi "+api) || !strings.Contains(errOut, "warning: the integration URI names account") {
		t.Errorf("openapi --out: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runDdbops(t, "export", "openapi", "--out", api, "--account-id", "123456789012", "--region", "eu-west-1", "-q")
	if b, _ := os.ReadFile(api); code != 0 || errOut != "" || !bytes.Contains(b, []byte("arn:aws:lambda:eu-west-1:123456789012:function:LambdaFunctionOverHttps")) {
		t.Errorf("openapi with account: exit %d, stderr %q", code, errOut)
	}

	// postman: no target without a stack, --url, or --local.
	code, _, errOut = runDdbops(t, "export", "postman")
	if code != cmdutil.ExitError || !strings.Contains(errOut, "no target") || !strings.Contains(errOut, "hint:") {
		t.Errorf("postman without a target: exit %d, stderr %q", code, errOut)
	}
	// --url with --auth iam: awsv4 signing in the region given.
	code, out, errOut = runDdbops(t, "export", "postman", "--url", "https://api.example.com/prod/DynamoDBManager", "--auth", "iam", "--region", "eu-central-1")
	if code != 0 || !strings.Contains(out, `"type": "awsv4"`) || !strings.Contains(out, `"value": "eu-central-1"`) {
		t.Errorf("postman --url --auth iam: exit %d, stderr %q, stdout %.400q", code, errOut, out)
	}
	// With the recorded stack: its invoke URL, auth and region, and no
	// key (the state holds only its id).
	if err := provision.SaveState(filepath.Join(dir, ".ddbops", "stacks", "ddbops", "state.json"), &provision.State{
		Stack: "ddbops", Region: "eu-west-1", Auth: wire.AuthAPIKey, APIKeyID: "k1", AccountID: "123456789012",
		InvokeURL: "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/DynamoDBManager",
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DDBOPS_API_KEY", "secret-key-0123456789-must-not-leak")
	code, out, errOut = runDdbops(t, "export", "postman")
	if code != 0 || !strings.Contains(out, `"value": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/DynamoDBManager"`) ||
		!strings.Contains(out, `"type": "apikey"`) || strings.Contains(out, "must-not-leak") {
		t.Errorf("postman from state: exit %d, stderr %q, stdout %.400q", code, errOut, out)
	}
	// The recorded stack feeds the OpenAPI document too.
	code, out, _ = runDdbops(t, "export", "openapi", "-o", "json")
	if code != 0 || !strings.Contains(out, `"url": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"`) || !strings.Contains(out, `"name": "x-api-key"`) ||
		!strings.Contains(out, "arn:aws:lambda:eu-west-1:123456789012:function:") {
		t.Errorf("openapi from state: exit %d, stdout %.300q", code, out)
	}
}

// exportLocal is a `ddbops local` subprocess for the newman test.
type exportLocal struct {
	url, apiKey string
}

// startExportLocal runs `ddbops local -o json` with auth on a free port
// over dataDir, env added to its environment, and waits for its ready
// document. The server dies with the test process and is killed, with
// its process group, at cleanup (testenv.StartReading).
func startExportLocal(t *testing.T, bin, dataDir, auth string, env ...string) exportLocal {
	t.Helper()
	cmd := exec.Command(bin, "local", "--auth", auth, "--addr", "127.0.0.1:0", "--data-dir", dataDir, "-o", "json")
	cmd.Env = append(os.Environ(), env...)
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	p := testenv.StartReading(t, cmd)
	exited := make(chan struct{})
	ready := make(chan localReady, 1)
	go func() {
		var doc localReady
		if json.NewDecoder(bufio.NewReader(p.Stdout())).Decode(&doc) == nil {
			ready <- doc
		}
		_, _ = io.Copy(io.Discard, p.Stdout())
		_ = p.Wait()
		close(exited)
	}()
	select {
	case doc := <-ready:
		return exportLocal{url: doc.URL, apiKey: doc.APIKey}
	case <-exited:
		t.Fatalf("ddbops local exited before ready: %s", stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("ddbops local not ready within 60s: %s", stderr)
	}
	return exportLocal{}
}

// newmanStats is the part of newman's JSON report the test reads.
type newmanStats struct {
	Run struct {
		Stats map[string]struct {
			Total  int `json:"total"`
			Failed int `json:"failed"`
		} `json:"stats"`
		Failures []json.RawMessage `json:"failures"`
	} `json:"run"`
}

// newmanRun runs a collection and returns newman's CLI output, its JSON
// report's stats and its exit error.
func newmanRun(t *testing.T, newman, collection string, args ...string) (string, newmanStats, error) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	argv := append([]string{"run", collection, "--color", "off", "--disable-unicode",
		"--reporters", "cli,json", "--reporter-json-export", report}, args...)
	cmd := exec.Command(newman, argv...)
	var buf testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := testenv.Run(t, cmd)
	out := buf.String()
	var st newmanStats
	if b, rerr := os.ReadFile(report); rerr == nil {
		if jerr := json.Unmarshal(b, &st); jerr != nil {
			t.Fatalf("newman report: %v", jerr)
		}
	}
	return out, st, err
}

// summaryTable is the summary table at the end of newman's CLI output.
func summaryTable(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.Contains(l, "executed") && strings.Contains(l, "failed") && i > 0 {
			return strings.Join(lines[i-1:], "\n")
		}
	}
	return out
}

// TestExportNewman exports the Postman collection of a running `ddbops
// local` with the binary and runs it with newman, in apikey and in iam mode,
// the secrets passed with --env-var: every request answers as the tests
// expect, twice in a row on the same table. A wrong secret fails it (the
// signatures are verified), and the exported file holds no secret.
func TestExportNewman(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no subprocesses")
	}
	newman := testenv.NPMTool(t, "newman", "newman@6")
	bin := ddbopsBinary(t)
	work := exportEnv(t)
	creds := []string{
		"AWS_ACCESS_KEY_ID=" + testenv.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + testenv.SecretAccessKey,
		"AWS_REGION=" + testenv.Region, "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(work, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(work, "no-aws-credentials"),
		"XDG_CONFIG_HOME=" + t.TempDir(),
	}
	for _, tc := range []struct {
		auth       string
		iterations string
		vars       func(exportLocal) []string
	}{
		{wire.AuthAPIKey, "2", func(l exportLocal) []string { return []string{"apiKey=" + l.apiKey} }},
		{wire.AuthIAM, "1", func(exportLocal) []string {
			return []string{"accessKey=" + testenv.AccessKeyID, "secretKey=" + testenv.SecretAccessKey, "region=" + testenv.Region}
		}},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			srv := startExportLocal(t, bin, dataDir, tc.auth, creds...)
			coll := filepath.Join(t.TempDir(), "ddbops.postman.json")
			cmd := exec.Command(bin, "export", "postman", "--local", "--data-dir", dataDir, "--out", coll, "-o", "json")
			cmd.Env = append(os.Environ(), creds...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ddbops export postman: %v: %s", err, out)
			}
			var res export.Written
			if err := json.Unmarshal(out, &res); err != nil || res.Auth != tc.auth || res.URL != srv.url {
				t.Fatalf("export result %s (%v); want auth %s, url %s", out, err, tc.auth, srv.url)
			}
			b, err := os.ReadFile(coll)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{srv.apiKey, testenv.SecretAccessKey, testenv.AccessKeyID} {
				if secret != "" && bytes.Contains(b, []byte(secret)) {
					t.Fatalf("the collection holds a secret (%.4s...)", secret)
				}
			}

			args := []string{"--iteration-count", tc.iterations, "--env-var", "baseUrl=" + srv.url}
			for _, v := range tc.vars(srv) {
				args = append(args, "--env-var", v)
			}
			nout, st, nerr := newmanRun(t, newman, coll, args...)
			t.Logf("newman (%s):\n%s", tc.auth, summaryTable(nout))
			n := map[string]int{"1": 1, "2": 2}[tc.iterations]
			if nerr != nil || len(st.Run.Failures) != 0 || st.Run.Stats["assertions"].Failed != 0 ||
				st.Run.Stats["requests"].Total != 9*n || st.Run.Stats["assertions"].Total != 18*n || st.Run.Stats["requests"].Failed != 0 {
				t.Fatalf("newman: %v, stats %+v, %d failures\n%s", nerr, st.Run.Stats, len(st.Run.Failures), nout)
			}

			// The same run with a wrong secret fails: the gateway checked.
			bad := []string{"--env-var", "baseUrl=" + srv.url}
			if tc.auth == wire.AuthAPIKey {
				bad = append(bad, "--env-var", "apiKey=wrong-key-00000000000000000000")
			} else {
				bad = append(bad, "--env-var", "accessKey="+testenv.AccessKeyID, "--env-var", "secretKey=wrong", "--env-var", "region="+testenv.Region)
			}
			if _, st, nerr := newmanRun(t, newman, coll, bad...); nerr == nil || st.Run.Stats["assertions"].Failed == 0 {
				t.Errorf("a wrong secret passed: %v, stats %+v", nerr, st.Run.Stats)
			}
		})
	}
}
