package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/valyala/fasthttp"

	"github.com/ddbops/ddbops/internal/wire"
)

func TestCheckFraming(t *testing.T) {
	t.Parallel()
	const host = "Host: 127.0.0.1:3000\r\n"
	tests := []struct {
		name, proto, raw string
		status           int // 0: accepted
		want             framing
	}{
		{"plain", "HTTP/1.1", host + "Content-Length: 12\r\n\r\n", 0, framing{contentLength: 12, hosts: 1}},
		{"bare LF", "HTTP/1.1", "Host: x\nContent-Length: 3\n\n", 0, framing{contentLength: 3, hosts: 1}},
		{"chunked any case", "HTTP/1.1", host + "Transfer-Encoding:  Chunked \r\n\r\n", 0, framing{contentLength: -1, chunked: true, hosts: 1}},
		{"counts keys and origins", "HTTP/1.1", host + "x-api-key: a\r\nX-API-KEY: b\r\norigin: o\r\n\r\n", 0, framing{contentLength: -1, apiKeys: 2, origins: 1, hosts: 1}},
		{"HTTP/1.0 without Host", "HTTP/1.0", "Content-Length: 1\r\n\r\n", 0, framing{contentLength: 1}},
		{"obs-text value", "HTTP/1.1", host + "X-Name: caf\xc3\xa9\r\n\r\n", 0, framing{contentLength: -1, hosts: 1}},
		{"HTTP/9.9", "HTTP/9.9", host + "\r\n", 505, framing{}},
		{"HTTP/1.2", "HTTP/1.2", host + "\r\n", 505, framing{}},
		{"HTTP/2.0", "HTTP/2.0", host + "\r\n", 505, framing{}},
		{"no Host", "HTTP/1.1", "Content-Length: 1\r\n\r\n", 400, framing{}},
		{"two Hosts", "HTTP/1.1", host + host + "\r\n", 400, framing{}},
		{"bad Host", "HTTP/1.1", "Host: a b\r\n\r\n", 400, framing{}},
		{"Host with a slash", "HTTP/1.1", "Host: a/b\r\n\r\n", 400, framing{}},
		{"fold", "HTTP/1.1", host + "X-A: 1\r\n 2\r\n\r\n", 400, framing{}},
		{"fold tab", "HTTP/1.1", host + "X-A: 1\r\n\t2\r\n\r\n", 400, framing{}},
		{"space before colon", "HTTP/1.1", host + "X-A : 1\r\n\r\n", 400, framing{}},
		{"no colon", "HTTP/1.1", host + "X-A\r\n\r\n", 400, framing{}},
		{"empty name", "HTTP/1.1", host + ": 1\r\n\r\n", 400, framing{}},
		{"NUL in value", "HTTP/1.1", host + "X-A: a\x00b\r\n\r\n", 400, framing{}},
		{"bare CR in value", "HTTP/1.1", host + "X-A: a\rb\r\n\r\n", 400, framing{}},
		{"CL and TE", "HTTP/1.1", host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, framing{}},
		{"TE and CL", "HTTP/1.1", host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400, framing{}},
		{"two CL", "HTTP/1.1", host + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", 400, framing{}},
		{"CL sign", "HTTP/1.1", host + "Content-Length: +3\r\n\r\n", 400, framing{}},
		{"CL list", "HTTP/1.1", host + "Content-Length: 3, 3\r\n\r\n", 400, framing{}},
		{"CL huge", "HTTP/1.1", host + "Content-Length: 9999999999999999999999\r\n\r\n", 400, framing{}},
		{"TE in 1.0", "HTTP/1.0", "Transfer-Encoding: chunked\r\n\r\n", 400, framing{}},
		{"TE gzip", "HTTP/1.1", host + "Transfer-Encoding: gzip\r\n\r\n", 501, framing{}},
		{"TE gzip, chunked", "HTTP/1.1", host + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501, framing{}},
		{"TE split", "HTTP/1.1", host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501, framing{}},
		{"TE identity", "HTTP/1.1", host + "Transfer-Encoding: identity\r\n\r\n", 501, framing{}},
	}
	for _, tt := range tests {
		f, e := checkFraming([]byte(tt.proto), []byte(tt.raw))
		switch {
		case tt.status == 0 && e != nil:
			t.Errorf("%s: refused: %d %s", tt.name, e.status, e.message)
		case tt.status == 0 && f != tt.want:
			t.Errorf("%s: %+v, want %+v", tt.name, f, tt.want)
		case tt.status != 0 && (e == nil || e.status != tt.status):
			t.Errorf("%s: %+v %v, want %d", tt.name, f, e, tt.status)
		}
	}
}

func TestCheckOrigins(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"http://localhost:5173":         "http://localhost:5173",
		" HTTP://LocalHost:5173/ ":      "http://localhost:5173",
		"https://app.example:443":       "https://app.example",
		"http://app.example:80":         "http://app.example",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://[::1]:3000":             "http://[::1]:3000",
		"http://[0:0::1]:3000":          "http://[::1]:3000",
		"https://xn--bcher-kva.example": "https://xn--bcher-kva.example",
	}
	for in, want := range good {
		got, err := CheckOrigins([]string{in})
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("CheckOrigins(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "null", "NULL", "localhost:5173", "ftp://x", "http://", "http://x/path", "http://x?q", "http://x#f",
		"http://user@x", "http://x:0", "http://x:65536", "http://x:", "http://bücher.example", "http://[::1%25lo]:1",
		"file:///tmp", "http://a_b", "//x",
	} {
		if got, err := CheckOrigins([]string{in}); err == nil {
			t.Errorf("CheckOrigins(%q) = %v, want an error", in, got)
		}
	}
	if got, err := ParseOrigins("*"); err != nil || len(got) != 1 || got[0] != AnyOrigin {
		t.Errorf("ParseOrigins(*) = %v, %v", got, err)
	}
	if _, err := ParseOrigins("*,http://a"); err == nil {
		t.Error("* with another origin accepted")
	}
	if got, err := ParseOrigins("http://a, http://b,http://a"); err != nil || strings.Join(got, " ") != "http://a http://b" {
		t.Errorf("ParseOrigins list = %v, %v", got, err)
	}
	if got, err := ParseOrigins("  "); err != nil || got != nil {
		t.Errorf("ParseOrigins(blank) = %v, %v", got, err)
	}
}

func TestLoopbackHost(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"localhost", "LOCALHOST:3000", "127.0.0.1", "127.0.0.1:3000", "127.255.0.9:1", "[::1]", "[::1]:3000", "[0:0:0:0:0:0:0:1]:80"} {
		if !loopbackHost(h) {
			t.Errorf("loopbackHost(%q) = false", h)
		}
	}
	for _, h := range []string{"", "evil.example", "localhost.", "localhost.evil", "sub.localhost", "128.0.0.1", "0.0.0.0", "::1", "[::1", "[::2]",
		"[::ffff:127.0.0.1]", "127.1", "2130706433", "localhost:", "localhost:0", "localhost:99999", "localhost:3000:1", "[::1]:", "[::1]x"} {
		if loopbackHost(h) {
			t.Errorf("loopbackHost(%q) = true", h)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origin, host, port string
		want               bool
	}{
		{"http://127.0.0.1:3000", "127.0.0.1:3000", "3000", true},
		{"http://localhost:3000", "127.0.0.1:3000", "3000", true},
		{"http://[::1]:3000", "127.0.0.1:3000", "3000", true},
		{"http://localhost", "localhost", "80", true},
		{"http://lan.example:3000", "LAN.example:3000", "3000", true}, // a non-loopback bind's own name
		{"http://127.0.0.1:3001", "127.0.0.1:3000", "3000", false},
		{"https://127.0.0.1:3000", "127.0.0.1:3000", "3000", false},
		{"http://evil.example:3000", "127.0.0.1:3000", "3000", false},
		{"null", "127.0.0.1:3000", "3000", false},
		{"", "127.0.0.1:3000", "3000", false},
		{"http://", "", "3000", false},
		{"http://localhost:3000", "127.0.0.1:3000", "", false},
	}
	for _, tt := range tests {
		if got := sameOrigin(tt.origin, tt.host, tt.port); got != tt.want {
			t.Errorf("sameOrigin(%q, %q, %q) = %v", tt.origin, tt.host, tt.port, got)
		}
	}
}

func TestReadBodyBudget(t *testing.T) {
	t.Parallel()
	g := New(Config{Handler: &recorder{}, Stage: "prod", Resource: "DynamoDBManager", Auth: wire.AuthNone, MaxBodyBytesInFlight: wire.MaxBodyBytes + 2})
	body, held, out := g.readBody(strings.NewReader("hello"), 5, "id")
	if out != nil || string(body) != "hello" || held != 5 || g.bodies.used.Load() != 5 {
		t.Fatalf("read 5 bytes: %q %d %v used %d", body, held, out, g.bodies.used.Load())
	}
	// What is held stays taken: a full-size body no longer fits.
	if _, _, out := g.readBody(strings.NewReader(strings.Repeat("x", wire.MaxBodyBytes)), wire.MaxBodyBytes, "id"); out == nil || out.status != 503 || out.headers["Retry-After"] != "1" {
		t.Fatalf("a body over the budget: %+v", out)
	}
	g.bodies.give(held)
	if g.bodies.used.Load() != 0 {
		t.Fatalf("used %d after giving back", g.bodies.used.Load())
	}
	// Chunked (length unknown): read whole, or refused past the limit
	// with what it held given back.
	big := strings.Repeat("y", 300<<10)
	body, held, out = g.readBody(iotest.HalfReader(strings.NewReader(big)), -1, "id")
	if out != nil || string(body) != big || held < int64(len(big)) {
		t.Fatalf("chunked 300 KiB: %d bytes, held %d, %v", len(body), held, out)
	}
	g.bodies.give(held)
	if _, _, out := g.readBody(strings.NewReader(strings.Repeat("z", wire.MaxBodyBytes+1)), -1, "id"); out == nil || out.status != 413 {
		t.Fatalf("chunked over the limit: %+v", out)
	}
	if _, _, out := g.readBody(strings.NewReader(""), wire.MaxBodyBytes+1, "id"); out == nil || out.status != 413 {
		t.Fatalf("announced over the limit: %+v", out)
	}
	if _, _, out := g.readBody(iotest.ErrReader(errors.New("gone")), 10, "id"); out == nil || out.status != 400 {
		t.Fatalf("a body that cannot be read: %+v", out)
	}
	if _, _, out := g.readBody(iotest.ErrReader(io.ErrUnexpectedEOF), -1, "id"); out == nil || out.status != 400 {
		t.Fatalf("a chunked body cut short: %+v", out)
	}
	if used := g.bodies.used.Load(); used != 0 {
		t.Errorf("%d bytes still taken after refusals", used)
	}
}

// TestAdmitOrder: unavailable before Host, Host before Origin, Origin
// before the route, the route before auth; a preflight needs no key.
func TestAdmitOrder(t *testing.T) {
	t.Parallel()
	var down error
	g := New(Config{Handler: &recorder{}, Stage: "prod", Resource: "DynamoDBManager", Auth: wire.AuthAPIKey, APIKey: "k0123456789012345678901",
		CORS: []string{"http://localhost:5173"}, Unavailable: func() error { return down }})
	none := func(string) string { return "" }
	tests := []struct {
		name string
		h    head
		want *gwError
		pre  bool
	}{
		{"foreign Host and Origin, other route", head{method: "GET", path: "/x", host: "evil", hasHost: true, origin: "http://evil", hasOrigin: true, port: "3000", header: none}, errHostForbidden, false},
		{"foreign Origin, other route", head{method: "GET", path: "/x", host: "127.0.0.1:3000", hasHost: true, origin: "http://evil", hasOrigin: true, port: "3000", header: none}, errOriginForbidden, false},
		{"other route, no key", head{method: "POST", path: "/x", host: "127.0.0.1:3000", hasHost: true, port: "3000", header: none}, errMissingToken, false},
		{"no key", head{method: "POST", path: "/prod/DynamoDBManager", host: "127.0.0.1:3000", hasHost: true, port: "3000", header: none}, errForbidden, false},
		{"two keys", head{method: "POST", path: "/prod/DynamoDBManager", host: "127.0.0.1:3000", hasHost: true, apiKeys: 2, port: "3000",
			header: func(k string) string { return map[string]string{"X-Api-Key": "k0123456789012345678901"}[k] }}, errForbidden, false},
		{"preflight, no key", head{method: "OPTIONS", path: "/prod/DynamoDBManager", host: "127.0.0.1:3000", hasHost: true, origin: "http://localhost:5173", hasOrigin: true, port: "3000", header: none}, nil, true},
	}
	for _, tt := range tests {
		v := g.admit(context.Background(), &tt.h, true)
		if v.err != tt.want || v.preflight != tt.pre {
			t.Errorf("%s: %+v, want %v preflight=%v", tt.name, v, tt.want, tt.pre)
		}
	}
	down = errors.New("store damaged")
	if v := g.admit(context.Background(), &tests[0].h, true); v.err == nil || v.err.status != 503 {
		t.Errorf("unavailable: %+v, want 503 first", v)
	}
}

// TestCORSBothAdapters: the Origin rule and the CORS answers are the same
// through fasthttp and net/http.
func TestCORSBothAdapters(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	g := New(Config{Handler: rec, Stage: "prod", Resource: "DynamoDBManager", Auth: wire.AuthNone, CORS: []string{"http://localhost:5173"}})
	for name, base := range adapters(t, g) {
		url := base + "/prod/DynamoDBManager"
		r := do(t, http.MethodOptions, url, "", map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
			r.header.Get("Access-Control-Allow-Methods") != CORSAllowMethods || r.header.Get("Access-Control-Allow-Headers") != CORSAllowHeaders {
			t.Errorf("%s preflight: %d %v", name, r.status, r.header)
		}
		r = do(t, http.MethodPost, url, `{}`, map[string]string{"Origin": "http://localhost:5173"})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || r.header.Get("Vary") != "Origin" {
			t.Errorf("%s allowed POST: %d %v", name, r.status, r.header)
		}
		n := len(rec.events)
		r = do(t, http.MethodPost, url, `{}`, map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"})
		if r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" || len(rec.events) != n {
			t.Errorf("%s foreign POST: %d %v, integration called %d times", name, r.status, r.header, len(rec.events)-n)
		}
		checkCommon(t, r)
	}
}

// TestHostRuleOnLoopbackListener: the fasthttp server on a loopback
// listener refuses a foreign Host; net/http (in-process transports)
// has no listener and no Host rule.
func TestHostRuleOnLoopbackListener(t *testing.T) {
	t.Parallel()
	g := testGateway(&recorder{}, wire.AuthNone, "")
	ad := adapters(t, g)
	for name, want := range map[string]int{"fasthttp": 403, "net/http": 200} {
		req, _ := http.NewRequest(http.MethodPost, ad[name]+"/prod/DynamoDBManager", bytes.NewReader([]byte(`{}`)))
		req.Host = "evil.example"
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: Host evil.example: %d, want %d", name, resp.StatusCode, want)
		}
	}
}

// TestBodySkippedMark: the mark headerReceived leaves is found by the
// handler, and no request off the wire can carry it (its name is no
// token, which checkFraming refuses).
func TestBodySkippedMark(t *testing.T) {
	t.Parallel()
	var rh fasthttp.RequestHeader
	rh.Set(bodySkipped, "1")
	if len(rh.Peek(bodySkipped)) == 0 {
		t.Fatal("the mark set on a header is not found on it")
	}
	if _, e := checkFraming([]byte("HTTP/1.1"), []byte("Host: x\r\n"+bodySkipped+": 1\r\n\r\n")); e == nil || e.status != 400 {
		t.Fatalf("a request carrying the mark: %v, want 400", e)
	}
}
