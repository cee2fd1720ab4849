package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/provision"
)

// statusOptions are `ddbops status`'s flags and dependencies.
type statusOptions struct {
	provDeps
	ExitCode   bool
	HandlerZip string
}

func newStatusCmd(f *Factory) *cobra.Command { return statusCmd(f, runStatus) }

// statusCmd builds the command around run, so a test can observe the parsed
// options without calling AWS.
func statusCmd(f *Factory, run func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every resource of the stack: exists, missing, drifted or foreign",
		Long: `Read every resource of the stack (no change is made) and compare it with the
desired state: one row per resource with exists / missing / drifted (and
what differs: memory, timeout, architecture, runtime, environment, code
hash, role, policy document, trust policy, log retention, method
authorization, integration URI, permission source ARN, stage throttling) /
foreign (a same-named resource without the stack's tag), then the invoke URL
and auth mode.

The function and auth mode are compared with what the last setup or deploy
applied (recorded in the state file), so status reports changes made
behind ddbops' back. The code hash is compared with the last deployed one,
or with --handler-zip when given.`,
		Example: `  ddbops status
  ddbops status --exit-code || ddbops setup
  ddbops status -o json | jq '.resources[] | select(.status != "exists")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.provDeps = newProvDeps(f)
			opts.Settings = f.Settings
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.ExitCode, "exit-code", false, "exit 1 when any resource is missing, drifted or foreign")
	fs.StringVar(&opts.HandlerZip, "handler-zip", "", "compare the deployed code with this zip")
	return cmd
}

type statusJSON struct {
	*provision.StatusReport
	APICalls  callCounts `json:"apiCalls"`
	ElapsedMS int64      `json:"elapsedMs"`
	Error     string     `json:"error,omitempty"`
}

func runStatus(ctx context.Context, o *statusOptions) (err error) {
	start := time.Now()
	spec := specFromSettings(o.Settings)
	var sess *stackSession
	out := newJSONOut(o.IO, o.Settings)
	defer func() {
		err = out.orFail(err, func() any {
			// No report: the stack's state is unknown, not in sync.
			doc := statusJSON{StatusReport: &provision.StatusReport{Stack: spec.Stack, Region: spec.Region, WantAuth: spec.Auth, Rows: []provision.StatusRow{}},
				ElapsedMS: time.Since(start).Milliseconds(), Error: errString(err)}
			if sess != nil {
				doc.Region, doc.APICalls = sess.spec.Region, countsOf(sess.rec)
			}
			return doc
		})
	}()
	sess, err = openStack(ctx, o.provDeps, spec, nil)
	if err != nil {
		return err
	}
	defer sess.progress.Close()
	var so provision.StatusOptions
	if st, err := provision.LoadState(o.Settings.StateFile); err == nil && st.Stack == spec.Stack && st.Region == sess.spec.Region {
		so = provision.StatusOptions{Memory: st.Memory, Timeout: st.Timeout, Arch: st.Architecture, Auth: st.Auth, CodeSha256: st.CodeSha256}
	}
	if o.HandlerZip != "" {
		b, err := readHandlerZip(o.HandlerZip)
		if err != nil {
			return err
		}
		so.CodeSha256 = provision.CodeSha256(b)
	}
	rep, err := sess.prov.Status(ctx, so)
	if err != nil {
		return provErr(err)
	}
	if o.Settings.JSON() {
		if err := out.write(statusJSON{StatusReport: rep, APICalls: countsOf(sess.rec), ElapsedMS: time.Since(start).Milliseconds()}); err != nil {
			return err
		}
	} else {
		printStatus(o.IO, rep, o.Settings.NoColor)
	}
	if o.ExitCode && !rep.OK {
		return &silentError{code: exitError}
	}
	return nil
}

func printStatus(ios *IOStreams, rep *provision.StatusReport, noColor bool) {
	color := ios.IsTTY && !noColor
	paint := func(status string) string {
		if !color {
			return status
		}
		code := map[string]string{provision.StatusExists: "32", provision.StatusMissing: "33", provision.StatusDrifted: "33", provision.StatusForeign: "31"}[status]
		return "\x1b[" + code + "m" + status + "\x1b[0m"
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tNAME\tSTATUS\tDETAILS")
	counts := map[string]int{}
	for _, r := range rep.Rows {
		counts[r.Status]++
		var details []string
		for _, d := range r.Diffs {
			details = append(details, fmt.Sprintf("%s: %s (want %s)", d.Field, d.Have, d.Want))
		}
		if r.Note != "" {
			details = append(details, r.Note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Kind, r.Name, paint(r.Status), strings.Join(details, "; "))
	}
	_ = tw.Flush()
	fmt.Fprintln(ios.Out)
	url := rep.InvokeURL
	if url == "" {
		url = "(none: the REST API does not exist)"
	}
	auth := rep.Auth
	switch {
	case auth == "":
		auth = "(no method) — want " + rep.WantAuth
	case auth != rep.WantAuth:
		auth += " — want " + rep.WantAuth
	}
	fmt.Fprintf(ios.Out, "invoke URL: %s\nauth:       %s\n", url, auth)
	var parts []string
	for _, s := range []string{provision.StatusExists, provision.StatusMissing, provision.StatusDrifted, provision.StatusForeign} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	verdict := "in sync"
	if !rep.OK {
		verdict = "not in sync (ddbops setup converges it)"
	}
	fmt.Fprintf(ios.Out, "stack %s in %s (account %s): %s — %s\n", rep.Stack, rep.Region, rep.Account, strings.Join(parts, ", "), verdict)
}
