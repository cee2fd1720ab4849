// Package pkgzip builds the Lambda handler (cmd/handler) into a
// reproducible deployment zip holding one executable named bootstrap.
package pkgzip

import (
	"context"
	"errors"
)

// Options says what to build.
type Options struct {
	// Arch is the Lambda architecture: "arm64" or "x86_64".
	Arch string
	// SourceDir is a ddbops module root; "" finds one from the working
	// directory upwards, else uses the source embedded in the binary.
	SourceDir string
	// Go is the go command; "" looks it up.
	Go string
}

// Build compiles the handler and returns the zip's bytes.
func Build(ctx context.Context, opts Options) ([]byte, error) {
	return nil, errors.New("pkgzip: not implemented yet")
}

// CodeSha256 returns the base64 SHA-256 of a zip, as Lambda reports it.
func CodeSha256(zip []byte) string { panic("not implemented") }
