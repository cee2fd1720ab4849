package client

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers (and the CLI's exit codes) rely on. An
// *APIError answers errors.Is for the one matching its HTTP status.
var (
	// ErrNotFound: read, update or delete of an id that does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: create of an existing id, or a failed condition (HTTP 409).
	ErrConflict = errors.New("conflict")
)

// APIError is a non-2xx answer from the API, decoded from the wire
// contract's error body {"error": {"code", "message"}, "requestId"} or from
// API Gateway's own {"message": "..."} body.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
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
	return s
}

// Is maps 404 to ErrNotFound and 409 to ErrConflict.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrConflict:
		return e.StatusCode == 409
	}
	return false
}
