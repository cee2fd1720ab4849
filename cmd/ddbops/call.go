package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/wire"
)

// callOptions holds `ddbops call`'s flags and dependencies.
type callOptions struct {
	f *Factory

	target    targetFlags
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

	// resolve replaces resolveTarget in tests (nil = resolveTarget).
	resolve func(ctx context.Context, f *Factory, tf targetFlags) (*resolvedTarget, error)
	// retryPolicy replaces the default backoff in tests (nil = default).
	retryPolicy *client.RetryPolicy
}

func newCallCmd(f *Factory) *cobra.Command {
	opts := &callOptions{f: f}
	cmd := &cobra.Command{
		Use:   "call <op> [flags] [attr...]",
		Short: "Send one operation to the API (create, read, update, delete, list, echo, ping)",
		Long: `Send one operation of the tutorial's API and print the result.

Target: --url URL, else --local (the local stack of --data-dir: a running
ddbops local, else in-process), else the invoke URL recorded by ddbops setup.

Attributes are HTTPie-style: name=Bob sends the string "Bob"; age:=42 and
tags:='["a","b"]' send raw JSON (numbers keep every digit).

Only read, list, echo and ping are retried automatically (429, 5xx,
connection errors); a write whose answer was lost is reported, never resent.

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict.`,
		Example: `  ddbops call create --id 1 --name Bob
  ddbops call read --id 1
  ddbops call update --id 1 --name Alice age:=42 --remove nickname
  ddbops call list --all -o json
  ddbops call --local ping
  ddbops call --raw '{"operation":"echo","payload":{"a":1}}'
  ddbops call read --id 1 --print-curl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown operation %q: want one of %s", args[0], strings.Join(wire.Operations, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.raw == "" {
				return usageErrorf("call: name an operation (%s) or pass --raw", strings.Join(wire.Operations, ", "))
			}
			return runCall(cmd.Context(), opts)
		},
	}
	pf := cmd.PersistentFlags()
	addTargetFlags(pf, &opts.target)
	pf.DurationVar(&opts.timeout, "timeout", client.DefaultTimeout, "bound on each HTTP attempt (0 = none)")
	pf.IntVar(&opts.retries, "retries", client.DefaultRetryPolicy().Attempts-1, "retries of read, list, echo and ping after 429, 5xx or a connection error (writes are never retried)")
	pf.BoolVar(&opts.printCurl, "print-curl", false, "print the equivalent curl command instead of sending (secrets as $VARIABLES)")
	cmd.Flags().StringVar(&opts.raw, "raw", "", "send this tutorial-format body as is: JSON, @file, or @- for stdin")

	for _, sub := range []*cobra.Command{
		newCallOpCmd(opts, wire.OpCreate, "create --id ID [--name NAME] [attr...] [--item JSON|@file] [--overwrite]",
			"Create an item (refuses to replace an existing id unless --overwrite)", true),
		newCallOpCmd(opts, wire.OpRead, "read --id ID", "Read one item", false),
		newCallOpCmd(opts, wire.OpUpdate, "update --id ID [--name NAME] [attr...] [--remove NAME...]",
			"Set and remove attributes of an existing item (never creates one)", true),
		newCallOpCmd(opts, wire.OpDelete, "delete --id ID", "Delete one item", false),
		newCallOpCmd(opts, wire.OpList, "list [--limit N] [--all]", "List items (one page, or every page with --all)", false),
		newCallOpCmd(opts, wire.OpEcho, "echo [attr...]", "Send a payload and get it back unchanged", true),
		newCallOpCmd(opts, wire.OpPing, "ping", `Check the API answers "pong"`, false),
	} {
		cmd.AddCommand(sub)
	}
	return cmd
}

func newCallOpCmd(opts *callOptions, op, use, short string, takesAttrs bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.op = op
			opts.attrs = args
			opts.nameSet = cmd.Flags().Changed("name")
			opts.limitSet = cmd.Flags().Changed("limit")
			return runCall(cmd.Context(), opts)
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

// callRequest is one built request: the operation and its body.
type callRequest struct {
	op   string
	body []byte
	id   string // for messages of create, delete
}

// buildCallRequest turns the flags into the request body. Every error is a
// usage error: nothing was sent.
func buildCallRequest(opts *callOptions, table string) (*callRequest, error) {
	if opts.raw != "" {
		body := bytes.TrimSpace(opts.rawData)
		if !json.Valid(body) {
			return nil, usageErrorf("--raw: not valid JSON")
		}
		return &callRequest{op: wire.OperationOf(body), body: body}, nil
	}
	attrs, err := client.ParseAttributes(opts.attrs)
	if err != nil {
		return nil, usageErrorf("%s: %v", opts.op, err)
	}
	if opts.nameSet {
		if _, dup := attrs.Get("name"); dup {
			return nil, usageErrorf("%s: name given twice (--name and name=...)", opts.op)
		}
	}
	wrap := func(body []byte, err error) ([]byte, error) {
		if err != nil {
			return nil, usageErrorf("%s: %v", opts.op, err)
		}
		return body, nil
	}
	req := &callRequest{op: opts.op, id: opts.id}
	switch opts.op {
	case wire.OpCreate:
		item, id, err := createItem(opts, attrs)
		if err != nil {
			return nil, err
		}
		req.id = id
		req.body, err = wrap(wire.CreateBody(table, item, opts.overwrite))
		return req, err
	case wire.OpRead, wire.OpDelete:
		if opts.id == "" {
			return nil, usageErrorf("%s: --id is required", opts.op)
		}
		if opts.op == wire.OpRead {
			req.body, err = wrap(wire.ReadBody(table, opts.id))
		} else {
			req.body, err = wrap(wire.DeleteBody(table, opts.id))
		}
		return req, err
	case wire.OpUpdate:
		if opts.id == "" {
			return nil, usageErrorf("update: --id is required")
		}
		set := wire.Object{}
		if opts.nameSet {
			set = append(set, wire.Member{Name: "name", Value: wire.String(opts.name)})
		}
		set = append(set, attrs...)
		req.body, err = wrap(wire.UpdateBody(table, wire.UpdateInput{ID: opts.id, Set: set, Remove: opts.remove}))
		return req, err
	case wire.OpList:
		if opts.limitSet && opts.limit <= 0 {
			return nil, usageErrorf("list: --limit must be a positive integer")
		}
		req.body, err = wrap(wire.ListBody(table, wire.ListInput{Limit: opts.limit}))
		return req, err
	case wire.OpEcho:
		req.body, err = wrap(wire.EchoBody(attrs))
		return req, err
	case wire.OpPing:
		req.body = wire.PingBody()
		return req, nil
	}
	return nil, usageErrorf("unknown operation %q", opts.op)
}

// createItem assembles the item of create: --item (its order), then --id,
// --name and attributes, which add to or replace its members. The id comes
// first when the item does not already hold one.
func createItem(opts *callOptions, attrs wire.Object) (wire.Object, string, error) {
	item := wire.Object{}
	if opts.item != "" {
		var err error
		if item, err = wire.ParseObject(opts.itemData); err != nil {
			return nil, "", usageErrorf("create: --item: %v", err)
		}
	}
	if opts.id != "" {
		if _, dup := attrs.Get(wire.KeyAttribute); dup {
			return nil, "", usageErrorf("create: id given twice (--id and id=...)")
		}
		want := wire.String(opts.id)
		if got, ok := item.Get(wire.KeyAttribute); ok {
			var s string
			if json.Unmarshal(got, &s) != nil || s != opts.id {
				return nil, "", usageErrorf("create: --id and the id in --item disagree")
			}
		} else {
			item = append(wire.Object{{Name: wire.KeyAttribute, Value: want}}, item...)
		}
	}
	if opts.nameSet {
		item.Set("name", wire.String(opts.name))
	}
	for _, m := range attrs {
		item.Set(m.Name, m.Value)
	}
	raw, ok := item.Get(wire.KeyAttribute)
	if !ok {
		return nil, "", usageErrorf("create: --id is required (or an id in --item)")
	}
	var id string
	if json.Unmarshal(raw, &id) != nil {
		return nil, "", usageErrorf("create: id must be a string")
	}
	return item, id, nil
}

// loadCallInputs reads --raw and --item (which may name a file or
// standard input) exactly once.
func loadCallInputs(opts *callOptions) error {
	var err error
	if opts.raw != "" {
		if opts.rawData, err = readArg(opts.f, opts.raw); err != nil {
			return usageErrorf("--raw: %v", err)
		}
	}
	if opts.item != "" {
		if opts.itemData, err = readArg(opts.f, opts.item); err != nil {
			return usageErrorf("create: --item: %v", err)
		}
	}
	return nil
}

// readArg returns s, or the contents of file s[1:] when s starts with '@'
// ("@-" reads standard input).
func readArg(f *Factory, s string) ([]byte, error) {
	if !strings.HasPrefix(s, "@") {
		return []byte(s), nil
	}
	path := s[1:]
	if path == "-" {
		b, err := io.ReadAll(f.IO.In)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, errors.Unwrap(err))
	}
	return b, nil
}

func runCall(ctx context.Context, opts *callOptions) error {
	f := opts.f
	if opts.timeout < 0 {
		return usageErrorf("invalid --timeout %s: must not be negative", opts.timeout)
	}
	if opts.retries < 0 {
		return usageErrorf("invalid --retries %d: must not be negative", opts.retries)
	}
	if opts.raw != "" && opts.op != "" {
		return usageErrorf("--raw sends a complete body: use it without an operation (ddbops call --raw ...)")
	}
	// Bad input fails before anything is resolved or opened. The table
	// name is filled in below once the target is known.
	if err := loadCallInputs(opts); err != nil {
		return err
	}
	if _, err := buildCallRequest(opts, ""); err != nil {
		return err
	}

	resolve := opts.resolve
	if resolve == nil {
		resolve = resolveTarget
	}
	tf := opts.target
	tf.NoSecrets = opts.printCurl
	rt, err := resolve(ctx, f, tf)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rt.Close(); cerr != nil {
			fmt.Fprintf(f.IO.ErrOut, "warning: close local stack: %v\n", cerr)
		}
	}()

	req, err := buildCallRequest(opts, rt.Target.TableName)
	if err != nil {
		return err
	}
	if opts.printCurl {
		return printCurl(f, rt, req, opts.all)
	}

	policy := client.DefaultRetryPolicy()
	if opts.retryPolicy != nil {
		policy = *opts.retryPolicy
	}
	policy.Attempts = opts.retries + 1
	c, err := client.New(rt.Target,
		client.WithTimeout(opts.timeout),
		client.WithRetry(policy),
		client.WithUserAgent("ddbops/"+f.Version))
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	if f.Settings.Verbose {
		fmt.Fprintf(f.IO.ErrOut, "POST %s (auth %s, %s)\n", describeURL(rt), rt.Target.Auth, rt.Source)
	}
	err = sendAndRender(ctx, opts, c, req)
	return explainCallError(err, opts, rt, req)
}

func describeURL(rt *resolvedTarget) string {
	if rt.Kind == targetInProcess {
		return "in-process local stack"
	}
	return rt.Target.URL
}

func sendAndRender(ctx context.Context, opts *callOptions, c *client.Client, req *callRequest) error {
	f := opts.f
	out := f.IO.Out
	if req.op == wire.OpList && opts.all {
		res, err := c.ListAll(ctx, wire.ListInput{Limit: opts.limit})
		if err != nil {
			return err
		}
		if f.Settings.JSON() {
			return writeJSON(out, res)
		}
		return renderList(f, res, false)
	}

	resp, err := c.Raw(ctx, req.body)
	if err != nil {
		return err
	}
	if f.Settings.JSON() {
		return writeRawJSON(out, resp.Body)
	}
	switch {
	case opts.raw != "":
		return writeRawJSON(out, resp.Body)
	case req.op == wire.OpCreate:
		_, err = fmt.Fprintf(out, "created %s\n", req.id)
	case req.op == wire.OpDelete:
		_, err = fmt.Fprintf(out, "deleted %s\n", req.id)
	case req.op == wire.OpRead, req.op == wire.OpUpdate:
		var res client.ItemOutput
		if err := json.Unmarshal(resp.Body, &res); err != nil {
			return fmt.Errorf("%s: decode response: %w", req.op, err)
		}
		item := res.Item
		if req.op == wire.OpUpdate {
			item = res.Attributes
		}
		if len(item) == 0 || string(item) == "null" {
			if req.op == wire.OpRead {
				// A 200 without an Item: the tutorial's original function
				// answers a missing id that way.
				return fmt.Errorf("read: %w", &client.APIError{StatusCode: http.StatusNotFound, Message: "no item with this id"})
			}
			_, err = fmt.Fprintf(out, "updated %s\n", req.id)
			return err
		}
		return writeRawJSON(out, item)
	case req.op == wire.OpList:
		var res client.ListOutput
		if err := json.Unmarshal(resp.Body, &res); err != nil {
			return fmt.Errorf("list: decode response: %w", err)
		}
		return renderList(f, &res, len(res.LastEvaluatedKey) > 0 && string(res.LastEvaluatedKey) != "null")
	case req.op == wire.OpPing:
		var s string
		if json.Unmarshal(resp.Body, &s) == nil {
			_, err = fmt.Fprintln(out, s)
			return err
		}
		return writeRawJSON(out, resp.Body)
	default:
		return writeRawJSON(out, resp.Body)
	}
	return err
}

// writeRawJSON prints a JSON document indented, byte for byte otherwise:
// attribute order and number literals are the API's.
func writeRawJSON(w io.Writer, doc []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		return fmt.Errorf("response is not JSON (%d bytes)", len(doc))
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// renderList prints items as a table: id first, then every other
// attribute name in sorted order; strings as they are, other values as
// compact JSON. Counts and the "more pages" hint go to stderr.
func renderList(f *Factory, res *client.ListOutput, more bool) error {
	rows := make([]map[string]json.RawMessage, 0, len(res.Items))
	cols := map[string]bool{}
	for _, it := range res.Items {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it, &m); err != nil {
			return fmt.Errorf("list: decode item: %w", err)
		}
		for k := range m {
			cols[k] = true
		}
		rows = append(rows, m)
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		if k != wire.KeyAttribute {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if cols[wire.KeyAttribute] {
		names = append([]string{wire.KeyAttribute}, names...)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return cellText(rows[i][wire.KeyAttribute]) < cellText(rows[j][wire.KeyAttribute])
	})

	if len(rows) > 0 {
		var b bytes.Buffer
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(names, "\t"))
		for _, r := range rows {
			cells := make([]string, len(names))
			for i, n := range names {
				cells[i] = cellText(r[n])
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// Missing trailing attributes would leave padding at line ends.
		var trimmed bytes.Buffer
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			trimmed.WriteString(strings.TrimRight(line, " \n"))
			if strings.HasSuffix(line, "\n") {
				trimmed.WriteByte('\n')
			}
		}
		if _, err := f.IO.Out.Write(trimmed.Bytes()); err != nil {
			return err
		}
	}
	if !f.Settings.Quiet {
		noun := "items"
		if len(rows) == 1 {
			noun = "item"
		}
		msg := fmt.Sprintf("%d %s", len(rows), noun)
		if res.Pages > 1 {
			msg += fmt.Sprintf(" in %d pages", res.Pages)
		}
		if more {
			msg += "; more on the next page (use --all to fetch every page)"
		}
		fmt.Fprintln(f.IO.ErrOut, msg)
	}
	return nil
}

// cellText renders one attribute value for a table cell on one line.
func cellText(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil && s != "" && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return string(v) // compact JSON (strings with control characters stay quoted)
}

func printCurl(f *Factory, rt *resolvedTarget, req *callRequest, all bool) error {
	cmd := client.CurlCommand(rt.Target, req.body, rt.SessionToken)
	if f.Settings.JSON() {
		if err := writeJSON(f.IO.Out, map[string]string{"curl": cmd}); err != nil {
			return err
		}
	} else if _, err := fmt.Fprintln(f.IO.Out, cmd); err != nil {
		return err
	}
	if f.Settings.Quiet {
		return nil
	}
	note := func(format string, a ...any) { fmt.Fprintf(f.IO.ErrOut, "# "+format+"\n", a...) }
	note("not sent: --print-curl only prints the request")
	switch rt.Target.Auth {
	case wire.AuthAPIKey:
		switch {
		case rt.APIKeyID != "":
			note("needs the API key in $%s: export %s=\"$(aws apigateway get-api-key --api-key %s --include-value --query value --output text)\"",
				client.APIKeyEnv, client.APIKeyEnv, rt.APIKeyID)
		case rt.Kind == targetServer || rt.Kind == targetNotServed:
			note("needs the API key in $%s: the key ddbops local printed at start (a generated key is saved in %s)",
				client.APIKeyEnv, filepath.Join(rt.Source, "api-key"))
		default:
			note("needs the API key in $%s", client.APIKeyEnv)
		}
	case wire.AuthIAM:
		note("signs with $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (curl 7.75 or later)")
		if rt.SessionToken {
			note("temporary credentials: also needs $AWS_SESSION_TOKEN")
		}
	}
	if rt.Kind == targetNotServed {
		note("no ddbops local is serving %s: start one with `ddbops local --data-dir %s`", rt.Source, rt.Source)
	}
	if all && req.op == wire.OpList {
		note("--all: this fetches the first page; send LastEvaluatedKey as payload.ExclusiveStartKey for the next")
	}
	return nil
}

// explainCallError adds what to do next to a failed call, and with -o json
// prints the API's error body (the API's answer) on stdout.
func explainCallError(err error, opts *callOptions, rt *resolvedTarget, req *callRequest) error {
	if err == nil {
		return nil
	}
	var apiErr *client.APIError
	var unknown *client.OutcomeUnknownError
	switch {
	case errors.As(err, &apiErr):
		if opts.f.Settings.JSON() && len(apiErr.Body) > 0 && json.Valid(apiErr.Body) {
			_ = writeRawJSON(opts.f.IO.Out, apiErr.Body)
		}
		switch apiErr.StatusCode {
		case http.StatusNotFound:
			if req.op == wire.OpUpdate {
				return withHint(err, "update never creates an item: create it first (ddbops call create --id ...)")
			}
		case http.StatusConflict:
			if req.op == wire.OpCreate {
				return withHint(err, "an item with this id exists: add --overwrite to replace it, or use update")
			}
		case http.StatusForbidden, http.StatusUnauthorized:
			return withHint(err, authHint(rt))
		case http.StatusTooManyRequests:
			return withHint(err, "the API is throttling requests (stage throttling or DynamoDB): wait and retry")
		}
		return err
	case errors.As(err, &unknown):
		switch unknown.Op {
		case wire.OpCreate:
			return withHint(err, "create is conditional: re-run it; exit code 4 (conflict) then means the first attempt was applied")
		case wire.OpDelete:
			return withHint(err, "re-run it: exit code 3 (not found) then means the first attempt was applied")
		case wire.OpUpdate:
			return withHint(err, "read the item (ddbops call read --id ...) to see whether it was applied before re-running")
		}
		return err
	}
	if rt.Kind == targetServer {
		return withHint(err, "is the ddbops local serving "+rt.Source+" still running?")
	}
	return err
}

func authHint(rt *resolvedTarget) string {
	switch rt.Target.Auth {
	case wire.AuthAPIKey:
		return "the API rejected the API key: check --api-key / $" + client.APIKeyEnv + " (or --auth)"
	case wire.AuthIAM:
		return "the API rejected the signature: check your AWS credentials, --region, and that they allow execute-api:Invoke (or --auth)"
	}
	return "the API requires auth: try --auth iam or --auth apikey (setup's default is iam)"
}
