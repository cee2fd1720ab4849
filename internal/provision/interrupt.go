package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Interrupted is a command stopped by its context (Ctrl-C, SIGTERM) while
// steps were in flight. Setup runs several branches at once and each of
// them fails with the context's error; Interrupted says it once, naming
// what was running, and unwraps to the context's error so the caller can
// tell an interruption from a failure (errors.Is(err, context.Canceled)).
type Interrupted struct {
	// Command is setup, deploy, status or teardown.
	Command string
	// Steps are the operations cut short, e.g. "create function X", in
	// stack order; none when the interruption came between steps.
	Steps []string
	// Err is the context's error.
	Err error
}

func (e *Interrupted) Error() string {
	if len(e.Steps) == 0 {
		return fmt.Sprintf("%s interrupted: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s interrupted during %s: %v", e.Command, strings.Join(e.Steps, ", "), e.Err)
}

func (e *Interrupted) Unwrap() error { return e.Err }

// interrupted returns err unchanged unless ctx is done; then the failures
// the interruption caused (steps cut short, branches that never started)
// become one Interrupted, and any other failure is kept before it.
// changes are the steps recorded so far (their failures name the step).
func interrupted(ctx context.Context, command string, err error, changes []Change) error {
	cause := ctx.Err()
	if err == nil || cause == nil {
		return err
	}
	ie := &Interrupted{Command: command, Err: cause}
	add := func(step string) {
		if step != "" && !slices.Contains(ie.Steps, step) {
			ie.Steps = append(ie.Steps, step)
		}
	}
	for _, c := range changes {
		if c.Action == Failed && errors.Is(c.Err, cause) {
			add(stepOf(c.Err, c.Kind+" "+c.Name))
		}
	}
	var others []error
	for _, e := range flattenJoined(err) {
		switch {
		case errors.Is(e, errDependency):
			// Reported by the step it depends on.
		case errors.Is(e, cause):
			add(stepOf(e, ""))
		default:
			others = append(others, e)
		}
	}
	if len(others) == 0 {
		return ie
	}
	return errors.Join(append(others, ie)...)
}

// stepOf names the operation a provisioning error is about ("create
// function X"), or returns def when err carries no *Error.
func stepOf(err error, def string) string {
	var pe *Error
	if !errors.As(err, &pe) {
		return def
	}
	if pe.Resource == "" {
		return pe.Op
	}
	return pe.Op + " " + pe.Resource
}

// flattenJoined lists the errors an errors.Join holds (err itself when it
// is not one).
func flattenJoined(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flattenJoined(e)...)
	}
	return out
}

// joinErrors is errors.Join for the failures of one run, read on one line:
// "adopt table a: …; adopt role b: …" (errors.Join's newlines would run
// together once the error is printed as one line). Nil when errs holds none.
func joinErrors(errs []error) error {
	errs = slices.DeleteFunc(slices.Clone(errs), func(e error) bool { return e == nil })
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return joinedErrors(errs)
}

type joinedErrors []error

func (j joinedErrors) Error() string {
	msgs := make([]string, len(j))
	for i, e := range j {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joinedErrors) Unwrap() []error { return j }
