package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/ddbops/ddbops/configs"
	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/target"
	"github.com/ddbops/ddbops/internal/wire"
)

const apiPath = "/prod/DynamoDBManager"

// isolatedConfig writes a config file whose state file and data dir live
// in a temp dir, so tests never read the working directory's, and returns
// the flags that select it.
func isolatedConfig(t *testing.T) (args []string, dir string) {
	t.Helper()
	dir = t.TempDir()
	cfg := filepath.Join(dir, "ddbops.yaml")
	body := "state-dir: " + dir + "\ndata-dir: " + filepath.Join(dir, "local") + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", cfg}, dir
}

// withDefaults fills what o leaves empty with the values the commands pass
// (configs/ddbops.yaml), so that tests open local stacks as they do.
func withDefaults(o local.Options) local.Options {
	for v, key := range map[*string]string{&o.TableName: "table", &o.Stage: "stage", &o.Resource: "resource", &o.Region: "local-region"} {
		if *v == "" {
			*v, _ = configs.Default(key)
		}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// runCLI runs ddbops with args through Execute and returns the exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := testIO()
	code := Execute(context.Background(), ios, args)
	return code, out.String(), errOut.String()
}

// apiServer is a local stack (the real handler over minidyn) behind a
// loopback HTTP server that records every request.
type apiServer struct {
	URL   string // full invoke URL
	stack *local.Stack

	mu      sync.Mutex
	bodies  []string
	headers []http.Header
}

func newAPIServer(t *testing.T, opts local.Options) *apiServer {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Auth == "" {
		opts.Auth = wire.AuthNone
	}
	opts.Log = io.Discard
	stack, err := local.Open(context.Background(), withDefaults(opts))
	if err != nil {
		t.Fatalf("open local stack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	as := &apiServer{stack: stack}
	h := stack.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		as.mu.Lock()
		as.bodies = append(as.bodies, string(body))
		as.headers = append(as.headers, r.Header.Clone())
		as.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	as.URL = srv.URL + apiPath
	return as
}

func (as *apiServer) lastBody() string {
	as.mu.Lock()
	defer as.mu.Unlock()
	if len(as.bodies) == 0 {
		return ""
	}
	return as.bodies[len(as.bodies)-1]
}

func (as *apiServer) count() int {
	as.mu.Lock()
	defer as.mu.Unlock()
	return len(as.bodies)
}

// TestCallEveryOperation drives each operation through the CLI against the
// real handler and checks the exact body sent, the output and the exit
// code — including 3 (not found) and 4 (conflict).
func TestCallEveryOperation(t *testing.T) {
	t.Parallel()
	cfg, _ := isolatedConfig(t)
	api := newAPIServer(t, local.Options{})
	steps := []struct {
		args     []string
		wantCode int
		wantBody string // exact request body ("" = not checked)
		wantOut  string // exact stdout ("" = not checked)
		wantErr  string // substring of stderr
	}{
		{args: []string{"ping"}, wantBody: `{"operation":"ping"}`, wantOut: "pong\n"},
		{args: []string{"create", "--id", "1", "--name", "Bob"},
			wantBody: `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"},"ConditionExpression":"attribute_not_exists(id)"}}`,
			wantOut:  "created 1\n"},
		{args: []string{"create", "--id", "1", "--name", "Bob"}, wantCode: cmdutil.ExitConflict, wantErr: "create: HTTP 409"},
		{args: []string{"create", "--id", "1", "--name", "Bob", "--overwrite"},
			wantBody: `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`,
			wantOut:  "created 1\n"},
		{args: []string{"read", "--id", "1"},
			wantBody: `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`,
			wantOut:  "{\n  \"id\": \"1\",\n  \"name\": \"Bob\"\n}\n"},
		{args: []string{"update", "--id", "1", "--name", "Alice", "age:=42", "--remove", "nick"},
			wantBody: `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n0 = :v0, #n1 = :v1 REMOVE #n2","ExpressionAttributeNames":{"#n0":"name","#n1":"age","#n2":"nick"},"ExpressionAttributeValues":{":v0":"Alice",":v1":42},"ReturnValues":"ALL_NEW"}}`,
			wantOut:  "{\n  \"age\": 42,\n  \"id\": \"1\",\n  \"name\": \"Alice\"\n}\n"},
		{args: []string{"update", "--id", "nope", "x=1"}, wantCode: cmdutil.ExitNotFound, wantErr: "update never creates an item"},
		{args: []string{"read", "--id", "nope"}, wantCode: cmdutil.ExitNotFound, wantErr: "read: HTTP 404"},
		{args: []string{"create", "--id", "2", "tags:=[\"a\",\"b\"]", "n:=1.50"}, wantOut: "created 2\n"},
		{args: []string{"list"}, wantBody: `{"operation":"list","tableName":"lambda-apigateway","payload":{}}`,
			// The local stack stores numbers as DynamoDB does: 1.50 is 1.5.
			wantOut: "id  age  n    name   tags\n1   42        Alice\n2        1.5         [\"a\",\"b\"]\n", wantErr: "2 items"},
		{args: []string{"echo", "somekey1=somevalue1", "somekey2=somevalue2"},
			wantBody: `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`,
			wantOut:  "{\n  \"somekey1\": \"somevalue1\",\n  \"somekey2\": \"somevalue2\"\n}\n"},
		{args: []string{"--raw", `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"2"}}}`},
			wantBody: `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"2"}}}`},
		{args: []string{"delete", "--id", "2"},
			wantBody: `{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"2"}}}`, wantOut: "deleted 2\n"},
		{args: []string{"delete", "--id", "2"}, wantCode: cmdutil.ExitNotFound},
		{args: []string{"read", "--id", "2"}, wantCode: cmdutil.ExitNotFound},
	}
	for _, st := range steps {
		args := append(append([]string{"call", "--url", api.URL}, cfg...), st.args...)
		code, out, errOut := runCLI(t, args...)
		name := strings.Join(st.args, " ")
		if code != st.wantCode {
			t.Fatalf("%s: exit %d, want %d (stderr %q)", name, code, st.wantCode, errOut)
		}
		if st.wantBody != "" && api.lastBody() != st.wantBody {
			t.Errorf("%s: body\n got %s\nwant %s", name, api.lastBody(), st.wantBody)
		}
		if st.wantOut != "" && out != st.wantOut {
			t.Errorf("%s: stdout\n got %q\nwant %q", name, out, st.wantOut)
		}
		if !strings.Contains(errOut, st.wantErr) {
			t.Errorf("%s: stderr %q, want it to contain %q", name, errOut, st.wantErr)
		}
		if st.wantCode != 0 && strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%s: error is more than a line and a hint: %q", name, errOut)
		}
	}
}

// -o json prints exactly one JSON document: the API's answer (also for an
// error), or the combined pages of list --all.
func TestCallJSONOutput(t *testing.T) {
	t.Parallel()
	cfg, _ := isolatedConfig(t)
	api := newAPIServer(t, local.Options{})
	call := func(args ...string) (int, string, string) {
		return runCLI(t, append(append([]string{"call", "--url", api.URL, "-o", "json"}, cfg...), args...)...)
	}
	for i := range 5 {
		if code, _, errOut := call("create", "--id", "k"+string(rune('0'+i)), "n:=12345678901234567890"); code != 0 {
			t.Fatalf("create: %d %s", code, errOut)
		}
	}
	oneDoc := func(t *testing.T, out string) map[string]any {
		t.Helper()
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("stdout is not JSON: %v: %q", err, out)
		}
		if dec.More() {
			t.Fatalf("more than one JSON document: %q", out)
		}
		return doc
	}

	code, out, _ := call("read", "--id", "k1")
	doc := oneDoc(t, out)
	if code != 0 || doc["Item"] == nil || doc["ResponseMetadata"] == nil {
		t.Errorf("read: %d %v", code, doc)
	}
	if !strings.Contains(out, "12345678901234567890") {
		t.Errorf("number literal not kept: %s", out)
	}

	code, out, errOut := call("read", "--id", "missing")
	doc = oneDoc(t, out)
	if code != cmdutil.ExitNotFound || doc["error"] == nil || !strings.Contains(errOut, "HTTP 404") {
		t.Errorf("read missing: %d %v %q", code, doc, errOut)
	}

	before := api.count()
	code, out, _ = call("list", "--all", "--limit", "2")
	doc = oneDoc(t, out)
	items, _ := doc["Items"].([]any)
	if code != 0 || len(items) != 5 || doc["Count"] != json.Number("5") || doc["LastEvaluatedKey"] != nil {
		t.Errorf("list --all: %d %v", code, doc)
	}
	if pages := api.count() - before; pages < 3 {
		t.Errorf("list --all --limit 2 over 5 items made %d requests, want at least 3", pages)
	}

	code, out, _ = call("ping")
	if code != 0 || out != "\"pong\"\n" {
		t.Errorf("ping: %d %q", code, out)
	}
}

// Bad input is a usage error (exit 2) with a one-line message, and nothing
// is sent.
func TestCallUsageErrors(t *testing.T) {
	t.Parallel()
	cfg, dir := isolatedConfig(t)
	api := newAPIServer(t, local.Options{})
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "name an operation"},
		{[]string{"frobnicate"}, "unknown"},
		{[]string{"read"}, "--id is required"},
		{[]string{"read", "--id", "1", "extra"}, "takes no arguments"},
		{[]string{"delete"}, "--id is required"},
		{[]string{"create", "--name", "Bob"}, "--id is required"},
		{[]string{"create", "--id", "1", "Bob"}, "want NAME=STRING or NAME:=JSON"},
		{[]string{"create", "--id", "1", "age:=4x"}, "not valid JSON"},
		{[]string{"create", "--id", "1", "id=2"}, "id given twice"},
		{[]string{"create", "--id", "1", "--name", "a", "name=b"}, "name given twice"},
		{[]string{"create", "--id", "1", "--item", `{"id":"2"}`}, "disagree"},
		{[]string{"create", "--item", `{"id":7}`}, "id must be a string"},
		{[]string{"create", "--item", `[1]`}, "want a JSON object"},
		{[]string{"create", "--item", "@" + notJSON}, "invalid JSON"},
		{[]string{"create", "--item", "@" + filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"create", "--id", ""}, "--id is required"},
		{[]string{"update", "--id", "1"}, "nothing to change"},
		{[]string{"update", "--id", "1", "id=2"}, "id is the key"},
		{[]string{"update", "--id", "1", "a=1", "--remove", "a"}, "given twice"},
		{[]string{"list", "--limit", "0"}, "positive integer"},
		{[]string{"list", "--limit", "-3"}, "positive integer"},
		{[]string{"list", "--limit", "x"}, "invalid argument"},
		{[]string{"--raw", "{nope"}, "not valid JSON"},
		{[]string{"read", "--id", "1", "--raw", "{}"}, "unknown flag"},
		{[]string{"read", "--id", "1", "--auth", "basic"}, "invalid --auth"},
		{[]string{"read", "--id", "1", "--auth", "iam", "--api-key", "k"}, "--api-key needs --auth apikey"},
		{[]string{"read", "--id", "1", "--local"}, "--url and --local"},
		{[]string{"read", "--id", "1", "--request-timeout", "-1s"}, "must not be negative"},
		{[]string{"read", "--id", "1", "--retries", "-1"}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"call", "--url", api.URL}, cfg...), tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != cmdutil.ExitUsage {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			first, _, _ := strings.Cut(errOut, "\n")
			if !strings.Contains(first, tt.want) {
				t.Errorf("first stderr line %q, want it to contain %q", first, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q on a usage error", out)
			}
		})
	}
	if n := api.count(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestCallCreateAssemblesItem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	itemFile := filepath.Join(dir, "item.json")
	if err := os.WriteFile(itemFile, []byte(`{"zip":"x","id":"9","name":"Old","n":1.0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		opts  callOptions
		stdin string
		want  string
	}{
		{"tutorial", callOptions{id: "1", name: "Bob", nameSet: true}, "", `{"id":"1","name":"Bob"}`},
		{"id only", callOptions{id: "1"}, "", `{"id":"1"}`},
		{"empty name is a value", callOptions{id: "1", nameSet: true}, "", `{"id":"1","name":""}`},
		{"attributes after name", callOptions{id: "1", name: "Bob", nameSet: true, attrs: []string{"age:=42", "city=Oslo"}}, "", `{"id":"1","name":"Bob","age":42,"city":"Oslo"}`},
		{"id from attribute", callOptions{attrs: []string{"id=5", "a=b"}}, "", `{"id":"5","a":"b"}`},
		{"item file keeps order, flags replace in place", callOptions{item: "@" + itemFile, id: "9", name: "New", nameSet: true, attrs: []string{"n:=2", "extra:=true"}}, "",
			`{"zip":"x","id":"9","name":"New","n":2,"extra":true}`},
		{"item without id gets --id first", callOptions{item: `{"a":1}`, id: "3"}, "", `{"id":"3","a":1}`},
		{"item from stdin", callOptions{item: "@-"}, `{"id":"4","b":[1]}`, `{"id":"4","b":[1]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _ := testIO()
			ios.In = strings.NewReader(tt.stdin)
			opts := tt.opts
			opts.IO = ios
			opts.op = wire.OpCreate
			opts.overwrite = true
			if err := loadCallInputs(&opts); err != nil {
				t.Fatal(err)
			}
			req, err := client.Build(opts.input(), "lambda-apigateway")
			if err != nil {
				t.Fatal(err)
			}
			want := `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":` + tt.want + `}}`
			if string(req.Body) != want {
				t.Errorf("body\n got %s\nwant %s", req.Body, want)
			}
		})
	}
}

// Targeting and command flags parse in any order around the operation.
func TestCallFlagPlacement(t *testing.T) {
	t.Parallel()
	cfg, _ := isolatedConfig(t)
	api := newAPIServer(t, local.Options{})
	for _, args := range [][]string{
		{"call", "--url", api.URL, "create", "--id", "1", "--name", "Bob", "--overwrite"},
		{"call", "create", "--id", "1", "--url", api.URL, "--name", "Bob", "--overwrite"},
		{"call", "create", "--overwrite", "--name", "Bob", "--id", "1", "--request-timeout", "5s", "--url", api.URL},
	} {
		code, out, errOut := runCLI(t, append(args, cfg...)...)
		if code != 0 || out != "created 1\n" {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
		if want := `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`; api.lastBody() != want {
			t.Errorf("%v: body %s", args, api.lastBody())
		}
	}
	// The old spelling --timeout (deploy --timeout is seconds, call's a
	// duration) still works, with a notice on stderr; help shows only the new.
	code, out, errOut := runCLI(t, append([]string{"call", "ping", "--timeout", "5s", "--url", api.URL}, cfg...)...)
	if code != 0 || out != "pong\n" || !strings.Contains(errOut, "warning: --timeout is deprecated: use --request-timeout") {
		t.Errorf("call --timeout: %d %q %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, append([]string{"call", "ping", "--timeout", "-1s", "--url", api.URL}, cfg...)...)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "invalid --request-timeout -1s: must not be negative") {
		t.Errorf("call --timeout -1s: %d %q", code, errOut)
	}
	_, help, _ := runCLI(t, "call", "--help")
	if !strings.Contains(help, "--request-timeout duration") || strings.Contains(help, "--timeout") {
		t.Errorf("call --help: want --request-timeout and no --timeout:\n%s", help)
	}
}

// An API key is sent to an apikey target, and the local stack accepts it;
// a wrong key is 403 with an auth hint.
func TestCallAPIKeyAuth(t *testing.T) {
	t.Parallel()
	cfg, _ := isolatedConfig(t)
	const key = "test-key-0123456789abcdefghij"
	api := newAPIServer(t, local.Options{Auth: wire.AuthAPIKey, APIKey: key})
	base := append([]string{"call", "--url", api.URL}, cfg...)

	code, out, errOut := runCLI(t, append(base, "--api-key", key, "ping")...)
	if code != 0 || out != "pong\n" {
		t.Fatalf("with key: %d %q %q", code, out, errOut)
	}
	api.mu.Lock()
	got := api.headers[len(api.headers)-1].Get("X-Api-Key")
	api.mu.Unlock()
	if got != key {
		t.Errorf("x-api-key %q", got)
	}

	code, _, errOut = runCLI(t, append(base, "--api-key", "wrong-key-0123456789abcdefgh", "ping")...)
	if code != cmdutil.ExitError || !strings.Contains(errOut, "HTTP 403") || !strings.Contains(errOut, "hint: the API rejected the API key") {
		t.Errorf("wrong key: %d %q", code, errOut)
	}
	if strings.Contains(errOut, "wrong-key") {
		t.Errorf("error repeats the API key: %q", errOut)
	}

	code, _, errOut = runCLI(t, append(base, "ping")...)
	if code != cmdutil.ExitError || !strings.Contains(errOut, "HTTP 403") || !strings.Contains(errOut, "--auth iam or --auth apikey") {
		t.Errorf("no auth: %d %q", code, errOut)
	}
}

// setAWSEnv points the SDK's default chain at static test credentials and
// away from any real configuration.
func setAWSEnv(t *testing.T, id, secret, token string) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_PROFILE": "",
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true",
		"DDBOPS_API_KEY": "",
	} {
		t.Setenv(k, v)
	}
}

// iam auth signs with the SDK default credentials; the local stack's
// verifier (the SDK signer, independently) accepts the signature, and a
// different secret is rejected.
func TestCallIAMAuth(t *testing.T) {
	setAWSEnv(t, "AKIDCALLTEST", "call-test-secret", "")
	cfg, _ := isolatedConfig(t)
	api := newAPIServer(t, local.Options{Auth: wire.AuthIAM, Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDCALLTEST", "call-test-secret", "")})
	base := append([]string{"call", "--url", api.URL, "--auth", "iam", "--region", "eu-west-1"}, cfg...)
	code, out, errOut := runCLI(t, append(base, "create", "--id", "s1", "--name", "Signed")...)
	if code != 0 || out != "created s1\n" {
		t.Fatalf("signed create: %d %q %q", code, out, errOut)
	}
	api.mu.Lock()
	authz := api.headers[len(api.headers)-1].Get("Authorization")
	api.mu.Unlock()
	if !strings.Contains(authz, "/eu-west-1/execute-api/aws4_request") {
		t.Errorf("Authorization %q", authz)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
	code, _, errOut = runCLI(t, append(base, "read", "--id", "s1")...)
	if code != cmdutil.ExitError || !strings.Contains(errOut, "HTTP 403") || !strings.Contains(errOut, "rejected the signature") {
		t.Errorf("bad secret: %d %q", code, errOut)
	}
	if strings.Contains(errOut, "another-secret") {
		t.Errorf("error repeats the secret")
	}
}

func TestCallRetriesOnlyReads(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits[wire.OperationOf(body)]++
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Service Unavailable"}`)
	}))
	t.Cleanup(srv.Close)
	fast := client.RetryPolicy{Base: time.Microsecond, Cap: time.Microsecond}
	for _, tc := range []struct {
		op      string
		args    []string
		retries int
		want    int
	}{
		{"read", []string{"read", "--id", "1"}, 2, 3},
		{"read", []string{"read", "--id", "1"}, 0, 1},
		{"create", []string{"create", "--id", "1"}, 5, 1},
		{"delete", []string{"delete", "--id", "1"}, 5, 1},
	} {
		mu.Lock()
		hits = map[string]int{}
		mu.Unlock()
		ios, _, errOut := testIO()
		resolver := target.New(target.Settings{Table: "t", StateFile: filepath.Join(t.TempDir(), "none")}, target.AWSOptions{}, cmdutil.Env{}, io.Discard)
		opts := &callOptions{IO: ios, Settings: Settings{Output: "text"}, Resolver: resolver,
			target: target.Flags{URL: srv.URL}, timeout: 5 * time.Second, retries: tc.retries, Retry: fast}
		opts.op = tc.args[0]
		opts.id = "1"
		err := runCall(context.Background(), opts)
		if err == nil || cmdutil.ExitCode(err) != cmdutil.ExitError {
			t.Fatalf("%v: err %v", tc.args, err)
		}
		mu.Lock()
		got := hits[tc.op]
		mu.Unlock()
		if got != tc.want {
			t.Errorf("%v --retries %d: %d attempts, want %d (%s)", tc.args, tc.retries, got, tc.want, errOut)
		}
	}
}

// --print-curl prints a command that, run by a real curl, sends the same
// body with the same auth; secrets appear only as $VARIABLES.
func TestCallPrintCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not on PATH")
	}
	setAWSEnv(t, "AKIDCURLTEST", "curl-test-secret", "")
	const key = "curl-key-0123456789abcdefghij"
	tests := []struct {
		name    string
		opts    local.Options
		flags   []string
		env     []string
		want    []string // substrings of the command
		sigv4   bool
		session string // AWS_SESSION_TOKEN while printing and running
		absent  []string
	}{
		{name: "none", opts: local.Options{Auth: wire.AuthNone}},
		{name: "apikey", opts: local.Options{Auth: wire.AuthAPIKey, APIKey: key}, flags: []string{"--auth", "apikey", "--api-key", key},
			env: []string{client.APIKeyEnv + "=" + key}, want: []string{`-H "x-api-key: $DDBOPS_API_KEY"`}, absent: []string{key}},
		{name: "iam", opts: local.Options{Auth: wire.AuthIAM, Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDCURLTEST", "curl-test-secret", "")},
			flags: []string{"--auth", "iam"}, sigv4: true,
			want:   []string{`--aws-sigv4 'aws:amz:eu-west-1:execute-api'`, `--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"`},
			absent: []string{"curl-test-secret", "AKIDCURLTEST", "x-amz-security-token"}},
		{name: "iam session", opts: local.Options{Auth: wire.AuthIAM, Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDCURLTEST", "curl-test-secret", "curl-session-token")},
			flags: []string{"--auth", "iam"}, sigv4: true, session: "curl-session-token",
			want:   []string{`--aws-sigv4 'aws:amz:eu-west-1:execute-api'`, `-H "x-amz-security-token: $AWS_SESSION_TOKEN"`},
			absent: []string{"curl-test-secret", "curl-session-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sigv4 {
				if out, _ := exec.Command(curl, "--help", "all").CombinedOutput(); !strings.Contains(string(out), "--aws-sigv4") {
					t.Skip("this curl has no --aws-sigv4")
				}
			}
			t.Setenv("AWS_SESSION_TOKEN", tt.session)
			cfg, _ := isolatedConfig(t)
			api := newAPIServer(t, tt.opts)
			args := append(append([]string{"call", "--url", api.URL, "--region", "eu-west-1"}, cfg...), tt.flags...)
			args = append(args, "create", "--id", "c'1", "--name", "O'Brien $HOME", "--print-curl")
			code, cmdline, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if api.count() != 0 {
				t.Fatal("--print-curl sent the request")
			}
			for _, w := range append(tt.want, "curl -sS -X POST '"+api.URL+"'") {
				if !strings.Contains(cmdline, w) {
					t.Errorf("command lacks %q:\n%s", w, cmdline)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(cmdline, a) || strings.Contains(errOut, a) {
					t.Errorf("output contains secret %q", a)
				}
			}
			if !strings.Contains(errOut, "not sent") {
				t.Errorf("stderr %q", errOut)
			}

			sh := exec.Command("sh", "-c", cmdline)
			sh.Env = append(os.Environ(), tt.env...)
			got, err := sh.CombinedOutput()
			if err != nil {
				t.Fatalf("running the printed command: %v: %s", err, got)
			}
			if !strings.Contains(string(got), `"HTTPStatusCode":200`) {
				t.Fatalf("curl got %s", got)
			}
			want := `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"c'1","name":"O'Brien $HOME"},"ConditionExpression":"attribute_not_exists(id)"}}`
			if api.lastBody() != want {
				t.Errorf("curl sent\n %s\nwant\n %s", api.lastBody(), want)
			}
			// And ddbops reads back what curl wrote.
			rargs := append(append([]string{"call", "--url", api.URL, "--region", "eu-west-1"}, cfg...), tt.flags...)
			code, out, errOut := runCLI(t, append(rargs, "read", "--id", "c'1")...)
			if code != 0 || !strings.Contains(out, `"O'Brien $HOME"`) {
				t.Errorf("read back: %d %q %q", code, out, errOut)
			}
		})
	}
}

// call --local without a server runs in-process: no socket, data persists
// in the data dir across invocations, the lock is released after each.
func TestCallLocalInProcess(t *testing.T) {
	t.Parallel()
	cfg, dir := isolatedConfig(t)
	dataDir := filepath.Join(dir, "data")
	call := func(args ...string) (int, string, string) {
		return runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir}, cfg...), args...)...)
	}
	if code, out, errOut := call("create", "--id", "1", "--name", "Bob"); code != 0 || out != "created 1\n" {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := call("read", "--id", "1"); code != 0 || out != "{\n  \"id\": \"1\",\n  \"name\": \"Bob\"\n}\n" {
		t.Fatalf("read in a second invocation: %d %q %q", code, out, errOut)
	}
	if code, _, _ := call("create", "--id", "1", "--name", "Bob"); code != cmdutil.ExitConflict {
		t.Fatalf("second create: exit %d, want 4", code)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "server.json")); err == nil {
		t.Error("in-process call published a server")
	}
	// The lock is free again: a stack opens at once.
	s, err := local.Open(context.Background(), withDefaults(local.Options{DataDir: dataDir, Auth: wire.AuthNone, Log: io.Discard}))
	if err != nil {
		t.Fatalf("data dir still locked after call: %v", err)
	}
	s.Close()
	// The default data dir comes from config (data-dir).
	if code, out, errOut := runCLI(t, append([]string{"call", "--local", "list"}, cfg...)...); code != 0 || out != "" || !strings.Contains(errOut, "0 items") {
		t.Fatalf("list of the config data dir: %d %q %q", code, out, errOut)
	}
}

// Several in-process `call --local` at once on one data dir take turns on
// its lock instead of failing, and every write lands.
func TestCallLocalInProcessConcurrent(t *testing.T) {
	t.Parallel()
	cfg, dir := isolatedConfig(t)
	dataDir := filepath.Join(dir, "data")
	const n = 4
	var wg sync.WaitGroup
	codes := make([]int, n)
	errs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, errs[i] = runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir}, cfg...),
				"create", "--id", "c"+string(rune('0'+i)))...)
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 {
			t.Errorf("call %d: exit %d %q", i, codes[i], errs[i])
		}
	}
	code, out, errOut := runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir, "-o", "json"}, cfg...), "list", "--all")...)
	var res struct{ Count int }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Count != n {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
}

// --print-curl --local with nothing serving describes the server `ddbops
// local` would start, without opening (or creating) the data dir.
func TestCallLocalPrintCurlWithoutServer(t *testing.T) {
	t.Parallel()
	cfg, dir := isolatedConfig(t)
	dataDir := filepath.Join(dir, "never")
	code, out, errOut := runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir}, cfg...), "ping", "--print-curl")...)
	if code != 0 {
		t.Fatalf("exit %d %q", code, errOut)
	}
	for _, w := range []string{"'http://127.0.0.1:3000/prod/DynamoDBManager'", `-H "x-api-key: $DDBOPS_API_KEY"`, `--data-binary '{"operation":"ping"}'`} {
		if !strings.Contains(out, w) {
			t.Errorf("command lacks %q: %s", w, out)
		}
	}
	if !strings.Contains(errOut, "no ddbops local is serving") {
		t.Errorf("stderr %q", errOut)
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("--print-curl created the data dir")
	}
	code, out, _ = runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir, "-o", "json"}, cfg...), "ping", "--print-curl")...)
	var doc struct{ Curl string }
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || !strings.HasPrefix(doc.Curl, "curl ") {
		t.Errorf("-o json: %d %q", code, out)
	}
}

// serveLocal runs a local stack on a free loopback port as `ddbops local`
// does, until the test ends.
func serveLocal(t *testing.T, opts local.Options) local.ServerInfo {
	t.Helper()
	opts.Log = io.Discard
	s, err := local.Open(context.Background(), withDefaults(opts))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan local.ServerInfo, 1)
	done := make(chan error, 1)
	go func() { done <- s.ServeWithReady(ctx, ln, func(i local.ServerInfo) { ready <- i }) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	select {
	case info := <-ready:
		return info
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("local stack not ready after 30s")
	}
	return local.ServerInfo{}
}

// call --local with a running server goes over HTTP to it, with its auth:
// the generated API key is found, and iam signs with the SDK credentials.
func TestCallLocalWithServer(t *testing.T) {
	setAWSEnv(t, "AKIDLOCALTEST", "local-test-secret", "")
	for _, auth := range []string{wire.AuthAPIKey, wire.AuthIAM, wire.AuthNone} {
		t.Run(auth, func(t *testing.T) {
			cfg, dir := isolatedConfig(t)
			dataDir := filepath.Join(dir, "data")
			// Data written in-process first must be served by the server.
			if code, _, errOut := runCLI(t, append([]string{"call", "--local", "--data-dir", dataDir}, append(cfg, "create", "--id", "pre", "--name", "Before")...)...); code != 0 {
				t.Fatalf("in-process create: %s", errOut)
			}
			opts := local.Options{DataDir: dataDir, Auth: auth, Region: "ap-south-1"}
			if auth == wire.AuthIAM {
				opts.Credentials = credentials.NewStaticCredentialsProvider("AKIDLOCALTEST", "local-test-secret", "")
			}
			info := serveLocal(t, opts)

			call := func(args ...string) (int, string, string) {
				return runCLI(t, append(append([]string{"call", "--local", "--data-dir", dataDir, "-v"}, cfg...), args...)...)
			}
			code, out, errOut := call("read", "--id", "pre")
			if code != 0 || !strings.Contains(out, `"Before"`) {
				t.Fatalf("read through server: %d %q %q", code, out, errOut)
			}
			if !strings.Contains(errOut, "POST "+info.URL) || !strings.Contains(errOut, "auth "+auth) {
				t.Errorf("did not go to the server over HTTP: %q", errOut)
			}
			if code, out, errOut := call("create", "--id", "srv", "--name", "Served"); code != 0 || out != "created srv\n" {
				t.Fatalf("create through server: %d %q %q", code, out, errOut)
			}
			if auth == wire.AuthAPIKey {
				if code, _, errOut := call("ping", "--api-key", "not-the-key-0123456789abcdef"); code != cmdutil.ExitError || !strings.Contains(errOut, "HTTP 403") {
					t.Errorf("--api-key must override the server's key: %d %q", code, errOut)
				}
			}
		})
	}
}

// apiKeys is API Gateway's GetApiKey answering one key, counting calls.
type apiKeys struct {
	mu    sync.Mutex
	calls int
}

func (k *apiKeys) GetApiKey(_ context.Context, in *apigateway.GetApiKeyInput, _ ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	if aws.ToString(in.ApiKey) != "key123" || !aws.ToBool(in.IncludeValue) {
		return nil, errors.New("NotFoundException: Invalid API Key identifier specified")
	}
	return &apigateway.GetApiKeyOutput{Id: in.ApiKey, Value: aws.String("the-secret-key-value")}, nil
}

// The whole path through `call`: a state file recorded by setup with
// apikey auth, the key fetched from (fake) API Gateway, sent as x-api-key
// to the recorded invoke URL.
func TestCallFromStateFileWithAPIKey(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var gotKey, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		gotKey, gotBody = r.Header.Get("X-Api-Key"), string(b)
		mu.Unlock()
		if r.Header.Get("X-Api-Key") != "the-secret-key-value" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"Forbidden"}`)
			return
		}
		io.WriteString(w, `{"Item":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"r"}}`)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "state.json")
	st := &provision.State{Stack: "ddbops", Region: "eu-central-1", Auth: "apikey", InvokeURL: srv.URL + "/prod/DynamoDBManager",
		APIKeyID: "key123", TableName: "custom-table"}
	if err := provision.SaveState(path, st); err != nil {
		t.Fatal(err)
	}
	keys := &apiKeys{}
	r := target.New(target.Settings{StateFile: path, Stack: "ddbops", Table: "lambda-apigateway", Auth: "iam"}, target.AWSOptions{}, cmdutil.Env{}, io.Discard)
	r.APIKeys = func(aws.Config) target.APIKeyGetter { return keys }
	r.LoadAWS = func(_ context.Context, o target.AWSOptions) (aws.Config, error) {
		return aws.Config{Region: o.Region}, nil
	}
	ios, out, errOut := testIO()
	opts := &callOptions{IO: ios, Settings: Settings{Output: "text"}, Resolver: r, op: wire.OpRead, id: "1", timeout: 5 * time.Second, retries: 0}
	if err := runCall(context.Background(), opts); err != nil {
		t.Fatalf("call: %v (%s)", err, errOut)
	}
	if out.String() != "{\n  \"id\": \"1\",\n  \"name\": \"Bob\"\n}\n" {
		t.Errorf("stdout %q", out)
	}
	if gotKey != "the-secret-key-value" || keys.calls != 1 {
		t.Errorf("key %q, %d fetches", gotKey, keys.calls)
	}
	if want := `{"operation":"read","tableName":"custom-table","payload":{"Key":{"id":"1"}}}`; gotBody != want {
		t.Errorf("body %s, want the recorded table", gotBody)
	}
}
