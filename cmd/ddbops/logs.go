package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
)

// logsOptions are `ddbops logs`'s flags and dependencies.
type logsOptions struct {
	provDeps
	Follow bool
	Since  time.Duration
	Filter string
	// PollInterval is the pause between polls with --follow.
	PollInterval time.Duration
}

func newLogsCmd(f *Factory, runF func(context.Context, *logsOptions) error) *cobra.Command {
	opts := &logsOptions{PollInterval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print (and follow) the function's CloudWatch logs",
		Long: `Print the events of the function's log group (/aws/lambda/<function>) from
--since ago, optionally only those matching --filter (a CloudWatch Logs filter
pattern: a term such as ERROR, a quoted phrase, ?a ?b for either). --follow
keeps polling for new events, never printing one twice, until Ctrl-C.

With -o json: one document {"events": [...]}; with --follow, one JSON object
per line (JSON Lines), since the stream has no end.`,
		Example: `  ddbops logs --since 1h
  ddbops logs --follow --filter ERROR
  ddbops logs --filter '"Task timed out"' -o json | jq '.events[].message'`,
		Args: cmdutil.NoArgs,
		RunE: provRunE(f, &opts.provDeps, opts, runF, runLogs),
	}
	fs := cmd.Flags()
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new events until interrupted")
	cmdutil.DurationVar(fs, &opts.Since, "since", 0, "how far back to start, e.g. 30s, 10m, 2h")
	fs.StringVar(&opts.Filter, "filter", "", "CloudWatch Logs filter pattern (e.g. ERROR)")
	bindConfig(fs, "since", "logs-since")
	return cmd
}

func runLogs(ctx context.Context, o *logsOptions) (err error) {
	spec := o.Settings.spec()
	events := []provision.LogEvent{}
	enc := json.NewEncoder(o.IO.Out)
	enc.SetEscapeHTML(false)
	r := o.begin("logs", spec)
	defer func() {
		err = r.end(err, func() any {
			if o.Follow {
				// JSON Lines: the events already printed, then the error
				// as the stream's last line.
				return struct {
					Error string `json:"error"`
				}{cmdutil.ErrString(err)}
			}
			return provision.LogsDoc{LogGroup: spec.LogGroupName(), Events: events, Error: cmdutil.ErrString(err)}
		})
	}()
	if o.Since <= 0 {
		return cmdutil.UsageErrorf("invalid --since %s: must be positive", o.Since)
	}
	if err := r.open(ctx, nil); err != nil {
		return err
	}
	n := 0
	emit := func(e provision.LogEvent) error {
		n++
		switch {
		case o.Settings.JSON() && o.Follow:
			return enc.Encode(e)
		case o.Settings.JSON():
			events = append(events, e)
			return nil
		}
		_, err := fmt.Fprintln(o.IO.Out, e.Line(o.Settings.Verbose))
		return err
	}
	err = r.prov.Tail(ctx, provision.TailOptions{Since: o.Since, Filter: o.Filter, Follow: o.Follow, PollInterval: o.PollInterval}, emit)
	if err != nil {
		return provision.WithHint(err)
	}
	if n == 0 && !o.Follow && !o.Settings.Quiet {
		fmt.Fprintln(o.IO.ErrOut, provision.NoEvents(spec.LogGroupName(), o.Filter, o.Since))
	}
	if o.Settings.JSON() && !o.Follow {
		return r.out.Write(provision.LogsDoc{LogGroup: spec.LogGroupName(), Events: events})
	}
	return nil
}
