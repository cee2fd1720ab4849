package client

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy is how idempotent operations (read, list, echo, ping) are
// retried after a 429, a 5xx or a connection error. Writes are never
// retried: a write whose answer was lost may have been applied, and
// sending it again could apply it twice.
type RetryPolicy struct {
	// Attempts is the total number of attempts, the first included
	// (1 = no retry).
	Attempts int
	// Base is the backoff before the first retry; it doubles per retry.
	Base time.Duration
	// Cap bounds the backoff of any one retry.
	Cap time.Duration

	// Jitter returns a number in [0, 1); nil uses math/rand/v2. Tests set it
	// to make delays deterministic.
	Jitter func() float64
	// Sleep waits d or until ctx is done; nil waits on a timer. Tests set it
	// to record delays without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetryPolicy is 4 attempts with backoff from 100 ms, capped at 2 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 4, Base: 100 * time.Millisecond, Cap: 2 * time.Second}
}

// Delay is the wait after failed attempt n (1-based): "equal jitter", a
// uniformly random duration in [d/2, d) where d = min(Cap, Base·2^(n-1)).
// Half the window is guaranteed, so a throttled caller always backs off;
// the random half spreads concurrent callers apart.
func (p RetryPolicy) Delay(attempt int) time.Duration {
	d := p.Base
	for i := 1; i < attempt && d < p.Cap; i++ {
		d *= 2
	}
	if p.Cap > 0 && d > p.Cap {
		d = p.Cap
	}
	if d <= 0 {
		return 0
	}
	j := rand.Float64
	if p.Jitter != nil {
		j = p.Jitter
	}
	half := d / 2
	return half + time.Duration(j()*float64(d-half))
}

func (p RetryPolicy) wait(ctx context.Context, attempt int) error {
	d := p.Delay(attempt)
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
