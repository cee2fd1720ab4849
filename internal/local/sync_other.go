//go:build !linux

package local

import "os"

// datasync makes appended data durable (F_FULLFSYNC on macOS).
func datasync(f *os.File) error { return f.Sync() }
