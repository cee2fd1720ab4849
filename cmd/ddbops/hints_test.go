package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// TestErrorsExitCodesAndHints is the table of (error → exit code, hint),
// run through the real Execute path: every hint matches its cause, and a
// usage error exits 2 wherever it comes from (flags, config file, values).
// The provisioning hints that need an account (another stack's resources)
// are in TestStacksKeepApart.
func TestErrorsExitCodesAndHints(t *testing.T) {
	cfg, dir := isolatedConfig(t)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": testenv.AccessKeyID, "AWS_SECRET_ACCESS_KEY": testenv.SecretAccessKey, "AWS_REGION": testenv.Region,
		"AWS_PROFILE": "", "AWS_ENDPOINT_URL": "", "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"DDBOPS_AUTH": "", "DDBOPS_API_KEY": "", "DDBOPS_OUTPUT": ""} {
		t.Setenv(k, v)
	}
	api := newAPIServer(t, local.Options{})
	const key = "hints-key-0123456789abcdefghij"
	keyed := newAPIServer(t, local.Options{Auth: wire.AuthAPIKey, APIKey: key})
	plain404 := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain404.Close)
	nobody := "http://" + testenv.FreeAddr(t)
	zip := filepath.Join(dir, "b.zip")
	if err := os.WriteFile(zip, provTestZip(t, "x"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCfg := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(badCfg, []byte("memroy: 256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, append(append([]string{"call", "--url", api.URL}, cfg...), "create", "--id", "1")...); code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	call := func(url string, args ...string) []string {
		return append(append([]string{"call", "--url", url}, cfg...), args...)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
		wantHint string // "" = no hint line
	}{
		{"the function's NotFound is 3", call(api.URL, "read", "--id", "nope"), cmdutil.ExitNotFound, "read: HTTP 404: NotFound", ""},
		{"update of a missing id", call(api.URL, "update", "--id", "nope", "x=1"), cmdutil.ExitNotFound, "HTTP 404", "update never creates an item"},
		{"create of an existing id", call(api.URL, "create", "--id", "1"), cmdutil.ExitConflict, "HTTP 409", "add --overwrite"},
		{"a 404 that is not the function's is 1", call(plain404.URL+apiPath, "read", "--id", "1"), cmdutil.ExitError, "HTTP 404", "nothing is served at this URL"},
		{"a missing route is 1", call(strings.TrimSuffix(api.URL, "DynamoDBManager")+"Other", "read", "--id", "1"), cmdutil.ExitError,
			"HTTP 403: Missing Authentication Token", "API Gateway has no POST method at this path"},
		{"wrong tableName is not about the key", call(api.URL, "--raw", `{"operation":"read","tableName":"other","payload":{"Key":{"id":"1"}}}`),
			cmdutil.ExitError, "HTTP 403: Forbidden: tableName", `drop "tableName" from the body`},
		{"wrong API key", call(keyed.URL, "--api-key", "wrong-key-0123456789abcdefgh", "ping"), cmdutil.ExitError, "HTTP 403", "the API rejected the API key"},
		{"nothing listens at --url", call(nobody+apiPath, "ping", "--retries", "0"), cmdutil.ExitError, "ping", "nothing answered at " + nobody},
		{"unknown operation before its flags", call(api.URL, "frobnicate", "--id", "1"), cmdutil.ExitUsage, `unknown operation "frobnicate"`, ""},
		{"operation in capitals", call(api.URL, "Read", "--id", "1"), cmdutil.ExitUsage, `unknown operation "Read"`, `did you mean "read"?`},
		{"unknown command", []string{"stauts"}, cmdutil.ExitUsage, `unknown command "stauts"`, "did you mean status?"},
		{"config key typo", []string{"--config", badCfg, "status"}, cmdutil.ExitUsage, `line 1: unknown key "memroy"`, `did you mean "memory"?`},
		{"a short local API key is a usage error", append([]string{"local", "--api-key", "short"}, cfg...), cmdutil.ExitUsage,
			"invalid API key from --api-key: must be 20 to 128 characters", ""},
		{"a bad value from the environment", append([]string{"setup", "--dry-run", "--memory", "64"}, cfg...), cmdutil.ExitUsage,
			"invalid configuration: memory 64: must be between 128 and 10240 MB (from --memory)", ""},
		{"auth none without a terminal", append([]string{"setup", "--auth", "none", "--handler-zip", zip, "--endpoint-url", nobody}, cfg...), cmdutil.ExitUsage,
			"setup --auth none opens the API to anyone", "pass --yes to open it (auth none from --auth)"},
		{"nothing answers at --endpoint-url", append([]string{"status", "--endpoint-url", nobody}, cfg...), cmdutil.ExitError,
			"get caller identity", "nothing answered at " + nobody + ": is the emulator running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantMsg) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tt.wantCode, errOut, tt.wantMsg)
			}
			_, hint, has := strings.Cut(errOut, "\nhint: ")
			switch {
			case tt.wantHint == "" && has:
				t.Errorf("unexpected hint %q", hint)
			case tt.wantHint != "" && !strings.Contains(hint, tt.wantHint):
				t.Errorf("hint %q, want %q (stderr %q)", hint, tt.wantHint, errOut)
			}
			for _, wrong := range []string{"check --data-dir", "check your AWS credentials", "tag it"} {
				if strings.Contains(errOut, wrong) {
					t.Errorf("a hint points the wrong way (%q): %q", wrong, errOut)
				}
			}
		})
	}
}
