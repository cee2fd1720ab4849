package e2etest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestPathMatchedExactly: the route is matched exactly as sent, with API
// Gateway's 403 Missing Authentication Token for every other spelling (no
// cleaning of // or .., no decoding of %2F or of any other escape); the
// query is not part of the path.
func TestPathMatchedExactly(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none"}})
	for i, target := range []string{
		"//prod/DynamoDBManager",
		"/prod//DynamoDBManager",
		"/prod/x/../DynamoDBManager",
		"/prod/./DynamoDBManager",
		"/prod%2FDynamoDBManager",
		"/prod%2fDynamoDBManager",
		"/prod/%44ynamoDBManager",
		"/prod/DynamoDBManager/",
		"/prod/dynamodbmanager",
		"/PROD/DynamoDBManager",
		"/prod/DynamoDBManager%00",
		"/prod/DynamoDBManager;x",
		"http://" + "127.0.0.1/prod/DynamoDBManager",
		"*",
	} {
		id := "path-" + string(rune('a'+i))
		a := s.roundTrip(t, s.request(target, createBody(id)))
		if a.status != 403 || a.body != `{"message":"Missing Authentication Token"}` || a.header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
			t.Errorf("POST %s: %s, want 403 Missing Authentication Token", target, a)
		}
		if s.stored(t, id) {
			t.Errorf("POST %s reached the function: item %s stored", target, id)
		}
	}
	if a := s.roundTrip(t, s.request(route+"?a=1&b=%2F", createBody("with-query"))); a.status != 200 || !s.stored(t, "with-query") {
		t.Errorf("POST %s?query: %s, want 200", route, a)
	}
}

// TestStrictHTTP: HTTP/1.0 and HTTP/1.1 only (505 otherwise), no
// Content-Length together with Transfer-Encoding, a Host on every
// HTTP/1.1 request and only one, no obsolete line folding, well-formed
// field names, values and lengths (400), chunked as the only transfer
// coding (501), one x-api-key (403); each refused request does nothing
// and closes its connection.
func TestStrictHTTP(t *testing.T) {
	t.Parallel()
	const key = "strict-http-key-0123456789"
	s := start(t, spec{args: []string{"--auth", "apikey", "--api-key", key}})
	body := func(id string) string { return createBody(id) }
	line := func(method, target, proto string, hdr []string, id string) string {
		b := body(id)
		var sb strings.Builder
		sb.WriteString(method + " " + target + " " + proto + "\r\n")
		for _, h := range hdr {
			sb.WriteString(h + "\r\n")
		}
		sb.WriteString("\r\n" + b)
		return sb.String()
	}
	host := "Host: " + s.addr
	keyHdr := "X-Api-Key: " + key
	cl := func(id string) string { return "Content-Length: " + strconv.Itoa(len(body(id))) }
	chunked := func(id string) string {
		b := body(id)
		return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(b), b)
	}
	tests := []struct {
		name, raw string
		status    int
		message   string
	}{
		{"HTTP/9.9", line("POST", route, "HTTP/9.9", []string{host, keyHdr, cl("v99")}, "v99"), 505, "HTTP Version Not Supported"},
		{"HTTP/2.0", line("POST", route, "HTTP/2.0", []string{host, keyHdr, cl("v20")}, "v20"), 505, "HTTP Version Not Supported"},
		{"HTTP/1.2", line("POST", route, "HTTP/1.2", []string{host, keyHdr, cl("v12")}, "v12"), 505, "HTTP Version Not Supported"},
		{"HTTP/0.9", line("POST", route, "HTTP/0.9", []string{host, keyHdr, cl("v09")}, "v09"), 505, "HTTP Version Not Supported"},
		{"Content-Length with Transfer-Encoding", "POST " + route + " HTTP/1.1\r\n" + host + "\r\n" + keyHdr + "\r\n" + cl("clte") + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("clte"), 400, "both Content-Length and Transfer-Encoding"},
		{"HTTP/1.1 without Host", line("POST", route, "HTTP/1.1", []string{keyHdr, cl("nohost")}, "nohost"), 400, "HTTP/1.1 request without Host"},
		{"two Hosts", line("POST", route, "HTTP/1.1", []string{host, host, keyHdr, cl("twohosts")}, "twohosts"), 400, "more than one Host"},
		{"folded header", line("POST", route, "HTTP/1.1", []string{host, keyHdr, "X-Note: a", " b", cl("fold")}, "fold"), 400, "obsolete line folding"},
		{"folded with a tab", line("POST", route, "HTTP/1.1", []string{host, keyHdr, "X-Note: a", "\tb", cl("foldtab")}, "foldtab"), 400, "obsolete line folding"},
		{"space before colon", line("POST", route, "HTTP/1.1", []string{host, keyHdr, "X-Note : a", cl("spacecolon")}, "spacecolon"), 400, "malformed header field name"},
		{"two lengths", line("POST", route, "HTTP/1.1", []string{host, keyHdr, cl("twocl"), "Content-Length: 3"}, "twocl"), 400, "more than one Content-Length"},
		{"two equal lengths", line("POST", route, "HTTP/1.1", []string{host, keyHdr, cl("twoeq"), cl("twoeq")}, "twoeq"), 400, "more than one Content-Length"},
		{"signed length", line("POST", route, "HTTP/1.1", []string{host, keyHdr, "Content-Length: +" + strconv.Itoa(len(body("plus")))}, "plus"), 400, "malformed Content-Length"},
		{"gzip coding", "POST " + route + " HTTP/1.1\r\n" + host + "\r\n" + keyHdr + "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked("gzip"), 501, "Not Implemented"},
		{"Transfer-Encoding in HTTP/1.0", "POST " + route + " HTTP/1.0\r\n" + keyHdr + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("te10"), 400, "Transfer-Encoding in an HTTP/1.0 request"},
		{"no minor version", line("POST", route, "HTTP/1", []string{host, keyHdr, cl("v1")}, "v1"), 400, "Bad Request"},
		{"headers over 16 KiB", line("POST", route, "HTTP/1.1", []string{host, keyHdr, "X-Big: " + strings.Repeat("b", 20<<10), cl("big")}, "big"), 431, "Request Header Fields Too Large"},
		{"two x-api-key", line("POST", route, "HTTP/1.1", []string{host, keyHdr, keyHdr, cl("twokeys")}, "twokeys"), 403, "Forbidden"},
		{"a wrong and the right x-api-key", line("POST", route, "HTTP/1.1", []string{host, "X-Api-Key: wrong-key-0123456789abcdef", keyHdr, cl("wrongright")}, "wrongright"), 403, "Forbidden"},
	}
	for _, tt := range tests {
		a := s.roundTrip(t, tt.raw)
		if a.status != tt.status || !strings.Contains(a.body, tt.message) {
			t.Errorf("%s: %s, want %d %q", tt.name, a, tt.status, tt.message)
		}
		if tt.status != 403 && !a.closed {
			t.Errorf("%s: the connection stays open after a framing error", tt.name)
		}
	}
	for _, id := range []string{"v99", "v20", "v12", "v09", "clte", "nohost", "twohosts", "fold", "foldtab", "spacecolon", "twocl", "plus", "gzip", "te10", "twokeys", "wrongright", "twoeq", "v1", "big"} {
		if s.stored(t, id, keyHdr) {
			t.Errorf("refused request %s stored its item", id)
		}
	}
	// What stays accepted: HTTP/1.0 without Host, chunked HTTP/1.1,
	// header names in any case.
	ok := []struct{ name, raw, id string }{
		{"HTTP/1.0 without Host", line("POST", route, "HTTP/1.0", []string{keyHdr, cl("h10")}, "h10"), "h10"},
		{"chunked", "POST " + route + " HTTP/1.1\r\n" + host + "\r\nx-API-key: " + key + "\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" + chunked("chunk"), "chunk"},
	}
	for _, tt := range ok {
		if a := s.roundTrip(t, tt.raw); a.status != 200 || !s.stored(t, tt.id, keyHdr) {
			t.Errorf("%s: %s, want 200 and the item stored", tt.name, a)
		}
	}
}
