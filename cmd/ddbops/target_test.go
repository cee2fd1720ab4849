package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// fakeKeys is API Gateway's GetApiKey, recording its calls.
type fakeKeys struct {
	mu     sync.Mutex
	calls  []apigateway.GetApiKeyInput
	values map[string]string
	err    error
}

func (k *fakeKeys) GetApiKey(_ context.Context, in *apigateway.GetApiKeyInput, _ ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, *in)
	if k.err != nil {
		return nil, k.err
	}
	v, ok := k.values[aws.ToString(in.ApiKey)]
	if !ok {
		return nil, errors.New("NotFoundException: Invalid API Key identifier specified")
	}
	return &apigateway.GetApiKeyOutput{Id: in.ApiKey, Value: aws.String(v)}, nil
}

// awsLoad records the region and endpoint target resolution asked for.
type awsLoad struct{ region, endpoint string }

// testResolver is a resolver over a state file at dir/state.json with a
// fake API Gateway and a static AWS configuration.
func testResolver(t *testing.T, st *provision.State, env map[string]string) (*targetResolver, *fakeKeys, *[]awsLoad) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if st != nil {
		if err := provision.SaveState(path, st); err != nil {
			t.Fatal(err)
		}
	}
	ios, _, _ := testIO()
	f := &Factory{
		IO:       ios,
		Settings: Settings{StateFile: path, Stack: "ddbops", Table: "lambda-apigateway", Auth: "iam", DataDir: filepath.Join(dir, "local")},
		Getenv:   func(k string) string { return env[k] },
	}
	keys := &fakeKeys{values: map[string]string{"key123": "the-secret-key-value"}}
	var loads []awsLoad
	var mu sync.Mutex
	r := newTargetResolver(f)
	r.apiKeys = func(aws.Config) apiKeyGetter { return keys }
	r.loadAWS = func(_ context.Context, region, endpoint string) (aws.Config, error) {
		mu.Lock()
		loads = append(loads, awsLoad{region, endpoint})
		mu.Unlock()
		if region == "" {
			region = "us-east-1"
		}
		return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDSTATE", "state-secret", "tok")}, nil
	}
	return r, keys, &loads
}

const invokeURL = "https://abc123.execute-api.eu-central-1.amazonaws.com/prod/DynamoDBManager"

func TestResolveFromState(t *testing.T) {
	t.Parallel()
	apikeyState := &provision.State{Stack: "ddbops", Region: "eu-central-1", Auth: "apikey", InvokeURL: invokeURL,
		APIKeyID: "key123", TableName: "lambda-apigateway", EndpointURL: "http://127.0.0.1:5000"}
	iamState := &provision.State{Stack: "ddbops", Region: "eu-central-1", Auth: "iam", InvokeURL: invokeURL}
	motoState := &provision.State{Stack: "ddbops", Region: "us-west-2", Auth: "iam", InvokeURL: "http://127.0.0.1:5000/restapis/x/prod/_user_request_/DynamoDBManager"}
	tests := []struct {
		name       string
		state      *provision.State
		tf         targetFlags
		env        map[string]string
		wantURL    string
		wantAuth   string
		wantKey    string
		wantRegion string
		wantKind   string
		wantFetch  int
		wantLoad   *awsLoad
	}{
		{name: "apikey fetched from API Gateway in the state's region and endpoint", state: apikeyState,
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "the-secret-key-value", wantKind: targetState, wantFetch: 1,
			wantLoad: &awsLoad{"eu-central-1", "http://127.0.0.1:5000"}},
		{name: "--api-key overrides, nothing fetched", state: apikeyState, tf: targetFlags{APIKey: "flag-key"},
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "flag-key", wantKind: targetState},
		{name: "DDBOPS_API_KEY overrides the recorded key", state: apikeyState, env: map[string]string{"DDBOPS_API_KEY": "env-key"},
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "env-key", wantKind: targetState},
		{name: "--auth none overrides", state: apikeyState, tf: targetFlags{Auth: "none"},
			wantURL: invokeURL, wantAuth: "none", wantKind: targetState},
		{name: "print-curl fetches no key", state: apikeyState, tf: targetFlags{NoSecrets: true},
			wantURL: invokeURL, wantAuth: "apikey", wantKind: targetState},
		{name: "iam region from the execute-api host", state: iamState,
			wantURL: invokeURL, wantAuth: "iam", wantRegion: "eu-central-1", wantKind: targetState, wantLoad: &awsLoad{"eu-central-1", ""}},
		{name: "iam region from the state for another host", state: motoState,
			wantURL: motoState.InvokeURL, wantAuth: "iam", wantRegion: "us-west-2", wantKind: targetState},
		{name: "--url equal to the recorded URL keeps the recorded auth", state: apikeyState, tf: targetFlags{URL: invokeURL + "/"},
			wantURL: invokeURL + "/", wantAuth: "apikey", wantKey: "the-secret-key-value", wantKind: targetURL, wantFetch: 1},
		{name: "another --url defaults to none", state: apikeyState, tf: targetFlags{URL: "http://127.0.0.1:9/prod/X"},
			wantURL: "http://127.0.0.1:9/prod/X", wantAuth: "none", wantKind: targetURL},
		{name: "--api-key alone implies apikey", tf: targetFlags{URL: "http://127.0.0.1:9/p", APIKey: "k"},
			wantURL: "http://127.0.0.1:9/p", wantAuth: "apikey", wantKey: "k", wantKind: targetURL},
		{name: "--url with --auth iam parses the host's region", tf: targetFlags{URL: "https://zz9.execute-api.ap-southeast-2.amazonaws.com/prod/R", Auth: "iam"},
			wantURL: "https://zz9.execute-api.ap-southeast-2.amazonaws.com/prod/R", wantAuth: "iam", wantRegion: "ap-southeast-2", wantKind: targetURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var st *provision.State
			if tt.state != nil {
				c := *tt.state
				st = &c
			}
			r, keys, loads := testResolver(t, st, tt.env)
			rt, err := r.resolve(context.Background(), tt.tf)
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			tg := rt.Target
			if tg.URL != tt.wantURL || tg.Auth != tt.wantAuth || tg.APIKey != tt.wantKey || rt.Kind != tt.wantKind {
				t.Errorf("got url %q auth %q key %q kind %q", tg.URL, tg.Auth, tg.APIKey, rt.Kind)
			}
			if tt.wantRegion != "" && tg.Region != tt.wantRegion {
				t.Errorf("region %q, want %q", tg.Region, tt.wantRegion)
			}
			if tg.Auth == "iam" {
				if tg.Credentials == nil || !rt.SessionToken {
					t.Errorf("iam: credentials %v session %v", tg.Credentials, rt.SessionToken)
				}
				if _, err := client.New(tg); err != nil {
					t.Errorf("client.New: %v", err)
				}
			}
			if tg.TableName != "lambda-apigateway" {
				t.Errorf("table %q", tg.TableName)
			}
			if len(keys.calls) != tt.wantFetch {
				t.Fatalf("%d GetApiKey calls, want %d", len(keys.calls), tt.wantFetch)
			}
			for _, c := range keys.calls {
				if aws.ToString(c.ApiKey) != "key123" || !aws.ToBool(c.IncludeValue) {
					t.Errorf("GetApiKey(%v, includeValue %v)", aws.ToString(c.ApiKey), aws.ToBool(c.IncludeValue))
				}
			}
			if tt.wantLoad != nil {
				found := false
				for _, l := range *loads {
					found = found || l == *tt.wantLoad
				}
				if !found {
					t.Errorf("AWS config loads %v, want one of %v", *loads, *tt.wantLoad)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		state     *provision.State
		tf        targetFlags
		keysErr   error
		want      string
		wantUsage bool
		wantHint  string
	}{
		{name: "no state file", want: "no target", wantHint: "run ddbops setup, or use --local / --url"},
		{name: "no invoke URL", state: &provision.State{Stack: "ddbops"}, want: "no invoke URL", wantHint: "ddbops setup"},
		{name: "other stack", state: &provision.State{Stack: "other", InvokeURL: invokeURL}, want: `records stack "other"`},
		{name: "apikey without id or key", state: &provision.State{Stack: "ddbops", Auth: "apikey", InvokeURL: invokeURL}, want: "no API key", wantHint: "--api-key"},
		{name: "key fetch fails", state: &provision.State{Stack: "ddbops", Auth: "apikey", APIKeyID: "key123", InvokeURL: invokeURL},
			keysErr: errors.New("AccessDenied"), want: "get API key key123: AccessDenied", wantHint: "--api-key"},
		{name: "unknown recorded auth", state: &provision.State{Stack: "ddbops", Auth: "oauth", InvokeURL: invokeURL}, want: `auth "oauth"`},
		{name: "url and local", tf: targetFlags{URL: "http://x/p", Local: true}, want: "choose one", wantUsage: true},
		{name: "data dir without local", tf: targetFlags{DataDir: "d"}, want: "--local only", wantUsage: true},
		{name: "bad url", tf: targetFlags{URL: "localhost:3000/prod"}, want: "invalid --url", wantUsage: true},
		{name: "url with user info", tf: targetFlags{URL: "https://me:pw@x/p"}, want: "user info", wantUsage: true},
		{name: "bad auth", tf: targetFlags{URL: "http://x/p", Auth: "basic"}, want: "invalid --auth", wantUsage: true},
		{name: "api key with iam", tf: targetFlags{URL: "http://x/p", Auth: "iam", APIKey: "k"}, want: "--api-key needs --auth apikey", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, keys, _ := testResolver(t, tt.state, nil)
			keys.err = tt.keysErr
			_, err := r.resolve(context.Background(), tt.tf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			var ue *usageError
			if errors.As(err, &ue) != tt.wantUsage {
				t.Errorf("usage error = %v, want %v", !tt.wantUsage, tt.wantUsage)
			}
			var he *hintError
			if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.hint, tt.wantHint)) {
				t.Errorf("hint missing or wrong: %v", err)
			}
			if strings.Contains(err.Error(), "the-secret-key-value") || strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
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
	st := &provision.State{Stack: "ddbops", Region: "eu-central-1", Auth: "apikey", InvokeURL: srv.URL + "/prod/DynamoDBManager",
		APIKeyID: "key123", TableName: "custom-table"}
	r, keys, _ := testResolver(t, st, nil)
	ios, out, errOut := testIO()
	r.f.IO = ios
	r.f.Settings.Output = "text"
	opts := &callOptions{f: r.f, op: wire.OpRead, id: "1", timeout: 5 * time.Second, retries: 0,
		resolve: func(ctx context.Context, _ *Factory, tf targetFlags) (*resolvedTarget, error) {
			return r.resolve(ctx, tf)
		}}
	if err := runCall(context.Background(), opts); err != nil {
		t.Fatalf("call: %v (%s)", err, errOut)
	}
	if out.String() != "{\n  \"id\": \"1\",\n  \"name\": \"Bob\"\n}\n" {
		t.Errorf("stdout %q", out)
	}
	if gotKey != "the-secret-key-value" || len(keys.calls) != 1 {
		t.Errorf("key %q, %d fetches", gotKey, len(keys.calls))
	}
	if want := `{"operation":"read","tableName":"custom-table","payload":{"Key":{"id":"1"}}}`; gotBody != want {
		t.Errorf("body %s, want the recorded table", gotBody)
	}
}

func TestRegionFromHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://abc.execute-api.us-east-1.amazonaws.com/prod/R":              "us-east-1",
		"https://ABC.EXECUTE-API.EU-WEST-3.AMAZONAWS.COM/prod":                "eu-west-3",
		"https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod":            "cn-north-1",
		"https://abc-vpce-123.execute-api.us-gov-west-1.vpce.amazonaws.com/p": "us-gov-west-1",
		"https://api.example.com/prod":                                        "",
		"http://127.0.0.1:3000/prod/R":                                        "",
		"https://execute-api.us-east-1.amazonaws.com.evil.com/p":              "",
		"::bad": "",
	} {
		if got := regionFromHost(in); got != want {
			t.Errorf("regionFromHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{invokeURL, invokeURL, true},
		{invokeURL, invokeURL + "/", true},
		{invokeURL, strings.Replace(invokeURL, "https://abc123", "HTTPS://ABC123", 1), true},
		{invokeURL, strings.Replace(invokeURL, "/prod/", "/dev/", 1), false},
		{invokeURL, strings.Replace(invokeURL, "abc123", "xyz", 1), false},
		{"http://x/p", "https://x/p", false},
	}
	for _, tt := range tests {
		if got := sameURL(tt.a, tt.b); got != tt.want {
			t.Errorf("sameURL(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
