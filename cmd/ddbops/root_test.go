package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/ddbops/ddbops/configs"
	"github.com/ddbops/ddbops/internal/cmdutil"
)

// testIO returns non-TTY streams backed by buffers.
func testIO() (*cmdutil.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// executeWith runs args through the root command, with the command name
// built by build around runF (which sees the parsed options instead of
// the real run), and returns the exit code.
func executeWith[O any](f *Factory, name string, build func(*Factory, func(context.Context, *O) error) *cobra.Command, runF func(context.Context, *O) error, args []string) int {
	root := newRootCmd(f)
	if c, _, err := root.Find([]string{name}); err == nil {
		root.RemoveCommand(c)
	}
	root.AddCommand(build(f, runF))
	return execute(context.Background(), f, root, append([]string{name}, args...))
}

// probeCmd is a throwaway command with a bound flag, used to observe the
// settings the root resolves.
func probeCmd(f *Factory, got *Settings, memFlag *int) *cobra.Command {
	c := &cobra.Command{
		Use: "probe",
		RunE: func(*cobra.Command, []string) error {
			*got = f.Settings
			return nil
		},
	}
	c.Flags().IntVar(memFlag, "memory", 0, "")
	bindConfig(c.Flags(), "memory", "memory")
	return c
}

// TestSettingsPrecedence proves flag > env > config file > embedded default,
// each level winning over the next, for a bound flag and for the
// persistent --stack flag.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cfg.yaml")
	if err := os.WriteFile(cfgFile, []byte("memory: 256\nstack: from-file\ntable: file-table\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantMem   int
		wantStack string
		wantTable string
	}{
		{"embedded defaults", nil, nil, 128, "ddbops", "lambda-apigateway"},
		{"file beats default", []string{"--config", cfgFile}, nil, 256, "from-file", "file-table"},
		{"env beats file", []string{"--config", cfgFile}, map[string]string{"DDBOPS_MEMORY": "512", "DDBOPS_STACK": "from-env", "DDBOPS_TABLE": "env-table"}, 512, "from-env", "env-table"},
		{"flag beats env", []string{"--config", cfgFile, "--memory", "1024", "--stack", "from-flag"}, map[string]string{"DDBOPS_MEMORY": "512", "DDBOPS_STACK": "from-env"}, 1024, "from-flag", "file-table"},
		{"DDBOPS_CONFIG names the file", nil, map[string]string{"DDBOPS_CONFIG": cfgFile}, 256, "from-file", "file-table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No t.Parallel: the env is process-wide for viper.AutomaticEnv.
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			for _, k := range []string{"DDBOPS_MEMORY", "DDBOPS_STACK", "DDBOPS_TABLE", "DDBOPS_CONFIG"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			t.Chdir(t.TempDir()) // no ./ddbops.yaml
			ios, _, errOut := testIO()
			f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
			root := newRootCmd(f)
			var got Settings
			var mem int
			root.AddCommand(probeCmd(f, &got, &mem))
			root.SetArgs(append([]string{"probe"}, tt.args...))
			root.SetOut(ios.Out)
			root.SetErr(ios.ErrOut)
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("execute: %v (stderr %s)", err, errOut)
			}
			if got.Memory != tt.wantMem || mem != tt.wantMem {
				t.Errorf("memory: settings %d, flag %d, want %d", got.Memory, mem, tt.wantMem)
			}
			if got.Stack != tt.wantStack {
				t.Errorf("stack = %q, want %q", got.Stack, tt.wantStack)
			}
			if got.Table != tt.wantTable {
				t.Errorf("table = %q, want %q", got.Table, tt.wantTable)
			}
		})
	}
}

func TestConfigFileDiscovery(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv("DDBOPS_CONFIG", "")
	if err := os.MkdirAll(filepath.Join(xdg, "ddbops"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(xdg, "ddbops", "config.yaml"), []byte("stack: xdg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wd := t.TempDir()
	t.Chdir(wd)
	run := func() Settings {
		t.Helper()
		ios, _, errOut := testIO()
		f := &Factory{IO: ios, Env: cmdutil.SystemEnv()}
		root := newRootCmd(f)
		var got Settings
		var mem int
		root.AddCommand(probeCmd(f, &got, &mem))
		root.SetArgs([]string{"probe"})
		if err := root.Execute(); err != nil {
			t.Fatalf("execute: %v (%s)", err, errOut)
		}
		return got
	}
	if got := run(); got.Stack != "xdg" {
		t.Fatalf("XDG config not used: stack %q", got.Stack)
	}
	if err := os.WriteFile(filepath.Join(wd, "ddbops.yaml"), []byte("stack: cwd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := run(); got.Stack != "cwd" {
		t.Fatalf("./ddbops.yaml should win over XDG: stack %q", got.Stack)
	}
}

// TestConfigErrorsAreUsageErrors: every config file problem is a usage
// error (exit 2) in ddbops' words, naming the file and line, with a
// did-you-mean for a typo'd key and without a command's usage line; a bad
// value names where it came from. help, version and completion still work.
func TestConfigErrorsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", "stack: s\nmemory: 128\n  oops: x\n")
	unknown := write("unknown.yaml", "stack: s\nmemroy: 256\n")
	old := write("old.yaml", "state-file: .ddbops/state.json\n")
	abc := write("abc.yaml", "# comment\nmemory: abc\n")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("DDBOPS_MEMORY", "")
	t.Chdir(t.TempDir())
	tests := []struct {
		args        []string
		env         string // DDBOPS_MEMORY
		wantCode    int
		wantMsg     string
		wantHint    string
		wantNoUsage bool
	}{
		{[]string{"status", "--config", filepath.Join(dir, "missing.yaml")}, "", cmdutil.ExitUsage, "config " + filepath.Join(dir, "missing.yaml") + ": no such file", "", true},
		{[]string{"status", "--config", bad}, "", cmdutil.ExitUsage, "config " + bad + ": line 3: not valid YAML: mapping values are not allowed in this context", "YAML", true},
		{[]string{"teardown", "--config", unknown}, "", cmdutil.ExitUsage, "config " + unknown + `: line 2: unknown key "memroy"`, `did you mean "memory"?`, true},
		{[]string{"status", "--config", old}, "", cmdutil.ExitUsage, `unknown key "state-file"`, "replaced by state-dir", true},
		{[]string{"setup", "--dry-run", "--config", abc}, "", cmdutil.ExitUsage, "config " + abc + `: line 2: invalid value "abc" for memory`, "", true},
		{[]string{"setup", "--dry-run"}, "abc", cmdutil.ExitUsage, `invalid value "abc" for memory (from $DDBOPS_MEMORY)`, "", false},
		{[]string{"version", "-o", "yaml"}, "", cmdutil.ExitUsage, "invalid --output", "", false},
		{[]string{"version", "--bogus"}, "", cmdutil.ExitUsage, "unknown flag", "", false},
		{[]string{"no-such-command"}, "", cmdutil.ExitUsage, "unknown command", "", false},
		{[]string{"stauts"}, "", cmdutil.ExitUsage, `unknown command "stauts" for "ddbops"` + "\nhint: did you mean status?", "", false},
		{[]string{"version", "extra"}, "", cmdutil.ExitUsage, "takes no arguments", "", false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("DDBOPS_MEMORY", tt.env)
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, tt.args)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut.String(), tt.wantMsg) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantMsg)
			}
			if tt.wantHint != "" && !strings.Contains(errOut.String(), "\nhint: ") || !strings.Contains(errOut.String(), tt.wantHint) {
				t.Errorf("stderr %q lacks the hint %q", errOut, tt.wantHint)
			}
			if tt.wantNoUsage && strings.Contains(errOut.String(), "--help' for usage") {
				t.Errorf("a config file error is followed by a command's usage line: %q", errOut)
			}
			if out.Len() != 0 {
				t.Errorf("stdout should be empty on error, got %q", out)
			}
		})
	}
	// A broken ./ddbops.yaml does not break help, version or completion in
	// its directory (tab completion runs ddbops __complete there).
	wd := t.TempDir()
	t.Chdir(wd)
	write2 := filepath.Join(wd, "ddbops.yaml")
	if err := os.WriteFile(write2, []byte("memroy: 256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"version"}, {"help", "setup"}, {"completion", "bash"}, {"__complete", "setup", "--auth", ""}, {"status", "--help"}} {
		ios, out, errOut := testIO()
		if code := Execute(context.Background(), ios, args); code != 0 || out.Len() == 0 {
			t.Errorf("%v with a broken ./ddbops.yaml: exit %d, stdout %d bytes, stderr %q", args, code, out.Len(), errOut)
		}
		if args[0] == "version" && !strings.Contains(errOut.String(), `warning: config ddbops.yaml: line 1: unknown key "memroy" (ignored by version)`) {
			t.Errorf("version does not say it ignored the config file: %q", errOut)
		}
		if strings.HasPrefix(args[0], "__complete") || args[0] == "completion" {
			if errOut.Len() != 0 && !strings.Contains(errOut.String(), "Completion ended") {
				t.Errorf("%v writes %q to stderr", args, errOut)
			}
		}
	}
	ios, _, _ := testIO()
	if code := Execute(context.Background(), ios, []string{"status"}); code != cmdutil.ExitUsage {
		t.Errorf("status with a broken ./ddbops.yaml: exit %d, want 2", code)
	}
}

func TestVersion(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	ios, out, _ := testIO()
	if code := Execute(context.Background(), ios, []string{"version", "-o", "json"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), `"version"`) || strings.Count(out.String(), "{") != 1 {
		t.Fatalf("want one JSON document, got %q", out)
	}
}

// TestJSONErrorDocument proves -o json leaves exactly one JSON document on
// stdout even when a command fails before printing its own (flag errors,
// unknown commands, failures of commands without an error document).
func TestJSONErrorDocument(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	tests := []struct {
		args     []string
		env      string
		wantCode int
		wantMsg  string
	}{
		{[]string{"version", "-o", "json", "--bogus"}, "", cmdutil.ExitUsage, "unknown flag"},
		{[]string{"no-such-command", "-o", "json"}, "", cmdutil.ExitUsage, "unknown command"},
		{[]string{"version", "extra"}, "json", cmdutil.ExitUsage, "takes no arguments"},
		{[]string{"version", "--output=json", "extra"}, "", cmdutil.ExitUsage, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("DDBOPS_OUTPUT", tt.env)
			ios, out, errOut := testIO()
			code := Execute(context.Background(), ios, tt.args)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			var doc struct {
				Error struct {
					Message  string `json:"message"`
					ExitCode int    `json:"exitCode"`
				} `json:"error"`
			}
			dec := json.NewDecoder(out)
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("stdout is not a JSON document: %v (%q)", err, out)
			}
			if dec.More() {
				t.Fatalf("more than one document on stdout: %q", out)
			}
			if !strings.Contains(doc.Error.Message, tt.wantMsg) || doc.Error.ExitCode != tt.wantCode {
				t.Fatalf("document %+v, want message with %q and exit %d", doc, tt.wantMsg, tt.wantCode)
			}
		})
	}
	// Without -o json nothing reaches stdout.
	ios, out, _ := testIO()
	if code := Execute(context.Background(), ios, []string{"version", "--bogus"}); code != cmdutil.ExitUsage || out.Len() != 0 {
		t.Fatalf("text mode: exit %d, stdout %q", code, out)
	}
}

// TestFlagDefaultsComeFromConfig walks every flag of every command: a flag
// bound to a config key shows that key's value in configs/ddbops.yaml as
// its default, and no other flag has a default of its own (a flag named
// like a key but not bound to it, such as call --auth, defaults to "what
// the target recorded" and must stay empty); and every key is read, by a
// flag or through Settings.
func TestFlagDefaultsComeFromConfig(t *testing.T) {
	t.Parallel()
	var yamlDefaults map[string]any
	if err := yaml.Unmarshal(configs.Defaults(), &yamlDefaults); err != nil {
		t.Fatal(err)
	}
	ios, _, _ := testIO()
	root := newRootCmd(&Factory{IO: ios})
	same := func(typ, a, b string) bool {
		switch typ {
		case "duration":
			da, err1 := time.ParseDuration(a)
			db, err2 := time.ParseDuration(b)
			return err1 == nil && err2 == nil && da == db
		case "int", "float64":
			fa, err1 := strconv.ParseFloat(a, 64)
			fb, err2 := strconv.ParseFloat(b, 64)
			return err1 == nil && err2 == nil && fa == fb
		case "bool":
			ba, err1 := strconv.ParseBool(a)
			bb, err2 := strconv.ParseBool(b)
			return err1 == nil && err2 == nil && ba == bb
		}
		return a == b
	}
	bound, read := map[string]bool{}, map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(fl *pflag.Flag) {
			what := c.CommandPath() + " --" + fl.Name
			if keys := fl.Annotations[configKeyAnnotation]; len(keys) > 0 {
				bound[what], read[keys[0]] = true, true
				want, ok := yamlDefaults[keys[0]]
				if !ok {
					t.Errorf("%s: bound to %q, which configs/ddbops.yaml does not have", what, keys[0])
				} else if !same(fl.Value.Type(), fl.DefValue, fmt.Sprint(want)) {
					t.Errorf("%s: default %q, configs/ddbops.yaml %s: %v", what, fl.DefValue, keys[0], want)
				}
				return
			}
			switch fl.DefValue {
			case "", "false", "0", "[]", "0s":
			default:
				t.Errorf("%s: default %q is not taken from configs/ddbops.yaml", what, fl.DefValue)
			}
		}
		c.LocalNonPersistentFlags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// Every key is read: by a flag bound to it, or through Settings.
	st := reflect.TypeFor[Settings]()
	for i := range st.NumField() {
		read[st.Field(i).Tag.Get("mapstructure")] = true
	}
	for _, k := range configs.Keys() {
		if !read[k] {
			t.Errorf("configs/ddbops.yaml %s: no flag and no setting reads it", k)
		}
	}
	for _, want := range []string{"ddbops setup --auth", "ddbops deploy --timeout", "ddbops call --timeout", "ddbops bench --request-timeout", "ddbops local --addr", "ddbops --stack"} {
		if !bound[want] {
			t.Errorf("%s is not bound to a config key", want)
		}
	}
}
