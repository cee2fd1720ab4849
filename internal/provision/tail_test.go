package provision

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// pollClock appends events on every poll pause and cancels after n polls.
type pollClock struct {
	*fakeClock
	mu     sync.Mutex
	polls  int
	onPoll func(n int)
}

func (c *pollClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.polls++
	n := c.polls
	c.mu.Unlock()
	c.onPoll(n)
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.fakeClock.Sleep(ctx, d)
}

func event(id string, ts time.Time, m string) logtypes.FilteredLogEvent {
	return logtypes.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(m + "\n"), LogStreamName: aws.String("2026/01/02/[$LATEST]abc")}
}

func TestTailFollowsWithoutDuplicatesUntilCancelled(t *testing.T) {
	t.Parallel()
	f := newFakeAWS()
	f.logGroups["/aws/lambda/LambdaFunctionOverHttps"] = &fakeLogGroup{tags: map[string]string{TagKey: "ddbops"}}
	base := newFakeClock()
	now := base.Now()
	f.events = []logtypes.FilteredLogEvent{event("1", now.Add(-20*time.Minute), "too old"), event("2", now.Add(-5*time.Minute), "START"), event("3", now.Add(-time.Minute), "ERROR boom")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &pollClock{fakeClock: base, onPoll: func(n int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch n {
		case 1:
			// Same millisecond as the newest seen: must still come, once.
			f.events = append(f.events, event("4", now.Add(-time.Minute), "late ERROR"))
		case 2:
			f.events = append(f.events, event("5", now.Add(time.Second), "ERROR new"))
		case 3:
			cancel()
		}
	}}
	p, err := New(Options{Spec: testSpec(), Clients: f.clients(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = p.Tail(ctx, TailOptions{Since: 10 * time.Minute, Follow: true, Filter: "ERROR"}, func(e LogEvent) error {
		got = append(got, e.ID+":"+e.Message)
		return nil
	})
	if err != nil {
		t.Fatalf("tail: %v", err)
	}
	want := "3:ERROR boom,4:late ERROR,5:ERROR new"
	if strings.Join(got, ",") != want {
		t.Errorf("events %q, want %q", strings.Join(got, ","), want)
	}
}

func TestTailWithoutLogGroupSaysRunSetup(t *testing.T) {
	t.Parallel()
	p, err := New(Options{Spec: testSpec(), Clients: newFakeAWS().clients(), Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Tail(context.Background(), TailOptions{}, func(LogEvent) error { return nil })
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "log group /aws/lambda/LambdaFunctionOverHttps does not exist") || !strings.Contains(pe.Hint, "ddbops setup") {
		t.Fatalf("err = %v", err)
	}
}
