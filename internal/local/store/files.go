package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Files of a data dir the store owns.
const (
	LockFile    = "lock"         // flock target; holds the holder's PID
	DBFile      = "data.db"      // the bbolt database
	WitnessFile = "data.db.txid" // the last acknowledged commit (witness.go)
)

// OpenFile is os.OpenFile that never follows a symbolic link: a data dir's
// files are opened with O_NOFOLLOW, so that a link planted in the data dir
// cannot redirect a write (or a read of the API key) elsewhere.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|oNoFollow, perm)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return f, nil
}

// ReadFile is os.ReadFile through OpenFile.
func ReadFile(path string) ([]byte, error) {
	f, err := OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// fileErr says plainly that path is a symbolic link when O_NOFOLLOW
// refused it (ELOOP).
func fileErr(path string, err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return &LinkError{Path: path}
	}
	return err
}

// LinkError is a data dir file that is a symbolic link.
type LinkError struct{ Path string }

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link: files in a data dir are never opened through links (replace the link with the file itself)", e.Path)
}
