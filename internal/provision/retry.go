package provision

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Clock is time as the retry loops see it; tests replace it so deadlines
// pass instantly and deterministically.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is capped exponential backoff with jitter: attempt n (0-based)
// waits a random duration in [d/2, d] with d = min(max, base·2ⁿ), so
// concurrent clients spread out instead of retrying in lockstep.
type backoff struct {
	base, max time.Duration
	rand      func() float64
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.base
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	r := 0.5
	if b.rand != nil {
		r = b.rand()
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// iamPropagationPhrase is the one documented part of the message Lambda
// returns when a new or changed role is not yet visible to it. AWS gives
// this error no code of its own, so the message is the only signal.
const iamPropagationPhrase = "cannot be assumed by Lambda"

// isIAMPropagation reports whether err is Lambda not yet seeing the role.
func isIAMPropagation(err error) bool {
	var ipv *lambdatypes.InvalidParameterValueException
	return errors.As(err, &ipv) && strings.Contains(ipv.ErrorMessage(), iamPropagationPhrase)
}

// retryIAMPropagation runs call until it succeeds, fails with anything but
// the IAM propagation error, or timeout has passed since the first attempt.
func (p *Provisioner) retryIAMPropagation(ctx context.Context, op, resource, role string, call func() error) error {
	deadline := p.clock.Now().Add(p.spec.IAMPropagationTimeout)
	bo := backoff{base: time.Second, max: 15 * time.Second, rand: p.rand}
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil || !isIAMPropagation(err) {
			return opErr(op, resource, err)
		}
		wait := bo.delay(attempt)
		left := deadline.Sub(p.clock.Now())
		if left <= 0 {
			return &Error{Op: op, Resource: resource,
				Err: fmt.Errorf("role %s still cannot be assumed by Lambda after %s and %d attempts (IAM has not propagated the new role, or its trust policy does not allow lambda.amazonaws.com): %w",
					role, p.spec.IAMPropagationTimeout, attempt+1, err),
				Hint: "IAM changes usually reach Lambda within a minute: re-run ddbops setup (it resumes where it stopped) or raise iam-propagation-timeout (e.g. DDBOPS_IAM_PROPAGATION_TIMEOUT=5m)"}
		}
		if wait > left {
			wait = left // one last attempt at the deadline
		}
		p.reporter.Warn(fmt.Sprintf("%s %s: IAM role not yet usable by Lambda, retrying in %s", op, resource, wait.Round(100*time.Millisecond)))
		if err := p.clock.Sleep(ctx, wait); err != nil {
			return opErr(op, resource, err)
		}
	}
}

// throttle paces API Gateway calls. API Gateway's control plane allows only
// a few requests per second per account (CreateRestApi one every 3 s,
// DeleteRestApi one every 30 s) and answers TooManyRequestsException
// beyond; every call waits out the latest throttle answer (Retry-After when
// given, else backoff), so a storm slows all calls rather than failing one.
type throttle struct {
	clock    Clock
	rand     func() float64
	budget   time.Duration
	warn     func(string)
	mu       sync.Mutex
	notUntil time.Time
}

func (t *throttle) pause(ctx context.Context) error {
	t.mu.Lock()
	wait := t.notUntil.Sub(t.clock.Now())
	t.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return t.clock.Sleep(ctx, wait)
}

func (t *throttle) hold(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until := t.clock.Now().Add(d); until.After(t.notUntil) {
		t.notUntil = until
	}
}

// do runs call, retrying TooManyRequestsException for up to the budget.
func throttled[O any](ctx context.Context, t *throttle, op string, call func() (O, error)) (O, error) {
	bo := backoff{base: 500 * time.Millisecond, max: 10 * time.Second, rand: t.rand}
	start := t.clock.Now()
	for attempt := 0; ; attempt++ {
		if err := t.pause(ctx); err != nil {
			var zero O
			return zero, err
		}
		out, err := call()
		var tm *agtypes.TooManyRequestsException
		if !errors.As(err, &tm) {
			return out, err
		}
		wait := bo.delay(attempt)
		if tm.RetryAfterSeconds != nil {
			if s, perr := strconv.Atoi(strings.TrimSpace(*tm.RetryAfterSeconds)); perr == nil && s >= 0 {
				wait = max(time.Duration(s)*time.Second, wait/4)
			}
		}
		if t.clock.Now().Add(wait).Sub(start) > t.budget {
			return out, fmt.Errorf("API Gateway kept answering TooManyRequestsException for %s (%d attempts): %w",
				t.clock.Now().Sub(start).Round(time.Second), attempt+1, err)
		}
		if t.warn != nil {
			t.warn(fmt.Sprintf("API Gateway %s throttled, retrying in %s", op, wait.Round(100*time.Millisecond)))
		}
		t.hold(wait)
	}
}

func defaultRand() float64 { return rand.Float64() }
