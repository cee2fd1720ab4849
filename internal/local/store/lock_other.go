//go:build !unix

package store

import "errors"

var errNoLocking = errors.New("the local stack needs a Unix system (flock) to lock its data dir")

type DirLock struct{}

func LockDir(string) (*DirLock, error) { return nil, errNoLocking }

// Release releases the lock; it is safe on a nil or released lock.
func (l *DirLock) Release() error { return nil }

func LockHeld(string) (bool, error) { return false, errNoLocking }

func LockHolder(string) int { return 0 }

func ProcessAlive(int) bool { return false }
