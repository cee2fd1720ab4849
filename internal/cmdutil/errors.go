package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes, part of the contract scripts rely on (docs/design.md#exit-codes).
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	ExitNotFound  = 3
	ExitConflict  = 4
	ExitInterrupt = 130 // Ctrl-C, as shells report SIGINT
)

// Sentinels the exit codes 3 and 4 stand for. Errors of lower packages
// (the API client's HTTP 404 and 409) answer errors.Is for them.
var (
	// ErrNotFound: read, update or delete of an id that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: create of an existing id, or a failed condition.
	ErrConflict = errors.New("conflict")
)

// UsageError is bad command-line input: exit 2 and the command's usage line.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// UsageErrorf returns a *UsageError with a formatted message.
func UsageErrorf(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// InterruptedError is a run ended by Ctrl-C or SIGTERM: exit 130, with a
// message of its own saying what was done, rather than "context canceled".
type InterruptedError struct{ Msg string }

func (e *InterruptedError) Error() string { return e.Msg }
func (e *InterruptedError) Unwrap() error { return context.Canceled }

// HintError carries a suggestion of what to do next, printed on its own
// line under the error.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches hint to err (nil stays nil).
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// HintOf returns the hint attached to err, "" when there is none.
func HintOf(err error) string {
	var he *HintError
	if errors.As(err, &he) {
		return he.Hint
	}
	return ""
}

// SilentError sets the exit code without printing anything more: the
// command has already said what it had to (status --exit-code, a JSON error
// document already written to stdout). Code 0 takes the code of Err.
type SilentError struct {
	Code int
	Err  error
}

func (e *SilentError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}
func (e *SilentError) Unwrap() error { return e.Err }

// ExitCode maps any error to the documented exit codes, in one place.
func ExitCode(err error) int {
	var se *SilentError
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		if se.Code != 0 {
			return se.Code
		}
		if se.Err == nil {
			return ExitError
		}
		return ExitCode(se.Err)
	case errors.As(err, &ue), errors.As(err, new(*ConfigError)):
		return ExitUsage
	case errors.Is(err, ErrNotFound):
		return ExitNotFound
	case errors.Is(err, ErrConflict):
		return ExitConflict
	case errors.Is(err, context.Canceled):
		return ExitInterrupt
	}
	return ExitError
}

// PrintError writes err as one line (newlines folded), plus its hint;
// nothing for a *SilentError.
func PrintError(w io.Writer, err error) {
	var se *SilentError
	if errors.As(err, &se) {
		return
	}
	fmt.Fprintln(w, OneLine(err.Error()))
	if h := HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// OneLine folds a multi-line message into one line.
func OneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}

// ErrString is err's message, "" for nil (the error field of a document).
func ErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
