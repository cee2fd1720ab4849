package local

// Fuzz targets for the local gateway's HTTP input.
//
// FuzzGateway builds a request from a method, a request target, a block
// of header lines and a body, parses it with net/http's own request
// parser (what the server would hand the gateway; what it rejects never
// reaches the gateway) and serves it through (*Stack).Handler() under
// each auth mode; under iam it may first sign it with the SDK's SigV4
// signer, so that the verifier meets arbitrary signed headers, paths and
// queries. FuzzGatewayRaw writes raw bytes to a real fasthttp server on
// loopback (what `ddbops local` serves with) and parses what comes back.
//
// Invariants: no panic; every answer has a valid status, Content-Type
// application/json, a request id and a JSON body; no 5xx (the engine
// never fails here, so a 500 or 502 is a bug); everything off the route
// or without the API key is 403; a request the SDK signed with the right
// credentials is never refused for its signature; every acknowledged
// write is durable when the answer is sent; and, every checkEvery inputs,
// the data dir recovers to exactly what the stack serves.
//
// Each fuzzing process opens its stacks once (before f.Fuzz), so the
// recovery check depends on the inputs before it; a failure it reports
// names the divergence, which the input that tripped it may not explain
// alone.
//
// Run by hand, e.g. for 10 minutes on 2 cores:
//
//	go test -run '^$' -fuzz '^FuzzGateway$' -fuzztime 10m -parallel 2 ./internal/local
//	go test -run '^$' -fuzz '^FuzzGatewayRaw$' -fuzztime 10m -parallel 2 ./internal/local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/wire"
)

const (
	fuzzAPIKey = "fuzz-api-key-0123456789abcdef"
	fuzzRoute  = "/prod/DynamoDBManager"
	// checkEvery is how often (in inputs per process) the data dirs are
	// recovered and compared with what the stacks serve.
	checkEvery = 500
)

// fuzzModes are the auth modes, indexed by the fuzzed mode byte.
var fuzzModes = [...]string{wire.AuthNone, wire.AuthAPIKey, wire.AuthIAM}

// fuzzStacks are one stack per auth mode, for one fuzzing process.
type fuzzStacks struct {
	stacks [len(fuzzModes)]*Stack
	inputs int
}

func openFuzzStacks(f *testing.F) *fuzzStacks {
	f.Helper()
	fs := &fuzzStacks{}
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	for i, mode := range fuzzModes {
		st, err := Open(context.Background(), withNames(Options{
			DataDir: f.TempDir(), Auth: mode, APIKey: fuzzAPIKey, Region: testRegion, Credentials: creds,
		}))
		if err != nil {
			f.Fatalf("Open %s: %v", mode, err)
		}
		f.Cleanup(func() { _ = st.Close() })
		fs.stacks[i] = st
	}
	return fs
}

// afterInput checks the stacks after every input and, every checkEvery
// inputs, that their data dirs recover to what they serve.
func (fs *fuzzStacks) afterInput(t *testing.T) {
	t.Helper()
	for _, st := range fs.stacks {
		checkDurable(t, st)
	}
	if fs.inputs++; fs.inputs%checkEvery == 0 {
		for _, st := range fs.stacks {
			checkRecovers(t, st)
		}
	}
}

// checkDurable: the store is healthy (every answered write was committed,
// with its fsync, before it was answered).
func checkDurable(t *testing.T, st *Stack) {
	t.Helper()
	if err := st.st.Err(); err != nil {
		t.Fatalf("%s stack: store failed: %v", st.opts.Auth, err)
	}
}

// checkRecovers opens a copy of st's data dir (as a restart would) and
// compares every item with what st serves.
func checkRecovers(t *testing.T, st *Stack) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{store.DBFile, store.WitnessFile} {
		b, err := os.ReadFile(filepath.Join(st.opts.DataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	re, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
	if err != nil {
		t.Fatalf("%s stack: its data dir does not recover: %v", st.opts.Auth, err)
	}
	defer re.Close()
	if !re.Recovery().CheckedAtOpen {
		t.Errorf("%s stack: a small database was not verified at Open", st.opts.Auth)
	}
	served, recovered := allItems(t, st), allItems(t, re)
	if !maps.Equal(served, recovered) {
		for id, it := range served {
			if recovered[id] != it {
				t.Errorf("item %q: served %s, recovered %s", id, it, recovered[id])
			}
		}
		for id, it := range recovered {
			if _, ok := served[id]; !ok {
				t.Errorf("item %q: recovered %s, not served", id, it)
			}
		}
		t.Fatalf("%s stack: %d items served, %d recovered from its data dir", st.opts.Auth, len(served), len(recovered))
	}
}

// allItems lists every item through the stack's handler (behind the
// gateway's auth), keyed by id.
func allItems(t *testing.T, st *Stack) map[string]string {
	t.Helper()
	items := map[string]string{}
	body := `{"operation":"list","payload":{}}`
	for {
		ev := &events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Body: body}
		resp := st.h.HandleProxy(context.Background(), ev)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
		var page struct {
			Items            []json.RawMessage
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, raw := range page.Items {
			var key struct{ ID string }
			if err := json.Unmarshal(raw, &key); err != nil {
				t.Fatal(err)
			}
			items[key.ID] = string(raw)
		}
		if page.LastEvaluatedKey == nil {
			return items
		}
		body = `{"operation":"list","payload":{"ExclusiveStartKey":` + string(page.LastEvaluatedKey) + `}}`
	}
}

// The seed requests: the tutorial's bodies and every operation, with the
// headers clients send.
var fuzzBodies = []string{
	tutorialCreate, tutorialRead, tutorialList, tutorialEcho,
	`{"operation":"ping"}`,
	`{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n = :n, age = :a","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Alice",":a":42},"ReturnValues":"ALL_NEW"}}`,
	`{"operation":"update","payload":{"Key":{"id":"c"},"UpdateExpression":"SET n = if_not_exists(n, :z) + :one","ExpressionAttributeValues":{":z":0,":one":1}}}`,
	`{"operation":"create","payload":{"Item":{"id":"2","tags":["a","b"],"nested":{"ok":true,"none":null},"pi":3.14},"ConditionExpression":"attribute_not_exists(id)"}}`,
	`{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_OLD"}}`,
	`{"operation":"list","payload":{"Limit":1,"ExclusiveStartKey":{"id":"1"},"FilterExpression":"age > :a","ProjectionExpression":"id, #n","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":a":40}}}`,
	`{"operation":"read","payload":{"Key":{"id":"1"},"ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"name"},"ConsistentRead":true}}`,
	`{"operation":`,
}

var fuzzHeaders = []string{
	"Content-Type: application/json",
	"Content-Type: application/json\nX-Api-Key: " + fuzzAPIKey,
	"X-Api-Key: wrong-key\nUser-Agent: curl/8.5.0\nAccept: */*",
	"Transfer-Encoding: chunked",
	"Content-Length: 5",
	"Content-Length: 99999999",
	"Authorization: AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST0000001/20240101/eu-west-3/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\nX-Amz-Date: 20240101T000000Z",
	"Expect: 100-continue\nX-Api-Key: " + fuzzAPIKey,
	"Connection: close\nX-Forwarded-For: 10.0.0.1\nX-Amz-Security-Token: tok",
}

// buildRequest parses a request made of the fuzzed parts, as net/http's
// server would read it off the wire.
func buildRequest(method, target, headers string, body []byte) (*http.Request, error) {
	var b bytes.Buffer
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n")
	if headers = strings.TrimRight(headers, "\r\n"); headers != "" {
		b.WriteString(headers + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil, err
	}
	// What net/http's server checks after ReadRequest (server.go,
	// readRequest) and answers with its own 400.
	if len(req.Header["Host"]) > 1 {
		return nil, errors.New("too many Host headers")
	}
	for k, vs := range req.Header {
		if !validFieldName(k) {
			return nil, fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vs {
			if !validFieldValue(v) {
				return nil, fmt.Errorf("invalid header value %q", v)
			}
		}
	}
	delete(req.Header, "Host")
	req.RemoteAddr = "127.0.0.1:40000"
	return req, nil
}

// validFieldName reports whether k is an RFC 9110 token, as net/http's
// server requires of header names.
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether v has no control characters but tab,
// as net/http's server requires of header values.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// signRequest signs req for the iam stack with the SDK's signer, as `ddbops
// call` does. It reports false when the request cannot be signed (its
// body cannot be read).
func signRequest(req *http.Request) bool {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return false
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	return v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", testRegion, time.Now()) == nil
}

// checkAnswer holds for every answer of the gateway.
func checkAnswer(t *testing.T, status int, h http.Header, body []byte, withBody bool) {
	t.Helper()
	if status < 200 || status > 599 {
		t.Fatalf("status %d", status)
	}
	// 501 and 505 refuse a transfer coding or an HTTP version the
	// server does not speak; any other 5xx is a bug.
	if status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported {
		t.Fatalf("status %d for a client's input (the engine is healthy): %s", status, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if id := headerFold(h, "x-amzn-RequestId"); len(id) != 36 {
		t.Fatalf("x-amzn-RequestId %q", id)
	}
	if withBody && !json.Valid(body) {
		t.Fatalf("body is not JSON: %q", body)
	}
}

// headerFold finds a header whatever the case of its key: the gateway
// writes API Gateway's spelling (x-amzn-RequestId), which a recorder keeps.
func headerFold(h http.Header, key string) string {
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func FuzzGateway(f *testing.F) {
	for i, body := range fuzzBodies {
		hdr := fuzzHeaders[i%len(fuzzHeaders)]
		f.Add(uint8(i), http.MethodPost, fuzzRoute, hdr, []byte(body))
		f.Add(uint8(i+1), http.MethodPost, fuzzRoute, "X-Api-Key: "+fuzzAPIKey, []byte(body))
	}
	f.Add(uint8(1), http.MethodPost, fuzzRoute+"?a=1&a=2&b", fuzzHeaders[1], []byte(tutorialCreate))
	f.Add(uint8(0), http.MethodGet, fuzzRoute, "", []byte(nil))
	f.Add(uint8(0), http.MethodHead, "/prod/%44ynamoDBManager", "", []byte(nil))
	f.Add(uint8(0), http.MethodOptions, "*", "", []byte(nil))
	f.Add(uint8(0), http.MethodPost, "http://other.example"+fuzzRoute, "", []byte(tutorialRead))
	f.Add(uint8(0), http.MethodPost, "//prod/DynamoDBManager/", "", []byte(tutorialRead))
	f.Add(uint8(0), http.MethodPost, fuzzRoute, "Transfer-Encoding: chunked", []byte("5\r\n{\"ope\r\n0\r\n\r\n"))
	f.Add(uint8(0), http.MethodPost, fuzzRoute, "Transfer-Encoding: chunked", []byte("14\r\n{\"operation\":\"ping\"}\r\n0\r\n\r\n"))
	f.Add(uint8(5), http.MethodPost, fuzzRoute, "X-Custom: a  b\nX-Multi: 1\nX-Multi: 2", []byte(tutorialRead)) // iam, signed
	f.Add(uint8(2), http.MethodPost, fuzzRoute, fuzzHeaders[6], []byte(tutorialRead))

	fs := openFuzzStacks(f)
	f.Fuzz(func(t *testing.T, mode uint8, method, target, headers string, body []byte) {
		req, err := buildRequest(method, target, headers, body)
		if err != nil {
			return // net/http answers it with its own 400; the gateway never sees it
		}
		m := int(mode) % len(fuzzModes)
		signed := fuzzModes[m] == wire.AuthIAM && mode&4 != 0 && signRequest(req)
		rec := httptest.NewRecorder()
		fs.stacks[m].Handler().ServeHTTP(rec, req)

		res := rec.Result()
		out := rec.Body.Bytes()
		checkAnswer(t, res.StatusCode, res.Header, out, true)
		// The route is matched exactly as sent: no decoding, no cleaning.
		path, _, _ := strings.Cut(req.RequestURI, "?")
		onRoute := req.Method == http.MethodPost && path == fuzzRoute
		errType := headerFold(res.Header, "x-amzn-ErrorType")
		switch {
		case !onRoute && (res.StatusCode != 403 || errType != "MissingAuthenticationTokenException"):
			t.Fatalf("%s %s: %d %s %s, want 403 Missing Authentication Token", req.Method, req.URL.Path, res.StatusCode, errType, out)
		case fuzzModes[m] == wire.AuthAPIKey && req.Header.Get("X-Api-Key") != fuzzAPIKey && res.StatusCode != 403:
			t.Fatalf("apikey: %d without the key: %s", res.StatusCode, out)
		case fuzzModes[m] == wire.AuthIAM && !signed && res.StatusCode != 403:
			t.Fatalf("iam: %d for an unsigned request: %s", res.StatusCode, out)
		case signed && onRoute && (errType == "InvalidSignatureException" || errType == "IncompleteSignatureException"):
			t.Fatalf("iam: a request the SDK signed is refused: %s %s", errType, out)
		}
		fs.afterInput(t)
	})
}

// ---- raw bytes to the fasthttp server ----

// fuzzServers are the stacks served on loopback by fasthttp.
type fuzzServers struct {
	*fuzzStacks
	addrs [len(fuzzModes)]string
}

func serveFuzzStacks(f *testing.F) *fuzzServers {
	f.Helper()
	fs := &fuzzServers{fuzzStacks: openFuzzStacks(f)}
	for i, st := range fs.stacks {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- st.ServeWithReady(ctx, ln, func(ServerInfo) { close(ready) }) }()
		select {
		case <-ready:
		case err := <-done:
			cancel()
			f.Fatalf("Serve: %v", err)
		}
		f.Cleanup(func() {
			cancel()
			<-done
		})
		fs.addrs[i] = ln.Addr().String()
	}
	return fs
}

// exchange writes raw to addr, half-closes, and reads everything the
// server sends until it closes.
func exchange(t *testing.T, addr string, raw []byte) []byte {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the server is gone: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// The server may answer and hang up before reading everything: a
	// failed write is not the server's fault.
	_, _ = conn.Write(raw)
	_ = conn.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server neither answered nor closed within 20s (read %d bytes)", len(out))
	}
	return out // a reset after unread input is fine too
}

// requestMethods returns the methods of the requests net/http can parse
// from raw, in order, stopping at the first it cannot parse.
func requestMethods(raw []byte) []string {
	var methods []string
	r := bufio.NewReader(bytes.NewReader(raw))
	for {
		req, err := http.ReadRequest(r)
		if err != nil {
			return methods
		}
		methods = append(methods, req.Method)
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return methods
		}
	}
}

// checkRawAnswers parses the answers in out. The first request's method
// is its first token (fasthttp answers HEAD without a body); later ones
// are paired with the requests net/http parses from raw, and parsing
// stops where that pairing is lost.
func checkRawAnswers(t *testing.T, raw, out []byte) int {
	t.Helper()
	methods := requestMethods(raw)
	if len(methods) == 0 {
		first, _, _ := bytes.Cut(raw, []byte(" "))
		methods = []string{string(first)}
	}
	r := bufio.NewReader(bytes.NewReader(out))
	n := 0
	for n < len(methods) {
		if _, err := r.Peek(1); err == io.EOF {
			break
		}
		res, err := http.ReadResponse(r, &http.Request{Method: methods[n]})
		if err != nil {
			if n == 0 {
				t.Fatalf("unparsable answer: %v: %q", err, out)
			}
			break
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			if n == 0 {
				t.Fatalf("answer body: %v: %q", err, out)
			}
			break
		}
		if res.StatusCode == http.StatusContinue {
			continue
		}
		checkAnswer(t, res.StatusCode, res.Header, body, methods[n] != http.MethodHead)
		n++
	}
	return n
}

func FuzzGatewayRaw(f *testing.F) {
	for i, body := range fuzzBodies {
		hdr := strings.ReplaceAll(fuzzHeaders[i%len(fuzzHeaders)], "\n", "\r\n")
		if strings.HasPrefix(hdr, "Content-Length") || strings.HasPrefix(hdr, "Transfer-Encoding") {
			hdr = "Content-Type: application/json"
		}
		req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nContent-Length: %d\r\n\r\n%s", fuzzRoute, hdr, len(body), body)
		f.Add(uint8(i), []byte(req))
	}
	ping := `{"operation":"ping"}`
	for _, raw := range []string{
		"GET " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"HEAD " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"POST " + fuzzRoute + " HTTP/1.0\r\nContent-Length: " + strconv.Itoa(len(ping)) + "\r\n\r\n" + ping,
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n" + ping + "\r\n0\r\n\r\n",
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(ping)) + "\r\n\r\n" + ping,
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n{",
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + strconv.Itoa(len(ping)) + "\r\n\r\n" + ping +
			"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + strconv.Itoa(len(tutorialRead)) + "\r\n\r\n" + tutorialRead,
		"POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + fuzzAPIKey + "\r\nContent-Length: 1\r\n\r\n{",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"POST /prod/DynamoDBManager?x=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"\r\n\r\nPOST " + fuzzRoute + " HTTP/1.1\r\n\r\n",
	} {
		f.Add(uint8(0), []byte(raw))
		f.Add(uint8(1), []byte(raw))
	}

	fs := serveFuzzStacks(f)
	f.Fuzz(func(t *testing.T, mode uint8, raw []byte) {
		m := int(mode) % len(fuzzModes)
		out := exchange(t, fs.addrs[m], raw)
		checkRawAnswers(t, raw, out)
		fs.afterInput(t)
		if fs.inputs%checkEvery == 0 {
			// Still serving, over the network.
			ping := "POST " + fuzzRoute + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + fuzzAPIKey + "\r\nContent-Length: 20\r\n\r\n" + `{"operation":"ping"}`
			out := exchange(t, fs.addrs[0], []byte(ping))
			if !bytes.HasPrefix(out, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(out, []byte(`"pong"`)) {
				t.Fatalf("ping after %d inputs: %q", fs.inputs, out)
			}
		}
	})
}
