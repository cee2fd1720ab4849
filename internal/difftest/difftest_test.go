package difftest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDifferential runs the sequence through the handler over the local
// engine, moto and dynalite. The engine must answer each step with the
// status DynamoDB's documentation gives it (and the exact body where the
// step fixes one); each emulator must answer exactly what the engine
// answers, except for the steps a named exception lists for it, where it
// must still answer differently (an exception that no longer applies
// fails the test, so the list stays true).
func TestDifferential(t *testing.T) {
	t.Parallel()
	seq := sequence()
	checkSequence(t, seq)
	want := run(t, handlerOver(t, targetEngine), seq)
	for i, st := range seq {
		if want[i].Status != st.status {
			t.Errorf("step %d %s: the engine answers %s, DynamoDB's documented status is %d\n  request %s", i, st.name, want[i], st.status, st.body)
		}
		if st.want != "" && want[i].Body != st.want {
			t.Errorf("step %d %s: the engine answers\n  %s\nwant\n  %s", i, st.name, want[i].Body, st.want)
		}
	}
	for _, target := range targetNames[1:] {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			got := run(t, handlerOver(t, target), seq)
			used := map[string]bool{}
			differ := 0
			for i, st := range seq {
				ex, excepted := exceptionFor(target, st.name)
				same := got[i] == want[i]
				switch {
				case same && excepted:
					t.Errorf("step %d %s: %s answers as the engine does, exception %s no longer applies\n  %s", i, st.name, target, ex.name, got[i])
				case !same && !excepted:
					t.Errorf("step %d %s: %s differs from the engine\n  request  %s\n  engine   %s\n  %-8s %s", i, st.name, target, st.body, want[i], target, got[i])
				case !same && ex.status != 0 && got[i].Status != ex.status:
					t.Errorf("step %d %s: %s answers %s, exception %s documents status %d", i, st.name, target, got[i], ex.name, ex.status)
				}
				if excepted {
					used[ex.name] = true
				}
				if !same {
					differ++
				}
			}
			t.Logf("%s: %d requests, %d answered differently from the engine, all under %d named exceptions", target, len(seq), differ, len(used))
		})
	}
}

// checkSequence checks the sequence and the exceptions themselves: unique
// step names, documented statuses, exceptions naming existing steps of
// one emulator each, with a reason and the documentation they cite.
func checkSequence(t *testing.T, seq []step) {
	t.Helper()
	names := map[string]bool{}
	for _, st := range seq {
		if names[st.name] {
			t.Errorf("step %s: duplicate name", st.name)
		}
		names[st.name] = true
		if st.status < 200 || st.status > 599 {
			t.Errorf("step %s: status %d", st.name, st.status)
		}
	}
	if len(seq) < 150 {
		t.Errorf("the sequence has %d requests, want at least 150", len(seq))
	}
	exNames := map[string]bool{}
	for _, ex := range exceptions {
		if exNames[ex.name+"/"+ex.target] {
			t.Errorf("exception %s: duplicate for %s", ex.name, ex.target)
		}
		exNames[ex.name+"/"+ex.target] = true
		if !slices.Contains(targetNames[1:], ex.target) {
			t.Errorf("exception %s: target %q is not an emulator (the engine has no exceptions)", ex.name, ex.target)
		}
		if ex.reason == "" || !strings.HasPrefix(ex.doc, "https://docs.aws.amazon.com/") && !strings.HasPrefix(ex.doc, "https://github.com/") {
			t.Errorf("exception %s: needs a reason and the link to what it departs from", ex.name)
		}
		for _, s := range ex.steps {
			if !names[s] {
				t.Errorf("exception %s: no step %s", ex.name, s)
			}
		}
	}
}

func TestSequenceIsWellFormed(t *testing.T) {
	t.Parallel()
	checkSequence(t, sequence())
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		mode mode
		want string
	}{
		{`{"Item":{"id":"1","b":2},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`, modeExact,
			`{"Item":{"b":2,"id":"1"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`},
		{`{"error":{"code":"BadRequest","message":"update: DynamoDB rejected the request: Invalid UpdateExpression: Syntax error"},"requestId":"RID"}`, modeExact,
			`{"error":{"code":"BadRequest","message":"update: DynamoDB rejected the request: <DynamoDB's message>"},"requestId":"RID"}`},
		{`{"error":{"code":"BadRequest","message":"payload.Limit: must be a positive integer"},"requestId":"RID"}`, modeExact,
			`{"error":{"code":"BadRequest","message":"payload.Limit: must be a positive integer"},"requestId":"RID"}`},
		{`{"Items":[{"id":"b"},{"id":"a"}],"Count":2,"ScannedCount":2}`, modeExact, `{"Count":2,"Items":[{"id":"a"},{"id":"b"}],"ScannedCount":2}`},
		{`{"Items":[{"id":"b"}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"id":"b"}}`, modePage, `{"Count":1,"LastEvaluatedKey":true,"ScannedCount":1}`},
		{`{"a":12345678901234567890,"b":0.1,"s":"<é>"}`, modeExact, `{"a":12345678901234567890,"b":0.1,"s":"<é>"}`},
		{`"pong"`, modeExact, `"pong"`},
	}
	for _, tt := range tests {
		if got := normalize(t, 200, []byte(tt.body), tt.mode); got.Body != tt.want {
			t.Errorf("normalize(%s)\n got %s\nwant %s", tt.body, got.Body, tt.want)
		}
	}
}

// TestExceptionsDocumented: docs/testing-emulator-exceptions.md names
// every exception, with its emulator and link, on one table row.
func TestExceptionsDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "testing-emulator-exceptions.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			name := strings.SplitN(strings.TrimPrefix(line, "| `"), "`", 2)[0]
			rows[name] = line
		}
	}
	for _, ex := range exceptions {
		row, ok := rows[ex.name]
		switch {
		case !ok:
			t.Errorf("exception %s is not in the doc", ex.name)
		case !strings.Contains(row, "| "+ex.target+" |") || !strings.Contains(row, "("+ex.doc+")"):
			t.Errorf("exception %s: the doc's row does not name %s and %s", ex.name, ex.target, ex.doc)
		}
		for _, s := range ex.steps {
			if !strings.Contains(row, s) {
				t.Errorf("exception %s: the doc's row does not list step %s", ex.name, s)
			}
		}
		delete(rows, ex.name)
	}
	for name := range rows {
		t.Errorf("the doc names %s, which is no exception", name)
	}
}
