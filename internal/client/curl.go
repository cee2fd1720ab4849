package client

import (
	"strings"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
)

// APIKeyEnv is the environment variable a printed curl command reads the
// API key from (ddbops itself reads it too, under --api-key).
const APIKeyEnv = cmdutil.EnvAPIKey

// CurlCommand renders a runnable POSIX-shell curl command that sends body to
// t as the client would. It never contains a secret: the API key is read
// from $DDBOPS_API_KEY, IAM credentials from $AWS_ACCESS_KEY_ID and
// $AWS_SECRET_ACCESS_KEY (curl --aws-sigv4 signs with them), and, when
// sessionToken is true (temporary credentials), $AWS_SESSION_TOKEN.
func CurlCommand(t Target, body []byte, sessionToken bool) string {
	lines := []string{
		"curl -sS -X POST " + shellQuote(t.URL),
		"-H " + shellQuote("Content-Type: application/json"),
	}
	switch t.Auth {
	case wire.AuthAPIKey:
		lines = append(lines, `-H "x-api-key: $`+APIKeyEnv+`"`)
	case wire.AuthIAM:
		lines = append(lines,
			"--aws-sigv4 "+shellQuote("aws:amz:"+t.Region+":"+wire.SigningService),
			`--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`)
		if sessionToken {
			lines = append(lines, `-H "x-amz-security-token: $AWS_SESSION_TOKEN"`)
		}
	}
	lines = append(lines, "--data-binary "+shellQuote(string(body)))
	return strings.Join(lines, " \\\n  ")
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special; a single quote closes the quoting, is written escaped (\') and
// the quoting reopens.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
