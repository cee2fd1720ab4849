// Package gateway is the local stack's HTTP front: it plays API Gateway
// (routing, API key and SigV4 auth, the Lambda proxy event) in front of an
// in-process handler, over fasthttp or net/http. It knows neither the
// engine nor the store: it gets the handler and the auth settings as values.
package gateway

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/wire"
)

// Handler is the integration behind the gateway: the Lambda handler's API
// Gateway proxy entry point.
type Handler interface {
	HandleProxy(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse
}

// Config is what a Gateway serves and how it authenticates. The wiring
// validates it (Auth one of the wire's modes, Stage and Resource one path
// segment each, APIKey by ValidAPIKey).
type Config struct {
	Handler  Handler
	Stage    string
	Resource string // without the leading slash
	Auth     string // wire.AuthNone, wire.AuthAPIKey or wire.AuthIAM
	APIKey   string // under apikey: the key x-api-key must carry
	// Credentials and Region verify SigV4 signatures under iam: the
	// credentials the client must have signed with (asked on every signed
	// request; wrapped in an aws.CredentialsCache unless they are one) and
	// the region of the credential scope.
	Credentials aws.CredentialsProvider
	Region      string
	// CORS are the browser origins allowed to call the API besides the
	// server's own, as CheckOrigins returns them ([AnyOrigin]: every
	// origin; nil: none).
	CORS []string
	// MaxConns caps the connections the server holds at once; the cap
	// also stays under the open-file limit (0: only that limit).
	MaxConns int
	// MaxBodyBytesInFlight bounds the request-body bytes held at once by
	// the requests being served; a body that does not fit gets 503 (0: no
	// bound). It must be at least wire.MaxBodyBytes.
	MaxBodyBytesInFlight int64
	Log                  io.Writer // where a panicking handler and accept errors are reported; nil: nowhere
	// Unavailable, when set and returning an error, turns every answer
	// into a 503 with that error's text (the store found damage).
	Unavailable func() error
}

// Gateway plays API Gateway (REST API, one resource with POST, Lambda
// proxy integration): it routes, authenticates, builds the proxy event the
// cloud sends and runs the handler in-process. Its logic works on inbound
// and outbound values so that two HTTP servers can carry it: fasthttp
// (NewServer) for `ddbops local`, cheaper per request than net/http
// (docs/benchmarks.md), and net/http (ServeHTTP) for in-process transports
// and tests.
type Gateway struct {
	h        Handler
	stage    string
	resource string // without the leading slash
	path     string // /<stage>/<resource>
	auth     string
	apiKey   string
	sigv4    *sigV4Verifier
	cors     corsPolicy
	maxConns int
	bodies   *budget // nil: no bound
	log      io.Writer
	down     func() error
}

// New returns the gateway c describes.
func New(c Config) *Gateway {
	g := &Gateway{
		h:        c.Handler,
		stage:    c.Stage,
		resource: c.Resource,
		path:     "/" + c.Stage + "/" + c.Resource,
		auth:     c.Auth,
		apiKey:   c.APIKey,
		cors:     newCORSPolicy(c.CORS),
		maxConns: c.MaxConns,
		log:      c.Log,
		down:     c.Unavailable,
	}
	if c.MaxBodyBytesInFlight > 0 {
		g.bodies = &budget{max: max(c.MaxBodyBytesInFlight, wire.MaxBodyBytes)}
	}
	if c.Auth == wire.AuthIAM {
		g.sigv4 = newSigV4Verifier(c.Credentials, c.Region)
	}
	return g
}

// inbound is one request as the gateway sees it.
type inbound struct {
	method     string
	path       string // always the route: /<stage>/<resource>
	rawQuery   string
	host       string
	proto      string
	remoteAddr string
	localPort  string
	userAgent  string
	// header has canonical keys; it also becomes the event's
	// multiValueHeaders.
	header http.Header
	body   []byte
}

// outbound is the answer to write.
type outbound struct {
	status      int
	errType     string // x-amzn-ErrorType, for API Gateway's own errors
	allowOrigin string // Access-Control-Allow-Origin, for an allowed cross-origin caller
	headers     map[string]string
	multi       map[string][]string
	body        []byte
}

// Identifiers the local gateway reports in the proxy event's
// requestContext (API Gateway's documentation uses the same account id).
const (
	localAccountID = "123456789012"
	localAPIID     = "local"
	localResource  = "local0"
)

// head is what the gateway decides on before it reads a body.
type head struct {
	method    string
	path      string // the request-target up to '?', exactly as sent
	host      string // the Host header
	hasHost   bool
	origin    string
	hasOrigin bool
	apiKeys   int    // how many x-api-key headers
	port      string // the port the server listens on ("" unknown)
	header    func(string) string
}

// verdict is what the gateway decided from a request's head.
type verdict struct {
	err         *gwError
	allowOrigin string // Access-Control-Allow-Origin for the answer
	preflight   bool   // answer a CORS preflight
	sig         *sigHead
}

// admit decides a request from its head alone, in this order
// (docs/local-security.md): the store's health (Unavailable), Host (on a
// loopback bind), Origin, the route (REST APIs answer any undefined
// resource or method with 403 Missing Authentication Token, before
// authorization; an OPTIONS preflight when CORS is on), then the API key
// or everything of a signature but the body hash.
func (g *Gateway) admit(ctx context.Context, h *head, loopbackBind bool) verdict {
	var v verdict
	if v.err = g.unavailable(); v.err != nil {
		return v
	}
	// An HTTP/1.0 request may come without Host: it names nothing.
	if loopbackBind && h.hasHost && !loopbackHost(h.host) {
		v.err = errHostForbidden
		return v
	}
	if h.hasOrigin {
		allow, ok := g.cors.allow(h.origin, h.host, h.port)
		if !ok {
			v.err = errOriginForbidden
			return v
		}
		v.allowOrigin = allow
	}
	if h.path != g.path {
		v.err = errMissingToken
		return v
	}
	if h.method == http.MethodOptions && g.cors.enabled() {
		v.preflight = true
		return v
	}
	if h.method != http.MethodPost {
		v.err = errMissingToken
		return v
	}
	switch g.auth {
	case wire.AuthAPIKey:
		if h.apiKeys > 1 {
			// Which of them would the check and the function see?
			v.err = errForbidden
			return v
		}
		v.err = checkAPIKey(h.header("X-Api-Key"), g.apiKey)
	case wire.AuthIAM:
		if h.header("Authorization") == "" {
			v.err = errMissingToken
			return v
		}
		v.sig, v.err = g.sigv4.checkHead(ctx, h.header)
	}
	return v
}

// preflightOut answers a CORS preflight as API Gateway's OPTIONS method
// with a MOCK integration does.
func preflightOut(allowOrigin string) outbound {
	h := map[string]string{
		"Access-Control-Allow-Methods": CORSAllowMethods,
		"Access-Control-Allow-Headers": CORSAllowHeaders,
	}
	return outbound{status: http.StatusOK, allowOrigin: allowOrigin, headers: h}
}

// handle runs an admitted request whose body has been read.
func (g *Gateway) handle(ctx context.Context, in *inbound, v *verdict, reqID string) outbound {
	var accessKey string
	if g.auth == wire.AuthIAM {
		key, e := g.sigv4.checkBody(ctx, v.sig, in)
		if e != nil {
			return errorOut(e)
		}
		accessKey = key
	}
	ev := g.event(in, reqID)
	if accessKey != "" {
		id := &ev.RequestContext.Identity
		id.AccessKey, id.AccountID, id.Caller, id.User = accessKey, localAccountID, accessKey, accessKey
	}
	resp, ok := g.invoke(ctx, &ev)
	if e := g.unavailable(); e != nil { // found during this request
		return errorOut(e)
	}
	if !ok || resp.StatusCode < 100 || resp.StatusCode > 599 {
		// What API Gateway answers for a crashed function or a malformed
		// proxy response.
		return errorOut(errBadGateway)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return errorOut(errBadGateway)
		}
	}
	return outbound{status: resp.StatusCode, headers: resp.Headers, multi: resp.MultiValueHeaders, body: body}
}

// invoke runs the handler; a panic is what a crashed function is to API
// Gateway (502), not a crashed server.
func (g *Gateway) invoke(ctx context.Context, ev *events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if g.log != nil {
				fmt.Fprintf(g.log, "ddbops local: handler panicked (request %s): %v\n", ev.RequestContext.RequestID, p)
			}
			ok = false
		}
	}()
	return g.h.HandleProxy(ctx, ev), true
}

func (g *Gateway) unavailable() *gwError {
	if g.down == nil {
		return nil
	}
	if err := g.down(); err != nil {
		return &gwError{http.StatusServiceUnavailable, "ServiceUnavailableException", err.Error()}
	}
	return nil
}

func errorOut(e *gwError) outbound {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{e.message})
	return outbound{status: e.status, errType: e.errType, body: b}
}

// tooLargeOut is what the function answers for a body over the limit
// (the cloud passes such a body through to Lambda): 413 in the wire
// contract's error shape, with the handler's code and message.
func tooLargeOut(reqID string) outbound {
	type errBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Error     errBody `json:"error"`
		RequestID string  `json:"requestId"`
	}{errBody{handler.CodePayloadTooLarge, fmt.Sprintf("request body: larger than %d bytes", wire.MaxBodyBytes)}, reqID})
	return outbound{status: http.StatusRequestEntityTooLarge, body: b}
}

// event builds the proxy event API Gateway sends for a REST API resource
// with a Lambda proxy integration.
func (g *Gateway) event(in *inbound, reqID string) events.APIGatewayProxyRequest {
	sourceIP, _, _ := net.SplitHostPort(in.remoteAddr)
	multi := in.header
	multi["Host"] = []string{in.host}
	multi["X-Forwarded-For"] = []string{sourceIP}
	multi["X-Forwarded-Port"] = []string{in.localPort}
	multi["X-Forwarded-Proto"] = []string{"http"}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		if len(vs) > 0 {
			single[k] = vs[len(vs)-1]
		}
	}

	var qs map[string]string
	var mqs map[string][]string
	if in.rawQuery != "" {
		q, _ := url.ParseQuery(in.rawQuery)
		qs = make(map[string]string, len(q))
		mqs = map[string][]string(q)
		for k, vs := range q {
			qs[k] = vs[len(vs)-1]
		}
	}
	now := time.Now()
	var apiKey string
	if g.auth == wire.AuthAPIKey {
		apiKey = g.apiKey
	}
	return events.APIGatewayProxyRequest{
		Resource:                        "/" + g.resource,
		Path:                            "/" + g.resource,
		HTTPMethod:                      in.method,
		Headers:                         single,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         localAccountID,
			ResourceID:        localResource,
			Stage:             g.stage,
			DomainName:        in.host,
			DomainPrefix:      localAPIID,
			RequestID:         reqID,
			ExtendedRequestID: reqID,
			Protocol:          in.proto,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: in.userAgent,
				APIKey:    apiKey,
			},
			ResourcePath:     "/" + g.resource,
			Path:             g.path,
			HTTPMethod:       in.method,
			RequestTime:      requestTime(now),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            localAPIID,
		},
		Body: string(in.body),
	}
}

// requestTime formats like API Gateway's requestContext.requestTime,
// once per second.
func requestTime(now time.Time) string {
	sec := now.Unix()
	if c := rtCache.Load(); c != nil && c.sec == sec {
		return c.s
	}
	s := now.UTC().Format("02/Jan/2006:15:04:05 -0700")
	rtCache.Store(&rtEntry{sec: sec, s: s})
	return s
}

type rtEntry struct {
	sec int64
	s   string
}

var rtCache atomic.Pointer[rtEntry]

// newRequestID returns a random UUID (version 4 layout). Request ids need
// to be unique, not secret, so the runtime's fast generator is enough.
func newRequestID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// headerWriter is what the response headers of both servers offer.
type headerWriter interface {
	Set(key, value string)
	Add(key, value string)
	Del(key string)
}

// writeHeaders sets the function's headers on h: the single-value ones,
// then the multi-value ones, which replace them; then the CORS headers of
// an allowed cross-origin caller, which replace the function's.
func (o *outbound) writeHeaders(h headerWriter) {
	for k, v := range o.headers {
		h.Set(k, v)
	}
	for k, vs := range o.multi {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if o.allowOrigin != "" {
		h.Set("Access-Control-Allow-Origin", o.allowOrigin)
		if o.allowOrigin != AnyOrigin {
			h.Set("Vary", "Origin")
		}
	}
}
