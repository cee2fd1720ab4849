package target

import (
	"fmt"
	"path/filepath"

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
