package provision

import (
	"context"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one request sent to AWS.
type Call struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Mutating  bool   `json:"mutating"`
}

// Recorder counts the requests SDK clients send. Its middleware sits at the
// end of the finalize step, after the SDK's retry loop, so every attempt
// that goes on the wire is counted, waiter polls included.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// readOnlyPrefixes are the operation-name prefixes AWS uses for calls that
// change nothing. Everything else counts as mutating: a call we cannot
// classify is assumed to change something, never the reverse.
var readOnlyPrefixes = []string{"Get", "List", "Describe", "Head", "Filter", "BatchGet"}

// readOnlyOperations are read-only calls without such a prefix.
var readOnlyOperations = map[string]bool{"Scan": true, "Query": true}

// IsMutating reports whether an AWS operation may change state.
func IsMutating(operation string) bool {
	if readOnlyOperations[operation] {
		return false
	}
	for _, p := range readOnlyPrefixes {
		if rest, ok := strings.CutPrefix(operation, p); ok && (rest == "" || rest[0] >= 'A' && rest[0] <= 'Z') {
			return false
		}
	}
	return true
}

// Middleware registers the recorder on an SDK client's stack; add it with
// aws.Config.APIOptions or a client's Options.APIOptions.
func (r *Recorder) Middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ddbops/RecordCall",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			r.Record(awsmiddleware.GetServiceID(ctx), middleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// Record adds one call (fakes in tests record through this too).
func (r *Recorder) Record(service, operation string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Service: service, Operation: operation, Mutating: IsMutating(operation)})
}

// Calls returns every call recorded so far, in order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Counts returns the number of calls and of mutating calls.
func (r *Recorder) Counts() (total, mutating int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		total++
		if c.Mutating {
			mutating++
		}
	}
	return total, mutating
}

// Mutating returns the mutating calls as "Service.Operation".
func (r *Recorder) Mutating() []string {
	var out []string
	for _, c := range r.Calls() {
		if c.Mutating {
			out = append(out, c.Service+"."+c.Operation)
		}
	}
	return out
}

// Reset forgets every call.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}
