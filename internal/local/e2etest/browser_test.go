package e2etest

import (
	"strconv"
	"strings"
	"testing"
)

// TestHostRule: on a loopback bind, a request whose Host is not a
// loopback name or address gets 403 and does nothing (DNS rebinding: a
// page of evil.example whose name now resolves to 127.0.0.1 sends
// Host: evil.example). Loopback names and addresses pass, with or without
// a port, in any case.
func TestHostRule(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none"}})
	refused := []string{
		"evil.example", "evil.example:" + s.port, "127.0.0.1.nip.io:" + s.port, "localhost.evil.example",
		"localhost.", "0.0.0.0:" + s.port, "10.0.0.1", "[::2]:" + s.port, "[::ffff:127.0.0.1]", "2130706433",
		"127.1", "", "localhost:99999",
	}
	for i, host := range refused {
		id := "host-refused-" + string(rune('a'+i))
		a := s.post(t, createBody(id), "Host: "+host)
		if a.status != 403 || !strings.Contains(a.body, "Host header must name the loopback interface") {
			t.Errorf("Host %q: %s, want 403", host, a)
		}
		if s.stored(t, id) {
			t.Errorf("Host %q: item stored", host)
		}
	}
	// A malformed Host is malformed before it is foreign.
	for _, host := range []string{"[::1", "[::1]x", "localhost:0x50", "local host", "localhost/x"} {
		if a := s.post(t, createBody("host-malformed"), "Host: "+host); a.status != 400 {
			t.Errorf("Host %q: %s, want 400", host, a)
		}
	}
	if s.stored(t, "host-malformed") {
		t.Error("a request with a malformed Host stored its item")
	}
	// HTTP/1.0 without Host names nothing and passes.
	h10 := "POST " + route + " HTTP/1.0\r\nContent-Length: " + strconv.Itoa(len(createBody("host-none"))) + "\r\n\r\n" + createBody("host-none")
	if a := s.roundTrip(t, h10); a.status != 200 || !s.stored(t, "host-none") {
		t.Errorf("HTTP/1.0 without Host: %s, want 200", a)
	}
	allowed := []string{
		s.addr, "localhost:" + s.port, "LocalHost:" + s.port, "localhost", "127.0.0.1", "127.3.4.5:8080", "[::1]:" + s.port, "[::1]",
	}
	for i, host := range allowed {
		id := "host-allowed-" + string(rune('a'+i))
		if a := s.post(t, createBody(id), "Host: "+host); a.status != 200 || !s.stored(t, id) {
			t.Errorf("Host %q: %s, want 200 and the item stored", host, a)
		}
	}
}

// TestOriginRule: a request with an Origin other than the server's own
// gets 403 and does nothing, whatever its content type (a cross-site
// text/plain POST needs no preflight); the server's own origin (either
// loopback name, its port) passes, and so do requests without Origin.
func TestOriginRule(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none"}})
	foreign := []string{
		"http://evil.example", "https://evil.example", "null", "http://127.0.0.1:1", "http://localhost",
		"https://127.0.0.1:" + s.port, "http://127.0.0.1:" + s.port + "/", "http://evil.example:" + s.port, "",
	}
	for i, origin := range foreign {
		id := "origin-foreign-" + string(rune('a'+i))
		a := s.post(t, createBody(id), "Origin: "+origin, "Content-Type: text/plain")
		if a.status != 403 || !strings.Contains(a.body, "origin") {
			t.Errorf("Origin %q: %s, want 403", origin, a)
		}
		if a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %q: Access-Control-Allow-Origin %q", origin, a.header.Get("Access-Control-Allow-Origin"))
		}
		if s.stored(t, id) {
			t.Errorf("Origin %q: item stored", origin)
		}
	}
	// Two Origin fields: refused, whichever is first.
	if a := s.post(t, createBody("origin-two"), "Origin: http://127.0.0.1:"+s.port, "Origin: http://evil.example"); a.status != 403 || s.stored(t, "origin-two") {
		t.Errorf("two Origins: %s, want 403", a)
	}
	own := []string{"http://127.0.0.1:" + s.port, "http://localhost:" + s.port, "http://[::1]:" + s.port}
	for i, origin := range own {
		id := "origin-own-" + string(rune('a'+i))
		a := s.post(t, createBody(id), "Origin: "+origin, "Content-Type: text/plain")
		if a.status != 200 || !s.stored(t, id) {
			t.Errorf("Origin %q (the server's own): %s, want 200", origin, a)
		}
		if a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %q: a same-origin answer carries Access-Control-Allow-Origin", origin)
		}
	}
	// A preflight without --cors: no OPTIONS method.
	pre := "OPTIONS " + route + " HTTP/1.1\r\nHost: " + s.addr + "\r\nOrigin: http://localhost:5173\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
	if a := s.roundTrip(t, pre); a.status != 403 {
		t.Errorf("preflight without --cors: %s, want 403", a)
	}
}

// TestCORS: --cors lets the named origins through the way API Gateway's
// OPTIONS method and Access-Control-Allow-Origin do; other origins still
// get 403, preflight included.
func TestCORS(t *testing.T) {
	t.Parallel()
	const key = "cors-test-key-0123456789abc"
	s := start(t, spec{args: []string{"--auth", "apikey", "--api-key", key, "--cors", "http://localhost:5173, HTTPS://App.Example:443"}})
	if got := strings.Join(s.doc.CORS, ","); got != "http://localhost:5173,https://app.example" {
		t.Errorf("ready document cors = %q", got)
	}
	preflight := func(origin string) answer {
		return s.roundTrip(t, "OPTIONS "+route+" HTTP/1.1\r\nHost: "+s.addr+"\r\nOrigin: "+origin+
			"\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type,x-api-key\r\nConnection: close\r\n\r\n")
	}
	for _, origin := range []string{"http://localhost:5173", "https://app.example"} {
		a := preflight(origin)
		want := map[string]string{
			"Access-Control-Allow-Origin":  origin,
			"Access-Control-Allow-Methods": "OPTIONS,POST",
			"Access-Control-Allow-Headers": "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token",
			"Vary":                         "Origin",
		}
		if a.status != 200 {
			t.Errorf("preflight from %s: %s, want 200", origin, a)
		}
		for k, v := range want {
			if got := a.header.Get(k); got != v {
				t.Errorf("preflight from %s: %s = %q, want %q", origin, k, got, v)
			}
		}
		// The call itself, with the key: the answer carries the origin.
		id := "cors-" + strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
		b := s.post(t, createBody(id), "Origin: "+origin, "Content-Type: application/json", "X-Api-Key: "+key)
		if b.status != 200 || b.header.Get("Access-Control-Allow-Origin") != origin || b.header.Get("Vary") != "Origin" {
			t.Errorf("POST from %s: %s, Access-Control-Allow-Origin %q", origin, b, b.header.Get("Access-Control-Allow-Origin"))
		}
		// The API's own refusals too, so that the page can read them.
		c := s.post(t, createBody(id+"-nokey"), "Origin: "+origin)
		if c.status != 403 || c.header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("POST from %s without the key: %s, Access-Control-Allow-Origin %q", origin, c, c.header.Get("Access-Control-Allow-Origin"))
		}
	}
	for _, origin := range []string{"http://localhost:5174", "http://evil.example", "null", "https://localhost:5173"} {
		if a := preflight(origin); a.status != 403 || a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: %s, want 403 without CORS headers", origin, a)
		}
		if a := s.post(t, createBody("cors-foreign"), "Origin: "+origin, "X-Api-Key: "+key); a.status != 403 {
			t.Errorf("POST from %s: %s, want 403", origin, a)
		}
	}
	if s.stored(t, "cors-foreign", "X-Api-Key: "+key) {
		t.Error("a foreign origin's POST stored its item")
	}
	// A preflight needs no key (API Gateway's OPTIONS method has no auth);
	// OPTIONS elsewhere is still an undefined route.
	other := "OPTIONS /prod/Other HTTP/1.1\r\nHost: " + s.addr + "\r\nOrigin: http://localhost:5173\r\nConnection: close\r\n\r\n"
	if a := s.roundTrip(t, other); a.status != 403 || !strings.Contains(a.body, "Missing Authentication Token") {
		t.Errorf("OPTIONS /prod/Other: %s", a)
	}
}

// TestCORSAnyOrigin: --cors '*' answers every origin with
// Access-Control-Allow-Origin: *, and warns when nothing authenticates.
func TestCORSAnyOrigin(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none", "--cors", "*"}})
	a := s.post(t, createBody("any-origin"), "Origin: http://anything.example")
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST with --cors '*': %s, Access-Control-Allow-Origin %q", a, a.header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(s.stderr.String(), "warning: --cors * with --auth none") {
		t.Errorf("no warning for --cors '*' with --auth none:\n%s", s.stderr)
	}
}

// TestCORSFlagErrors: a malformed --cors is a usage error (exit 2) naming
// the origin; nothing starts.
func TestCORSFlagErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"localhost:5173", "ftp://x", "http://x/path", "null", "*,http://a", "http://a,,http://b", "http://user@x", "http://x:99999"} {
		s := launch(t, spec{args: []string{"--auth", "none", "--cors", v}})
		if code := s.exit(t); code != 2 || !strings.Contains(s.stderr.String(), "invalid --cors") {
			t.Errorf("--cors %q: exit %d, stderr:\n%s", v, code, s.stderr)
		}
	}
}
