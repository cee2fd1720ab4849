package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ddbops/ddbops/internal/client"
)

// Exit codes (DESIGN §3). They are part of the contract scripts rely on.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitNotFound  = 3
	exitConflict  = 4
	exitInterrupt = 130 // Ctrl-C, as shells report SIGINT
)

// usageError is bad command-line input: exit 2 and the command's usage line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// hintError carries a suggestion of what to do next, printed on its own
// line under the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// silentError sets the exit code without printing anything more: the
// command has already said what it had to (status --exit-code, a JSON error
// document already written to stdout).
type silentError struct {
	code int
	err  error
}

func (e *silentError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}
func (e *silentError) Unwrap() error { return e.err }

// exitCode maps any error to the documented exit codes, in one place.
func exitCode(err error) int {
	var se *silentError
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &se):
		if se.code != 0 {
			return se.code
		}
		return exitCodeOf(se.err)
	case errors.As(err, &ue):
		return exitUsage
	}
	return exitCodeOf(err)
}

func exitCodeOf(err error) int {
	switch {
	case err == nil:
		return exitError
	case errors.Is(err, client.ErrNotFound):
		return exitNotFound
	case errors.Is(err, client.ErrConflict):
		return exitConflict
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	}
	return exitError
}

// printError writes the error as one line (newlines folded), plus the hint.
func printError(w io.Writer, err error) {
	var se *silentError
	if errors.As(err, &se) {
		return
	}
	fmt.Fprintln(w, oneLine(err.Error()))
	var he *hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(w, "hint: %s\n", he.hint)
	}
}

// oneLine folds a multi-line message into one line.
func oneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}
