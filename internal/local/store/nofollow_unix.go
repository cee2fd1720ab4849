//go:build unix

package store

import "syscall"

// oNoFollow makes open(2) fail with ELOOP on a symbolic link.
const oNoFollow = syscall.O_NOFOLLOW
