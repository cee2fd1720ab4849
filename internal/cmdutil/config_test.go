package cmdutil_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// TestParseConfigFileErrors: every config file problem is a *ConfigError
// naming the line it is on (1-based, also for go-yaml's parser errors,
// which go-yaml itself numbers from 0), in ddbops' words, with a hint.
func TestParseConfigFileErrors(t *testing.T) {
	t.Parallel()
	known := []string{"stack", "memory", "timeout"}
	tests := []struct {
		name, body string
		wantLine   int
		wantMsg    string
		wantHint   string
	}{
		{"scanner error", "stack: s\nmemory: 128\n  oops: x\n", 3, "not valid YAML: mapping values are not allowed in this context", "YAML"},
		{"tab", "stack: s\n\tmemory: 1\n", 2, "not valid YAML: found a tab character that violates indentation", "YAML"},
		{"open list on line 1", "memory: [128\n", 1, "not valid YAML: did not find expected ',' or ']'", "YAML"},
		{"open list on line 3", "stack: s\ntimeout: 3\nmemory: [128\n", 3, "not valid YAML: did not find expected ',' or ']'", "YAML"},
		{"open mapping on line 2", "stack: s\nmemory: {a: 1\n", 2, "not valid YAML: did not find expected ',' or '}'", "YAML"},
		{"open list, one line, no newline", "memory: [128", 1, "not valid YAML: did not find expected ',' or ']'", "YAML"},
		{"open list before empty lines", "stack: s\nmemory: [128,\n\n\n", 4, "not valid YAML: did not find expected node content", "YAML"},
		{"bad indentation in a block mapping", "stack:\n  a: 1\n b: 2\n", 3, "not valid YAML: did not find expected key", "YAML"},
		{"a list item in a mapping", "a: 1\n- b\n", 2, "not valid YAML: did not find expected key", "YAML"},
		{"not a mapping", "- a\n- b\n", 1, "not a mapping of keys to values", "YAML"},
		{"unknown key", "stack: s\nmemroy: 1\n", 2, `unknown key "memroy"`, `did you mean "memory"?`},
		{"key given twice", "memory: 128\nstack: s\nmemory: 256\n", 3, `key "memory" is already set on line 1`, "keep one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cmdutil.ParseConfigFile("ddbops.yaml", []byte(tt.body), known, nil)
			var ce *cmdutil.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%v is not a *ConfigError", err)
			}
			if ce.Line != tt.wantLine || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(cmdutil.HintOf(err), tt.wantHint) {
				t.Errorf("line %d, want %d; %q, want %q; hint %q, want %q", ce.Line, tt.wantLine, err, tt.wantMsg, cmdutil.HintOf(err), tt.wantHint)
			}
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
				t.Errorf("exit %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitUsage)
			}
		})
	}
	cf, err := cmdutil.ParseConfigFile("ddbops.yaml", []byte("# c\nstack: s\nmemory: 256\n"), known, nil)
	if err != nil || cf.Lines["memory"] != 3 || cf.Values["memory"] != 256 || cf.Values["stack"] != "s" {
		t.Errorf("a valid file: %+v %v", cf, err)
	}
}
