package provision

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/testenv"
)

// outputFlags are the global flags progress lines depend on.
type outputFlags struct{ NoColor, Quiet bool }

func TestProgressLines(t *testing.T) {
	t.Parallel()
	changes := []Change{
		{Kind: "function", Name: "Fn", Action: Updated, Diffs: []Diff{{Field: "memory", Have: "512 MB", Want: "128 MB"}}, Elapsed: 1500 * time.Millisecond},
		{Kind: "table", Name: "T", Action: Failed, Err: errors.New("create table T: boom"), Elapsed: 20 * time.Millisecond},
		{Kind: "iam-role", Name: "R", Action: Unchanged},
	}
	cases := []struct {
		name    string
		tty     bool
		s       outputFlags
		want    []string
		notWant []string
	}{
		{"plain (CI)", false, outputFlags{}, []string{"ok   function          Fn", "updated    memory: 512 MB → 128 MB  1.5s", "FAIL table", "create table T: boom  20ms", "ok   iam-role"}, []string{"✓", "\x1b["}},
		{"terminal", true, outputFlags{}, []string{"\x1b[32m✓\x1b[0m function", "\x1b[31m✗\x1b[0m table"}, []string{"FAIL"}},
		{"terminal --no-color", true, outputFlags{NoColor: true}, []string{"ok   function", "FAIL table"}, []string{"✓", "\x1b[3"}},
		{"quiet", true, outputFlags{Quiet: true}, nil, []string{"function", "table"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf testenv.SyncBuffer
			p := NewStepPrinter(&cmdutil.IOStreams{ErrOut: &buf, IsErrTTY: tc.tty, NoColor: tc.s.NoColor}, tc.s.Quiet)
			p.StepStarted("function", "Fn")
			for _, c := range changes {
				p.StepDone(c)
			}
			p.Warn("API Gateway throttled")
			p.Close()
			p.Close() // idempotent
			got := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%s", w, got)
				}
			}
			if !tc.s.Quiet && !strings.Contains(got, "warning: ") {
				t.Errorf("no warning line:\n%s", got)
			}
			if tc.s.Quiet && got != "" {
				t.Errorf("quiet printed %q", got)
			}
		})
	}
}

func TestPlanCounts(t *testing.T) {
	t.Parallel()
	cs := []Change{{Action: Create}, {Action: Create}, {Action: Update}, {Action: Unchanged}}
	if got := PlanCounts(cs, true); got != "2 to create, 1 to update, 1 unchanged" {
		t.Errorf("plan: %q", got)
	}
	rs := []Change{{Action: Created}, {Action: Deleted}, {Action: Failed}, {Action: Keep}}
	if got := PlanCounts(rs, false); got != "1 created, 1 deleted, 1 not owned (kept), 1 failed" {
		t.Errorf("result: %q", got)
	}
}

// TestJoinErrorsReadsOnOneLine: the failures of one run print as one line
// separated by "; ", and each stays reachable with errors.Is / errors.As.
func TestJoinErrorsReadsOnOneLine(t *testing.T) {
	t.Parallel()
	a := notOwnedErr("table", "t", "demo", "ddbops")
	b := notOwnedErr("iam-role", "r", "", "ddbops")
	err := joinErrors([]error{a, nil, b})
	if msg := err.Error(); strings.Contains(msg, "\n") || msg != a.Error()+"; "+b.Error() {
		t.Errorf("message %q", msg)
	}
	var pe *Error
	if !errors.Is(err, ErrNotOwned) || !errors.As(err, &pe) || pe.Resource != "t" {
		t.Errorf("not unwrappable: %v", err)
	}
	if joinErrors(nil) != nil || joinErrors([]error{nil}) != nil || joinErrors([]error{a}) != a {
		t.Error("zero or one error is not itself")
	}
}
