package local

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTable is the table the tests' stacks serve (the tutorial's).
const testTable = "lambda-apigateway"

// Bodies of the tutorial, byte for byte.
const (
	tutorialCreate = `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`
	tutorialRead   = `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`
	tutorialList   = `{"operation":"list","tableName":"lambda-apigateway","payload":{}}`
	tutorialEcho   = `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`
)

// frame is one record of a journal or snapshot file as the store frames
// it: the payload's CRC-32C in 8 hex digits, a space, the payload, a
// newline.
func frame(payload string) []byte {
	return fmt.Appendf(nil, "%08x %s\n", crc32.Checksum([]byte(payload), crc32.MakeTable(crc32.Castagnoli)), payload)
}

// withNames completes o with the tutorial's table, stage and resource,
// which Open needs and most tests do not vary.
func withNames(o Options) Options {
	if o.TableName == "" {
		o.TableName = testTable
	}
	if o.Stage == "" {
		o.Stage = "prod"
	}
	if o.Resource == "" {
		o.Resource = "DynamoDBManager"
	}
	return o
}

// server is a stack serving on a free loopback port.
type server struct {
	stack *Stack
	info  ServerInfo
	stop  func() error // shuts down, closes, returns Serve's error
}

// serve opens a stack with opts and serves it until the test ends (or
// stop is called).
func serve(t *testing.T, opts Options) *server {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	s, err := Open(context.Background(), withNames(opts))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return serveStack(t, s)
}

func serveStack(t *testing.T, s *Stack) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan ServerInfo, 1)
	done := make(chan error, 1)
	go func() { done <- s.ServeWithReady(ctx, ln, func(i ServerInfo) { ready <- i }) }()
	srv := &server{stack: s}
	select {
	case srv.info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready after 10s")
	}
	var once sync.Once
	var serveErr error
	srv.stop = func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
			if err := s.Close(); err != nil && serveErr == nil {
				serveErr = err
			}
		})
		return serveErr
	}
	t.Cleanup(func() { _ = srv.stop() })
	return srv
}

// response is one HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

var testClient = &http.Client{Timeout: 30 * time.Second}

// do sends method url with body and headers.
func do(t *testing.T, method, url, body string, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func post(t *testing.T, url, body string) response {
	t.Helper()
	return do(t, http.MethodPost, url, body, nil)
}

// checkCommon asserts what every answer carries.
func checkCommon(t *testing.T, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if id := r.header.Get("X-Amzn-Requestid"); len(id) != 36 {
		t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
	}
	if !json.Valid(r.body) {
		t.Errorf("body is not JSON: %s", r.body)
	}
}

// inProcess runs body through h (the net/http adapter) without a network.
func inProcess(t *testing.T, h http.Handler, body string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/prod/DynamoDBManager", strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}
