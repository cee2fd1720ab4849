package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/ddbops/ddbops/internal/wire"
)

// seen is one request as a test server received it.
type seen struct {
	method, path string
	header       http.Header
	body         []byte
}

// recordingServer answers every request with reply and records it.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecordingServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, body []byte)) *recordingServer {
	t.Helper()
	rs := &recordingServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.reqs = append(rs.reqs, seen{r.Method, r.URL.Path, r.Header.Clone(), body})
		rs.mu.Unlock()
		reply(w, r, body)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) requests() []seen {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]seen(nil), rs.reqs...)
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// noWait is a retry policy that records delays instead of sleeping.
func noWait(attempts int, delays *[]time.Duration) RetryPolicy {
	var mu sync.Mutex
	return RetryPolicy{Attempts: attempts, Base: 100 * time.Millisecond, Cap: 2 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			if delays != nil {
				*delays = append(*delays, d)
			}
			return ctx.Err()
		}}
}

func TestClientSendsBodyAndHeaders(t *testing.T) {
	t.Parallel()
	srv := newRecordingServer(t, jsonReply(200, `{"Item":{"id":"1","name":"Bob","n":1.50},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"r1"}}`))
	for _, auth := range []string{"", wire.AuthNone, wire.AuthAPIKey} {
		t.Run("auth="+auth, func(t *testing.T) {
			c, err := New(Target{URL: srv.URL + "/prod/DynamoDBManager", Auth: auth, APIKey: "k-123", TableName: "lambda-apigateway"},
				WithUserAgent("ddbops/v9.9.9"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Read(context.Background(), "1")
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Item) != `{"id":"1","name":"Bob","n":1.50}` {
				t.Errorf("Item = %s", out.Item)
			}
			if out.ResponseMetadata.RequestID != "r1" {
				t.Errorf("RequestId = %q", out.ResponseMetadata.RequestID)
			}
			reqs := srv.requests()
			got := reqs[len(reqs)-1]
			if got.method != http.MethodPost || got.path != "/prod/DynamoDBManager" {
				t.Errorf("got %s %s", got.method, got.path)
			}
			if want := `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`; string(got.body) != want {
				t.Errorf("body = %s", got.body)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if ua := got.header.Get("User-Agent"); ua != "ddbops/v9.9.9" {
				t.Errorf("User-Agent = %q", ua)
			}
			key := got.header.Get("X-Api-Key")
			if auth == wire.AuthAPIKey && key != "k-123" {
				t.Errorf("x-api-key = %q, want the key", key)
			}
			if auth != wire.AuthAPIKey && key != "" {
				t.Errorf("x-api-key sent under auth %q", auth)
			}
			if got.header.Get("Authorization") != "" {
				t.Errorf("Authorization sent without iam auth")
			}
		})
	}
}

func TestNewRejectsBadTargets(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
	tests := []struct {
		name string
		t    Target
		want string
	}{
		{"no scheme", Target{URL: "example.com/prod"}, "want http(s)"},
		{"ftp", Target{URL: "ftp://example.com/prod"}, "want http(s)"},
		{"user info", Target{URL: "https://u:p@example.com/prod"}, "user info"},
		{"apikey without key", Target{URL: "http://x/p", Auth: wire.AuthAPIKey}, "no API key"},
		{"iam without creds", Target{URL: "http://x/p", Auth: wire.AuthIAM, Region: "us-east-1"}, "no AWS credentials"},
		{"iam without region", Target{URL: "http://x/p", Auth: wire.AuthIAM, Credentials: creds}, "no region"},
		{"unknown auth", Target{URL: "http://x/p", Auth: "basic"}, "want none, apikey or iam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.t)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), ":p@") {
				t.Errorf("error leaks URL user info: %v", err)
			}
		})
	}
}

// verifySigV4 re-derives the signature of r with the SDK signer from the
// headers the client said it signed, the same credentials and the same
// time, and compares it with what the client sent.
func verifySigV4(r *http.Request, body []byte, creds aws.Credentials, region string) error {
	auth := r.Header.Get("Authorization")
	const prefix = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, prefix) {
		return errors.New("no SigV4 Authorization header")
	}
	fields := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(auth, prefix), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] != creds.AccessKeyID || scope[2] != region || scope[3] != "execute-api" || scope[4] != "aws4_request" {
		return errors.New("bad credential scope " + fields["Credential"])
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	re, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
	re.ContentLength = int64(len(body))
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token", "content-length":
			continue // the signer sets these itself
		}
		re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	hash := sha256Hex(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, hash, "execute-api", region, when); err != nil {
		return err
	}
	if got, want := auth, re.Header.Get("Authorization"); got != want {
		return errors.New("signature mismatch:\n got " + got + "\nwant " + want)
	}
	if creds.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != creds.SessionToken {
		return errors.New("session token header missing")
	}
	return nil
}

func TestSigV4SignedRequestsVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
	}{
		{"long-term", aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret/key+1"}},
		{"session", aws.Credentials{AccessKeyID: "ASIATEST", SecretAccessKey: "s2", SessionToken: "token=="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var verr atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := verifySigV4(r, body, tc.creds, "eu-west-3"); err != nil {
					verr.Store(err)
					w.WriteHeader(http.StatusForbidden)
					io.WriteString(w, `{"message":"bad signature"}`)
					return
				}
				io.WriteString(w, `"pong"`)
			}))
			t.Cleanup(srv.Close)
			c, err := New(Target{URL: srv.URL + "/prod/Dynamo%20DB?x=1", Auth: wire.AuthIAM, Region: "eu-west-3",
				Credentials: credentials.StaticCredentialsProvider{Value: tc.creds}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if _, err := c.Echo(context.Background(), wire.Object{{Name: "k", Value: wire.String("v w")}}); err != nil {
					t.Fatalf("echo %d: %v (server: %v)", i, err, verr.Load())
				}
			}
			// A tampered body must not verify: the check above can fail.
			req, err := c.NewRequest(context.Background(), []byte(`{"operation":"ping"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(req.Body)
			req.Host = req.URL.Host
			if err := verifySigV4(req, append(body, ' '), tc.creds, "eu-west-3"); err == nil {
				t.Error("a tampered body verified")
			}
			if err := verifySigV4(req, body, tc.creds, "eu-west-3"); err != nil {
				t.Errorf("NewRequest's own request does not verify: %v", err)
			}
		})
	}
}

func TestNewRequestIsFreshAndReusable(t *testing.T) {
	t.Parallel()
	c, err := New(Target{URL: "http://127.0.0.1:1/prod/R", Auth: wire.AuthAPIKey, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := c.NewRequest(context.Background(), []byte(`{"a":1}`))
	r2, _ := c.NewRequest(context.Background(), []byte(`{"b":22}`))
	r1.Header.Set("X-Mutated", "1")
	if r2.Header.Get("X-Mutated") != "" || r1.URL == r2.URL {
		t.Fatal("requests share mutable state")
	}
	b, _ := io.ReadAll(r2.Body)
	if string(b) != `{"b":22}` || r2.ContentLength != 8 {
		t.Errorf("body %q length %d", b, r2.ContentLength)
	}
	gb, _ := r2.GetBody()
	b, _ = io.ReadAll(gb)
	if string(b) != `{"b":22}` {
		t.Errorf("GetBody %q", b)
	}
}

func TestAPIErrorDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantCode   string
		wantMsg    string
		wantReqID  string
		isNotFound bool
		isConflict bool
	}{
		{name: "wire contract 404", status: 404, body: `{"error":{"code":"NotFound","message":"item not found"},"requestId":"req-1"}`,
			wantCode: "NotFound", wantMsg: "item not found", wantReqID: "req-1", isNotFound: true},
		{name: "wire contract 409", status: 409, body: `{"error":{"code":"ConditionalCheckFailed","message":"condition failed"},"requestId":"req-2"}`,
			wantCode: "ConditionalCheckFailed", wantMsg: "condition failed", wantReqID: "req-2", isConflict: true},
		{name: "api gateway", status: 403, body: `{"message":"Forbidden"}`, header: map[string]string{"x-amzn-RequestId": "gw-1"},
			wantMsg: "Forbidden", wantReqID: "gw-1"},
		{name: "iam deny", status: 403, body: `{"Message":"User: anonymous is not authorized"}`, wantMsg: "User: anonymous is not authorized"},
		{name: "html", status: 502, body: `<html>bad gateway secret-ish</html>`, header: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			wantMsg: "Bad Gateway: non-JSON body (35 bytes, text/html)"},
		{name: "empty", status: 503, body: ``, wantMsg: "Service Unavailable"},
		{name: "string error", status: 400, body: `{"error":"bad"}`, wantMsg: "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			e := decodeAPIError(&Response{StatusCode: tt.status, Header: h, Body: []byte(tt.body)})
			if e.Code != tt.wantCode || e.Message != tt.wantMsg || e.RequestID != tt.wantReqID {
				t.Errorf("got code %q msg %q req %q", e.Code, e.Message, e.RequestID)
			}
			if errors.Is(e, ErrNotFound) != tt.isNotFound || errors.Is(e, ErrConflict) != tt.isConflict {
				t.Errorf("errors.Is mapping wrong for %d", tt.status)
			}
			if strings.Contains(e.Error(), "secret-ish") {
				t.Errorf("error repeats a non-JSON body: %v", e)
			}
		})
	}
}

func TestErrorsCarryExitSentinelsThroughTypedMethods(t *testing.T) {
	t.Parallel()
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch wire.OperationOf(body) {
		case wire.OpCreate:
			jsonReply(409, `{"error":{"code":"ConditionalCheckFailed","message":"exists"},"requestId":"a"}`)(w, r, body)
		case wire.OpRead:
			// The tutorial's original function: 200 and no Item.
			jsonReply(200, `{"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"b"}}`)(w, r, body)
		default:
			jsonReply(404, `{"error":{"code":"NotFound","message":"no such item"},"requestId":"c"}`)(w, r, body)
		}
	})
	c, err := New(Target{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Create(ctx, wire.Object{{Name: "id", Value: wire.String("1")}}, false)
	if !errors.Is(err, ErrConflict) || !strings.HasPrefix(err.Error(), "create: HTTP 409") {
		t.Errorf("create: %v", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || string(apiErr.Body) == "" {
		t.Errorf("create: no APIError with body: %v", err)
	}
	if _, err = c.Read(ctx, "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("read: %v", err)
	}
	if _, err = c.Update(ctx, wire.UpdateInput{ID: "1", Remove: []string{"x"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update: %v", err)
	}
	if _, err = c.Delete(ctx, "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete: %v", err)
	}
}

func TestListAllFollowsPages(t *testing.T) {
	t.Parallel()
	var starts []string
	var mu sync.Mutex
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Payload struct {
				Limit             int
				ExclusiveStartKey *struct {
					ID string `json:"id"`
				}
			}
		}
		_ = json.Unmarshal(body, &req)
		start := ""
		if req.Payload.ExclusiveStartKey != nil {
			start = req.Payload.ExclusiveStartKey.ID
		}
		mu.Lock()
		starts = append(starts, start)
		mu.Unlock()
		switch start {
		case "":
			jsonReply(200, `{"Items":[{"id":"1"},{"id":"2"}],"Count":2,"ScannedCount":2,"LastEvaluatedKey":{"id":"2"}}`)(w, r, body)
		case "2":
			jsonReply(200, `{"Items":[{"id":"3","n":10.0}],"Count":1,"ScannedCount":3,"LastEvaluatedKey":{"id":"3"}}`)(w, r, body)
		case "3":
			jsonReply(200, `{"Items":[],"Count":0,"ScannedCount":0}`)(w, r, body)
		}
	})
	c, _ := New(Target{URL: srv.URL, TableName: "t"})
	out, err := c.ListAll(context.Background(), wire.ListInput{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if out.Pages != 3 || out.Count != 3 || out.ScannedCount != 5 || len(out.LastEvaluatedKey) != 0 {
		t.Errorf("pages %d count %d scanned %d lek %s", out.Pages, out.Count, out.ScannedCount, out.LastEvaluatedKey)
	}
	doc, _ := json.Marshal(out)
	if want := `{"Items":[{"id":"1"},{"id":"2"},{"id":"3","n":10.0}],"Count":3,"ScannedCount":5}`; string(doc) != want {
		t.Errorf("combined %s", doc)
	}
	if strings.Join(starts, ",") != ",2,3" {
		t.Errorf("start keys %q", starts)
	}
	for _, r := range srv.requests() {
		if !strings.Contains(string(r.body), `"Limit":2`) {
			t.Errorf("page request lost the limit: %s", r.body)
		}
	}
}

func TestListAllStopsOnRepeatedKey(t *testing.T) {
	t.Parallel()
	srv := newRecordingServer(t, jsonReply(200, `{"Items":[{"id":"1"}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"id":"1"}}`))
	c, _ := New(Target{URL: srv.URL})
	_, err := c.ListAll(context.Background(), wire.ListInput{})
	if err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestPingAndEcho(t *testing.T) {
	t.Parallel()
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if wire.OperationOf(body) == wire.OpPing {
			io.WriteString(w, `"pong"`)
			return
		}
		var req struct{ Payload json.RawMessage }
		_ = json.Unmarshal(body, &req)
		w.Write(req.Payload)
	})
	c, _ := New(Target{URL: srv.URL})
	s, err := c.Ping(context.Background())
	if err != nil || s != "pong" {
		t.Fatalf("ping = %q, %v", s, err)
	}
	got, err := c.Echo(context.Background(), wire.Object{{Name: "n", Value: json.RawMessage(`1.10`)}})
	if err != nil || string(got) != `{"n":1.10}` {
		t.Fatalf("echo = %s, %v", got, err)
	}
}

func TestHandlerTransport(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("boom")
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.RequestURI+" "+r.Host+" "+r.Header.Get("X-Api-Key"))
		w.WriteHeader(201)
		w.Write(body)
		w.Header().Set("X-Late", "not sent") // after WriteHeader: not part of the response
	})
	c, err := New(Target{URL: "http://in-process/prod/R", Auth: wire.AuthAPIKey, APIKey: "k", Transport: HandlerTransport(h)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), wire.OpEcho, []byte(`{"operation":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || string(resp.Body) != `{"operation":"echo"}` {
		t.Errorf("got %d %s", resp.StatusCode, resp.Body)
	}
	if got := resp.Header.Get("X-Seen"); got != "POST /prod/R in-process k" {
		t.Errorf("handler saw %q", got)
	}
	if resp.Header.Get("X-Late") != "" {
		t.Error("header set after WriteHeader was sent")
	}

	c2, _ := New(Target{URL: "http://in-process/boom", Transport: HandlerTransport(h)}, WithRetry(noWait(1, nil)))
	if _, err := c2.Do(context.Background(), wire.OpRead, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("panic: err = %v", err)
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	// Cleanups run last-in first-out: release the handlers, then close.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	c, _ := New(Target{URL: srv.URL}, WithTimeout(20*time.Millisecond), WithRetry(noWait(3, nil)))
	_, err := c.Read(context.Background(), "1")
	if err == nil || !strings.Contains(err.Error(), "--timeout") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("read: %v", err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("read: %d attempts, want 3", n)
	}

	hits.Store(0)
	_, err = c.Create(context.Background(), wire.Object{{Name: "id", Value: wire.String("1")}}, false)
	var unknown *OutcomeUnknownError
	if !errors.As(err, &unknown) || unknown.Op != wire.OpCreate {
		t.Fatalf("create: %v, want OutcomeUnknownError", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("create: %d attempts, want exactly 1", n)
	}
}

func TestCanceledContextStopsRetries(t *testing.T) {
	t.Parallel()
	srv := newRecordingServer(t, jsonReply(503, `{"message":"Service Unavailable"}`))
	ctx, cancel := context.WithCancel(context.Background())
	p := RetryPolicy{Attempts: 10, Base: time.Millisecond, Cap: time.Millisecond,
		Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }}
	c, _ := New(Target{URL: srv.URL}, WithRetry(p))
	_, err := c.Ping(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests after cancel, want 1", n)
	}
}

// connection refused proves a write never left: it is a plain error, not
// an unknown outcome.
func TestWriteToClosedPortIsNotUnknown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ := New(Target{URL: "http://" + addr + "/prod/R"})
	_, err = c.Delete(context.Background(), "1")
	var unknown *OutcomeUnknownError
	if err == nil || errors.As(err, &unknown) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkNewRequest is the per-request cost `bench` pays to build (and,
// under iam, sign) one request.
func BenchmarkNewRequest(b *testing.B) {
	body := []byte(`{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`)
	for _, tc := range []struct {
		name string
		t    Target
	}{
		{"none", Target{URL: "https://abc.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager"}},
		{"apikey", Target{URL: "https://abc.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Auth: wire.AuthAPIKey, APIKey: "k"}},
		{"iam", Target{URL: "https://abc.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager", Auth: wire.AuthIAM, Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := New(tc.t)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.NewRequest(ctx, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
