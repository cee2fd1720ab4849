package client

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// Sentinel errors that callers (and the CLI's exit codes) rely on. An
// *APIError answers errors.Is for the one matching its HTTP status. They
// are cmdutil's, so that the one exit-code map needs no import of this
// package.
var (
	// ErrNotFound: read, update or delete of an id that does not exist (HTTP 404).
	ErrNotFound = cmdutil.ErrNotFound
	// ErrConflict: create of an existing id, or a failed condition (HTTP 409).
	ErrConflict = cmdutil.ErrConflict
)

// Error codes of the wire contract's error bodies (the handler's, see
// docs/wire.md#errors) that the client tells apart.
const (
	// CodeNotFound: read, update or delete of a missing id. Only a 404
	// carrying it is ErrNotFound (exit 3); a 404 without it is a missing
	// route or server, an ordinary error.
	CodeNotFound = "NotFound"
	// CodeForbidden: the function refused the request's tableName (403),
	// unlike API Gateway's own 403s, which are about auth or the route.
	CodeForbidden = "Forbidden"
)

// API Gateway's own error types (x-amzn-ErrorType) the client tells apart.
const (
	// ErrTypeMissingToken: no such resource or method on the API — or, on
	// an iam API, an unsigned request.
	ErrTypeMissingToken = "MissingAuthenticationTokenException"
)

// APIError is a non-2xx answer from the API, decoded from the wire
// contract's error body {"error": {"code", "message"}, "requestId"} or from
// API Gateway's own {"message": "..."} body.
type APIError struct {
	StatusCode int
	// Code is the wire contract's error code, "" when the answer is not
	// the function's (API Gateway's own errors, proxies).
	Code string
	// ErrorType is API Gateway's x-amzn-ErrorType for its own errors
	// ("" for the function's answers).
	ErrorType string
	Message   string
	RequestID string
	// Attempts is how many requests were sent (more than 1 after retries).
	Attempts int
	// Body is the response body as received (for -o json, which prints the
	// API's answer). Error() never includes it.
	Body []byte
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	s := fmt.Sprintf("HTTP %d: %s", e.StatusCode, msg)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}

// Is maps the function's NotFound (a 404 with CodeNotFound) to ErrNotFound
// and 409 to ErrConflict.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == 404 && e.Code == CodeNotFound
	case ErrConflict:
		return e.StatusCode == 409
	}
	return false
}

// OutcomeUnknownError is a write whose request may have reached the API but
// whose answer never came back (timeout, connection reset): the write may
// or may not have been applied. It is never retried automatically.
type OutcomeUnknownError struct {
	Op  string
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("%s: no answer, the write may or may not have been applied: %v", e.Op, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// maxMessage bounds the error message kept from a response body.
const maxMessage = 300

// decodeAPIError reads the error body of resp in either shape it comes in.
func decodeAPIError(resp *Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Body: resp.Body}
	// "MissingAuthenticationTokenException:http://internal.amazon.com/...".
	e.ErrorType, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	var body struct {
		Error json.RawMessage `json:"error"`
		// API Gateway answers {"message": ...}; IAM denials {"Message": ...}.
		// encoding/json matches keys case-insensitively, so one field
		// catches both.
		Message   string `json:"message"`
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(resp.Body, &body); err == nil {
		var wire struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if len(body.Error) > 0 && json.Unmarshal(body.Error, &wire) == nil {
			e.Code, e.Message = wire.Code, wire.Message
		} else if len(body.Error) > 0 {
			// {"error": "text"}: some proxies answer that way.
			var s string
			if json.Unmarshal(body.Error, &s) == nil {
				e.Message = s
			}
		}
		if e.Message == "" {
			e.Message = body.Message
		}
		e.RequestID = body.RequestID
	} else if len(resp.Body) > 0 {
		// Not our API's answer (a proxy's HTML page, say): name what it is
		// rather than dump it.
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct == "" {
			ct = "unknown content type"
		}
		e.Message = fmt.Sprintf("%s: non-JSON body (%d bytes, %s)", http.StatusText(resp.StatusCode), len(resp.Body), ct)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if len(e.Message) > maxMessage {
		e.Message = e.Message[:maxMessage] + "…"
	}
	e.Message = strings.Join(strings.Fields(e.Message), " ")
	if e.RequestID == "" {
		for _, h := range []string{"X-Amzn-Requestid", "X-Amz-Apigw-Id", "X-Request-Id"} {
			if v := resp.Header.Get(h); v != "" {
				e.RequestID = v
				break
			}
		}
	}
	return e
}
