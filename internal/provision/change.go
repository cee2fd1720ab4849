package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Action is what a step does (plan) or did (result) to one resource.
type Action string

// Plan actions (dry run) and their results.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	Delete    Action = "delete"
	// Blocked: a same-named resource exists that the stack does not own,
	// or one that cannot be converged; setup stops rather than touch it.
	Blocked Action = "blocked"
	// Keep: teardown found a same-named resource it does not own.
	Keep Action = "keep"
	// Absent: teardown found nothing to delete.
	Absent Action = "absent"

	Created Action = "created"
	Updated Action = "updated"
	Deleted Action = "deleted"
	Failed  Action = "failed"
)

// Past is the result form of a planned action.
func (a Action) Past() Action {
	switch a {
	case Create:
		return Created
	case Update:
		return Updated
	case Delete:
		return Deleted
	}
	return a
}

// Resource kinds, in the order a stack is listed.
const (
	KindTable       = "table"
	KindPolicy      = "iam-policy"
	KindRole        = "iam-role"
	KindLogGroup    = "log-group"
	KindFunction    = "function"
	KindRestAPI     = "rest-api"
	KindAPIResource = "api-resource"
	KindMethod      = "api-method"
	KindIntegration = "api-integration"
	KindCORS        = "api-cors" // the OPTIONS method answering CORS preflights
	KindPermission  = "lambda-permission"
	KindDeployment  = "api-deployment"
	KindStage       = "api-stage"
	KindAPIKey      = "api-key"
	KindUsagePlan   = "usage-plan"
	KindBackup      = "table-backup"
)

var kindOrder = []string{KindTable, KindPolicy, KindRole, KindLogGroup, KindFunction, KindRestAPI,
	KindAPIResource, KindMethod, KindIntegration, KindCORS, KindPermission, KindDeployment, KindStage, KindAPIKey, KindUsagePlan, KindBackup}

func kindIndex(k string) int {
	for i, o := range kindOrder {
		if o == k {
			return i
		}
	}
	return len(kindOrder)
}

// Diff is one field whose actual value differs from the desired one.
type Diff struct {
	Field string `json:"field"`
	Have  string `json:"have"`
	Want  string `json:"want"`
}

func (d Diff) String() string {
	return fmt.Sprintf("%s: %s → %s", d.Field, d.Have, d.Want)
}

// Change is one line of a plan or a result.
type Change struct {
	Kind   string
	Name   string
	Action Action
	Diffs  []Diff
	// Note is a short remark (why blocked, what was kept, backup ARN).
	Note string
	// NotOwned marks a Blocked change whose resource lacks the stack's tag.
	NotOwned bool
	Err      error
	Elapsed  time.Duration
}

// Summary renders the diffs and note in one line.
func (c Change) Summary() string {
	var parts []string
	for _, d := range c.Diffs {
		parts = append(parts, d.String())
	}
	if c.Note != "" {
		parts = append(parts, c.Note)
	}
	return strings.Join(parts, "; ")
}

// Reporter receives progress as steps run, possibly from several
// goroutines at once.
type Reporter interface {
	// StepStarted says a step that changes something has begun.
	StepStarted(kind, name string)
	// StepDone says a step finished (Action is a result, or Failed).
	StepDone(c Change)
	// Warn is a diagnostic the user should see even when all went well.
	Warn(msg string)
}

type nopReporter struct{}

func (nopReporter) StepStarted(string, string) {}
func (nopReporter) StepDone(Change)            {}
func (nopReporter) Warn(string)                {}

// Result is what setup, deploy or teardown did or, in a dry run, would do.
type Result struct {
	DryRun    bool
	Changes   []Change
	InvokeURL string
	Auth      string
	APIKeyID  string
	Elapsed   time.Duration
}

// changes are r's changes (none for a nil result).
func (r *Result) changes() []Change {
	if r == nil {
		return nil
	}
	return r.Changes
}

// Error is a failed step: "{op} {resource}: {why}", with a hint of what to
// do next when there is one.
type Error struct {
	Op       string
	Resource string
	Err      error
	Hint     string
}

func (e *Error) Error() string {
	if e.Resource == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Resource, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func opErr(op, resource string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) && pe.Op == op && pe.Resource == resource {
		return err
	}
	return &Error{Op: op, Resource: resource, Err: err}
}

// ErrNotOwned marks a same-named resource without the stack's tag.
var ErrNotOwned = errors.New("exists but is not owned by this stack")

// ErrTableNotEmpty is teardown refusing to delete a table holding items.
var ErrTableNotEmpty = errors.New("table still holds items")

// ErrNotFound is a resource deploy or logs need that does not exist.
var ErrNotFound = errors.New("not found")

// notOwnedIDsErr is notOwnedErr for resources whose names are not unique
// (REST APIs, API keys, usage plans): ids lists the same-named ones found.
func notOwnedIDsErr(kind, name string, ids []string, stack string) error {
	e := notOwnedErr(kind, name, "", stack).(*Error)
	e.Err = fmt.Errorf("%w: %s", ErrNotOwned, strings.Join(ids, ", "))
	for _, id := range ids {
		// "id (owned by stack X)": another ddbops stack's, see notOwnedErr.
		if _, owner, ok := strings.Cut(strings.TrimSuffix(id, ")"), "(owned by stack "); ok {
			e.Hint = notOwnedErr(kind, name, owner, stack).(*Error).Hint
		}
	}
	return e
}

func notOwnedErr(kind, name, tags string, stack string) error {
	why := "has no " + TagKey + " tag"
	hint := fmt.Sprintf("ddbops never modifies resources it did not create: choose another name in ddbops.yaml, delete it, "+
		"or tag it %s=%s to let this stack manage it", TagKey, stack)
	if tags != "" {
		// Another ddbops stack's: re-tagging it would take it from that
		// stack, so the way out is other names, or that stack itself.
		why = "is tagged " + TagKey + "=" + tags
		hint = fmt.Sprintf("it belongs to the ddbops stack %s: give this stack its own names in ddbops.yaml (table, function, role, policy, api), "+
			"or work on that stack with --stack %s", tags, tags)
	}
	return &Error{Op: "adopt " + kind, Resource: name, Err: fmt.Errorf("%w (it %s)", ErrNotOwned, why), Hint: hint}
}

// observation is what observing a resource found; every *xxxObs is one.
type observation interface{ found() bool }

func (o *tableObs) found() bool    { return o.exists }
func (o *policyObs) found() bool   { return o.exists }
func (o *roleObs) found() bool     { return o.exists }
func (o *logGroupObs) found() bool { return o.exists }
func (o *functionObs) found() bool { return o.exists }

// readBack observes and plans again a resource whose create answered
// "already exists": created by an SDK retry of this very call after a lost
// answer, or by someone else meanwhile. The plan tells the caller whether
// it is ours to converge (a foreign one is refused by planning, as on the
// first pass). One that cannot be read back yet fails the create.
func readBack[O observation](ctx context.Context, op, name string, createErr error,
	observe func(context.Context) (O, error), plan func(O) (Change, error)) (O, Change, error) {
	var none O
	o, err := observe(ctx)
	if err != nil {
		return none, Change{}, err
	}
	if !o.found() {
		return none, Change{}, opErr(op, name, fmt.Errorf("%w (but it cannot be read back yet: re-run setup)", createErr))
	}
	c, err := plan(o)
	if err != nil {
		return none, Change{}, err
	}
	return o, c, nil
}

// readBackFailed is the error of a call whose answer was read back
// (after a conflict or a lost answer) and the read-back failed too.
func readBackFailed(err, readErr error) error {
	return fmt.Errorf("%w; reading it back: %w", err, readErr)
}

// readBackAndApply is readBack followed by applying the new plan: the
// answer of a create that found its resource already there.
func readBackAndApply[O observation](ctx context.Context, op, name string, createErr error,
	observe func(context.Context) (O, error), plan func(O) (Change, error), apply func(context.Context, O, Change) error) error {
	o, c, err := readBack(ctx, op, name, createErr, observe, plan)
	if err != nil {
		return err
	}
	return apply(ctx, o, c)
}

// planFound starts the plan of a resource found by its unique name: Create
// when there is none, Blocked when it is not this stack's (what names the
// resource in the error). more reports that the caller goes on to compare
// the resource's settings.
func (p *Provisioner) planFound(kind, what, name string, exists bool, owner string) (c Change, more bool, err error) {
	c = Change{Kind: kind, Name: name}
	switch {
	case !exists:
		c.Action = Create
		return c, false, nil
	case owner != p.spec.Stack:
		c.Action, c.Note, c.NotOwned = Blocked, notOwnedNote(owner), true
		return c, false, notOwnedErr(what, name, owner, p.spec.Stack)
	}
	return c, true, nil
}

// updateIf is the action converging a resource with these differences.
func updateIf(diffs []Diff) Action {
	if len(diffs) > 0 {
		return Update
	}
	return Unchanged
}
