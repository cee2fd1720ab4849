package e2etest

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// staller holds one connection that sent a head announcing a 1 MiB body
// and then sends all of it but the last byte, and collects its answer.
type staller struct {
	conn   net.Conn
	answer chan answer
	err    chan error
}

const mib = 1 << 20

func stall(t *testing.T, addr, head string, send int) *staller {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	st := &staller{conn: c, answer: make(chan answer, 1), err: make(chan error, 1)}
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		// The server may answer and close while this is still sending.
		_, _ = c.Write(make([]byte, send))
	}()
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		a, err := readAnswer(c, head)
		if err != nil {
			st.err <- err
			return
		}
		st.answer <- a
	}()
	return st
}

// peakRSS samples the server's resident memory every 20 ms until stop is
// closed and returns the highest RssAnon and VmRSS seen.
func peakRSS(t *testing.T, s *server, stop <-chan struct{}) (anon, total chan int64) {
	anon, total = make(chan int64, 1), make(chan int64, 1)
	go func() {
		var ma, mt int64
		for {
			a, v := s.rss(t)
			ma, mt = max(ma, a), max(mt, v)
			select {
			case <-stop:
				anon <- ma
				total <- mt
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return anon, total
}

// TestStalledBodiesUnderIAM: 400 clients with a garbage Authorization
// each announce a 1 MiB body and send all but its last byte: each gets
// its 403 from the headers alone, nothing of the bodies is kept, and the
// server's memory stays under 100 MB.
func TestStalledBodiesUnderIAM(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "iam"}, env: iamEnv})
	head := "POST " + route + " HTTP/1.1\r\nHost: " + s.addr + "\r\nAuthorization: garbage\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
	stop := make(chan struct{})
	anon, total := peakRSS(t, s, stop)
	var sts []*staller
	for range 400 {
		sts = append(sts, stall(t, s.addr, head, mib-1))
	}
	refused := 0
	for _, st := range sts {
		select {
		case a := <-st.answer:
			if a.status == 403 && strings.Contains(a.body, "Authorization header requires 'Credential' parameter.") {
				refused++
			} else {
				t.Errorf("answer %s", a)
			}
		case err := <-st.err:
			t.Errorf("no answer: %v", err)
		}
	}
	close(stop)
	peakAnon, peakTotal := <-anon, <-total
	t.Logf("400 stalled 1 MiB bodies under iam: %d refused; peak RssAnon %.1f MB, VmRSS %.1f MB", refused, float64(peakAnon)/1e6, float64(peakTotal)/1e6)
	if peakTotal >= 100e6 {
		t.Errorf("peak VmRSS %.1f MB, want under 100 MB", float64(peakTotal)/1e6)
	}
	if a := s.ping(t); a.status != 403 || !s.alive() {
		t.Errorf("after the stalled bodies: %s", a)
	}
}

// TestStalledBodiesUnauthenticated: with --auth none anyone may send a
// body, so the bytes held are bounded by local-max-body-bytes-in-flight:
// 400 stalled 1 MiB bodies under the default 32 MiB keep the server under
// 100 MB; the bodies that do not fit get 503 with Retry-After at once.
func TestStalledBodiesUnauthenticated(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none"}})
	head := "POST " + route + " HTTP/1.1\r\nHost: " + s.addr + "\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
	stop := make(chan struct{})
	anon, total := peakRSS(t, s, stop)
	var sts []*staller
	for range 400 {
		sts = append(sts, stall(t, s.addr, head, mib-1))
	}
	// 32 bodies fit the budget and wait for their last byte; every other
	// one is answered 503 at once.
	const fit = 32
	answers := make(chan answer, len(sts))
	for _, st := range sts {
		go func() {
			select {
			case a := <-st.answer:
				answers <- a
			case err := <-st.err:
				answers <- answer{status: -1, body: err.Error()}
			}
		}()
	}
	busy := 0
	for busy < len(sts)-fit {
		select {
		case a := <-answers:
			if a.status != 503 || a.header.Get("Retry-After") != "1" {
				t.Fatalf("answer %s", a)
			}
			busy++
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of 400 answered 503, want %d", busy, len(sts)-fit)
		}
	}
	close(stop)
	peakAnon, peakTotal := <-anon, <-total
	t.Logf("400 stalled 1 MiB bodies under none: %d got 503; peak RssAnon %.1f MB, VmRSS %.1f MB", busy, float64(peakAnon)/1e6, float64(peakTotal)/1e6)
	select {
	case a := <-answers:
		t.Errorf("a body that fits the budget was answered before its last byte: %s", a)
	default:
	}
	if peakTotal >= 100e6 {
		t.Errorf("peak VmRSS %.1f MB, want under 100 MB", float64(peakTotal)/1e6)
	}
}

// TestBodyBudget: bodies in flight take their bytes from
// local-max-body-bytes-in-flight; a body that does not fit gets 503 with
// Retry-After and does nothing; once a held body completes, its bytes come
// back.
func TestBodyBudget(t *testing.T) {
	t.Parallel()
	s := start(t, spec{args: []string{"--auth", "none", "--max-body-bytes-in-flight", fmt.Sprint(2 * mib)}})
	body := createBody("budget-held")
	body += strings.Repeat(" ", mib-len(body))
	head := "POST " + route + " HTTP/1.1\r\nHost: " + s.addr + "\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n"
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head+body[:100]); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Both hold 1 MiB once even a 20-byte ping does not fit.
	waitFor(t, "the budget to be spent", func() bool { return s.ping(t).status == 503 })
	a := s.post(t, createBody("budget-refused"))
	if a.status != 503 || a.header.Get("Retry-After") != "1" || !strings.Contains(a.body, "too many request bodies in flight") {
		t.Errorf("a body over the budget: %s, Retry-After %q", a, a.header.Get("Retry-After"))
	}
	if _, err := io.WriteString(held[0], body[100:]); err != nil {
		t.Fatal(err)
	}
	_ = held[0].SetReadDeadline(time.Now().Add(20 * time.Second))
	if a, err := readAnswer(held[0], head); err != nil || a.status != 200 {
		t.Fatalf("the held body once complete: %v %s", err, a)
	}
	if a := s.ping(t); !pong(a) {
		t.Errorf("ping once a held body gave its bytes back: %s", a)
	}
	if s.stored(t, "budget-refused") || !s.stored(t, "budget-held") {
		t.Error("the refused body was stored, or the held one was not")
	}
}
