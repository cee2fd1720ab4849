//go:build unix

package gateway

import "syscall"

// retryableErrnos are the errors of accept(2) after which the listener
// still works: out of descriptors or memory, and a connection that failed
// before it was accepted (accept(2) says to retry those like EAGAIN).
var retryableErrnos = []error{
	syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
	syscall.ECONNABORTED, syscall.EPROTO, syscall.EPERM, syscall.EINTR, syscall.EAGAIN,
	syscall.ENETDOWN, syscall.ENOPROTOOPT, syscall.EHOSTDOWN, syscall.EHOSTUNREACH,
	syscall.EOPNOTSUPP, syscall.ENETUNREACH,
}

// openFileLimit is the soft limit on open descriptors (0: unknown or
// unlimited).
func openFileLimit() int {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
