package handler

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/ddbops/ddbops/internal/wire"
)

// The wire contract's error codes (wire.ErrorStatus gives their statuses).
const (
	CodeBadRequest             = wire.CodeBadRequest
	CodeForbidden              = wire.CodeForbidden
	CodeNotFound               = wire.CodeNotFound
	CodeConditionalCheckFailed = wire.CodeConditionalCheckFailed
	CodePayloadTooLarge        = wire.CodePayloadTooLarge
	CodeThrottled              = wire.CodeThrottled
	CodeInternalError          = wire.CodeInternalError
)

// Error is a failed request: the HTTP status, the stable code and a
// message safe to show the caller (it never holds item data).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Outcomes of a conditional write, decided by the operation (which may
// need a read to tell them apart) and given a status by classify.
var (
	errNotFound        = errors.New("no item with this id")
	errConditionFailed = errors.New("the condition was not met")
)

// maxCauseMessage bounds how much of a DynamoDB validation message is
// passed on to the caller.
const maxCauseMessage = 300

// classify maps any error of an operation to the status, code and message
// the caller sees. It is the only place where errors get a status.
func classify(op Operation, err error, requestID string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, errNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "%s: no item with this id", op)
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.Is(err, errConditionFailed) || errors.As(err, &ccf) {
		return errorf(http.StatusConflict, CodeConditionalCheckFailed, "%s: the ConditionExpression was not met", op)
	}
	var (
		throughput *types.ProvisionedThroughputExceededException
		limit      *types.RequestLimitExceeded
		throttling *types.ThrottlingException
	)
	if errors.As(err, &throughput) || errors.As(err, &limit) || errors.As(err, &throttling) {
		return errorf(http.StatusTooManyRequests, CodeThrottled, "%s: DynamoDB is throttling requests, retry later", op)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return errorf(http.StatusInternalServerError, CodeInternalError, "internal error (request id %s)", requestID)
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
		// The same throttles, from a backend whose error the SDK did not
		// deserialize into the typed form.
		return errorf(http.StatusTooManyRequests, CodeThrottled, "%s: DynamoDB is throttling requests, retry later", op)
	case "ValidationException":
		msg := api.ErrorMessage()
		// DynamoDB reports an oversized item only through this message
		// ("Item size has exceeded the maximum allowed size", and "Item
		// size to update ..." for UpdateItem).
		if strings.Contains(msg, "exceeded the maximum allowed size") {
			return errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "%s: item larger than DynamoDB's %d KB limit", op, wire.MaxItemBytes/1024)
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s: DynamoDB rejected the request: %s", op, clip(msg, maxCauseMessage))
	}
	return errorf(http.StatusInternalServerError, CodeInternalError, "internal error (request id %s)", requestID)
}

// clip cuts s to at most n bytes on a rune boundary and to one line.
func clip(s string, n int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// appendErrorBody writes {"error":{"code":...,"message":...},"requestId":...}.
func appendErrorBody(b []byte, e *Error, requestID string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `},"requestId":`...)
	b = appendString(b, requestID)
	return append(b, '}')
}
