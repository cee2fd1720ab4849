package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/ddbops/ddbops/internal/local/gateway"
	"github.com/ddbops/ddbops/internal/wire"
)

// TestAPIKeyAuth: a generated key is saved (0600), reused on restart,
// published in ServerInfo and checked on every request.
func TestAPIKeyAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := serve(t, Options{DataDir: dir, Auth: wire.AuthAPIKey})
	key := srv.stack.APIKey()
	if err := gateway.ValidAPIKey(key); err != nil || !srv.stack.APIKeyGenerated() {
		t.Fatalf("generated key %q: %v (generated=%v)", key, err, srv.stack.APIKeyGenerated())
	}
	st, err := os.Stat(filepath.Join(dir, apiKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("api-key file: %v %v", err, st)
	}
	if srv.info.APIKey != key || srv.info.Auth != wire.AuthAPIKey {
		t.Errorf("ServerInfo = %+v", srv.info)
	}
	if d, err := Discover(dir); err != nil || d == nil || d.APIKey != key {
		t.Errorf("Discover = %+v, %v", d, err)
	}
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
		body   string
	}{
		{"missing", nil, 403, `{"message":"Forbidden"}`},
		{"wrong", map[string]string{"x-api-key": key[:len(key)-1] + "X"}, 403, `{"message":"Forbidden"}`},
		{"prefix", map[string]string{"x-api-key": key[:20]}, 403, `{"message":"Forbidden"}`},
		{"right", map[string]string{"x-api-key": key}, 200, ""},
		{"header name case", map[string]string{"X-API-KEY": key}, 200, ""},
	}
	for _, tt := range tests {
		r := do(t, http.MethodPost, srv.info.URL, tutorialEcho, tt.hdr)
		checkCommon(t, r)
		if r.status != tt.status || (tt.body != "" && string(r.body) != tt.body) {
			t.Errorf("%s: %d %s", tt.name, r.status, r.body)
		}
		if tt.status == 403 && r.header.Get("X-Amzn-Errortype") != "ForbiddenException" {
			t.Errorf("%s: x-amzn-ErrorType %q", tt.name, r.header.Get("X-Amzn-Errortype"))
		}
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}

	// The same key after a restart; an explicit key wins and is not saved.
	s, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthAPIKey, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if s.APIKey() != key || s.APIKeyGenerated() {
		t.Errorf("restart: key %q generated=%v, want %q reused", s.APIKey(), s.APIKeyGenerated(), key)
	}
	s.Close()
	const explicit = "my-explicit-key-0123456789"
	s, err = Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthAPIKey, APIKey: explicit, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.APIKey() != explicit {
		t.Errorf("explicit key: got %q", s.APIKey())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, apiKeyFile)); strings.TrimSpace(string(b)) != key {
		t.Errorf("the explicit key overwrote the saved one")
	}
	if _, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthAPIKey, APIKey: "short"})); err == nil {
		t.Error("a 5-character API key was accepted")
	}
}

const (
	testAKID   = "AKIDLOCALTEST0000001"
	testSecret = "local-test-secret-key-not-real-0000000000"
	testRegion = "eu-west-3"
)

// signSDK signs req with the SDK's SigV4 signer as a client would.
func signSDK(t *testing.T, req *http.Request, body, akid, secret, region, service string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

// TestIAMAuth: SigV4 signatures made with the local credentials pass;
// unsigned, badly signed, foreign, stale and re-scoped requests get API
// Gateway's 403 answers.
func TestIAMAuth(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	srv := serve(t, Options{Auth: wire.AuthIAM, Region: testRegion, Credentials: creds})
	if srv.info.Region != testRegion || srv.stack.APIKey() != "" {
		t.Errorf("ServerInfo = %+v", srv.info)
	}
	url := srv.info.URL
	now := time.Now()
	tests := []struct {
		name    string
		sign    func(*http.Request, string)
		after   func(*http.Request) // changes after signing
		status  int
		message string // prefix of the message
	}{
		{name: "unsigned", status: 403, message: "Missing Authentication Token"},
		{name: "sdk signed", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now)
		}, status: 200},
		{name: "wrong secret", sign: func(r *http.Request, b string) { signSDK(t, r, b, testAKID, "wrong", testRegion, "execute-api", now) },
			status: 403, message: "The request signature we calculated does not match the signature you provided"},
		{name: "unknown key", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, "AKIDSOMEONEELSE00000", testSecret, testRegion, "execute-api", now)
		},
			status: 403, message: "The security token included in the request is invalid."},
		{name: "expired", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now.Add(-6*time.Minute))
		}, status: 403, message: "Signature expired: "},
		{name: "from the future", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now.Add(6*time.Minute))
		}, status: 403, message: "Signature not yet current: "},
		{name: "other region", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, "us-east-1", "execute-api", now)
		},
			status: 403, message: "Credential should be scoped to a valid region"},
		{name: "other service", sign: func(r *http.Request, b string) { signSDK(t, r, b, testAKID, testSecret, testRegion, "dynamodb", now) },
			status: 403, message: "Credential should be scoped to correct service: 'execute-api'."},
		{name: "body changed after signing", sign: func(r *http.Request, b string) {
			signSDK(t, r, b+" ", testAKID, testSecret, testRegion, "execute-api", now)
		},
			status: 403, message: "The request signature we calculated does not match"},
		{name: "signed header changed", sign: func(r *http.Request, b string) {
			r.Header.Set("X-Custom", "a")
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now)
		}, after: func(r *http.Request) { r.Header.Set("X-Custom", "b") }, status: 403, message: "The request signature we calculated does not match"},
		{name: "unsigned header added", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now)
		},
			after: func(r *http.Request) { r.Header.Set("X-Extra", "fine") }, status: 200},
		{name: "not sigv4", sign: func(r *http.Request, _ string) { r.Header.Set("Authorization", "Bearer abc") },
			status: 403, message: "Authorization header requires 'Credential' parameter."},
		{name: "no date", sign: func(r *http.Request, b string) {
			signSDK(t, r, b, testAKID, testSecret, testRegion, "execute-api", now)
			r.Header.Del("X-Amz-Date")
		}, status: 403, message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(tutorialEcho))
			req.Header.Set("Content-Type", "application/json")
			if tt.sign != nil {
				tt.sign(req, tutorialEcho)
			}
			if tt.after != nil {
				tt.after(req)
			}
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.message != "" && !strings.HasPrefix(body, `{"message":"`+tt.message) {
				t.Errorf("body %s, want message starting %q", body, tt.message)
			}
			if tt.status == 200 && body != `{"somekey1":"somevalue1","somekey2":"somevalue2"}` {
				t.Errorf("body %s", body)
			}
		})
	}
}

// TestIAMAuthCurl: a request signed by the real curl binary with
// --aws-sigv4 passes (and one signed with a wrong secret does not).
func TestIAMAuthCurl(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not on PATH")
	}
	if out, _ := exec.Command(curl, "--help", "all").CombinedOutput(); !strings.Contains(string(out), "--aws-sigv4") {
		t.Skip("this curl has no --aws-sigv4 (needs curl 7.75+)")
	}
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	srv := serve(t, Options{Auth: wire.AuthIAM, Region: testRegion, Credentials: creds})
	run := func(secret string, extra ...string) string {
		args := append([]string{"-s", "-X", "POST", "--aws-sigv4", "aws:amz:" + testRegion + ":execute-api",
			"--user", testAKID + ":" + secret, "-w", "\n%{http_code}"}, extra...)
		args = append(args, "-d", tutorialEcho, srv.info.URL)
		out, err := exec.Command(curl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
		return string(out)
	}
	tests := []struct {
		name, secret string
		extra        []string
		want         string
	}{
		{"tutorial style", testSecret, nil, `{"somekey1":"somevalue1","somekey2":"somevalue2"}` + "\n200"},
		{"with json content type", testSecret, []string{"-H", "Content-Type: application/json"}, `{"somekey1":"somevalue1","somekey2":"somevalue2"}` + "\n200"},
		{"with a custom header", testSecret, []string{"-H", "X-Trace: abc"}, `{"somekey1":"somevalue1","somekey2":"somevalue2"}` + "\n200"},
		{"wrong secret", "nope", nil, "403"},
	}
	for _, tt := range tests {
		got := run(tt.secret, tt.extra...)
		if !strings.HasSuffix(got, tt.want) {
			t.Errorf("%s: got %s, want suffix %s", tt.name, got, tt.want)
		}
	}
}

// TestIAMSessionToken: with temporary credentials the token must come
// along (signed), as in AWS.
func TestIAMSessionToken(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "session-token-1")
	srv := serve(t, Options{Auth: wire.AuthIAM, Region: testRegion, Credentials: creds})
	send := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.info.URL, strings.NewReader(tutorialEcho))
		sum := sha256.Sum256([]byte(tutorialEcho))
		err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: token},
			req, hex.EncodeToString(sum[:]), "execute-api", testRegion, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("session-token-1"); got != 200 {
		t.Errorf("right token: %d", got)
	}
	if got := send("other-token"); got != 403 {
		t.Errorf("wrong token: %d", got)
	}
	if got := send(""); got != 403 {
		t.Errorf("no token: %d", got)
	}
}

// TestIAMNeedsCredentials: iam auth without credentials fails at Open.
func TestIAMNeedsCredentials(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthIAM, Region: testRegion}))
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("Open without credentials: %v", err)
	}
	bad := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, os.ErrNotExist
	})
	if _, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthIAM, Region: testRegion, Credentials: bad})); err == nil {
		t.Fatal("Open with failing credentials succeeded")
	}
}
