package local

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

var requestIDField = regexp.MustCompile(`"(RequestId|requestId)":"[^"]*"`)

// normalize replaces request ids, which differ per request.
func normalize(b []byte) string {
	return requestIDField.ReplaceAllString(string(b), `"$1":"RID"`)
}

// TestTutorialFlow sends the tutorial's own request bodies (and the other
// operations) through the gateway over HTTP and checks each answer
// exactly.
func TestTutorialFlow(t *testing.T) {
	t.Parallel()
	srv := serve(t, Options{Auth: wire.AuthNone})
	const meta = `"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}`
	steps := []struct {
		name, body string
		status     int
		want       string
	}{
		{"create", tutorialCreate, 200, `{` + meta + `}`},
		{"read", tutorialRead, 200, `{"Item":{"id":"1","name":"Bob"},` + meta + `}`},
		{"list", tutorialList, 200, `{"Items":[{"id":"1","name":"Bob"}],"Count":1,"ScannedCount":1,` + meta + `}`},
		{"echo", tutorialEcho, 200, `{"somekey1":"somevalue1","somekey2":"somevalue2"}`},
		{"ping", `{"operation":"ping"}`, 200, `"pong"`},
		{"update", `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n = :n, age = :a","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Alice",":a":42},"ReturnValues":"ALL_NEW"}}`,
			200, `{"Attributes":{"age":42,"id":"1","name":"Alice"},` + meta + `}`},
		{"read after update", tutorialRead, 200, `{"Item":{"age":42,"id":"1","name":"Alice"},` + meta + `}`},
		{"create second", `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"2","tags":["a","b"],"nested":{"ok":true,"none":null},"pi":3.14}}}`, 200, `{` + meta + `}`},
		{"read second", `{"operation":"read","payload":{"Key":{"id":"2"}}}`, 200, `{"Item":{"id":"2","nested":{"none":null,"ok":true},"pi":3.14,"tags":["a","b"]},` + meta + `}`},
		{"list with limit", `{"operation":"list","payload":{"Limit":1}}`, 200, `{"Items":[{"age":42,"id":"1","name":"Alice"}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"id":"1"},` + meta + `}`},
		{"list from key", `{"operation":"list","payload":{"Limit":5,"ExclusiveStartKey":{"id":"1"}}}`, 200, `{"Items":[{"id":"2","nested":{"none":null,"ok":true},"pi":3.14,"tags":["a","b"]}],"Count":1,"ScannedCount":1,` + meta + `}`},
		{"list with filter", `{"operation":"list","payload":{"FilterExpression":"age > :a","ExpressionAttributeValues":{":a":40}}}`, 200, `{"Items":[{"age":42,"id":"1","name":"Alice"}],"Count":1,"ScannedCount":2,` + meta + `}`},
		{"delete", `{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_OLD"}}`, 200, `{"Attributes":{"age":42,"id":"1","name":"Alice"},` + meta + `}`},
		{"read deleted", tutorialRead, 404, `{"error":{"code":"NotFound","message":"read: no item with this id"},"requestId":"RID"}`},
	}
	for _, s := range steps {
		r := post(t, srv.info.URL, s.body)
		checkCommon(t, r)
		if got := normalize(r.body); r.status != s.status || got != s.want {
			t.Fatalf("%s: got %d %s\nwant %d %s", s.name, r.status, got, s.status, s.want)
		}
		if id := r.header.Get("X-Amzn-Requestid"); !strings.Contains(string(r.body), id) && s.name != "echo" && s.name != "ping" {
			t.Errorf("%s: body does not carry the x-amzn-RequestId %s: %s", s.name, id, r.body)
		}
	}
}

// TestErrorStatuses checks every documented error status through the
// gateway, and that the server keeps serving after each.
func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	srv := serve(t, Options{Auth: wire.AuthNone})
	if r := post(t, srv.info.URL, tutorialCreate); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	deep := strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70)
	big := `{"operation":"create","payload":{"Item":{"id":"big","blob":"` + strings.Repeat("x", 401*1024) + `"}}}`
	huge := `{"operation":"echo","payload":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"malformed JSON", `{"operation":`, 400, "BadRequest"},
		{"too deep", `{"operation":"echo","payload":` + deep + `}`, 400, "BadRequest"},
		{"unknown operation", `{"operation":"drop","payload":{}}`, 400, "BadRequest"},
		{"unknown payload key", `{"operation":"read","payload":{"Key":{"id":"1"},"Bogus":1}}`, 400, "BadRequest"},
		{"missing id", `{"operation":"create","payload":{"Item":{"name":"x"}}}`, 400, "BadRequest"},
		{"non-string id", `{"operation":"read","payload":{"Key":{"id":1}}}`, 400, "BadRequest"},
		{"bad limit", `{"operation":"list","payload":{"Limit":0}}`, 400, "BadRequest"},
		{"invalid expression", `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET = oops"}}`, 400, "BadRequest"},
		{"other table", `{"operation":"read","tableName":"other","payload":{"Key":{"id":"1"}}}`, 403, "Forbidden"},
		{"read missing", `{"operation":"read","payload":{"Key":{"id":"nope"}}}`, 404, "NotFound"},
		{"update missing", `{"operation":"update","payload":{"Key":{"id":"nope"},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":1}}}`, 404, "NotFound"},
		{"delete missing", `{"operation":"delete","payload":{"Key":{"id":"nope"}}}`, 404, "NotFound"},
		{"create existing", `{"operation":"create","payload":{"Item":{"id":"1","name":"Eve"},"ConditionExpression":"attribute_not_exists(id)"}}`, 409, "ConditionalCheckFailed"},
		{"update condition", `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ConditionExpression":"#n = :x","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":a":1,":x":"Eve"}}}`, 409, "ConditionalCheckFailed"},
		{"item over 400 KB", big, 413, "PayloadTooLarge"},
		{"body over 1 MiB", huge, 413, "PayloadTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv.info.URL, tt.body)
			checkCommon(t, r)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var e struct {
				Error     struct{ Code, Message string }
				RequestID string
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != tt.code {
				t.Fatalf("error code %q (%v), want %q: %s", e.Error.Code, err, tt.code, r.body)
			}
			if e.RequestID != r.header.Get("X-Amzn-Requestid") {
				t.Errorf("requestId %q != header %q", e.RequestID, r.header.Get("X-Amzn-Requestid"))
			}
			for _, leak := range []string{"arn:", "goroutine", ".go:", "panic"} {
				if strings.Contains(string(r.body), leak) {
					t.Errorf("body leaks %q: %s", leak, r.body)
				}
			}
		})
	}
	if r := post(t, srv.info.URL, tutorialRead); r.status != 200 || !strings.Contains(string(r.body), `"name":"Bob"`) {
		t.Fatalf("server no longer serves after errors: %d %s", r.status, r.body)
	}
}

// TestConcurrentIncrements: many clients increment one counter with an
// update expression; none is lost.
func TestConcurrentIncrements(t *testing.T) {
	t.Parallel()
	srv := serve(t, Options{Auth: wire.AuthNone})
	post(t, srv.info.URL, `{"operation":"create","payload":{"Item":{"id":"c","n":0}}}`)
	const clients, each = 8, 40
	inc := `{"operation":"update","payload":{"Key":{"id":"c"},"UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":1}}}`
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range clients {
		wg.Go(func() {
			for range each {
				if r := post(t, srv.info.URL, inc); r.status != 200 {
					failed.Add(1)
					t.Errorf("increment: %d %s", r.status, r.body)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	r := post(t, srv.info.URL, `{"operation":"read","payload":{"Key":{"id":"c"}}}`)
	if want := fmt.Sprintf(`"n":%d`, clients*each); !strings.Contains(string(r.body), want) {
		t.Fatalf("final counter: %s, want %s", r.body, want)
	}
}

// TestConcurrentVersionChecks: clients do optimistic read-modify-write
// with a version condition; every acknowledged update is counted exactly
// once, the losers get 409.
func TestConcurrentVersionChecks(t *testing.T) {
	t.Parallel()
	srv := serve(t, Options{Auth: wire.AuthNone})
	post(t, srv.info.URL, `{"operation":"create","payload":{"Item":{"id":"v","version":0,"applied":0}}}`)
	const clients, tries = 6, 25
	var wg sync.WaitGroup
	var wins, conflicts atomic.Int64
	for range clients {
		wg.Go(func() {
			for range tries {
				r := post(t, srv.info.URL, `{"operation":"read","payload":{"Key":{"id":"v"},"ConsistentRead":true}}`)
				var got struct{ Item struct{ Version int } }
				if err := json.Unmarshal(r.body, &got); err != nil {
					t.Errorf("read: %v %s", err, r.body)
					return
				}
				v := got.Item.Version
				body := fmt.Sprintf(`{"operation":"update","payload":{"Key":{"id":"v"},"UpdateExpression":"SET version = :new, applied = applied + :one","ConditionExpression":"version = :old","ExpressionAttributeValues":{":new":%d,":old":%d,":one":1}}}`, v+1, v)
				switch r := post(t, srv.info.URL, body); r.status {
				case http.StatusOK:
					wins.Add(1)
				case http.StatusConflict:
					conflicts.Add(1)
				default:
					t.Errorf("update: %d %s", r.status, r.body)
					return
				}
			}
		})
	}
	wg.Wait()
	r := post(t, srv.info.URL, `{"operation":"read","payload":{"Key":{"id":"v"}}}`)
	var got struct {
		Item struct{ Version, Applied int64 }
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Item.Version != wins.Load() || got.Item.Applied != wins.Load() {
		t.Fatalf("version %d, applied %d, acknowledged updates %d (conflicts %d)", got.Item.Version, got.Item.Applied, wins.Load(), conflicts.Load())
	}
	if wins.Load()+conflicts.Load() != clients*tries {
		t.Fatalf("wins %d + conflicts %d != %d", wins.Load(), conflicts.Load(), clients*tries)
	}
}

// TestRestartKeepsData: what was acknowledged is there after a restart,
// and the database was verified at Open.
func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := serve(t, Options{DataDir: dir, Auth: wire.AuthNone})
	post(t, srv.info.URL, tutorialCreate)
	post(t, srv.info.URL, `{"operation":"create","payload":{"Item":{"id":"2","b":true}}}`)
	post(t, srv.info.URL, `{"operation":"update","payload":{"Key":{"id":"2"},"UpdateExpression":"SET c = :c","ExpressionAttributeValues":{":c":[1,"x",{"y":null}]}}}`)
	post(t, srv.info.URL, `{"operation":"create","payload":{"Item":{"id":"3"}}}`)
	post(t, srv.info.URL, `{"operation":"delete","payload":{"Key":{"id":"3"}}}`)
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Recovery()
	if rec.Items != 2 || rec.JournalRecords != 0 || !rec.CheckedAtOpen {
		t.Errorf("recovery = %+v, want 2 items, verified at Open", rec)
	}
	srv2 := serveStack(t, s)
	r := post(t, srv2.info.URL, tutorialList)
	want := `{"Items":[{"id":"1","name":"Bob"},{"b":true,"c":[1,"x",{"y":null}],"id":"2"}],"Count":2,"ScannedCount":2,"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	if got := normalize(r.body); got != want {
		t.Fatalf("after restart:\n got %s\nwant %s", got, want)
	}
}
