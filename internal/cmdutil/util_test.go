package cmdutil_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

func TestEnvSetting(t *testing.T) {
	t.Parallel()
	env := cmdutil.Env{Getenv: func(k string) string {
		return map[string]string{"DDBOPS_THROTTLE_RATE": "50", "DDBOPS_API_KEY": "k", "DDBOPS_STACK": ""}[k]
	}}
	if v, ok := env.Setting("throttle-rate"); !ok || v != "50" {
		t.Errorf("throttle-rate: %q %v", v, ok)
	}
	if _, ok := env.Setting("stack"); ok {
		t.Error("an empty variable counts as set")
	}
	if env.APIKey() != "k" || (cmdutil.Env{}).APIKey() != "" {
		t.Error("APIKey")
	}
}

func TestJSONRequested(t *testing.T) {
	t.Parallel()
	none := cmdutil.Env{}
	for _, tt := range []struct {
		args []string
		env  cmdutil.Env
		want bool
	}{
		{[]string{"version", "-o", "json"}, none, true},
		{[]string{"-ojson"}, none, true},
		{[]string{"--output=json", "x"}, none, true},
		{[]string{"call", "--", "-o", "json"}, none, false},
		{[]string{"version", "-o", "text"}, none, false},
		{nil, cmdutil.Env{Getenv: func(string) string { return "json" }}, true},
	} {
		if got := cmdutil.JSONRequested(tt.args, tt.env); got != tt.want {
			t.Errorf("JSONRequested(%q) = %v", tt.args, got)
		}
	}
}

func TestJSONOutOneDocument(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	j := cmdutil.NewJSONOut(&b, true)
	boom := errors.New("boom")
	if err := j.OrFail(boom, func() any { return map[string]string{"error": "boom"} }); err != boom {
		t.Fatal(err)
	}
	b.Reset()
	j = cmdutil.NewJSONOut(&b, true)
	_ = j.Write(map[string]int{"n": 1})
	_ = j.OrFail(boom, func() any { return "second" })
	dec := json.NewDecoder(&b)
	var v map[string]int
	if err := dec.Decode(&v); err != nil || v["n"] != 1 || dec.More() {
		t.Errorf("want exactly the command's document, got %v %v", v, err)
	}
	var cw cmdutil.CountingWriter
	cw.W = &b
	cmdutil.WriteErrorJSON(&cw, cmdutil.WithHint(errors.New("a\nb"), "h"), 2)
	if cw.N == 0 || !strings.Contains(b.String(), `"message": "a b"`) || !strings.Contains(b.String(), `"exitCode": 2`) {
		t.Errorf("error document %q", b.String())
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	rows, err := cmdutil.ObjectRows([]json.RawMessage{[]byte(`{"name":"Bob","id":"2","n":1.50}`), []byte(`{"id":"1","tags":["a"]}`)}, "id")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := cmdutil.WriteTable(&b, rows, true); err != nil {
		t.Fatal(err)
	}
	if want := "id  n     name  tags\n1               [\"a\"]\n2   1.50  Bob\n"; b.String() != want {
		t.Errorf("table\n%q\nwant\n%q", b.String(), want)
	}
	if rows, _ := cmdutil.ObjectRows(nil, "id"); len(rows) != 1 {
		t.Errorf("no objects: %v", rows)
	}
}

func TestReadArg(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(path, []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for arg, want := range map[string]string{`{"b":2}`: `{"b":2}`, "@" + path: `{"a":1}`, "@-": "stdin"} {
		got, err := cmdutil.ReadArg(strings.NewReader("stdin"), arg)
		if err != nil || string(got) != want {
			t.Errorf("ReadArg(%q) = %q, %v", arg, got, err)
		}
	}
	if _, err := cmdutil.ReadArg(nil, "@"+path+".missing"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestColorScheme(t *testing.T) {
	t.Parallel()
	ios := &cmdutil.IOStreams{IsTTY: true, IsErrTTY: false}
	if got := ios.ColorScheme().Green("ok"); got != "\x1b[32mok\x1b[0m" {
		t.Errorf("terminal: %q", got)
	}
	if got := ios.ErrColorScheme().Red("x"); got != "x" {
		t.Errorf("not a terminal: %q", got)
	}
	ios.NoColor = true
	if got := ios.ColorScheme().Yellow("w"); got != "w" {
		t.Errorf("--no-color: %q", got)
	}
}

func TestPluralAndDurations(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 items", 1: "1 item", 2: "2 items"} {
		if got := cmdutil.Plural(n, "item"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "0s", 10 * time.Minute: "10m", 90 * time.Second: "90s", 30 * time.Second: "30s", time.Hour: "1h",
		90 * time.Minute: "1h30m", 150 * time.Second: "2m30s", 500 * time.Millisecond: "500ms", 1500 * time.Millisecond: "1.5s",
	} {
		if got := cmdutil.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
