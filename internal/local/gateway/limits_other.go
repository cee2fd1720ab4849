//go:build !unix

package gateway

// retryableErrnos: elsewhere only timeouts are retried.
var retryableErrnos []error

// openFileLimit: unknown.
func openFileLimit() int { return 0 }
