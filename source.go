// Package ddbops carries the Lambda handler's source inside the ddbops
// binary, so that `ddbops package` can build the handler when it runs
// outside a source checkout (an installed binary). The files embedded are
// exactly what `go build ./cmd/handler` needs from this module; third-party
// modules come from the module cache or GOPROXY, pinned by go.sum.
package ddbops

import (
	"embed"
	"io/fs"
)

// Test files cannot be excluded by a pattern; pkgzip skips them when it
// extracts the tree. A handler dependency inside this module that is not
// listed here fails TestPackageEmbeddedSourceCoversHandler in internal/pkgzip.
//
//go:embed go.mod go.sum cmd/handler/*.go internal/handler/*.go internal/itemsize/*.go internal/wire/*.go
var handlerSource embed.FS

// HandlerSource returns the embedded module subset, rooted like the module
// (go.mod at the top).
func HandlerSource() fs.FS { return handlerSource }
