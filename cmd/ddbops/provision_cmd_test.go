package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// parseProvisionCmd runs the root with the named command replaced by one
// whose run function only records the options; nothing touches AWS.
func parseProvisionCmd[O any](t *testing.T, name string, build func(*Factory, func(context.Context, *O) error) *cobra.Command, args []string, env map[string]string) (*O, *Factory) {
	t.Helper()
	t.Chdir(t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"DDBOPS_AUTH", "DDBOPS_MEMORY", "DDBOPS_ARCH", "DDBOPS_TIMEOUT", "DDBOPS_OUTPUT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	ios, _, errOut := testIO()
	f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
	root := newRootCmd(f)
	if c, _, err := root.Find([]string{name}); err == nil {
		root.RemoveCommand(c)
	}
	var got *O
	root.AddCommand(build(f, func(_ context.Context, o *O) error {
		got = o
		return nil
	}))
	root.SetArgs(append([]string{name}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("execute: %v (stderr %q)", err, errOut)
	}
	if got == nil {
		t.Fatal("run function not called")
	}
	return got, f
}

func TestSetupFlagsAndConfigBinding(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("auth: apikey\nmemory: 256\narch: x86_64\nstack: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		env        map[string]string
		auth, arch string
		memory     int
	}{
		{"defaults", nil, nil, "iam", "arm64", 128},
		{"config file", []string{"--config", cfg}, nil, "apikey", "x86_64", 256},
		{"env beats file", []string{"--config", cfg}, map[string]string{"DDBOPS_AUTH": "none", "DDBOPS_MEMORY": "512"}, "none", "x86_64", 512},
		{"flags beat env", []string{"--auth", "iam", "--memory", "1024", "--arch", "arm64", "--dry-run", "--yes", "--handler-zip", "b.zip"}, map[string]string{"DDBOPS_AUTH": "none"}, "iam", "arm64", 1024},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := parseProvisionCmd(t, "setup", newSetupCmd, tc.args, tc.env)
			if o.Auth != tc.auth || o.Arch != tc.arch || o.Memory != tc.memory {
				t.Errorf("auth %q arch %q memory %d, want %q %q %d", o.Auth, o.Arch, o.Memory, tc.auth, tc.arch, tc.memory)
			}
			if tc.name == "flags beat env" && (!o.DryRun || !o.Yes || o.HandlerZip != "b.zip") {
				t.Errorf("flags not parsed: %+v", o)
			}
			if o.IO == nil || o.AWSConfig == nil || o.Build == nil {
				t.Error("dependencies not wired")
			}
			if tc.name == "config file" && o.Settings.Stack != "from-file" {
				t.Errorf("settings not passed: stack %q", o.Settings.Stack)
			}
		})
	}
}

func TestDeployStatusTeardownLogsFlags(t *testing.T) {
	d, _ := parseProvisionCmd(t, "deploy", newDeployCmd, []string{"--memory", "1024", "--timeout", "30", "--dry-run", "--handler-zip", "z"}, nil)
	if d.Memory != 1024 || d.Timeout != 30 || !d.DryRun || d.HandlerZip != "z" {
		t.Errorf("deploy %+v", d)
	}
	d, _ = parseProvisionCmd(t, "deploy", newDeployCmd, nil, map[string]string{"DDBOPS_TIMEOUT": "45", "DDBOPS_MEMORY": "256"})
	if d.Memory != 256 || d.Timeout != 45 {
		t.Errorf("deploy from env: memory %d timeout %d", d.Memory, d.Timeout)
	}
	s, _ := parseProvisionCmd(t, "status", newStatusCmd, []string{"--exit-code", "--handler-zip", "z", "-o", "json"}, nil)
	if !s.ExitCode || s.HandlerZip != "z" || !s.Settings.JSON() {
		t.Errorf("status %+v", s)
	}
	td, _ := parseProvisionCmd(t, "teardown", newTeardownCmd, []string{"--yes", "--delete-data", "--backup", "--dry-run"}, nil)
	if !td.Yes || !td.DeleteData || !td.Backup || !td.DryRun {
		t.Errorf("teardown %+v", td)
	}
	l, _ := parseProvisionCmd(t, "logs", newLogsCmd, []string{"-f", "--since", "1h", "--filter", "ERROR"}, nil)
	if !l.Follow || l.Since != time.Hour || l.Filter != "ERROR" || l.PollInterval <= 0 {
		t.Errorf("logs %+v", l)
	}
	l, _ = parseProvisionCmd(t, "logs", newLogsCmd, nil, nil)
	if l.Follow || l.Since != 10*time.Minute {
		t.Errorf("logs defaults %+v", l)
	}
}

// TestProvisionUsageErrors: bad input exits 2 before any AWS call (no
// endpoint is reachable here: a call would fail with exit 1 instead).
func TestProvisionUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notZip := filepath.Join(dir, "not.zip")
	noBootstrap := filepath.Join(dir, "nob.zip")
	if err := os.WriteFile(notZip, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noBootstrap, zipWith(t, "main"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"setup", "--auth", "cognito"}, nil, `invalid configuration: auth "cognito": want iam, apikey or none`},
		{[]string{"setup", "--arch", "amd64"}, nil, `arch "amd64": want arm64 or x86_64`},
		{[]string{"setup", "--memory", "64"}, nil, "memory 64: must be between 128 and 10240 MB"},
		{[]string{"setup"}, map[string]string{"DDBOPS_LOG_RETENTION": "10"}, "log-retention 10"},
		{[]string{"setup", "--handler-zip", filepath.Join(dir, "missing.zip")}, nil, "--handler-zip " + filepath.Join(dir, "missing.zip") + ": no such file or directory"},
		{[]string{"setup", "--handler-zip", notZip}, nil, "not a zip file"},
		{[]string{"deploy", "--handler-zip", noBootstrap}, nil, "no bootstrap entry"},
		{[]string{"deploy", "--timeout", "0"}, nil, "timeout 0: must be between 1 and 900 seconds"},
		{[]string{"status", "extra"}, nil, "takes no arguments"},
		{[]string{"teardown"}, nil, "stdin is not a terminal"},
		{[]string{"teardown", "--delete-data"}, nil, "pass --yes to delete, or --dry-run"},
		{[]string{"logs", "--since", "-5m"}, nil, "invalid --since -5m0s: must be positive"},
		{[]string{"logs", "--since", "yesterday"}, nil, `invalid argument "yesterday" for "--since"`},
		{[]string{"setup", "--stack", "has space"}, nil, `stack "has space": may only contain`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			// An endpoint nothing listens on: reaching AWS would be exit 1.
			t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
			t.Setenv("AWS_REGION", "us-east-1")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, tc.args)
			if code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

// TestProvisionJSONOnEveryErrorPath: with -o json, setup, deploy, status,
// teardown and logs print exactly one JSON document on stdout on every
// path they fail by (docs/design.md#output) — bad input caught by the command, AWS
// configuration that cannot load, AWS answering 500 to the first read —
// with the error as printed on stderr and the documented exit code;
// without -o json stdout stays empty.
func TestProvisionJSONOnEveryErrorPath(t *testing.T) {
	aws500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "InternalFailure")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"injected"}`))
	}))
	defer aws500.Close()
	dir := t.TempDir()
	noBootstrap := filepath.Join(dir, "nob.zip")
	okZip := filepath.Join(dir, "ok.zip")
	if err := os.WriteFile(noBootstrap, zipWith(t, "main"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(okZip, zipWith(t, "bootstrap"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args     []string
		endpoint string // "" = the server answering 500
		noRegion bool
		code     int
		want     string // in the document's error
		doc      string // result, status, logs or line (JSON Lines)
	}{
		{args: []string{"setup", "--memory", "64"}, code: cmdutil.ExitUsage, want: "memory 64: must be between", doc: "result"},
		{args: []string{"setup", "--handler-zip", filepath.Join(dir, "missing.zip")}, code: cmdutil.ExitUsage, want: "no such file or directory", doc: "result"},
		{args: []string{"setup", "--handler-zip", okZip}, code: cmdutil.ExitError, want: "get caller identity", doc: "result"},
		{args: []string{"setup", "--handler-zip", okZip}, noRegion: true, code: cmdutil.ExitError, want: "no region set", doc: "result"},
		{args: []string{"deploy", "--handler-zip", noBootstrap}, code: cmdutil.ExitUsage, want: "no bootstrap entry", doc: "result"},
		{args: []string{"deploy", "--handler-zip", okZip}, code: cmdutil.ExitError, want: "get caller identity", doc: "result"},
		{args: []string{"status"}, code: cmdutil.ExitError, want: "get caller identity", doc: "status"},
		{args: []string{"status", "--handler-zip", noBootstrap}, code: cmdutil.ExitUsage, want: "no bootstrap entry", doc: "status"},
		{args: []string{"status"}, noRegion: true, code: cmdutil.ExitError, want: "no region set", doc: "status"},
		{args: []string{"teardown"}, code: cmdutil.ExitUsage, want: "stdin is not a terminal", doc: "result"},
		{args: []string{"teardown", "--yes"}, code: cmdutil.ExitError, want: "get caller identity", doc: "result"},
		{args: []string{"teardown", "--dry-run"}, noRegion: true, code: cmdutil.ExitError, want: "no region set", doc: "result"},
		{args: []string{"logs", "--since", "-5m"}, code: cmdutil.ExitUsage, want: "invalid --since", doc: "logs"},
		{args: []string{"logs"}, code: cmdutil.ExitError, want: "describe log groups /aws/lambda/LambdaFunctionOverHttps", doc: "logs"},
		{args: []string{"logs", "--follow"}, code: cmdutil.ExitError, want: "describe log groups", doc: "line"},
	}
	for _, tc := range cases {
		name := strings.Join(tc.args, " ")
		if tc.noRegion {
			name += " (no region)"
		}
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			home := t.TempDir()
			region := "us-east-1"
			if tc.noRegion {
				region = ""
			}
			for k, v := range map[string]string{
				"XDG_CONFIG_HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
				"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
				"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": aws500.URL, "AWS_MAX_ATTEMPTS": "1",
				"DDBOPS_OUTPUT": "", "DDBOPS_STACK": "", "DDBOPS_AUTH": "", "DDBOPS_MEMORY": "", "DDBOPS_ARCH": "", "DDBOPS_TIMEOUT": "",
			} {
				t.Setenv(k, v)
			}
			for _, output := range []string{"json", "text"} {
				ios, out, errOut := testIO()
				code := Execute(context.Background(), ios, append(tc.args, "-o", output))
				if code != tc.code {
					t.Errorf("-o %s: exit %d, want %d\nstderr: %s", output, code, tc.code, errOut)
				}
				if output == "text" {
					if out.Len() != 0 {
						t.Errorf("-o text: stdout %q, want nothing", out)
					}
					continue
				}
				dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
				var doc map[string]any
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("stdout is not a JSON document: %v\nstdout: %q\nstderr: %s", err, out, errOut)
				}
				if dec.More() {
					t.Errorf("stdout holds more than one document: %q", out)
				}
				msg, _ := doc["error"].(string)
				if !strings.Contains(msg, tc.want) {
					t.Errorf("document error %q does not say %q", msg, tc.want)
				}
				if line := strings.Join(strings.Fields(msg), " "); !slices.Contains(strings.Split(errOut.String(), "\n"), line) {
					t.Errorf("document error %q is not the line on stderr:\n%s", line, errOut)
				}
				var keys []string
				for k := range doc {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				want := map[string][]string{
					"result": {"apiCalls", "changes", "command", "dryRun", "elapsedMs", "error", "region", "stack"},
					"status": {"apiCalls", "elapsedMs", "error", "ok", "region", "resources", "stack", "wantAuth"},
					"logs":   {"error", "events", "logGroup"},
					"line":   {"error"},
				}[tc.doc]
				if !slices.Equal(slices.DeleteFunc(keys, func(k string) bool { return k == "account" }), want) {
					t.Errorf("document keys %v, want %v", keys, want)
				}
				if tc.doc == "result" && (doc["command"] != tc.args[0] || doc["stack"] != "ddbops") {
					t.Errorf("document %v: want command %s, stack ddbops", doc, tc.args[0])
				}
				if tc.doc == "status" && doc["ok"] != false {
					t.Errorf("status document says ok: %v", doc)
				}
			}
		})
	}
}
