package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// flakyServer fails the first `failures` requests with how, then answers
// 200 with a body that suits every operation.
func flakyServer(t *testing.T, failures int32, how string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		io.Copy(io.Discard, r.Body)
		if n <= failures {
			switch how {
			case "429":
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"message":"Too Many Requests"}`)
			case "503":
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"message":"Service Unavailable"}`)
			case "500":
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"error":{"code":"InternalError","message":"internal error"},"requestId":"x"}`)
			case "reset":
				// Drop the connection with an RST: the client sees a
				// connection error after sending the request.
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			case "400":
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":{"code":"ValidationError","message":"bad"},"requestId":"x"}`)
			}
			return
		}
		io.WriteString(w, `{"Item":{"id":"1"},"Items":[],"Count":0,"ScannedCount":0,"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"ok"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestRetryPolicyByOperation(t *testing.T) {
	t.Parallel()
	ops := map[string]func(c *Client) error{
		wire.OpRead: func(c *Client) error { _, err := c.Read(context.Background(), "1"); return err },
		wire.OpList: func(c *Client) error { _, err := c.List(context.Background(), wire.ListInput{}); return err },
		wire.OpEcho: func(c *Client) error { _, err := c.Echo(context.Background(), nil); return err },
		wire.OpPing: func(c *Client) error {
			_, err := c.Do(context.Background(), wire.OpPing, wire.PingBody())
			return err
		},
		wire.OpCreate: func(c *Client) error {
			_, err := c.Create(context.Background(), wire.Object{{Name: "id", Value: wire.String("1")}}, false)
			return err
		},
		wire.OpUpdate: func(c *Client) error {
			_, err := c.Update(context.Background(), wire.UpdateInput{ID: "1", Set: wire.Object{{Name: "a", Value: wire.String("b")}}})
			return err
		},
		wire.OpDelete: func(c *Client) error { _, err := c.Delete(context.Background(), "1"); return err },
		"raw read": func(c *Client) error {
			_, err := c.Raw(context.Background(), []byte(`{"operation":"read","payload":{"Key":{"id":"1"}}}`))
			return err
		},
		"raw create": func(c *Client) error {
			_, err := c.Raw(context.Background(), []byte(`{"operation":"create","payload":{"Item":{"id":"1"}}}`))
			return err
		},
	}
	idempotent := func(name string) bool { return Idempotent(strings.TrimPrefix(name, "raw ")) }
	for _, how := range []string{"429", "503", "500", "reset", "400"} {
		for name, call := range ops {
			t.Run(how+"/"+name, func(t *testing.T) {
				t.Parallel()
				srv, hits := flakyServer(t, 2, how)
				var delays []time.Duration
				c, err := New(Target{URL: srv.URL}, WithRetry(noWait(4, &delays)))
				if err != nil {
					t.Fatal(err)
				}
				err = call(c)
				retryable := how != "400"
				switch {
				case idempotent(name) && retryable:
					if err != nil {
						t.Fatalf("want success after retries, got %v", err)
					}
					if n := hits.Load(); n != 3 {
						t.Errorf("%d attempts, want 3", n)
					}
					if len(delays) != 2 {
						t.Errorf("%d backoffs, want 2", len(delays))
					}
				default:
					if err == nil {
						t.Fatal("want the first failure reported")
					}
					if n := hits.Load(); n != 1 {
						t.Errorf("%d attempts, want exactly 1 (never retried)", n)
					}
					var unknown *OutcomeUnknownError
					if how == "reset" && !idempotent(name) && !errors.As(err, &unknown) {
						t.Errorf("a write cut off mid-flight must report an unknown outcome, got %v", err)
					}
				}
			})
		}
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	for _, attempts := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(attempts), func(t *testing.T) {
			t.Parallel()
			srv, hits := flakyServer(t, 100, "503")
			c, _ := New(Target{URL: srv.URL}, WithRetry(noWait(attempts, nil)))
			_, err := c.Read(context.Background(), "1")
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Attempts != attempts {
				t.Fatalf("err = %v", err)
			}
			if attempts > 1 && !strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", attempts)) {
				t.Errorf("error does not say how often it tried: %v", err)
			}
			if n := hits.Load(); int(n) != attempts {
				t.Errorf("%d requests, want %d", n, attempts)
			}
		})
	}
}

func TestBackoffBoundsAndGrowth(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Attempts: 10, Base: 100 * time.Millisecond, Cap: time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		window := p.Base << (attempt - 1)
		if window > p.Cap {
			window = p.Cap
		}
		for i := 0; i < 200; i++ {
			d := p.Delay(attempt)
			if d < window/2 || d >= window {
				t.Fatalf("attempt %d: delay %s outside [%s, %s)", attempt, d, window/2, window)
			}
		}
	}
	// The jitter is real: many draws are not all equal.
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[p.Delay(3)] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct delays in 50 draws", len(seen))
	}
	// Deterministic ends of the jitter range.
	p.Jitter = func() float64 { return 0 }
	if d := p.Delay(2); d != 100*time.Millisecond {
		t.Errorf("jitter 0: %s", d)
	}
	p.Jitter = func() float64 { return 0.999999 }
	if d := p.Delay(20); d >= time.Second || d < 999*time.Millisecond {
		t.Errorf("jitter ~1 at cap: %s", d)
	}
	if d := (RetryPolicy{}).Delay(3); d != 0 {
		t.Errorf("zero policy: %s", d)
	}
}

func TestRealSleepHonoursContext(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Attempts: 2, Base: time.Hour, Cap: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v", err)
	}
}
