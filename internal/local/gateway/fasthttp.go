package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ddbops/ddbops/internal/wire"
)

// The fasthttp adapter: NewServer.

// Timeouts of the server: a request (headers and body) must arrive within
// readTimeout of its first byte, and a new connection's first byte within
// readTimeout of its accept; a keep-alive connection may idle idleTimeout.
const (
	readTimeout  = 30 * time.Second
	writeTimeout = 30 * time.Second
	idleTimeout  = 2 * time.Minute
)

// fdReserve is how many descriptors the connection cap leaves to the rest
// of the process under a low open-file limit: the data dir's files, the
// runtime's, a compaction's temporary files.
const fdReserve = 64

// bodySkipped marks a request whose body the head checks refused before
// fasthttp read any of it (headerReceived). Its name is not a token, so
// no request can carry it: checkFraming refuses such a field name.
const bodySkipped = "ddbops body-skipped"

// Server is the fasthttp server `ddbops local` listens with. Serve it on
// one listener.
type Server struct {
	g        *Gateway
	srv      *fasthttp.Server
	base     context.Context
	maxConns int
	loopback atomic.Bool            // the listener is on a loopback address
	port     atomic.Pointer[string] // the port it listens on
}

// NewServer returns the server `ddbops local` listens with. base is the
// context handlers run under: it is not canceled at shutdown, so
// in-flight requests (and their journal waits) finish.
func (g *Gateway) NewServer(base context.Context) *Server {
	limit := openFileLimit()
	s := &Server{g: g, base: base, maxConns: connCap(g.maxConns, limit)}
	if g.maxConns > 0 && s.maxConns < g.maxConns && g.log != nil {
		fmt.Fprintf(g.log, "ddbops local: serving at most %d connections at once: the open-file limit is %d (local-max-conns is %d)\n",
			s.maxConns, limit, g.maxConns)
	}
	noPort := ""
	s.port.Store(&noPort)
	s.srv = &fasthttp.Server{
		Handler:        s.serve,
		HeaderReceived: s.headerReceived,
		// Bodies arrive as a stream, of which fasthttp reads at most one
		// byte before the handler (headerReceived); the handler reads
		// the rest after the head checks, against the body budget.
		StreamRequestBody:            true,
		MaxRequestBodySize:           wire.MaxBodyBytes,
		ErrorHandler:                 s.fastError,
		ReadTimeout:                  readTimeout,
		WriteTimeout:                 writeTimeout,
		IdleTimeout:                  idleTimeout,
		ReadBufferSize:               16 << 10,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		// Sentinel errors that fastError can tell apart, which quote
		// nothing of the request.
		SecureErrorLogMessage: true,
		Logger:                discardLogger{},
	}
	return s
}

// connCap is maxConns (0: no cap of its own) kept under the open-file
// limit fdLimit (0: unknown), less a reserve for the rest of the process.
func connCap(maxConns, fdLimit int) int {
	if fdLimit <= 0 {
		return maxConns
	}
	room := fdLimit - min(fdReserve, fdLimit/2)
	if maxConns <= 0 || room < maxConns {
		return room
	}
	return maxConns
}

// MaxConns is the connection cap in force (0: none).
func (s *Server) MaxConns() int { return s.maxConns }

// Serve accepts connections on ln until Shutdown. On a loopback address
// it applies the Host rule (docs/local-security.md#host-and-origin).
func (s *Server) Serve(ln net.Listener) error {
	s.loopback.Store(IsLoopbackAddr(ln.Addr()))
	port := ""
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	s.port.Store(&port)
	return s.srv.Serve(newListener(ln, s.maxConns, readTimeout, s.g.log))
}

// Shutdown stops accepting, waits for in-flight requests and closes idle
// connections.
func (s *Server) Shutdown() error { return s.srv.Shutdown() }

// ShutdownWithContext is Shutdown that gives up when ctx is done.
func (s *Server) ShutdownWithContext(ctx context.Context) error {
	return s.srv.ShutdownWithContext(ctx)
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// head is the request's head as admit sees it.
func (s *Server) head(rh *fasthttp.RequestHeader, fr framing) head {
	path, _, _ := bytes.Cut(rh.RequestURI(), []byte{'?'})
	h := head{
		method:  string(rh.Method()),
		path:    string(path),
		host:    string(rh.Host()),
		hasHost: fr.hosts > 0,
		apiKeys: fr.apiKeys,
		port:    *s.port.Load(),
		header:  func(k string) string { return string(rh.Peek(k)) },
	}
	if fr.origins > 0 {
		h.origin, h.hasOrigin = string(rh.Peek("Origin")), true
		if fr.origins > 1 {
			h.origin = "" // which one would the browser have meant?
		}
	}
	return h
}

// headerReceived runs between the headers and the body: when the head
// checks refuse the request, it makes fasthttp read none of the body (the
// handler answers and closes the connection) and send no 100 Continue.
// Otherwise fasthttp reads at most the body's first byte before the
// handler.
func (s *Server) headerReceived(rh *fasthttp.RequestHeader) fasthttp.RequestConfig {
	fr, ferr := checkFraming(rh.Protocol(), rh.RawHeaders())
	refused := ferr != nil
	if !refused {
		h := s.head(rh, fr)
		v := s.g.admit(s.base, &h, s.loopback.Load())
		refused = v.err != nil || v.preflight || fr.contentLength > wire.MaxBodyBytes
	}
	if refused {
		if ferr != nil || fr.hasBody() {
			rh.Set(bodySkipped, "1")
			rh.SetContentLength(0)
		}
		rh.Del("Expect")
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: 1}
}

func (s *Server) serve(c *fasthttp.RequestCtx) {
	reqID := newRequestID()
	rh := &c.Request.Header
	skipped := len(rh.Peek(bodySkipped)) > 0
	fr, ferr := checkFraming(rh.Protocol(), rh.RawHeaders())
	if ferr != nil {
		s.refuse(c, reqID, errorOut(ferr), true)
		return
	}
	h := s.head(rh, fr)
	v := s.g.admit(s.base, &h, s.loopback.Load())
	var out outbound
	switch {
	case v.err != nil:
		out = errorOut(v.err)
	case v.preflight:
		out = preflightOut(v.allowOrigin)
	case fr.contentLength > wire.MaxBodyBytes:
		out = tooLargeOut(reqID)
	case skipped:
		// The head passes now but did not when it arrived: an iam date
		// at the edge of the skew window. Its body is gone.
		out = errorOut(errForbidden)
	default:
		s.serveAdmitted(c, reqID, &v, fr, h.path)
		return
	}
	out.allowOrigin = v.allowOrigin
	s.refuse(c, reqID, out, fr.hasBody())
}

// refuse writes out for a request whose body (if unread) is never read:
// the connection then closes, lingering so that the client reads out.
func (s *Server) refuse(c *fasthttp.RequestCtx, reqID string, out outbound, unread bool) {
	writeFast(c, reqID, out)
	if unread {
		c.SetConnectionClose()
		lingerOnClose(c.Conn())
	}
}

func (s *Server) serveAdmitted(c *fasthttp.RequestCtx, reqID string, v *verdict, fr framing, path string) {
	rh := &c.Request.Header
	var body []byte
	var held int64
	if fr.hasBody() {
		n := fr.contentLength
		if fr.chunked {
			n = -1
		}
		stream := c.RequestBodyStream()
		if stream == nil {
			stream = bytes.NewReader(c.Request.Body())
		}
		var refusal *outbound
		body, held, refusal = s.g.readBody(stream, n, reqID)
		if refusal != nil {
			refusal.allowOrigin = v.allowOrigin
			s.refuse(c, reqID, *refusal, true)
			return
		}
	}
	header := make(http.Header, rh.Len()+4)
	for k, val := range rh.All() {
		key := http.CanonicalHeaderKey(string(k))
		header[key] = append(header[key], string(val))
	}
	delete(header, "Host") // the event sets it from the request's host
	proto := "HTTP/1.1"
	if !rh.IsHTTP11() {
		proto = "HTTP/1.0"
	}
	_, query, _ := bytes.Cut(rh.RequestURI(), []byte{'?'})
	in := &inbound{
		method:     string(c.Method()),
		path:       path,
		rawQuery:   string(query),
		host:       string(c.Host()),
		proto:      proto,
		remoteAddr: c.RemoteAddr().String(),
		userAgent:  string(rh.UserAgent()),
		header:     header,
		body:       body,
	}
	if ta, ok := c.LocalAddr().(*net.TCPAddr); ok {
		in.localPort = strconv.Itoa(ta.Port)
	}
	out := s.g.handle(s.base, in, v, reqID)
	s.g.bodies.give(held)
	out.allowOrigin = v.allowOrigin
	writeFast(c, reqID, out)
}

var errHeadersTooLarge = &gwError{http.StatusRequestHeaderFieldsTooLarge, "RequestHeaderFieldsTooLargeException", "Request Header Fields Too Large"}
var errRequestTimeout = &gwError{http.StatusRequestTimeout, "RequestTimeoutException", "Request Timeout"}

// fastError answers what fasthttp could not parse or read, and closes
// the connection: where the request ends is unknown.
func (s *Server) fastError(c *fasthttp.RequestCtx, err error) {
	e := badRequest("malformed request")
	var ne net.Error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		e = errHeadersTooLarge
	case errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding):
		e = errCoding
	case errors.Is(err, fasthttp.ErrDuplicateContentLength):
		e = errTwoLengths
	case strings.Contains(err.Error(), "cannot parse Content-Length"):
		// fasthttp's only sign of it, whichever digit is wrong.
		e = errBadLength
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e = errRequestTimeout
	}
	s.refuse(c, newRequestID(), errorOut(e), true)
}

func writeFast(c *fasthttp.RequestCtx, reqID string, out outbound) {
	h := &c.Response.Header
	h.SetContentType("application/json")
	out.writeHeaders(h)
	h.Set("x-amzn-RequestId", reqID)
	if out.errType != "" {
		h.Set("x-amzn-ErrorType", out.errType)
	}
	c.SetStatusCode(out.status)
	c.SetBody(out.body)
}
