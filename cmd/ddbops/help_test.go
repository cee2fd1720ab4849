package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpConventions: every command's help shows boolean flags plainly
// (--dry-run, as gh, kubectl and the aws CLI do), durations as people write
// them, and the root help names the tutorial exactly as README.md does.
func TestHelpConventions(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	ios, _, _ := testIO()
	root := newRootCmd(&Factory{IO: ios})
	goDuration := regexp.MustCompile(`\b\d+[hm]0s\b|\b\d+h0m\b|\b1m30s\b`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		ios, out, errOut := testIO()
		if code := Execute(context.Background(), ios, args); code != 0 {
			t.Errorf("%s --help: exit %d %s", c.CommandPath(), code, errOut)
		}
		help := out.String()
		if strings.Contains(help, "[=true|false]") {
			t.Errorf("%s --help shows [=true|false]", c.CommandPath())
		}
		if m := goDuration.FindString(help); m != "" {
			t.Errorf("%s --help prints the duration %s Go's way", c.CommandPath(), m)
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				walk(sub)
			}
		}
	}
	walk(root)

	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), `*"`+tutorialTitle+`"*`) || !strings.Contains(root.Long, `"`+tutorialTitle+`"`) {
		t.Errorf("the root help's tutorial title %q is not README.md's", tutorialTitle)
	}
	if !strings.Contains(string(readme), "bash-completion") {
		t.Error("README.md does not say bash completion needs the bash-completion package")
	}
}

// TestEveryEnumerableFlagCompletes: a flag whose values are a fixed set
// (auth modes, operations, architectures, output formats, memory sizes,
// stacks) completes to them, never to file names.
func TestEveryEnumerableFlagCompletes(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	ios, _, _ := testIO()
	root := newRootCmd(&Factory{IO: ios})
	enumerable := map[string]bool{"auth": true, "op": true, "arch": true, "output": true, "memory": true, "stack": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if !enumerable[fl.Name] {
				return
			}
			if _, ok := c.GetFlagCompletionFunc(fl.Name); !ok {
				t.Errorf("%s --%s has no completion of its values", c.CommandPath(), fl.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"setup", "--auth", ""}, []string{"iam", "apikey", "none"}},
		{[]string{"bench", "--op", ""}, []string{"read", "create", "ping"}},
		{[]string{"package", "--arch", ""}, []string{"arm64", "x86_64"}},
		{[]string{"status", "-o", ""}, []string{"text", "json"}},
		{[]string{"deploy", "--memory", ""}, []string{"128", "1024"}},
		{[]string{"call", "read", "--auth", ""}, []string{"iam", "apikey", "none"}},
	} {
		ios, out, errOut := testIO()
		if code := Execute(context.Background(), ios, append([]string{"__complete"}, tc.args...)); code != 0 {
			t.Errorf("complete %v: exit %d %s", tc.args, code, errOut)
		}
		got := out.String()
		for _, w := range tc.want {
			if !strings.Contains(got, w+"\n") {
				t.Errorf("complete %v: %q lacks %s", tc.args, got, w)
			}
		}
		// :4 is cobra's ShellCompDirectiveNoFileComp.
		if !strings.HasSuffix(strings.TrimSpace(got), ":4") {
			t.Errorf("complete %v may fall back to file names: %q", tc.args, got)
		}
	}
}
