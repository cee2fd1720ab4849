//go:build !unix

package local

import "errors"

var errNoLocking = errors.New("the local stack needs a Unix system (flock) to lock its data dir")

type dirLock struct{}

func lockDir(string) (*dirLock, error) { return nil, errNoLocking }

func (l *dirLock) release() error { return nil }

func lockHeld(string) (bool, error) { return false, errNoLocking }

func readPID(string) int { return 0 }

func processAlive(int) bool { return false }
