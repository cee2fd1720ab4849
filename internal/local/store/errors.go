package store

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// DamagedError is a database file that fails a check: a record's
// checksum, the B+tree's structure, a meta page, or the data dir's record
// of its last commit. Nothing was changed. It never quotes item data.
type DamagedError struct {
	Path string // the database file
	Why  string
	// Fix is what to do; "" means restore a copy or use a new data dir.
	Fix string
}

func (e *DamagedError) Error() string {
	fix := e.Fix
	if fix == "" {
		fix = "restore a copy of it, or start on a new data dir (keep this one for inspection)"
	}
	return fmt.Sprintf("database %s is damaged: %s: %s", e.Path, e.Why, fix)
}

// WriteError is a write that could not be made durable (disk full,
// read-only file system, I/O error while writing): nothing of it was
// stored and the store goes on serving; the same write can succeed once
// the cause is gone.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("database %s: write not stored (not acknowledged): %v", e.Path, e.Err)
}
func (e *WriteError) Unwrap() error { return e.Err }

// FailedError is a commit whose sync failed: what is on disk is no longer
// known, so the store stops serving until a restart reads the file back.
type FailedError struct {
	Path string
	Err  error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("database %s: the disk failed to make a commit durable (%v): restart to serve what is on disk", e.Path, e.Err)
}
func (e *FailedError) Unwrap() error { return e.Err }

// errClosed is returned after Close.
var errClosed = errors.New("store is closed")

// classifyCommit tells a commit error that left the file as it was (bbolt
// writes pages to free space first and the meta page last, and reloads
// its free list on rollback) from one after which the file's state is
// unknown (a failed fdatasync: Linux may drop the dirty pages).
func classifyCommit(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "write" {
		return &WriteError{Path: path, Err: pe.Err}
	}
	// bbolt reports a failed grow (ftruncate) only as text; it changes
	// nothing the meta pages refer to.
	if strings.HasPrefix(err.Error(), "file resize error: ") {
		return &WriteError{Path: path, Err: errors.New(strings.TrimPrefix(err.Error(), "file resize error: "))}
	}
	return &FailedError{Path: path, Err: err}
}
