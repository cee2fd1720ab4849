package gateway

import (
	"bytes"
	"net/http"
)

// Strict HTTP/1.1 framing (RFC 9112), checked on the raw header block as
// it arrived: fasthttp parses leniently (it folds continuation lines,
// accepts any HTTP/d.d version, a request with both Content-Length and
// Transfer-Encoding, and HTTP/1.1 without Host), and the same bytes can
// mean two requests to two parsers. The rules and their answers are in
// docs/local-security.md#strict-http.

// framing is what a request's raw header block says about its body.
type framing struct {
	contentLength int64 // -1: no Content-Length
	chunked       bool  // Transfer-Encoding: chunked
	apiKeys       int   // how many x-api-key fields
	origins       int   // how many Origin fields
	hosts         int   // how many Host fields (0 or 1 once checked)
}

// hasBody reports whether a body follows the header block.
func (f framing) hasBody() bool { return f.chunked || f.contentLength > 0 }

func badRequest(msg string) *gwError {
	return &gwError{http.StatusBadRequest, "BadRequestException", "Bad Request: " + msg}
}

var (
	errTwoLengths = badRequest("more than one Content-Length")
	errBadLength  = badRequest("malformed Content-Length")
	errVersion    = &gwError{http.StatusHTTPVersionNotSupported, "HttpVersionNotSupportedException", "HTTP Version Not Supported: this server speaks HTTP/1.0 and HTTP/1.1"}
	errCoding     = &gwError{http.StatusNotImplemented, "NotImplementedException", "Not Implemented: the only Transfer-Encoding accepted is chunked"}
)

var (
	hdrHost             = []byte("Host")
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrAPIKey           = []byte("X-Api-Key")
	hdrOrigin           = []byte("Origin")
)

// checkFraming checks the protocol of the request line and the raw header
// block (field lines up to the empty line, CRLF or bare LF).
func checkFraming(proto, raw []byte) (framing, *gwError) {
	f := framing{contentLength: -1}
	var http11 bool
	switch string(proto) {
	case "HTTP/1.1":
		http11 = true
	case "HTTP/1.0":
	default:
		// fasthttp has already refused anything that is not HTTP/d.d.
		return f, errVersion
	}
	var lengths int
	var te []byte
	for len(raw) > 0 {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return f, badRequest("obsolete line folding")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || !isToken(name) {
			return f, badRequest("malformed header field name")
		}
		value = bytes.Trim(value, " \t")
		if !validFieldValue(value) {
			return f, badRequest("control character in a header field value")
		}
		switch {
		case bytes.EqualFold(name, hdrHost):
			f.hosts++
			if !validHost(value) {
				return f, badRequest("malformed Host")
			}
		case bytes.EqualFold(name, hdrContentLength):
			n, ok := parseLength(value)
			if !ok {
				return f, errBadLength
			}
			if lengths++; lengths > 1 {
				return f, errTwoLengths
			}
			f.contentLength = n
		case bytes.EqualFold(name, hdrTransferEncoding):
			if te != nil {
				te = append(te, ',')
			}
			te = append(te, value...)
		case bytes.EqualFold(name, hdrAPIKey):
			f.apiKeys++
		case bytes.EqualFold(name, hdrOrigin):
			f.origins++
		}
	}
	switch {
	case f.hosts > 1:
		return f, badRequest("more than one Host")
	case f.hosts == 0 && http11:
		return f, badRequest("HTTP/1.1 request without Host")
	}
	if te != nil {
		switch {
		case !http11:
			return f, badRequest("Transfer-Encoding in an HTTP/1.0 request")
		case lengths > 0:
			return f, badRequest("both Content-Length and Transfer-Encoding")
		case !bytes.EqualFold(bytes.Trim(te, " \t"), []byte("chunked")):
			return f, errCoding
		}
		f.chunked = true
	}
	return f, nil
}

// isToken reports whether b is an RFC 9110 token (a field name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validFieldValue: visible ASCII, space, tab and obs-text; no other
// control character (a bare CR, NUL, DEL).
func validFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost: the characters of an authority (RFC 3986 reg-name, IP
// literal, port), as net/http's server requires of Host.
func validHost(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || !hostChars[c] {
			return false
		}
	}
	return true
}

var hostChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%" {
		t[c] = true
	}
	return t
}()

// parseLength parses a Content-Length: decimal digits only.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
