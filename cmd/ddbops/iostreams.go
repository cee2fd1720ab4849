package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is every byte stream a command may touch. Commands never use
// os.Stdout directly, so tests can render both the TTY and the non-TTY form.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: tables, JSON documents
	ErrOut io.Writer // progress, spinners, diagnostics, errors

	// IsTTY reports whether Out is a terminal (tables may use colour).
	IsTTY bool
	// IsErrTTY reports whether ErrOut is a terminal (spinners, progress bars).
	IsErrTTY bool
	// IsInTTY reports whether In is a terminal (confirmation prompts).
	IsInTTY bool
	// Width of the terminal in columns, 0 when unknown.
	Width int
}

// SystemIO returns the process's real standard streams.
func SystemIO() *IOStreams {
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	ios.IsTTY = term.IsTerminal(int(os.Stdout.Fd()))
	ios.IsErrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	ios.IsInTTY = term.IsTerminal(int(os.Stdin.Fd()))
	if ios.IsErrTTY {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			ios.Width = w
		}
	}
	return ios
}
