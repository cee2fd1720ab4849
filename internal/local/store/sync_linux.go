package store

import (
	"os"
	"syscall"
)

// Datasync makes appended data durable. fdatasync also persists the new
// file size, which is all an append needs, without an inode timestamp
// write.
func Datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
