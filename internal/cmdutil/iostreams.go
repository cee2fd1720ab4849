package cmdutil

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
	// NoColor turns colour off on terminals too (--no-color, NO_COLOR).
	NoColor bool
}

// System returns the process's real standard streams.
func System() *IOStreams {
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

// ColorScheme is the colours of what goes to Out.
func (s *IOStreams) ColorScheme() ColorScheme { return ColorScheme{Enabled: s.IsTTY && !s.NoColor} }

// ErrColorScheme is the colours of what goes to ErrOut.
func (s *IOStreams) ErrColorScheme() ColorScheme {
	return ColorScheme{Enabled: s.IsErrTTY && !s.NoColor}
}

// ColorScheme paints text for a terminal; disabled, it returns text as is.
// It is the one place that writes terminal escape sequences.
type ColorScheme struct{ Enabled bool }

// Green is success (✓, exists).
func (c ColorScheme) Green(s string) string { return c.paint("32", s) }

// Yellow is a warning (missing, drifted).
func (c ColorScheme) Yellow(s string) string { return c.paint("33", s) }

// Red is a failure (✗, foreign).
func (c ColorScheme) Red(s string) string { return c.paint("31", s) }

func (c ColorScheme) paint(code, s string) string {
	if !c.Enabled {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// EraseLine returns the cursor to the start of the line and clears it, to
// redraw a spinner in place.
const EraseLine = "\r\x1b[K"
