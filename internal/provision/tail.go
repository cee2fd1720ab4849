package provision

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// LogEvent is one line of the function's log.
type LogEvent struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

// TailOptions say which events Tail prints.
type TailOptions struct {
	// Since is how far back to start (0 = 10 minutes).
	Since time.Duration
	// Filter is a CloudWatch Logs filter pattern ("" = every event).
	Filter string
	// Follow keeps polling for new events until ctx is done.
	Follow bool
	// PollInterval is the pause between polls when following (0 = 2s).
	PollInterval time.Duration
}

// Tail sends the function's log events to emit, oldest first. Following, it
// polls from the newest timestamp seen and drops events already sent (a
// poll overlaps the previous one by design: CloudWatch may deliver events
// late within the same millisecond), and returns nil when ctx is done.
func (p *Provisioner) Tail(ctx context.Context, opts TailOptions, emit func(LogEvent) error) error {
	name := p.spec.LogGroupName()
	exists, _, err := findLogGroup(ctx, p.logs, name)
	if err != nil {
		return err
	}
	if !exists {
		return p.noLogGroup()
	}
	since := opts.Since
	if since <= 0 {
		since = 10 * time.Minute
	}
	interval := opts.PollInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	startMs := p.clock.Now().Add(-since).UnixMilli()
	seen := map[string]int64{}
	for {
		newest := startMs
		in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(name), StartTime: aws.Int64(startMs)}
		if opts.Filter != "" {
			in.FilterPattern = aws.String(opts.Filter)
		}
		pg := cloudwatchlogs.NewFilterLogEventsPaginator(p.logs, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				if opts.Follow && ctx.Err() != nil {
					return nil
				}
				var nf *logtypes.ResourceNotFoundException
				if errors.As(err, &nf) {
					return p.noLogGroup()
				}
				var bad *logtypes.InvalidParameterException
				if errors.As(err, &bad) && opts.Filter != "" {
					return &Error{Op: "filter log events of", Resource: name, Err: err,
						Hint: "--filter takes a CloudWatch Logs filter pattern: a term (ERROR), a quoted phrase (\"\\\"Task timed out\\\"\"), or ?a ?b for either"}
				}
				return opErr("filter log events of", name, err)
			}
			for _, e := range out.Events {
				id, ts := aws.ToString(e.EventId), aws.ToInt64(e.Timestamp)
				if _, dup := seen[id]; dup {
					continue
				}
				seen[id] = ts
				newest = max(newest, ts)
				ev := LogEvent{ID: id, Time: time.UnixMilli(ts).UTC(), Stream: aws.ToString(e.LogStreamName), Message: strings.TrimRight(aws.ToString(e.Message), "\n")}
				if err := emit(ev); err != nil {
					return err
				}
			}
		}
		if !opts.Follow {
			return nil
		}
		// Next poll starts at the newest timestamp seen; only the ids at
		// that timestamp or later can come again.
		startMs = newest
		for id, ts := range seen {
			if ts < startMs {
				delete(seen, id)
			}
		}
		if err := p.clock.Sleep(ctx, interval); err != nil {
			return nil // Ctrl-C: a clean end of following
		}
	}
}

func (p *Provisioner) noLogGroup() error {
	return &Error{Op: "read logs of function", Resource: p.spec.Function,
		Err:  errors.New("log group " + p.spec.LogGroupName() + " does not exist"),
		Hint: "run ddbops setup (it creates the log group), or check --stack/--region/function"}
}
