package local

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	mserver "github.com/truora/minidyn/server"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// conformance is a run of requests whose answers must not depend on the
// DynamoDB behind the handler.
var conformance = []string{
	tutorialCreate,
	tutorialRead,
	`{"operation":"read","payload":{"Key":{"id":"missing"}}}`,
	`{"operation":"create","payload":{"Item":{"id":"2","n":1,"tags":["a",2,true,null],"m":{"x":{"y":"z"}},"f":false}}}`,
	`{"operation":"create","payload":{"Item":{"id":"2"},"ConditionExpression":"attribute_not_exists(id)"}}`,
	`{"operation":"create","payload":{"Item":{"id":"0"},"ConditionExpression":"attribute_exists(id)"}}`,
	`{"operation":"create","payload":{"Item":{"id":"00","x":1},"ConditionExpression":"attribute_not_exists(id)"}}`,
	`{"operation":"delete","payload":{"Key":{"id":"00"}}}`,
	`{"operation":"update","payload":{"Key":{"id":"2"},"UpdateExpression":"SET n = n + :d, m.x.y = :z REMOVE f","ExpressionAttributeValues":{":d":41,":z":"w"},"ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"2"},"UpdateExpression":"SET n = :v","ConditionExpression":"n = :old","ExpressionAttributeValues":{":v":0,":old":41}}}`,
	`{"operation":"update","payload":{"Key":{"id":"2"},"UpdateExpression":"SET n = :v","ConditionExpression":"n = :old","ExpressionAttributeValues":{":v":7,":old":42},"ReturnValues":"UPDATED_OLD"}}`,
	`{"operation":"update","payload":{"Key":{"id":"nope"},"UpdateExpression":"SET n = :v","ExpressionAttributeValues":{":v":1}}}`,
	`{"operation":"create","payload":{"Item":{"id":"3","a":1,"b":2,"c":3,"name":"x","l":[1,2,3],"m":{"p":1,"q":2}}}}`,
	`{"operation":"update","payload":{"Key":{"id":"3"},"UpdateExpression":"REMOVE a","ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"3"},"UpdateExpression":"set b = :v remove #n, c","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":v":20},"ReturnValues":"UPDATED_OLD"}}`,
	`{"operation":"update","payload":{"Key":{"id":"3"},"UpdateExpression":"REMOVE m.p, l[0] SET b = if_not_exists(zz, :v)","ExpressionAttributeValues":{":v":5},"ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"3"},"UpdateExpression":"REMOVE id"}}`,
	`{"operation":"read","payload":{"Key":{"id":"3"}}}`,
	`{"operation":"read","payload":{"Key":{"id":"2"},"ProjectionExpression":"#t, m","ExpressionAttributeNames":{"#t":"tags"}}}`,
	`{"operation":"list","payload":{}}`,
	`{"operation":"list","payload":{"Limit":1}}`,
	`{"operation":"list","payload":{"ProjectionExpression":"id"}}`,
	`{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"#n = :n","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Alice"}}}`,
	`{"operation":"delete","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_OLD"}}`,
	`{"operation":"delete","payload":{"Key":{"id":"1"}}}`,
	tutorialList,
	tutorialEcho,
	`{"operation":"ping"}`,
}

var scannedCount = regexp.MustCompile(`"ScannedCount":\d+,`)

func runConformance(t *testing.T, db handler.DynamoDB, reqs []string) []string {
	t.Helper()
	h := handler.New(db, handler.Config{TableName: testTable})
	out := make([]string, len(reqs))
	for i, body := range reqs {
		status, b := h.Do(context.Background(), []byte(body), "RID")
		out[i] = statusText(status) + " " + string(b)
	}
	return out
}

func statusText(s int) string { b, _ := json.Marshal(s); return string(b) }

// sdkClient returns the real SDK client for endpoint with fake
// credentials.
func sdkClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	})
}

// embedded returns the embedded engine over a bbolt store in a fresh
// data dir.
func embedded(t *testing.T) *engine.Engine {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Table: testTable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return engine.New(st, testTable)
}

// TestEmbeddedMatchesMinidynOverHTTP runs the handler over the embedded
// engine and over the real SDK client talking to minidyn's HTTP server
// (an independent implementation, with the JSON round trip). They must
// agree, except where the embedded engine deliberately answers as
// DynamoDB does (PutItem returns no Attributes, Scan reports
// ScannedCount).
func TestEmbeddedMatchesMinidynOverHTTP(t *testing.T) {
	t.Parallel()
	emb := embedded(t)
	hs := httptest.NewServer(mserver.NewServer())
	defer hs.Close()
	sdk := sdkClient(hs.URL)
	if err := ensureTable(context.Background(), sdk, testTable, false); err != nil {
		t.Fatal(err)
	}
	// minidyn keeps top-level attributes that REMOVE names (the embedded
	// engine fixes that; TestEmbeddedMatchesMoto checks it), so this
	// comparison leaves REMOVE out.
	var reqs []string
	for _, r := range conformance {
		if !strings.Contains(strings.ToUpper(r), "REMOVE") {
			reqs = append(reqs, r)
		}
	}
	got, want := runConformance(t, emb, reqs), runConformance(t, sdk, reqs)
	putAttrs := regexp.MustCompile(`^200 \{"Attributes":.*"ResponseMetadata"`)
	for i := range got {
		w := scannedCount.ReplaceAllString(want[i], "")
		g := scannedCount.ReplaceAllString(got[i], "")
		if strings.Contains(reqs[i], `"create"`) { // minidyn's HTTP answer has the item as Attributes
			w = putAttrs.ReplaceAllString(w, `200 {"ResponseMetadata"`)
		}
		if g != w {
			t.Errorf("request %d %s\nembedded: %s\nover HTTP: %s", i, reqs[i], got[i], want[i])
		}
	}
}

// TestEmbeddedMatchesMoto compares with moto, the DynamoDB emulator the
// project's emulator tests use as the reference: statuses and success
// bodies must be equal (validation messages are each engine's own).
func TestEmbeddedMatchesMoto(t *testing.T) {
	t.Parallel()
	moto := testenv.StartMoto(t)
	emb := embedded(t)
	sdk := sdkClient(moto.URL)
	if err := ensureTable(context.Background(), sdk, testTable, true); err != nil {
		t.Fatal(err)
	}
	reqs := append(slices.Clone(conformance), expressionConformance...)
	got, want := runConformance(t, emb, reqs), runConformance(t, sdk, reqs)
	for i := range got {
		if got[i][:3] != want[i][:3] || (got[i][:3] == "200" && got[i] != want[i]) {
			t.Errorf("request %d %s\nembedded: %s\nmoto:     %s", i, reqs[i], got[i], want[i])
		}
	}
}

// expressionConformance exercises the engine's own UpdateExpression and
// ProjectionExpression evaluation where moto, which evaluates them with
// Python's exact decimals, answers as DynamoDB does. (Where moto does not
// — several list indexes in one projection, overlapping projection paths,
// nested UPDATED_OLD/UPDATED_NEW, SET of several indexes past the end,
// :a + :b + :c — the engine follows DynamoDB; engine/update_test.go and
// engine/projection_test.go hold those cases.) Numbers are written
// canonically: moto keeps other spellings as written.
var expressionConformance = []string{
	`{"operation":"create","payload":{"Item":{"id":"x","n":1,"big":12345678901234567890,"t":0.1,"tags":["a","b","c","d"],"m":{"x":{"y":[1,2,3]},"z":1},"s":"str","nul":null}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET big = big + :one, t = t + :t","ExpressionAttributeValues":{":one":1,":t":0.2},"ReturnValues":"UPDATED_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET s = :s","ExpressionAttributeValues":{":s":"y"},"ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"REMOVE tags[0], tags[2], nul SET m.x.y[1] = :v","ExpressionAttributeValues":{":v":7},"ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET tags = list_append(tags, :l), c = if_not_exists(c, :z)","ExpressionAttributeValues":{":l":["e"],":z":0},"ReturnValues":"UPDATED_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"ADD n :v, cnt :v","ExpressionAttributeValues":{":v":2.5},"ReturnValues":"UPDATED_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET n = n - :v","ExpressionAttributeValues":{":v":10},"ReturnValues":"UPDATED_OLD"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"REMOVE m.nope, tags[99]","ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET m.q.r = :v","ExpressionAttributeValues":{":v":7}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET q = nope + :v","ExpressionAttributeValues":{":v":7}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET q = s + :v","ExpressionAttributeValues":{":v":7}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET a = :v, a = :v","ExpressionAttributeValues":{":v":1}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET a = :v SET b = :v","ExpressionAttributeValues":{":v":1}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET #a = :v","ExpressionAttributeNames":{"#a":"x","#b":"y"},"ExpressionAttributeValues":{":v":1}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET x = :missing"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"REMOVE zz.y"}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"DELETE tags :v","ExpressionAttributeValues":{":v":"x"}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET v = if_not_exists(:l, :l)","ExpressionAttributeValues":{":l":[1]}}}`,
	`{"operation":"update","payload":{"Key":{"id":"x"},"UpdateExpression":"SET v = list_append(:l, s)","ExpressionAttributeValues":{":l":[1]}}}`,
	`{"operation":"read","payload":{"Key":{"id":"x"}}}`,
	`{"operation":"read","payload":{"Key":{"id":"x"},"ProjectionExpression":"nope"}}`,
	`{"operation":"read","payload":{"Key":{"id":"x"},"ProjectionExpression":"tags[1], m.x.y[2], big"}}`,
	`{"operation":"read","payload":{"Key":{"id":"x"},"ProjectionExpression":"#m.#x","ExpressionAttributeNames":{"#m":"m","#x":"x"}}}`,
	`{"operation":"read","payload":{"Key":{"id":"x"},"ProjectionExpression":"name"}}`,
	`{"operation":"list","payload":{"ProjectionExpression":"nope, t"}}`,
}

// TestExternalEndpoint: --dynamodb-endpoint serves the same API from
// moto (table created on first start), without a database of its own.
func TestExternalEndpoint(t *testing.T) {
	t.Parallel()
	moto := testenv.StartMoto(t)
	dir := t.TempDir()
	srv := serve(t, Options{DataDir: dir, Auth: wire.AuthNone, DynamoDBEndpoint: moto.URL, Region: "us-east-1"})
	for _, body := range []string{tutorialCreate, tutorialRead, tutorialList} {
		r := post(t, srv.info.URL, body)
		checkCommon(t, r)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	r := post(t, srv.info.URL, tutorialRead)
	if normalize(r.body) != `{"Item":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}` {
		t.Errorf("read: %s", r.body)
	}
	if _, err := os.Stat(filepath.Join(dir, store.DBFile)); !os.IsNotExist(err) {
		t.Errorf("a database was written with an external endpoint: %v", err)
	}
	_ = srv.stop()
	// A second start finds the table and the item.
	srv2 := serve(t, Options{DataDir: dir, Auth: wire.AuthNone, DynamoDBEndpoint: moto.URL, Region: "us-east-1"})
	if r := post(t, srv2.info.URL, tutorialRead); r.status != 200 {
		t.Errorf("after restart: %d %s", r.status, r.body)
	}
	if _, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthNone, DynamoDBEndpoint: "ftp://x"})); err == nil {
		t.Error("an ftp endpoint was accepted")
	}
	if _, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthNone, DynamoDBEndpoint: "https://dynamodb.example.com"})); err == nil {
		t.Error("a remote endpoint without credentials was accepted")
	}
}

// TestBackendErrorsThroughGateway: DynamoDB throttling is 429 and a
// DynamoDB failure 500 through the gateway, with nothing of the backend's
// error in the body (moto behind a fault-injecting proxy as the external
// endpoint).
func TestBackendErrorsThroughGateway(t *testing.T) {
	t.Parallel()
	moto := testenv.StartMoto(t)
	proxy := testenv.NewFaultProxy(t, moto.URL)
	srv := serve(t, Options{Auth: wire.AuthNone, DynamoDBEndpoint: proxy.URL, Region: "us-east-1"})
	if r := post(t, srv.info.URL, tutorialCreate); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	proxy.SetRules(
		testenv.Rule{Op: "dynamodb:GetItem", Nth: 1, Times: 1000, Fault: testenv.Throttle},
		testenv.Rule{Op: "dynamodb:PutItem", Nth: 1, Times: 1000, Fault: testenv.ServerError},
	)
	tests := []struct {
		body   string
		status int
		code   string
	}{
		{tutorialRead, 429, "Throttled"},
		{`{"operation":"create","payload":{"Item":{"id":"2"}}}`, 500, "InternalError"},
	}
	for _, tt := range tests {
		r := post(t, srv.info.URL, tt.body)
		checkCommon(t, r)
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(r.body, &e)
		if r.status != tt.status || e.Error.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.body, r.status, r.body, tt.status, tt.code)
		}
		if strings.Contains(string(r.body), "Exception") || strings.Contains(string(r.body), "InternalServerError") {
			t.Errorf("backend error leaked: %s", r.body)
		}
	}
	proxy.SetRules()
	if r := post(t, srv.info.URL, tutorialRead); r.status != 200 {
		t.Errorf("after the faults: %d %s", r.status, r.body)
	}
}
