package cmdutil_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, cmdutil.ExitOK},
		{errors.New("boom"), cmdutil.ExitError},
		{cmdutil.UsageErrorf("bad flag"), cmdutil.ExitUsage},
		{fmt.Errorf("read item: %w", &client.APIError{StatusCode: 404, Code: client.CodeNotFound}), cmdutil.ExitNotFound},
		// A 404 that is not the function's NotFound is a missing route.
		{fmt.Errorf("read item: %w", &client.APIError{StatusCode: 404}), cmdutil.ExitError},
		{fmt.Errorf("read item: %w", &client.APIError{StatusCode: 403, ErrorType: client.ErrTypeMissingToken}), cmdutil.ExitError},
		{&cmdutil.ConfigError{Path: "ddbops.yaml", Line: 2, Err: errors.New("unknown key")}, cmdutil.ExitUsage},
		{&cmdutil.InterruptedError{Msg: "bench interrupted"}, cmdutil.ExitInterrupt},
		{fmt.Errorf("create item: %w", &client.APIError{StatusCode: 409}), cmdutil.ExitConflict},
		{&client.APIError{StatusCode: 400}, cmdutil.ExitError},
		{cmdutil.WithHint(fmt.Errorf("x: %w", client.ErrConflict), "h"), cmdutil.ExitConflict},
		{&cmdutil.SilentError{Code: 1}, cmdutil.ExitError},
		{&cmdutil.SilentError{Err: &client.APIError{StatusCode: 404, Code: client.CodeNotFound}}, cmdutil.ExitNotFound},
		{fmt.Errorf("bench: %w", context.Canceled), cmdutil.ExitInterrupt},
	}
	for _, tt := range tests {
		if got := cmdutil.ExitCode(tt.err); got != tt.want {
			t.Errorf("cmdutil.ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestPrintErrorIsOneLine(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	cmdutil.PrintError(&b, cmdutil.WithHint(errors.New("create table t: multi\nline\n  reason"), "run ddbops setup"))
	want := "create table t: multi line reason\nhint: run ddbops setup\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	cmdutil.PrintError(&b, &cmdutil.SilentError{Code: 1})
	if b.Len() != 0 {
		t.Fatalf("silent error printed %q", b.String())
	}
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes ": true, "n\n": false, "\n": false, "": false, "yep\n": false} {
		var errOut bytes.Buffer
		ok, err := cmdutil.Confirm(&cmdutil.IOStreams{In: strings.NewReader(in), ErrOut: &errOut}, "Delete?")
		if err != nil || ok != want {
			t.Errorf("answer %q: %v %v, want %v", in, ok, err, want)
		}
		if errOut.String() != "Delete? [y/N] " {
			t.Errorf("prompt %q", errOut.String())
		}
	}
}
