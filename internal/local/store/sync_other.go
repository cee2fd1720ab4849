//go:build !linux

package store

import "os"

// Datasync makes appended data durable (F_FULLFSYNC on macOS).
func Datasync(f *os.File) error { return f.Sync() }
