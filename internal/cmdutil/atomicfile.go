package cmdutil

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileAtomic writes path so that readers and crashes see either the
// old file or the complete new one, never a part: write fills a new file
// beside path, which is synced, renamed over path, and the directory synced.
//
// The new file is created with perm as the process umask leaves it (as
// os.WriteFile does), not with a temporary file's 0600. It is created with
// O_EXCL|O_NOFOLLOW, so a planted symlink is never followed; renaming over
// a symlink at path replaces the link, not its target.
func WriteFileAtomic(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var f *os.File
	var tmp string
	for attempt := 0; ; attempt++ {
		var suffix [6]byte
		_, _ = rand.Read(suffix[:])
		tmp = filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || attempt >= 10 {
			return fmt.Errorf("write %s: %w", path, unwrapPath(err))
		}
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, unwrapPath(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	// The rename is durable once the directory is; a failure here leaves
	// the new file in place, which is what the caller asked for.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// WriteFile is WriteFileAtomic for data already in memory.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFileAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// unwrapPath drops the *fs.PathError wrapper (whose path is the temporary
// file's) so that messages name only the file the caller asked for.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
