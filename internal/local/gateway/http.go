package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/ddbops/ddbops/internal/wire"
)

// The net/http adapter: ServeHTTP.

// Header values shared by every response (never mutated).
var hdrJSON = []string{"application/json"}

// ServeHTTP serves one request with net/http.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if e := g.precheck(r.Method, r.URL.Path, r.Header.Get); e != nil {
		writeHTTP(w, reqID, errorOut(e))
		return
	}
	body, tooLarge, err := readBody(w, r)
	if tooLarge {
		writeHTTP(w, reqID, tooLargeOut(reqID))
		return
	}
	if err != nil {
		writeHTTP(w, reqID, errorOut(errBadBody))
		return
	}
	header := make(http.Header, len(r.Header)+4)
	for k, v := range r.Header {
		header[k] = v
	}
	in := &inbound{
		method:     r.Method,
		path:       r.URL.Path,
		rawPath:    r.URL.RawPath,
		rawQuery:   r.URL.RawQuery,
		host:       r.Host,
		proto:      r.Proto,
		remoteAddr: r.RemoteAddr,
		localPort:  localPort(r),
		userAgent:  r.UserAgent(),
		header:     header,
		body:       body,
	}
	if r.ContentLength >= 0 {
		header["Content-Length"] = []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	writeHTTP(w, reqID, g.handle(r.Context(), in, reqID))
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

// errBadBody answers a body that could not be read (client gone,
// malformed chunking).
var errBadBody = &gwError{http.StatusBadRequest, "BadRequestException", "Could not read the request body"}

// readBody reads at most wire.MaxBodyBytes; a longer body is refused
// without reading it all.
func readBody(w http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > wire.MaxBodyBytes {
		return nil, true, nil
	}
	rd := http.MaxBytesReader(w, r.Body, wire.MaxBodyBytes)
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		if _, err = io.ReadFull(rd, body); err != nil {
			return nil, false, err
		}
		return body, false, nil
	}
	body, err = io.ReadAll(rd)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	return body, false, err
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}
