package cmdutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// WriteJSON prints v as one indented JSON document followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON output: %w", err)
	}
	return nil
}

// WriteRawJSON prints a JSON document indented, byte for byte otherwise:
// member order and number literals stay as they came.
func WriteRawJSON(w io.Writer, doc []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		return fmt.Errorf("response is not JSON (%d bytes)", len(doc))
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// WriteErrorJSON is the document of a command that failed before printing
// its own: {"error": {"message", "hint", "exitCode"}}.
func WriteErrorJSON(w io.Writer, err error, code int) {
	type errDoc struct {
		Message  string `json:"message"`
		Hint     string `json:"hint,omitempty"`
		ExitCode int    `json:"exitCode"`
	}
	doc := errDoc{ExitCode: code}
	if err != nil {
		doc.Message, doc.Hint = OneLine(err.Error()), HintOf(err)
	}
	_ = WriteJSON(w, map[string]errDoc{"error": doc})
}

// CountingWriter counts the bytes written through it, so that a failing
// command run with -o json that printed nothing can still leave exactly
// one document on stdout.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// JSONOut is the stdout of a command whose -o json document describes its
// failures too: the command writes its document with Write, and a deferred
// OrFail writes the error document when it returned an error without
// having written one. Exactly one document then leaves by every path.
type JSONOut struct {
	w       io.Writer
	on      bool
	written bool
}

// NewJSONOut returns the document writer of w; on is -o json.
func NewJSONOut(w io.Writer, on bool) *JSONOut { return &JSONOut{w: w, on: on} }

// Write prints v as the command's document.
func (j *JSONOut) Write(v any) error {
	j.written = true
	return WriteJSON(j.w, v)
}

// OrFail writes doc() when the command failed with -o json and printed no
// document yet; it returns err (joined with a failure to write).
func (j *JSONOut) OrFail(err error, doc func() any) error {
	if err == nil || !j.on || j.written {
		return err
	}
	if jerr := j.Write(doc()); jerr != nil {
		return errors.Join(err, jerr)
	}
	return err
}

// WriteJSONOrText writes doc as the one JSON document with -o json (asJSON),
// else text as a line.
func WriteJSONOrText(w io.Writer, asJSON bool, doc any, text string) error {
	if asJSON {
		return WriteJSON(w, doc)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}
