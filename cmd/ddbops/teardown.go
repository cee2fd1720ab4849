package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/provision"
)

// teardownOptions are `ddbops teardown`'s flags and dependencies.
type teardownOptions struct {
	provDeps
	Yes        bool
	DeleteData bool
	Backup     bool
	DryRun     bool
}

func newTeardownCmd(f *Factory) *cobra.Command { return teardownCmd(f, runTeardown) }

// teardownCmd builds the command around run, so a test can observe the parsed
// options without calling AWS.
func teardownCmd(f *Factory, run func(context.Context, *teardownOptions) error) *cobra.Command {
	opts := &teardownOptions{}
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Delete every resource the stack owns, including the function's log group",
		Long: `Find the stack's resources by name and the ddbops:stack=<stack> tag (the
state file is not needed) and delete the ones carrying the tag, in reverse
dependency order: usage plan and API key, REST API, function (with its
invoke permission), log group, role, policy, table. A same-named resource
without the tag is listed as not owned and left alone.

A table that still holds items is refused, before anything is deleted,
unless --delete-data, or --backup (an on-demand backup is taken first and
its ARN printed). On a terminal teardown asks for confirmation; otherwise
it requires --yes. Running it again finds nothing and exits 0.`,
		Example: `  ddbops teardown --dry-run
  ddbops teardown
  ddbops teardown --yes --backup
  ddbops teardown --yes --delete-data -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.provDeps = newProvDeps(f)
			opts.Settings = f.Settings
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	fs.BoolVar(&opts.DeleteData, "delete-data", false, "delete the table even if it holds items")
	fs.BoolVar(&opts.Backup, "backup", false, "take an on-demand backup of the table before deleting it")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "list what would be deleted and delete nothing")
	return cmd
}

func runTeardown(ctx context.Context, o *teardownOptions) (err error) {
	start := time.Now()
	var sess *stackSession
	out := newJSONOut(o.IO, o.Settings)
	defer func() {
		err = out.orFail(err, func() any { return failedResultJSON("teardown", o.Settings, sess, time.Since(start), err) })
	}()
	if !o.DryRun && !o.Yes && !o.IO.IsInTTY {
		return withHint(usageErrorf("teardown deletes AWS resources and stdin is not a terminal to confirm"),
			"pass --yes to delete, or --dry-run to list what would be deleted")
	}
	spec := specFromSettings(o.Settings)
	sess, err = openStack(ctx, o.provDeps, spec, nil)
	if err != nil {
		return err
	}
	defer sess.progress.Close()
	plan, err := sess.prov.PlanTeardown(ctx)
	if err != nil {
		return provErr(err)
	}
	planned := &provision.Result{DryRun: true, Changes: plan.Changes}
	var refusal error
	if plan.TableHasItems && !o.DeleteData && !o.Backup {
		refusal = provErr(sess.prov.TableNotEmptyError())
	}
	if o.DryRun || plan.Deletes() == 0 || refusal != nil {
		if o.Settings.JSON() {
			if err := out.write(newResultJSON("teardown", sess, planned, time.Since(start), refusal)); err != nil {
				return err
			}
			return refusal
		}
		printPlan(o.IO.Out, plan.Changes)
		switch {
		case plan.Deletes() == 0:
			fmt.Fprintf(o.IO.Out, "\nNothing to delete for stack %s (%s)\n", spec.Stack, callsLine(sess, "nothing was changed"))
		case refusal == nil:
			fmt.Fprintf(o.IO.Out, "\nTeardown plan: %s (%s)\n", planCounts(plan.Changes, true), callsLine(sess, "dry run: nothing was changed"))
		}
		return refusal
	}
	if !o.Yes {
		sess.progress.Close()
		printPlan(o.IO.ErrOut, plan.Changes)
		ok, err := confirm(o.IO, fmt.Sprintf("Delete these %d resources of stack %s in %s?", plan.Deletes(), spec.Stack, sess.spec.Region))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("teardown cancelled: nothing was deleted")
		}
		sess.progress = newProgress(o.IO, o.Settings)
		defer sess.progress.Close()
	}
	res, err := sess.prov.Teardown(ctx, plan, provision.TeardownOptions{DeleteData: o.DeleteData, Backup: o.Backup})
	sess.progress.Close()
	err = provErr(err)
	backup := ""
	if res != nil {
		for _, c := range res.Changes {
			if c.Kind == provision.KindTable && strings.HasPrefix(c.Note, "backup ") {
				backup = strings.TrimPrefix(c.Note, "backup ")
			}
		}
	}
	if o.Settings.JSON() {
		doc := newResultJSON("teardown", sess, res, time.Since(start), err)
		doc.BackupARN = backup
		if jerr := out.write(doc); jerr != nil {
			return jerr
		}
		return err
	}
	if err != nil {
		return err
	}
	total, mut := sess.rec.Counts()
	fmt.Fprintf(o.IO.Out, "Stack %s torn down: %s in %s (%d AWS calls, %d mutating)\n",
		spec.Stack, planCounts(res.Changes, false), fmtElapsed(time.Since(start)), total, mut)
	if backup != "" {
		fmt.Fprintf(o.IO.Out, "  table backup: %s\n", backup)
	}
	for _, c := range res.Changes {
		if c.Action == provision.Keep {
			fmt.Fprintf(o.IO.Out, "  kept %s %s: %s\n", c.Kind, c.Name, c.Note)
		}
	}
	return nil
}
