//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DirLock is an exclusive flock(2) on <data-dir>/lock. The kernel drops it
// when the holder exits, however it exits (kill -9 included), so a stale
// lock can never block a restart. Each LockDir uses its own open file
// description, so two LockDirs in one process exclude each other too.
type DirLock struct {
	f *os.File
}

// LockDir takes the lock of dir, or returns a *LockedError naming its
// holder.
func LockDir(dir string) (*DirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		var le *LinkError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("create lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The PID is informational (error messages, Discover's cross-check);
	// the flock is what excludes. Written in place, then cut to length:
	// on a full disk, rewriting the file's existing block needs no space.
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if _, err := f.WriteAt(pid, 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write lock file %s: %w", path, err)
	}
	if err := f.Truncate(int64(len(pid))); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write lock file %s: %w", path, err)
	}
	return &DirLock{f: f}, nil
}

// Release releases the lock; it is safe on a nil or released lock.
func (l *DirLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}

// LockHeld reports whether some process holds the lock of dir. It probes
// with a shared non-blocking flock, released at once.
func LockHeld(dir string) (bool, error) {
	f, err := OpenFile(filepath.Join(dir, LockFile), os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}

// LockHolder returns the PID recorded in the lock file of dir, 0 if
// unknown.
func LockHolder(dir string) int { return readPID(filepath.Join(dir, LockFile)) }

// readPID returns the PID recorded in the lock file, 0 if unknown.
func readPID(path string) int {
	b, err := ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// ProcessAlive reports whether pid names a running process.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
