package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
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

func newTeardownCmd(f *Factory, runF func(context.Context, *teardownOptions) error) *cobra.Command {
	opts := &teardownOptions{}
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Delete every resource the stack owns, including the function's log group",
		Long: `Delete, in reverse dependency order, every resource found by name that
carries the ddbops:stack=<stack> tag (no state file needed); a same-named
resource without it is left alone. A table holding items is refused before
anything is deleted, unless --delete-data or --backup (taken first). On a
terminal it asks; otherwise it requires --yes. A second run finds nothing and
exits 0. The stack's state file, desired state included, is removed.`,
		Example: `  ddbops teardown --dry-run
  ddbops teardown
  ddbops teardown --yes --backup
  ddbops teardown --yes --delete-data -o json`,
		Args: cmdutil.NoArgs,
		RunE: provRunE(f, &opts.provDeps, opts, runF, runTeardown),
	}
	fs := cmd.Flags()
	fs.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	fs.BoolVar(&opts.DeleteData, "delete-data", false, "delete the table even if it holds items")
	fs.BoolVar(&opts.Backup, "backup", false, "take an on-demand backup of the table before deleting it")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "list what would be deleted and delete nothing")
	return cmd
}

func runTeardown(ctx context.Context, o *teardownOptions) (err error) {
	r := o.begin("teardown", o.Settings.spec())
	defer func() { err = r.end(err, nil) }()
	if !o.DryRun && !o.Yes && !o.IO.IsInTTY {
		return cmdutil.WithHint(cmdutil.UsageErrorf("teardown deletes AWS resources and stdin is not a terminal to confirm"),
			"pass --yes to delete, or --dry-run to list what would be deleted")
	}
	if err := r.open(ctx, nil); err != nil {
		return err
	}
	plan, err := r.prov.PlanTeardown(ctx)
	if err != nil {
		return provision.WithHint(err)
	}
	var refusal error
	if plan.TableHasItems && !o.DeleteData && !o.Backup {
		refusal = provision.WithHint(r.prov.TableNotEmptyError())
	}
	if o.DryRun || plan.Deletes() == 0 || refusal != nil {
		return r.report(&provision.Result{DryRun: true, Changes: plan.Changes}, refusal, true, func() string {
			switch {
			case plan.Deletes() == 0:
				return fmt.Sprintf("Nothing to delete for stack %s (%s)", r.spec.Stack, r.calls("nothing was changed"))
			case refusal == nil:
				return fmt.Sprintf("Teardown plan: %s (%s)", provision.PlanCounts(plan.Changes, true), r.calls("dry run: nothing was changed"))
			}
			return ""
		}, nil)
	}
	if !o.Yes {
		r.progress.Close()
		_ = cmdutil.WriteTable(o.IO.ErrOut, provision.PlanRows(plan.Changes), false)
		if err := r.confirm(fmt.Sprintf("Delete these %d resources of stack %s in %s?", plan.Deletes(), r.spec.Stack, r.spec.Region),
			"teardown cancelled: nothing was deleted"); err != nil {
			return err
		}
	}
	res, err := r.prov.Teardown(ctx, plan, provision.TeardownOptions{DeleteData: o.DeleteData, Backup: o.Backup})
	r.backupARN = res.BackupARN()
	return r.report(res, err, false, nil, func() {
		fmt.Fprintf(o.IO.Out, "Stack %s torn down: %s\n", r.spec.Stack, r.summary(res.Changes))
		for _, line := range res.Notes() {
			fmt.Fprintln(o.IO.Out, "  "+line)
		}
	})
}
