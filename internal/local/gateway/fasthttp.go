package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ddbops/ddbops/internal/wire"
)

// The fasthttp adapter: NewServer.

// drainLimit is how much of a refused body is read and discarded.
const drainLimit = 10 << 20

// NewServer returns the fasthttp server `ddbops local` listens with. base
// is the context handlers run under: it is not canceled at shutdown, so
// in-flight requests (and their journal waits) finish.
func (g *Gateway) NewServer(base context.Context) *fasthttp.Server {
	return &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) { g.serveFast(base, c) },
		// Bodies up to the limit arrive read; longer ones as a stream,
		// which serveFast refuses with 413 without keeping them.
		MaxRequestBodySize:           wire.MaxBodyBytes,
		StreamRequestBody:            true,
		ErrorHandler:                 g.fastError,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		ReadBufferSize:               16 << 10,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       discardLogger{},
	}
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

func (g *Gateway) serveFast(base context.Context, c *fasthttp.RequestCtx) {
	reqID := newRequestID()
	rh := &c.Request.Header
	path := string(c.Path())
	if e := g.precheckFast(c, path); e != nil {
		writeFast(c, reqID, errorOut(e))
		return
	}
	var body []byte
	if c.Request.IsBodyStream() {
		stream := c.RequestBodyStream()
		b, err := io.ReadAll(io.LimitReader(stream, wire.MaxBodyBytes+1))
		if err != nil {
			writeFast(c, reqID, errorOut(errBadBody))
			c.SetConnectionClose()
			return
		}
		if len(b) > wire.MaxBodyBytes {
			writeFast(c, reqID, tooLargeOut(reqID))
			// Let the client finish sending (up to API Gateway's own
			// 10 MB payload limit) so that it reads the answer instead of
			// a reset; past that, hang up.
			if n, _ := io.CopyN(io.Discard, stream, drainLimit); n == drainLimit {
				c.SetConnectionClose()
			}
			return
		}
		body = b
	} else {
		body = c.PostBody()
	}
	header := make(http.Header, rh.Len()+4)
	for k, v := range rh.All() {
		key := http.CanonicalHeaderKey(string(k))
		header[key] = append(header[key], string(v))
	}
	delete(header, "Host") // the event sets it from the request's host
	proto := "HTTP/1.1"
	if !rh.IsHTTP11() {
		proto = "HTTP/1.0"
	}
	in := &inbound{
		method:     string(c.Method()),
		path:       path,
		rawQuery:   string(c.URI().QueryString()),
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
	if raw := c.URI().PathOriginal(); string(raw) != path {
		in.rawPath = string(raw)
	}
	writeFast(c, reqID, g.handle(base, in, reqID))
}

// fastError answers what fasthttp could not parse or read. A body over
// the limit gets the route and auth checks first, as API Gateway would
// apply them, then the function's 413.
func (g *Gateway) fastError(c *fasthttp.RequestCtx, err error) {
	reqID := newRequestID()
	var tooLarge bool
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		tooLarge = true
	}
	if !tooLarge {
		writeFast(c, reqID, errorOut(errBadBody))
		c.SetConnectionClose()
		return
	}
	if e := g.precheckFast(c, string(c.Path())); e != nil {
		writeFast(c, reqID, errorOut(e))
	} else {
		writeFast(c, reqID, tooLargeOut(reqID))
	}
	c.SetConnectionClose()
}

// precheckFast is precheck on a fasthttp request whose path is path.
func (g *Gateway) precheckFast(c *fasthttp.RequestCtx, path string) *gwError {
	rh := &c.Request.Header
	return g.precheck(string(c.Method()), path, func(k string) string { return string(rh.Peek(k)) })
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
