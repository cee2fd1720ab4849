package gateway

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/testenv"
)

// fakeListener returns the errors in errs, one per Accept, then conns
// from a real loopback listener.
type fakeListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestAcceptBackoff: accept errors that pass (out of descriptors, an
// aborted connection) are retried with net/http's backoff (5 ms doubling
// to 1 s), reported at most once a second, and the next connection is
// accepted; any other error ends Accept and frees the slot.
func TestAcceptBackoff(t *testing.T) {
	t.Parallel()
	inner := loopbackListener(t)
	var errs []error
	for range 10 {
		errs = append(errs, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE})
	}
	errs = append(errs, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.ECONNABORTED})
	log := &testenv.SyncBuffer{}
	l := newListener(&fakeListener{Listener: inner, errs: errs}, 1, 0, log)
	var delays []time.Duration
	l.after = func(d time.Duration) <-chan time.Time {
		delays = append(delays, d)
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	dial(t, inner.Addr().String()) // waits in the listen queue
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after passing errors: %v", err)
	}
	ms := time.Millisecond
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, time.Second}
	if len(delays) != len(want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
	if n := strings.Count(log.String(), "ddbops local: accept: "); n != 1 || !strings.Contains(log.String(), "too many open files; retrying in 5ms") {
		t.Errorf("reports (at most one a second):\n%s", log)
	}
	_ = c.Close()

	// A permanent error ends Accept and frees its slot.
	bad := errors.New("listener broken")
	l2 := newListener(&fakeListener{Listener: inner, errs: []error{bad}}, 1, 0, nil)
	if _, err := l2.Accept(); !errors.Is(err, bad) {
		t.Fatalf("Accept: %v, want the permanent error", err)
	}
	if len(l2.slots) != 0 {
		t.Error("a failed Accept kept its slot")
	}
}

// TestListenerCap: with a cap of 2, a third Accept waits until one of the
// two connections closes; Close of the listener ends a waiting Accept.
func TestListenerCap(t *testing.T) {
	t.Parallel()
	inner := loopbackListener(t)
	l := newListener(inner, 2, 0, nil)
	for range 3 {
		dial(t, inner.Addr().String())
	}
	a, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	third := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if c != nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		third <- err
	}()
	select {
	case err := <-third:
		t.Fatalf("a third connection was accepted under a cap of 2 (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	_ = a.Close()
	_ = a.Close() // twice: one slot back, not two
	if err := <-third; err != nil {
		t.Fatalf("Accept once a slot freed: %v", err)
	}
	if len(l.slots) != 2 {
		t.Errorf("%d slots taken, want 2", len(l.slots))
	}

	waiting := make(chan error, 1)
	go func() { _, err := l.Accept(); waiting <- err }()
	_ = l.Close()
	if err := <-waiting; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept waiting for a slot when the listener closed: %v", err)
	}
}

// TestFirstByteDeadline: a new connection that sends nothing is cut at
// the first-byte deadline (fasthttp's read timeout starts only with the
// first byte).
func TestFirstByteDeadline(t *testing.T) {
	t.Parallel()
	inner := loopbackListener(t)
	l := newListener(inner, 0, 50*time.Millisecond, nil)
	dial(t, inner.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read on a silent connection: %v, want a timeout", err)
	}
}

// TestLingeringClose: a connection closed with an unread body half-closes
// at once (the peer reads the answer, then EOF, not a reset), discards
// what the peer still sends, and gives its slot back once fully closed.
func TestLingeringClose(t *testing.T) {
	t.Parallel()
	inner := loopbackListener(t)
	l := newListener(inner, 1, 0, nil)
	peer := dial(t, inner.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// The peer has sent more than the server read.
	if _, err := peer.Write(make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	lingerOnClose(c)
	_ = c.Close()
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "answer" {
		t.Fatalf("peer read %q, %v; want the answer, then EOF", got, err)
	}
	_ = peer.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(l.slots) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the lingering connection kept its slot")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConnCap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ max, limit, want int }{
		{1024, 0, 1024},     // limit unknown
		{1024, 20000, 1024}, // the limit leaves room
		{1024, 256, 192},    // the limit does not: keep 64 back
		{0, 256, 192},       // no cap of its own: the limit's
		{1024, 100, 50},     // a tiny limit: keep half
		{1024, 1088, 1024},  // exactly room for it
		{1024, 1087, 1023},  // one short
		{0, 0, 0},           // nothing known: no cap
	} {
		if got := connCap(tt.max, tt.limit); got != tt.want {
			t.Errorf("connCap(%d, %d) = %d, want %d", tt.max, tt.limit, got, tt.want)
		}
	}
}
