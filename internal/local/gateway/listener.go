package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The listener `ddbops local` accepts with (docs/local-security.md#connections):
// it holds one slot per open connection and stops accepting while every
// slot is taken, so that new connections wait in the kernel's listen queue
// instead of costing descriptors; it retries accept errors that pass (out
// of descriptors, a connection aborted before it was accepted) with
// net/http's backoff instead of ending the server; it gives a new
// connection a deadline for its first byte (fasthttp's read timeout starts
// only with it); and it closes a connection whose request body was left
// unread by half-closing and discarding what the client still sends, so
// that the client reads the answer instead of a reset.

// Accept backoff, as net/http's Server.Serve: 5 ms, doubling, at most 1 s.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// Lingering close: how long, and how many bytes, a connection closed with
// an unread body keeps discarding (API Gateway's payload limit is 10 MB).
const (
	lingerTimeout = 2 * time.Second
	lingerBytes   = 10 << 20
)

type listener struct {
	net.Listener
	slots     chan struct{} // one per open connection; nil: no cap
	firstByte time.Duration // deadline for a new connection's first byte
	closed    chan struct{}
	closeOnce sync.Once
	open      atomic.Int64
	log       io.Writer
	lastLog   time.Time                            // only Accept's goroutine uses it
	after     func(time.Duration) <-chan time.Time // time.After; tests record the backoff
}

func newListener(ln net.Listener, maxConns int, firstByte time.Duration, log io.Writer) *listener {
	l := &listener{Listener: ln, firstByte: firstByte, closed: make(chan struct{}), log: log, after: time.After}
	if maxConns > 0 {
		l.slots = make(chan struct{}, maxConns)
	}
	return l
}

func (l *listener) Accept() (net.Conn, error) {
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			l.open.Add(1)
			if l.firstByte > 0 {
				_ = c.SetReadDeadline(time.Now().Add(l.firstByte))
			}
			return &conn{Conn: c, l: l}, nil
		}
		if !retryableAccept(err) {
			l.release()
			return nil, err
		}
		delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
		l.report(err, delay)
		select {
		case <-l.after(delay):
		case <-l.closed:
			l.release()
			return nil, net.ErrClosed
		}
	}
}

// report logs an accept error at most once a second: under a flood of
// connections the errors come by the thousand.
func (l *listener) report(err error, delay time.Duration) {
	if l.log == nil || time.Since(l.lastLog) < time.Second {
		return
	}
	l.lastLog = time.Now()
	fmt.Fprintf(l.log, "ddbops local: accept: %v; retrying in %v (%d connections open)\n", err, delay, l.open.Load())
}

func (l *listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// conn gives its slot back when it closes.
type conn struct {
	net.Conn
	l      *listener
	once   sync.Once
	linger atomic.Bool // its last request's body was left unread
}

func (c *conn) Close() error {
	var err error
	c.once.Do(func() {
		if c.linger.Load() {
			// The slot stays taken until the discarding is over: the
			// descriptor is still open.
			go c.lingerClose()
			return
		}
		err = c.Conn.Close()
		c.done()
	})
	return err
}

func (c *conn) lingerClose() {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.CopyN(io.Discard, c.Conn, lingerBytes)
	_ = c.Conn.Close()
	c.done()
}

func (c *conn) done() {
	c.l.open.Add(-1)
	c.l.release()
}

// lingerOnClose marks c (a connection the listener accepted) to be closed
// with a lingering close.
func lingerOnClose(c net.Conn) {
	if lc, ok := c.(*conn); ok {
		lc.linger.Store(true)
	}
}

// retryableAccept reports whether an accept error passes: a timeout, or
// one of the errors of accept(2) that say nothing about the listener
// itself (retryableErrnos).
func retryableAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range retryableErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
