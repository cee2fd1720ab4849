package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// HandlerTransport returns an http.RoundTripper that serves every request
// with h in this process: no socket, no port. `call --local` uses it to run
// the local stack's gateway when no `ddbops local` is serving the data dir;
// everything above the transport (auth headers, signing, retries, response
// decoding) is the same code path as over the network.
func HandlerTransport(h http.Handler) http.RoundTripper { return handlerTransport{h: h} }

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	// The handler sees a server-side request, as net/http would build it.
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:0"
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	if req.ContentLength > 0 {
		sreq.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	w := &recorder{header: http.Header{}}
	defer func() {
		// A server would log the panic and drop the connection; here the
		// caller gets an error instead of a crashed CLI.
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("in-process handler: panic: %v", p)
		}
	}()
	t.h.ServeHTTP(w, sreq)
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the smallest http.ResponseWriter: status, headers as of
// WriteHeader (as a real server sends them), body.
type recorder struct {
	header http.Header
	sent   http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status != 0 {
		return
	}
	r.status = code
	r.sent = r.header.Clone()
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(b)
}
