// Package handler is the Lambda function's business logic: decode a request
// in the tutorial's wire format (from an API Gateway proxy event or a direct
// invocation), validate it, run one DynamoDB operation through a small
// injected interface, and encode the response (docs/wire.md).
package handler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/ddbops/ddbops/internal/wire"
)

// DynamoDB is the part of the DynamoDB API the handler uses. The SDK's
// *dynamodb.Client satisfies it.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Config is the handler's configuration.
type Config struct {
	// TableName is the only table the handler touches; a request naming
	// another table gets 403.
	TableName string
	// Logger receives one record per request that ends in a 500, with the
	// request id and the underlying error (never item data). Nil
	// discards them.
	Logger *slog.Logger
	// CORSOrigins are the browser origins allowed to read responses
	// (docs/cors.md): a proxy request whose Origin header is exactly one
	// of them gets Access-Control-Allow-Origin naming it, and every proxy
	// response carries Vary: Origin, as the answer depends on it. "*"
	// allows any origin (Access-Control-Allow-Origin: *). Empty: none,
	// and responses carry no CORS header. Preflights (OPTIONS) are the
	// gateway's to answer, not the handler's.
	CORSOrigins []string
}

// AllowedOrigin returns the Access-Control-Allow-Origin value for a
// request with Origin header origin, and whether it is allowed.
func (c Config) AllowedOrigin(origin string) (allow string, ok bool) {
	for _, o := range c.CORSOrigins {
		switch o {
		case "*":
			return "*", true
		case origin:
			if origin != "" {
				return origin, true
			}
		}
	}
	return "", false
}

// corsHeaders are the CORS headers of one proxy response.
type corsHeaders struct {
	allow string // Access-Control-Allow-Origin ("" = none)
	vary  bool   // Vary: Origin
}

func (c Config) corsFor(origin string) corsHeaders {
	if len(c.CORSOrigins) == 0 {
		return corsHeaders{}
	}
	allow, _ := c.AllowedOrigin(origin)
	// With "*" the answer is the same for every origin.
	return corsHeaders{allow: allow, vary: allow != "*"}
}

func (ch corsHeaders) set(h map[string]string) {
	if ch.allow != "" {
		h["Access-Control-Allow-Origin"] = ch.allow
	}
	if ch.vary {
		h["Vary"] = "Origin"
	}
}

// requestOrigin is the request's Origin header, whatever its case (REST
// API proxy events keep header names as the client sent them).
func requestOrigin(req *events.APIGatewayProxyRequest) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Origin") {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, "Origin") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Handler serves the seven operations. It is safe for concurrent use.
type Handler struct {
	db  DynamoDB
	cfg Config
}

// New returns a Handler over db.
func New(db DynamoDB, cfg Config) *Handler { return &Handler{db: db, cfg: cfg} }

// Invoke implements lambda.Handler: event is either an API Gateway proxy
// event (the response is a proxy response) or the tutorial JSON itself
// (a direct invocation; the response is the body JSON, errors included:
// a direct invocation never returns a Lambda function error).
func (h *Handler) Invoke(ctx context.Context, event []byte) (out []byte, err error) {
	defer func() {
		// Do recovers by itself; this guards the event handling around it.
		if r := recover(); r != nil {
			id := requestIDFor(ctx, "")
			h.logPanic(ctx, id, r)
			out = appendProxyResponse(nil, http.StatusInternalServerError, corsHeaders{}, internalError(id))
		}
	}()
	// Only the fields the handler reads are decoded: the full
	// events.APIGatewayProxyRequest (headers, identity, ...) would cost
	// several times more on every invocation. The headers are decoded
	// only when CORS needs the Origin.
	var ev proxyFields
	var decodeErr error
	var headers map[string]string
	if len(h.cfg.CORSOrigins) > 0 {
		var withHeaders struct {
			proxyFields
			Headers map[string]string `json:"headers"`
		}
		decodeErr = json.Unmarshal(event, &withHeaders)
		ev, headers = withHeaders.proxyFields, withHeaders.Headers
	} else {
		decodeErr = json.Unmarshal(event, &ev)
	}
	if ev.Operation || !(ev.HTTPMethod || ev.RequestContext != nil) {
		// A direct invocation (or not JSON, which Do reports).
		_, body := h.Do(ctx, event, "")
		return body, nil
	}
	var req events.APIGatewayProxyRequest
	if ev.RequestContext != nil {
		req.RequestContext.RequestID = ev.RequestContext.RequestID
	}
	if decodeErr != nil {
		id := requestIDFor(ctx, req.RequestContext.RequestID)
		e := errorf(http.StatusBadRequest, CodeBadRequest, "event: has httpMethod or requestContext but is not a valid API Gateway proxy event")
		return appendProxyResponse(nil, e.Status, corsHeaders{}, appendErrorBody(nil, e, id)), nil
	}
	req.Body, req.IsBase64Encoded, req.Headers = ev.Body, ev.IsBase64Encoded, headers
	status, out, cors := h.serveProxy(ctx, &req)
	return appendProxyResponse(make([]byte, 0, len(out)+160), status, cors, out), nil
}

// proxyFields are the fields of an event Invoke reads.
type proxyFields struct {
	Operation      present `json:"operation"`
	HTTPMethod     present `json:"httpMethod"`
	RequestContext *struct {
		RequestID string `json:"requestId"`
	} `json:"requestContext"`
	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// HandleProxy serves one API Gateway (REST, proxy integration) request.
func (h *Handler) HandleProxy(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	status, out, cors := h.serveProxy(ctx, req)
	resp := proxyResponse(status, out)
	cors.set(resp.Headers)
	return resp
}

func (h *Handler) serveProxy(ctx context.Context, req *events.APIGatewayProxyRequest) (int, []byte, corsHeaders) {
	id := requestIDFor(ctx, req.RequestContext.RequestID)
	cors := h.cfg.corsFor(requestOrigin(req))
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if len(req.Body) > base64.StdEncoding.EncodedLen(wire.MaxBodyBytes) {
			return http.StatusRequestEntityTooLarge,
				appendErrorBody(nil, errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "request body: larger than %d bytes", wire.MaxBodyBytes), id), cors
		}
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return http.StatusBadRequest,
				appendErrorBody(nil, errorf(http.StatusBadRequest, CodeBadRequest, "request body: isBase64Encoded is true but the body is not valid base64"), id), cors
		}
	}
	status, out := h.Do(ctx, body, id)
	return status, out, cors
}

func proxyResponse(status int, body []byte) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}

// appendProxyResponse writes the proxy response JSON Lambda returns to API
// Gateway. It is written by hand: it is on every request's path.
func appendProxyResponse(b []byte, status int, cors corsHeaders, body []byte) []byte {
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"headers":{"Content-Type":"application/json"`...)
	if cors.allow != "" {
		b = append(b, `,"Access-Control-Allow-Origin":`...)
		b = appendString(b, cors.allow)
	}
	if cors.vary {
		b = append(b, `,"Vary":"Origin"`...)
	}
	b = append(b, `},"body":`...)
	b = appendString(b, string(body))
	return append(b, '}')
}

// Do serves one tutorial-format request body and returns the HTTP status
// and the JSON response body. requestID is echoed in errors and metadata;
// when empty, the Lambda context's request id (or a generated one) is used.
func (h *Handler) Do(ctx context.Context, body []byte, requestID string) (status int, out []byte) {
	id := requestIDFor(ctx, requestID)
	op := Operation(0)
	defer func() {
		if r := recover(); r != nil {
			h.logPanic(ctx, id, r)
			status, out = http.StatusInternalServerError, internalError(id)
		}
	}()
	req, err := Decode(body, h.cfg.TableName)
	if err == nil {
		op = req.Op
		out, err = h.run(ctx, req, id)
	}
	if err != nil {
		e := classify(op, err, id)
		if e.Status == http.StatusInternalServerError && h.cfg.Logger != nil {
			h.cfg.Logger.ErrorContext(ctx, "request failed", "requestId", id, "operation", op.String(), "error", err.Error())
		}
		return e.Status, appendErrorBody(make([]byte, 0, 128), e, id)
	}
	return http.StatusOK, out
}

func internalError(id string) []byte {
	return appendErrorBody(nil, classify(0, nil, id), id)
}

func (h *Handler) logPanic(ctx context.Context, id string, r any) {
	if h.cfg.Logger != nil {
		h.cfg.Logger.ErrorContext(ctx, "request panicked", "requestId", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}

// requestIDFor returns id, else the Lambda invocation's request id, else a
// generated one.
func requestIDFor(ctx context.Context, id string) string {
	if id != "" {
		return id
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return rand.Text()
}

// present records that a key occurs, without decoding its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error { *p = true; return nil }
