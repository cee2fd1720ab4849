package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ddbops/ddbops/internal/handler"
)

// proxyHandler is the integration behind the gateway: the Lambda
// handler's API Gateway proxy entry point.
type proxyHandler interface {
	HandleProxy(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse
}

// gateway plays API Gateway (REST API, one resource with POST, Lambda
// proxy integration) on loopback: it routes, authenticates, builds the
// same proxy event the cloud sends and runs the handler in-process.
type gateway struct {
	h        proxyHandler
	stage    string
	resource string // without the leading slash
	path     string // /<stage>/<resource>
	auth     string
	apiKey   string
	sigv4    *sigV4Verifier
	log      io.Writer
}

// Header values shared by every response (never mutated).
var (
	hdrJSON = []string{"application/json"}
)

// APIGatewayAccountID is the account id the local gateway reports in the
// proxy event's requestContext (API Gateway's documentation example).
const (
	localAccountID = "123456789012"
	localAPIID     = "local"
	localResource  = "local0"
)

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	// API Gateway spells it this way on the wire; clients match it
	// case-insensitively.
	hdr["x-amzn-RequestId"] = []string{reqID}

	// REST APIs answer any undefined resource or method with 403
	// Missing Authentication Token, before authorization.
	if r.Method != http.MethodPost || r.URL.Path != g.path {
		g.fail(w, errMissingToken)
		return
	}
	switch g.auth {
	case AuthAPIKey:
		if e := checkAPIKey(r, g.apiKey); e != nil {
			g.fail(w, e)
			return
		}
	case AuthIAM:
		if r.Header.Get("Authorization") == "" {
			g.fail(w, errMissingToken)
			return
		}
	}

	body, tooLarge, err := readBody(w, r)
	if tooLarge {
		g.tooLarge(w, reqID)
		return
	}
	if err != nil {
		// The client went away or sent a malformed body.
		g.fail(w, &gwError{http.StatusBadRequest, "BadRequestException", "Could not read the request body"})
		return
	}

	ev := g.event(r, body, reqID)
	if g.auth == AuthIAM {
		key, e := g.sigv4.verify(r.Context(), r, body)
		if e != nil {
			g.fail(w, e)
			return
		}
		ev.RequestContext.Identity.AccessKey = key
		ev.RequestContext.Identity.AccountID = localAccountID
		ev.RequestContext.Identity.Caller = key
		ev.RequestContext.Identity.User = key
	}

	resp, ok := g.invoke(r.Context(), &ev)
	if !ok || resp.StatusCode < 100 || resp.StatusCode > 599 {
		// What API Gateway answers for a crashed function or a malformed
		// proxy response.
		g.fail(w, errBadGateway)
		return
	}
	for k, v := range resp.Headers {
		hdr.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		hdr.Del(k)
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			g.fail(w, errBadGateway)
			return
		}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(respBody))}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// invoke runs the handler; a panic is what a crashed function is to API
// Gateway (502), not a crashed server.
func (g *gateway) invoke(ctx context.Context, ev *events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, ok bool) {
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

// readBody reads at most handler.MaxBodyBytes; a longer body is refused
// without reading it all.
func readBody(w http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > handler.MaxBodyBytes {
		return nil, true, nil
	}
	rd := http.MaxBytesReader(w, r.Body, handler.MaxBodyBytes)
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

// tooLarge answers what the function answers for a body over the limit
// (the cloud passes such a body through to Lambda): 413 in the wire
// contract's error shape, with the handler's code and message.
func (g *gateway) tooLarge(w http.ResponseWriter, reqID string) {
	b, _ := json.Marshal(struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		RequestID string `json:"requestId"`
	}{
		Error: struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{handler.CodePayloadTooLarge, fmt.Sprintf("request body: larger than %d bytes", handler.MaxBodyBytes)},
		RequestID: reqID,
	})
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = w.Write(b)
}

func (g *gateway) fail(w http.ResponseWriter, e *gwError) {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{e.message})
	hdr := w.Header()
	hdr["x-amzn-ErrorType"] = []string{e.errType}
	hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// event builds the proxy event API Gateway sends for a REST API resource
// with a Lambda proxy integration.
func (g *gateway) event(r *http.Request, body []byte, reqID string) events.APIGatewayProxyRequest {
	now := time.Now().UTC()
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	single := make(map[string]string, len(r.Header)+4)
	multi := make(map[string][]string, len(r.Header)+4)
	for k, vs := range r.Header {
		if len(vs) == 0 {
			continue
		}
		single[k] = vs[len(vs)-1]
		multi[k] = vs
	}
	add := func(k, v string) {
		single[k] = v
		multi[k] = []string{v}
	}
	add("Host", r.Host)
	add("X-Forwarded-For", sourceIP)
	add("X-Forwarded-Port", localPort(r))
	add("X-Forwarded-Proto", "http")

	var qs map[string]string
	var mqs map[string][]string
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		qs = make(map[string]string, len(q))
		mqs = make(map[string][]string, len(q))
		for k, vs := range q {
			qs[k] = vs[len(vs)-1]
			mqs[k] = vs
		}
	}

	return events.APIGatewayProxyRequest{
		Resource:                        "/" + g.resource,
		Path:                            "/" + g.resource,
		HTTPMethod:                      r.Method,
		Headers:                         single,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         localAccountID,
			ResourceID:        localResource,
			Stage:             g.stage,
			DomainName:        r.Host,
			DomainPrefix:      localAPIID,
			RequestID:         reqID,
			ExtendedRequestID: reqID,
			Protocol:          r.Proto,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: r.Header.Get("User-Agent"),
				APIKey:    g.identityAPIKey(),
			},
			ResourcePath:     "/" + g.resource,
			Path:             g.path,
			HTTPMethod:       r.Method,
			RequestTime:      now.Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            localAPIID,
		},
		Body:            string(body),
		IsBase64Encoded: false,
	}
}

func (g *gateway) identityAPIKey() string {
	if g.auth == AuthAPIKey {
		return g.apiKey
	}
	return ""
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}

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
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexDigits[c>>4]
		out[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
