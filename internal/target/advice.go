package target

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
)

// Where names the endpoint of r in a diagnostic line.
func (r *Resolved) Where() string {
	if r.Kind == KindInProcess {
		return "in-process local stack"
	}
	return r.Target.URL
}

// CurlNotes tell what a curl command printed for r needs when it runs:
// where its secrets come from, and a server to send it to.
func (r *Resolved) CurlNotes() []string {
	env := cmdutil.EnvAPIKey
	var notes []string
	switch r.Target.Auth {
	case wire.AuthAPIKey:
		switch {
		case r.APIKeyID != "":
			notes = append(notes, fmt.Sprintf("needs the API key in $%s: export %s=\"$(aws apigateway get-api-key --api-key %s --include-value --query value --output text)\"",
				env, env, r.APIKeyID))
		case r.Kind == KindServer || r.Kind == KindNotServed:
			notes = append(notes, fmt.Sprintf("needs the API key in $%s: the key ddbops local printed at start (a generated key is saved in %s)",
				env, filepath.Join(r.Source, "api-key")))
		default:
			notes = append(notes, fmt.Sprintf("needs the API key in $%s", env))
		}
	case wire.AuthIAM:
		notes = append(notes, "signs with $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (curl 7.75 or later)")
		if r.SessionToken {
			notes = append(notes, "temporary credentials: also needs $AWS_SESSION_TOKEN")
		}
	}
	if r.Kind == KindNotServed {
		notes = append(notes, fmt.Sprintf("no ddbops local is serving %s: start one with `ddbops local --data-dir %s`", r.Source, r.Source))
	}
	return notes
}

// AuthHint is what to check when r rejected a request (HTTP 401 or 403).
func (r *Resolved) AuthHint() string {
	switch r.Target.Auth {
	case wire.AuthAPIKey:
		return "the API rejected the API key: check --api-key / $" + cmdutil.EnvAPIKey + " (or --auth)"
	case wire.AuthIAM:
		return "the API rejected the signature: check your AWS credentials, --region, and that they allow execute-api:Invoke (or --auth)"
	}
	return "the API requires auth: try --auth iam or --auth apikey (setup's default is iam)"
}

// Explain attaches what to do next to a failed request of op to r: the
// one table of call's hints, each matched to its cause
// (docs/call.md#errors-and-hints). The exit code is the error's own
// (cmdutil.ExitCode): 3 only for the function's NotFound.
func (r *Resolved) Explain(err error, op string) error {
	var apiErr *client.APIError
	var unknown *client.OutcomeUnknownError
	var netErr *net.OpError
	hint := ""
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr):
		hint = r.apiHint(apiErr, op)
	case errors.As(err, &unknown):
		switch unknown.Op {
		case wire.OpCreate:
			hint = "create is conditional: re-run it; exit code 4 (conflict) then means the first attempt was applied"
		case wire.OpDelete:
			hint = "re-run it: exit code 3 (not found) then means the first attempt was applied"
		case wire.OpUpdate:
			hint = "read the item (ddbops call read --id ...) to see whether it was applied before re-running"
		}
	case r.Kind == KindServer:
		hint = "is the ddbops local serving " + r.Source + " still running?"
	case errors.As(err, &netErr):
		hint = "nothing answered at " + r.Target.URL + ": check the URL, and that the server is running"
	}
	if hint == "" {
		return err
	}
	return cmdutil.WithHint(err, hint)
}

// apiHint is the hint for an answer of the API, "" when the error says it
// all.
func (r *Resolved) apiHint(e *client.APIError, op string) string {
	const route = "check the invoke URL: its path must be /<stage>/<resource>, e.g. /prod/DynamoDBManager"
	switch {
	case e.StatusCode == http.StatusNotFound && e.Code == client.CodeNotFound:
		if op == wire.OpUpdate {
			return "update never creates an item: create it first (ddbops call create --id ...)"
		}
		return ""
	case e.StatusCode == http.StatusNotFound:
		return "nothing is served at this URL (not the function's answer): " + route
	case e.StatusCode == http.StatusForbidden && e.Code == client.CodeForbidden:
		return "the function serves another table than the request names: drop \"tableName\" from the body, or set the config key table to the function's table"
	case e.StatusCode == http.StatusForbidden && e.ErrorType == client.ErrTypeMissingToken && r.Target.Auth == wire.AuthIAM:
		return "API Gateway has no POST method at this path: " + route
	case e.StatusCode == http.StatusForbidden && e.ErrorType == client.ErrTypeMissingToken:
		return "API Gateway has no POST method at this path, or the API wants SigV4 signatures: " + route + ", or use --auth iam"
	case e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusUnauthorized:
		return r.AuthHint()
	case e.StatusCode == http.StatusConflict && op == wire.OpCreate:
		return "an item with this id exists: add --overwrite to replace it, or use update"
	case e.StatusCode == http.StatusTooManyRequests:
		return "the API is throttling requests (stage throttling or DynamoDB): wait and retry"
	case e.StatusCode >= 500 && r.Emulator != "":
		return "the stack was set up on the emulator at " + r.Emulator + ", which may not run Lambda functions (moto needs Docker for that): " +
			"ddbops local runs the same function on this machine"
	}
	return ""
}

// Curl is the curl command that sends body to r, with the notes of what it
// needs to run (CurlNotes); listAll notes that it fetches one page only.
func (r *Resolved) Curl(body []byte, listAll bool) (string, []string) {
	notes := append([]string{"not sent: --print-curl only prints the request"}, r.CurlNotes()...)
	if listAll {
		notes = append(notes, "--all: this fetches the first page; send LastEvaluatedKey as payload.ExclusiveStartKey for the next")
	}
	return client.CurlCommand(r.Target, body, r.SessionToken), notes
}
