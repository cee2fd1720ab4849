package parity

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The tests below check the suite's own machinery (normalization,
// comparison, exceptions, paginated walks) without any emulator, so that
// they run everywhere and the parity verdict can be trusted.

// TestSequenceIsWellFormed runs the sequence and exception checks that
// TestParity runs first, also where the emulators are missing.
func TestSequenceIsWellFormed(t *testing.T) {
	t.Parallel()
	seq := sequence()
	checkSequence(t, seq)
	for _, st := range seq {
		if st.status < 200 || st.status > 599 {
			t.Errorf("step %q: status %d", st.name, st.status)
		}
		if st.walk && !strings.HasPrefix(st.body, `{"operation":"list"`) {
			t.Errorf("step %q: a walk must be a list", st.name)
		}
	}
	for _, ex := range exceptions {
		if slices.Equal(ex.targets, []string{targetLocal, targetMoto, targetMinidyn}) {
			t.Errorf("exception %s covers every target", ex.name)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{"success metadata", `{"Item":{"id":"1"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"abc-123"}}`,
			`{"Item":{"id":"1"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"<request id>"}}`},
		{"an empty request id stays visible", `{"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":""}}`,
			`{"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":""}}`},
		{"handler's own message is kept", `{"error":{"code":"BadRequest","message":"payload.Limit: must be a positive integer"},"requestId":"r1"}`,
			`{"error":{"code":"BadRequest","message":"payload.Limit: must be a positive integer"},"requestId":"<request id>"}`},
		{"DynamoDB's wording is dropped, the handler's prefix kept", `{"error":{"code":"BadRequest","message":"update: DynamoDB rejected the request: Invalid UpdateExpression: Syntax error; token: \"SET\""},"requestId":"r2"}`,
			`{"error":{"code":"BadRequest","message":"update: DynamoDB rejected the request: <DynamoDB's message>"},"requestId":"<request id>"}`},
		{"internal error's request id", `{"error":{"code":"InternalError","message":"internal error (request id r3)"},"requestId":"r3"}`,
			`{"error":{"code":"InternalError","message":"internal error (request id <request id>)"},"requestId":"<request id>"}`},
		{"items sorted by id", `{"Items":[{"id":"b"},{"id":"a","x":1},{"n":2},{"n":1}],"Count":4}`,
			`{"Count":4,"Items":[{"id":"a","x":1},{"id":"b"},{"n":1},{"n":2}]}`},
		{"numbers exactly as sent", `{"a":1e3,"b":12345678901234567890,"c":1.50}`, `{"a":1e3,"b":12345678901234567890,"c":1.50}`},
		{"echo is not an object", `"pong"`, `"pong"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := normalize(t, step{name: tt.name}, raw{status: 200, contentType: "application/json", body: []byte(tt.body)})
			if got.Body != tt.want || got.Status != 200 || got.ContentType != "application/json" {
				t.Errorf("normalize(%s)\n got %s\nwant %s", tt.body, got.Body, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	ok := reply{Status: 200, ContentType: "application/json", Body: `{"a":1}`}
	other := reply{Status: 200, ContentType: "application/json", Body: `{"a":2}`}
	st := step{name: "s", body: `{"operation":"ping"}`, status: 200}
	ex := exception{name: "ex", reason: "r", steps: []string{"s"}, targets: []string{targetMinidyn},
		instead: func(testing.TB, reply) reply { return other }}
	all := func(a, b, c reply) map[string]reply {
		return map[string]reply{targetLocal: a, targetMoto: b, targetMinidyn: c}
	}
	tests := []struct {
		name    string
		got     map[string]reply
		step    step
		exs     []exception
		problem string // a substring of the problem, "" for none
		applied []string
	}{
		{name: "identical", got: all(ok, ok, ok), step: st},
		{name: "one target differs", got: all(ok, ok, other), step: st, problem: "the targets differ"},
		{name: "content type differs", got: all(ok, reply{Status: 200, ContentType: "text/plain", Body: ok.Body}, ok), step: st, problem: "the targets differ"},
		{name: "identical but not the step's status", got: all(ok, ok, ok), step: step{name: "s", status: 404}, problem: "the step expects 404"},
		{name: "difference under its exception", got: all(ok, ok, other), step: st, exs: []exception{ex}, applied: []string{"ex"}},
		{name: "exception no longer needed", got: all(ok, ok, ok), step: st, exs: []exception{ex}, problem: "no longer needed"},
		{name: "excepted target answers something else", got: all(ok, ok, reply{Status: 500}), step: st, exs: []exception{ex}, problem: "does not answer what exception ex documents"},
		{name: "exception of another step", got: all(ok, ok, other), step: step{name: "t", status: 200}, exs: []exception{ex}, problem: "the targets differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref, applied, problem := compare(t, 0, tt.step, tt.got, tt.exs)
			if tt.problem == "" {
				if problem != "" {
					t.Fatalf("unexpected problem: %s", problem)
				}
				if ref != ok || !slices.Equal(applied, tt.applied) {
					t.Errorf("ref %v applied %v, want %v %v", ref, applied, ok, tt.applied)
				}
				return
			}
			if !strings.Contains(problem, tt.problem) {
				t.Errorf("problem %q, want one mentioning %q", problem, tt.problem)
			}
			for _, tg := range targets {
				if !strings.Contains(problem, tg.name) {
					t.Errorf("the problem does not show target %s's answer: %s", tg.name, problem)
				}
			}
		})
	}
}

// pager serves a list the way a backend does: pages of the request's
// Limit in the backend's own scan order, LastEvaluatedKey on every full
// page (even the last, as DynamoDB may) when full is set.
func pager(order []string, full bool) sender {
	return func(t *testing.T, body []byte) raw {
		var req struct {
			Payload struct {
				Limit             int
				ExclusiveStartKey map[string]string
			}
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		start := 0
		if k := req.Payload.ExclusiveStartKey; k != nil {
			start = slices.Index(order, k["id"]) + 1
		}
		end := min(start+req.Payload.Limit, len(order))
		var items []string
		for _, id := range order[start:end] {
			items = append(items, fmt.Sprintf(`{"id":%q}`, id))
		}
		lek := ""
		if end < len(order) || (full && end-start == req.Payload.Limit) {
			lek = fmt.Sprintf(`,"LastEvaluatedKey":{"id":%q}`, order[end-1])
		}
		b := fmt.Sprintf(`{"Items":[%s],"Count":%d,"ScannedCount":%d%s,"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"x"}}`,
			strings.Join(items, ","), end-start, end-start, lek)
		return raw{status: 200, contentType: "application/json", body: []byte(b)}
	}
}

func TestWalkIgnoresPageBoundaries(t *testing.T) {
	t.Parallel()
	st := step{name: "walk", body: `{"operation":"list","payload":{"Limit":2}}`, status: 200, walk: true}
	a, na := walk(t, pager([]string{"c", "a", "e", "b", "d", "f"}, true), st)
	b, nb := walk(t, pager([]string{"f", "e", "d", "c", "b", "a"}, false), st)
	want := `{"Count":6,"Items":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"},{"id":"e"},{"id":"f"}],"ScannedCount":6}`
	if a != b || a.Body != want {
		t.Errorf("walks differ or are wrong:\n%s\n%s\nwant %s", a, b, want)
	}
	if na != 4 || nb != 3 {
		t.Errorf("requests %d and %d, want 4 (a last empty page) and 3", na, nb)
	}
	missing, _ := walk(t, pager([]string{"a", "b", "c", "d", "e"}, false), st)
	if missing == a {
		t.Error("a walk over fewer items compares equal")
	}
}
