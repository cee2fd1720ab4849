package gateway

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// The net/http adapter: ServeHTTP, for in-process transports and tests.
// net/http itself enforces strict HTTP/1.x framing; the Host rule belongs
// to a loopback listener (Server.Serve) and does not apply here.

// Header values shared by every response (never mutated).
var hdrJSON = []string{"application/json"}

// ServeHTTP serves one request with net/http.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	path, query, _ := strings.Cut(target, "?")
	h := head{
		method:  r.Method,
		path:    path,
		host:    r.Host,
		hasHost: r.Host != "",
		apiKeys: len(r.Header["X-Api-Key"]),
		port:    localPort(r),
		header:  r.Header.Get,
	}
	if o := r.Header["Origin"]; len(o) > 0 {
		h.origin, h.hasOrigin = o[0], true
		if len(o) > 1 {
			h.origin = ""
		}
	}
	v := g.admit(r.Context(), &h, false)
	switch {
	case v.err != nil:
		out := errorOut(v.err)
		out.allowOrigin = v.allowOrigin
		writeHTTP(w, reqID, out)
		return
	case v.preflight:
		writeHTTP(w, reqID, preflightOut(v.allowOrigin))
		return
	}
	n := r.ContentLength
	if n < 0 && len(r.TransferEncoding) == 0 {
		n = 0
	}
	body, held, refusal := g.readBody(r.Body, n, reqID)
	if refusal != nil {
		refusal.allowOrigin = v.allowOrigin
		writeHTTP(w, reqID, *refusal)
		return
	}
	header := make(http.Header, len(r.Header)+4)
	for k, v := range r.Header {
		header[k] = v
	}
	in := &inbound{
		method:     r.Method,
		path:       path,
		rawQuery:   query,
		host:       r.Host,
		proto:      r.Proto,
		remoteAddr: r.RemoteAddr,
		localPort:  h.port,
		userAgent:  r.UserAgent(),
		header:     header,
		body:       body,
	}
	if r.ContentLength >= 0 {
		header["Content-Length"] = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	out := g.handle(r.Context(), in, &v, reqID)
	g.bodies.give(held)
	out.allowOrigin = v.allowOrigin
	writeHTTP(w, reqID, out)
}

func writeHTTP(w http.ResponseWriter, reqID string, out outbound) {
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	out.writeHeaders(hdr)
	// API Gateway spells it this way on the wire; clients match it
	// case-insensitively.
	hdr["x-amzn-RequestId"] = []string{reqID}
	if out.errType != "" {
		hdr["x-amzn-ErrorType"] = []string{out.errType}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(out.body))}
	w.WriteHeader(out.status)
	_, _ = w.Write(out.body)
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}
