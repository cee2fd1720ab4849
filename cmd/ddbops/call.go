package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/target"
	"github.com/ddbops/ddbops/internal/wire"
)

// callOptions holds `ddbops call`'s flags and dependencies.
type callOptions struct {
	IO       *cmdutil.IOStreams
	Settings Settings
	Version  string
	// Resolver finds the target (--url, --local, the recorded stack).
	Resolver *target.Resolver
	// Retry is the backoff of --retries (its Attempts come from the flag).
	Retry client.RetryPolicy

	target    target.Flags
	timeout   time.Duration
	retries   int
	printCurl bool
	raw       string // --raw JSON|@file (only without an op)
	rawData   []byte // --raw's content, read once by loadCallInputs

	op        string
	id        string
	name      string
	nameSet   bool
	attrs     []string // HTTPie-style NAME=STRING / NAME:=JSON
	item      string   // --item JSON|@file
	itemData  []byte   // --item's content, read once by loadCallInputs
	overwrite bool
	remove    []string
	limit     int
	limitSet  bool
	all       bool
}

func newCallCmd(f *Factory, runF func(context.Context, *callOptions) error) *cobra.Command {
	opts := &callOptions{Retry: client.DefaultRetryPolicy()}
	// run fills the dependencies from f, once settings are resolved.
	var cmd *cobra.Command
	run := func(ctx context.Context) error {
		opts.IO, opts.Settings, opts.Version, opts.Resolver = f.IO, f.Settings, f.Version, f.Resolver()
		if cmd.PersistentFlags().Changed("timeout") && !opts.Settings.Quiet {
			fmt.Fprintln(opts.IO.ErrOut, "warning: --timeout is deprecated: use --request-timeout (the same duration)")
		}
		return runOr(ctx, opts, runF, runCall)
	}
	cmd = &cobra.Command{
		Use:   "call <op> [flags] [attr...]",
		Short: "Send one operation to the API (create, read, update, delete, list, echo, ping)",
		Long: `Send one operation of the tutorial's API and print the result.

Target: --url, else --local (a running ddbops local of --data-dir, else in-process),
else the invoke URL recorded by setup. Attributes are HTTPie-style: name=Bob is
a string, age:=42 and tags:='["a"]' raw JSON. Only read, list, echo and ping
are retried; a write whose answer was lost is reported, never resent. Exit
codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict (docs/call.md).`,
		Example: `  ddbops call create --id 1 --name Bob
  ddbops call read --id 1
  ddbops call update --id 1 --name Alice age:=42 --remove nickname
  ddbops call list --all -o json
  ddbops call --local ping
  ddbops call --raw '{"operation":"echo","payload":{"a":1}}'
  ddbops call read --id 1 --print-curl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownOperation(args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.raw == "" {
				return cmdutil.UsageErrorf("call: name an operation (%s) or pass --raw", strings.Join(wire.Operations, ", "))
			}
			return run(cmd.Context())
		},
	}
	// An unknown operation takes no flags of its own: name it, not the
	// first flag cobra could not place (ddbops call frobnicate --id 1).
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if args := c.Flags().Args(); c == cmd && len(args) > 0 {
			return unknownOperation(args[0])
		}
		return &cmdutil.UsageError{Err: err}
	})
	pf := cmd.PersistentFlags()
	addTargetFlags(pf, &opts.target)
	cmdutil.DurationVar(pf, &opts.timeout, "request-timeout", 0, "bound on each HTTP attempt (0 = none)")
	// --timeout was this flag's name; deploy --timeout is the function's
	// timeout in seconds, so it was renamed as bench's.
	cmdutil.DurationVar(pf, &opts.timeout, "timeout", 0, "deprecated: --request-timeout")
	_ = pf.MarkHidden("timeout")
	pf.IntVar(&opts.retries, "retries", 0, "retries of read, list, echo and ping after 429, 5xx or a connection error (writes are never retried)")
	pf.BoolVar(&opts.printCurl, "print-curl", false, "print the equivalent curl command instead of sending (secrets as $VARIABLES)")
	bindConfig(pf, "request-timeout", "request-timeout")
	bindConfig(pf, "timeout", "request-timeout")
	bindConfig(pf, "retries", "retries")
	completeValues(cmd, map[string][]string{"auth": wire.AuthModes})
	_ = cmd.MarkPersistentFlagDirname("data-dir")
	cmd.Flags().StringVar(&opts.raw, "raw", "", "send this tutorial-format body as is: JSON, @file, or @- for stdin")

	for _, sub := range []*cobra.Command{
		newCallOpCmd(opts, run, wire.OpCreate, "create --id ID [--name NAME] [attr...] [--item JSON|@file] [--overwrite]",
			"Create an item (refuses to replace an existing id unless --overwrite)", true),
		newCallOpCmd(opts, run, wire.OpRead, "read --id ID", "Read one item", false),
		newCallOpCmd(opts, run, wire.OpUpdate, "update --id ID [--name NAME] [attr...] [--remove NAME...]",
			"Set and remove attributes of an existing item (never creates one)", true),
		newCallOpCmd(opts, run, wire.OpDelete, "delete --id ID", "Delete one item", false),
		newCallOpCmd(opts, run, wire.OpList, "list [--limit N] [--all]", "List items (one page, or every page with --all)", false),
		newCallOpCmd(opts, run, wire.OpEcho, "echo [attr...]", "Send a payload and get it back unchanged", true),
		newCallOpCmd(opts, run, wire.OpPing, "ping", `Check the API answers "pong"`, false),
	} {
		cmd.AddCommand(sub)
	}
	return cmd
}

// unknownOperation is the usage error of a word that is no operation.
func unknownOperation(op string) error {
	err := cmdutil.UsageErrorf("unknown operation %q: want one of %s", op, strings.Join(wire.Operations, ", "))
	if s := cmdutil.Suggest(op, wire.Operations); s != "" {
		return cmdutil.WithHint(err, fmt.Sprintf("did you mean %q?", s))
	}
	return err
}

// addTargetFlags registers the targeting flags call and bench share.
func addTargetFlags(fs *pflag.FlagSet, tf *target.Flags) {
	fs.StringVar(&tf.URL, "url", "", "invoke URL to call (default: the one recorded by ddbops setup)")
	fs.BoolVar(&tf.Local, "local", false, "target the local stack of --data-dir (a running ddbops local, else in-process)")
	fs.StringVar(&tf.DataDir, "data-dir", "", "local stack data dir, with --local (default from config data-dir)")
	fs.StringVar(&tf.Auth, "auth", "", "auth of the target: none|apikey|iam (default: as recorded; none for an unknown --url)")
	fs.StringVar(&tf.APIKey, "api-key", "", "API key for apikey auth (default $DDBOPS_API_KEY, else the recorded key)")
}

func newCallOpCmd(opts *callOptions, run func(context.Context) error, op, use, short string, takesAttrs bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.op = op
			opts.attrs = args
			opts.nameSet = cmd.Flags().Changed("name")
			opts.limitSet = cmd.Flags().Changed("limit")
			return run(cmd.Context())
		},
	}
	if takesAttrs {
		cmd.Args = cobra.ArbitraryArgs
	}
	fs := cmd.Flags()
	switch op {
	case wire.OpCreate, wire.OpRead, wire.OpUpdate, wire.OpDelete:
		fs.StringVar(&opts.id, "id", "", "the item's id (partition key, a string)")
	}
	switch op {
	case wire.OpCreate, wire.OpUpdate:
		fs.StringVar(&opts.name, "name", "", `the item's "name" attribute (same as name=NAME)`)
	}
	switch op {
	case wire.OpCreate:
		fs.StringVar(&opts.item, "item", "", "the item as a JSON object, @file, or @- for stdin (--id, --name and attributes add to or replace its attributes)")
		fs.BoolVar(&opts.overwrite, "overwrite", false, "replace an existing item with the same id (default: fail with exit code 4)")
	case wire.OpUpdate:
		fs.StringArrayVar(&opts.remove, "remove", nil, "remove this attribute (repeatable)")
	case wire.OpList:
		fs.IntVar(&opts.limit, "limit", 0, "items per page (the API caps it at 100)")
		fs.BoolVar(&opts.all, "all", false, "follow LastEvaluatedKey and print every page as one result")
	}
	return cmd
}

// input is the operation the flags describe.
func (opts *callOptions) input() client.Input {
	in := client.Input{Op: opts.op, Raw: opts.rawData, ID: opts.id, Attrs: opts.attrs, Item: opts.itemData,
		Overwrite: opts.overwrite, Remove: opts.remove, Limit: opts.limit, LimitSet: opts.limitSet}
	if opts.nameSet {
		in.Name = &opts.name
	}
	return in
}

// loadCallInputs reads --raw and --item (which may name a file or
// standard input) exactly once.
func loadCallInputs(opts *callOptions) error {
	for _, in := range []struct {
		arg, what string
		data      *[]byte
	}{{opts.raw, "--raw", &opts.rawData}, {opts.item, "create: --item", &opts.itemData}} {
		if in.arg == "" {
			continue
		}
		b, err := cmdutil.ReadArg(opts.IO.In, in.arg)
		if err != nil {
			return cmdutil.UsageErrorf("%s: %v", in.what, err)
		}
		*in.data = append([]byte{}, b...) // non-nil: the flag was given
	}
	return nil
}

func runCall(ctx context.Context, opts *callOptions) error {
	if opts.timeout < 0 {
		return cmdutil.UsageErrorf("invalid --request-timeout %s: must not be negative", cmdutil.FormatDuration(opts.timeout))
	}
	if opts.retries < 0 {
		return cmdutil.UsageErrorf("invalid --retries %d: must not be negative", opts.retries)
	}
	if opts.raw != "" && opts.op != "" {
		return cmdutil.UsageErrorf("--raw sends a complete body: use it without an operation (ddbops call --raw ...)")
	}
	// Bad input fails before anything is resolved or opened. The table
	// name is filled in below once the target is known.
	if err := loadCallInputs(opts); err != nil {
		return err
	}
	if _, err := client.Build(opts.input(), ""); err != nil {
		return err
	}

	tf := opts.target
	tf.NoSecrets = opts.printCurl
	rt, err := opts.Resolver.Resolve(ctx, tf)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rt.Close(); cerr != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: close local stack: %v\n", cerr)
		}
	}()

	req, err := client.Build(opts.input(), rt.Target.TableName)
	if err != nil {
		return err
	}
	if opts.printCurl {
		return printCurl(opts, rt, req)
	}

	policy := opts.Retry
	policy.Attempts = opts.retries + 1
	c, err := client.New(rt.Target,
		client.WithTimeout(opts.timeout),
		client.WithRetry(policy),
		client.WithUserAgent("ddbops/"+opts.Version))
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	if opts.Settings.Verbose {
		fmt.Fprintf(opts.IO.ErrOut, "POST %s (auth %s, %s)\n", rt.Where(), rt.Target.Auth, rt.Source)
	}
	err = sendAndRender(ctx, opts, c, req)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && opts.Settings.JSON() && len(apiErr.Body) > 0 && json.Valid(apiErr.Body) {
		_ = cmdutil.WriteRawJSON(opts.IO.Out, apiErr.Body) // with -o json, the API's answer
	}
	return rt.Explain(err, req.Op)
}

func sendAndRender(ctx context.Context, opts *callOptions, c *client.Client, req *client.Request) error {
	out := opts.IO.Out
	if req.Op == wire.OpList && opts.all {
		res, err := c.ListAll(ctx, wire.ListInput{Limit: opts.limit})
		if err != nil {
			return err
		}
		if opts.Settings.JSON() {
			return cmdutil.WriteJSON(out, res)
		}
		return renderList(opts, res, false)
	}

	resp, err := c.Raw(ctx, req.Body)
	if err != nil {
		return err
	}
	if opts.Settings.JSON() {
		return cmdutil.WriteRawJSON(out, resp.Body)
	}
	ans, err := client.Interpret(req, resp.Body, opts.raw != "")
	switch {
	case err != nil:
		return err
	case ans.List != nil:
		return renderList(opts, ans.List, ans.More)
	case ans.JSON != nil:
		return cmdutil.WriteRawJSON(out, ans.JSON)
	}
	_, err = fmt.Fprintln(out, ans.Text)
	return err
}

// renderList prints items as a table: id first, then every other
// attribute name in sorted order. Counts and the "more pages" hint go to
// stderr.
func renderList(opts *callOptions, res *client.ListOutput, more bool) error {
	rows, err := cmdutil.ObjectRows(res.Items, wire.KeyAttribute)
	if err != nil {
		return fmt.Errorf("list: decode item: %w", err)
	}
	if len(rows) > 1 {
		if err := cmdutil.WriteTable(opts.IO.Out, rows, true); err != nil {
			return err
		}
	}
	if !opts.Settings.Quiet {
		msg := cmdutil.Plural(len(rows)-1, "item")
		if res.Pages > 1 {
			msg += fmt.Sprintf(" in %d pages", res.Pages)
		}
		if more {
			msg += "; more on the next page (use --all to fetch every page)"
		}
		fmt.Fprintln(opts.IO.ErrOut, msg)
	}
	return nil
}

func printCurl(opts *callOptions, rt *target.Resolved, req *client.Request) error {
	cmd, notes := rt.Curl(req.Body, opts.all && req.Op == wire.OpList)
	if err := cmdutil.WriteJSONOrText(opts.IO.Out, opts.Settings.JSON(), map[string]string{"curl": cmd}, cmd); err != nil || opts.Settings.Quiet {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(opts.IO.ErrOut, "# %s\n", n)
	}
	return nil
}
