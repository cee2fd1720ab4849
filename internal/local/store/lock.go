package store

import (
	"errors"
	"fmt"
)

// ErrLocked is returned by LockDir when another process holds the data dir.
var ErrLocked = errors.New("data dir is in use by another ddbops process")

// LockedError is the ErrLocked that LockDir returns: it names the data dir
// and, when known, the PID of the process holding it.
type LockedError struct {
	Dir string
	PID int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s: %v (pid %d)", e.Dir, ErrLocked, e.PID)
	}
	return fmt.Sprintf("%s: %v", e.Dir, ErrLocked)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
