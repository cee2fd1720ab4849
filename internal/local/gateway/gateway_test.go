package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ddbops/ddbops/internal/wire"
)

// recorder is a fake integration that records the proxy events it gets.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayProxyRequest
	resp   func(*events.APIGatewayProxyRequest) events.APIGatewayProxyResponse
}

func (r *recorder) HandleProxy(_ context.Context, ev *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	r.mu.Lock()
	r.events = append(r.events, *ev)
	r.mu.Unlock()
	if r.resp != nil {
		return r.resp(ev)
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`}
}

func (r *recorder) last(t *testing.T) events.APIGatewayProxyRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("the integration was not called")
	}
	return r.events[len(r.events)-1]
}

// adapters starts g behind both HTTP servers and returns their base URLs
// (scheme://host:port): fasthttp (what Serve uses) and net/http (Handler).
func adapters(t *testing.T, g *Gateway) map[string]string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := g.NewServer(context.Background())
	go func() { _ = fs.Serve(ln) }()
	t.Cleanup(func() { _ = fs.Shutdown(); _ = ln.Close() })
	hs := httptest.NewServer(g)
	t.Cleanup(hs.Close)
	return map[string]string{"fasthttp": "http://" + ln.Addr().String(), "net/http": hs.URL}
}

func testGateway(h Handler, auth, key string) *Gateway {
	return New(Config{Handler: h, Stage: "prod", Resource: "DynamoDBManager", Auth: auth, APIKey: key})
}

// TestUnknownRoutes: anything but POST /<stage>/<resource> gets API
// Gateway's 403 Missing Authentication Token, in every auth mode, before
// authentication.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{wire.AuthNone, wire.AuthAPIKey} {
		rec := &recorder{}
		for name, base := range adapters(t, testGateway(rec, auth, "k0123456789012345678901")) {
			tests := []struct{ method, path string }{
				{http.MethodGet, "/prod/DynamoDBManager"},
				{http.MethodPut, "/prod/DynamoDBManager"},
				{http.MethodDelete, "/prod/DynamoDBManager"},
				{http.MethodOptions, "/prod/DynamoDBManager"},
				{http.MethodPost, "/prod/Other"},
				{http.MethodPost, "/prod/DynamoDBManager/"},
				{http.MethodPost, "/dev/DynamoDBManager"},
				{http.MethodPost, "/prod"},
				{http.MethodPost, "/"},
				{http.MethodGet, "/favicon.ico"},
			}
			for _, tt := range tests {
				r := do(t, tt.method, base+tt.path, `{"operation":"ping"}`, nil)
				if r.status != 403 || string(r.body) != `{"message":"Missing Authentication Token"}` {
					t.Errorf("%s %s %s %s: %d %s", auth, name, tt.method, tt.path, r.status, r.body)
				}
				if et := r.header.Get("X-Amzn-Errortype"); et != "MissingAuthenticationTokenException" {
					t.Errorf("%s %s %s: x-amzn-ErrorType %q", name, tt.method, tt.path, et)
				}
				checkCommon(t, r)
			}
		}
		if len(rec.events) != 0 {
			t.Errorf("the integration ran for an unknown route")
		}
	}
}

// TestProxyEvent checks the event handed to the integration field by
// field, through both servers.
func TestProxyEvent(t *testing.T) {
	t.Parallel()
	const key = "abcdefghijABCDEFGHIJ0123456789"
	rec := &recorder{}
	for name, base := range adapters(t, testGateway(rec, wire.AuthAPIKey, key)) {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+"/prod/DynamoDBManager?a=1&a=2&b=x", strings.NewReader(tutorialRead))
			req.Header.Set("x-api-key", key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Add("X-Multi", "one")
			req.Header.Add("X-Multi", "two")
			req.Header.Set("User-Agent", "ddbops-test/1")
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			ev := rec.last(t)
			host := strings.TrimPrefix(base, "http://")
			_, port, _ := net.SplitHostPort(host)
			checks := []struct {
				what      string
				got, want any
			}{
				{"resource", ev.Resource, "/DynamoDBManager"},
				{"path", ev.Path, "/DynamoDBManager"},
				{"httpMethod", ev.HTTPMethod, "POST"},
				{"body", ev.Body, tutorialRead},
				{"isBase64Encoded", ev.IsBase64Encoded, false},
				{"headers x-api-key", ev.Headers["X-Api-Key"], key},
				{"headers content-type", ev.Headers["Content-Type"], "application/json"},
				{"headers host", ev.Headers["Host"], host},
				{"headers x-forwarded-for", ev.Headers["X-Forwarded-For"], "127.0.0.1"},
				{"headers x-forwarded-port", ev.Headers["X-Forwarded-Port"], port},
				{"headers x-forwarded-proto", ev.Headers["X-Forwarded-Proto"], "http"},
				{"headers last of multi", ev.Headers["X-Multi"], "two"},
				{"multiValueHeaders", strings.Join(ev.MultiValueHeaders["X-Multi"], ","), "one,two"},
				{"queryStringParameters", ev.QueryStringParameters["a"] + ev.QueryStringParameters["b"], "2x"},
				{"multiValueQueryStringParameters", strings.Join(ev.MultiValueQueryStringParameters["a"], ","), "1,2"},
				{"requestContext.stage", ev.RequestContext.Stage, "prod"},
				{"requestContext.resourcePath", ev.RequestContext.ResourcePath, "/DynamoDBManager"},
				{"requestContext.path", ev.RequestContext.Path, "/prod/DynamoDBManager"},
				{"requestContext.httpMethod", ev.RequestContext.HTTPMethod, "POST"},
				{"requestContext.requestId", ev.RequestContext.RequestID, resp.Header.Get("X-Amzn-Requestid")},
				{"requestContext.protocol", ev.RequestContext.Protocol, "HTTP/1.1"},
				{"requestContext.accountId", ev.RequestContext.AccountID, localAccountID},
				{"requestContext.domainName", ev.RequestContext.DomainName, host},
				{"identity.sourceIp", ev.RequestContext.Identity.SourceIP, "127.0.0.1"},
				{"identity.userAgent", ev.RequestContext.Identity.UserAgent, "ddbops-test/1"},
				{"identity.apiKey", ev.RequestContext.Identity.APIKey, key},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
			if ev.RequestContext.RequestTimeEpoch == 0 || ev.RequestContext.RequestTime == "" {
				t.Errorf("request time not set: %+v", ev.RequestContext)
			}
			// The event must survive the JSON round trip Lambda gives it.
			b, err := json.Marshal(ev)
			if err != nil || !strings.Contains(string(b), `"requestContext":{"accountId":"123456789012"`) {
				t.Errorf("event JSON: %v %s", err, b)
			}
		})
	}
}

// TestIntegrationFailures: a panicking handler or a malformed proxy
// response is API Gateway's 502, and the server keeps serving; the
// function's own headers pass through.
func TestIntegrationFailures(t *testing.T) {
	t.Parallel()
	rec := &recorder{resp: func(ev *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
		switch ev.Body {
		case "panic":
			panic("boom")
		case "bad":
			return events.APIGatewayProxyResponse{StatusCode: 0}
		case "b64":
			return events.APIGatewayProxyResponse{StatusCode: 201, Body: "eyJ4IjoxfQ==", IsBase64Encoded: true,
				Headers: map[string]string{"X-Custom": "yes"}, MultiValueHeaders: map[string][]string{"X-Many": {"1", "2"}}}
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{}`}
	}}
	for name, base := range adapters(t, testGateway(rec, wire.AuthNone, "")) {
		url := base + "/prod/DynamoDBManager"
		for _, body := range []string{"panic", "bad"} {
			r := post(t, url, body)
			if r.status != 502 || string(r.body) != `{"message":"Internal server error"}` {
				t.Errorf("%s %s: %d %s", name, body, r.status, r.body)
			}
			checkCommon(t, r)
		}
		r := post(t, url, "b64")
		if r.status != 201 || string(r.body) != `{"x":1}` || r.header.Get("X-Custom") != "yes" || strings.Join(r.header.Values("X-Many"), ",") != "1,2" {
			t.Errorf("%s passthrough: %d %s %v", name, r.status, r.body, r.header)
		}
		if r := post(t, url, "ok"); r.status != 200 {
			t.Errorf("%s: not serving after failures: %d", name, r.status)
		}
	}
}

// TestOversizedBodies: over 1 MiB is the function's 413, whether the
// length is announced or the body is chunked, and the client gets the
// answer (not a reset).
func TestOversizedBodies(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	for name, base := range adapters(t, testGateway(rec, wire.AuthNone, "")) {
		url := base + "/prod/DynamoDBManager"
		big := strings.Repeat("x", 1<<20+1)
		for _, chunked := range []bool{false, true} {
			var rd io.Reader = strings.NewReader(big)
			if chunked {
				rd = io.MultiReader(rd) // hides the length: chunked encoding
			}
			req, _ := http.NewRequest(http.MethodPost, url, rd)
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatalf("%s chunked=%v: %v", name, chunked, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct{ Error struct{ Code string } }
			_ = json.Unmarshal(b, &e)
			if resp.StatusCode != 413 || e.Error.Code != "PayloadTooLarge" {
				t.Errorf("%s chunked=%v: %d %s", name, chunked, resp.StatusCode, b)
			}
		}
		// Exactly at the limit is accepted.
		if r := post(t, url, big[:1<<20]); r.status != 200 {
			t.Errorf("%s: 1 MiB body: %d %s", name, r.status, r.body)
		}
	}
	for _, ev := range rec.events {
		if len(ev.Body) > 1<<20 {
			t.Errorf("the integration got a %d-byte body", len(ev.Body))
		}
	}
}

// TestRequestIDs: request ids are random UUIDs in the version 4 layout.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if !uuid.MatchString(id) || seen[id] {
			t.Fatalf("request id %q: not a fresh version 4 UUID", id)
		}
		seen[id] = true
	}
}
