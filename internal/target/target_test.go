package target

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
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
func testResolver(t *testing.T, st *provision.State, env map[string]string) (*Resolver, *fakeKeys, *[]awsLoad) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if st != nil {
		if err := provision.SaveState(path, st); err != nil {
			t.Fatal(err)
		}
	}
	s := Settings{StateFile: path, Stack: "ddbops", Table: "lambda-apigateway", Auth: "iam", DataDir: filepath.Join(dir, "local")}
	keys := &fakeKeys{values: map[string]string{"key123": "the-secret-key-value"}}
	var loads []awsLoad
	var mu sync.Mutex
	r := New(s, AWSOptions{}, cmdutil.Env{Getenv: func(k string) string { return env[k] }}, &strings.Builder{})
	r.APIKeys = func(aws.Config) APIKeyGetter { return keys }
	r.LoadAWS = func(_ context.Context, o AWSOptions) (aws.Config, error) {
		mu.Lock()
		loads = append(loads, awsLoad{o.Region, o.EndpointURL})
		mu.Unlock()
		region := o.Region
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
		tf         Flags
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
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "the-secret-key-value", wantKind: KindState, wantFetch: 1,
			wantLoad: &awsLoad{"eu-central-1", "http://127.0.0.1:5000"}},
		{name: "--api-key overrides, nothing fetched", state: apikeyState, tf: Flags{APIKey: "flag-key"},
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "flag-key", wantKind: KindState},
		{name: "DDBOPS_API_KEY overrides the recorded key", state: apikeyState, env: map[string]string{"DDBOPS_API_KEY": "env-key"},
			wantURL: invokeURL, wantAuth: "apikey", wantKey: "env-key", wantKind: KindState},
		{name: "--auth none overrides", state: apikeyState, tf: Flags{Auth: "none"},
			wantURL: invokeURL, wantAuth: "none", wantKind: KindState},
		{name: "print-curl fetches no key", state: apikeyState, tf: Flags{NoSecrets: true},
			wantURL: invokeURL, wantAuth: "apikey", wantKind: KindState},
		{name: "iam region from the execute-api host", state: iamState,
			wantURL: invokeURL, wantAuth: "iam", wantRegion: "eu-central-1", wantKind: KindState, wantLoad: &awsLoad{"eu-central-1", ""}},
		{name: "iam region from the state for another host", state: motoState,
			wantURL: motoState.InvokeURL, wantAuth: "iam", wantRegion: "us-west-2", wantKind: KindState},
		{name: "--url equal to the recorded URL keeps the recorded auth", state: apikeyState, tf: Flags{URL: invokeURL + "/"},
			wantURL: invokeURL + "/", wantAuth: "apikey", wantKey: "the-secret-key-value", wantKind: KindURL, wantFetch: 1},
		{name: "another --url defaults to none", state: apikeyState, tf: Flags{URL: "http://127.0.0.1:9/prod/X"},
			wantURL: "http://127.0.0.1:9/prod/X", wantAuth: "none", wantKind: KindURL},
		{name: "--api-key alone implies apikey", tf: Flags{URL: "http://127.0.0.1:9/p", APIKey: "k"},
			wantURL: "http://127.0.0.1:9/p", wantAuth: "apikey", wantKey: "k", wantKind: KindURL},
		{name: "--url with --auth iam parses the host's region", tf: Flags{URL: "https://zz9.execute-api.ap-southeast-2.amazonaws.com/prod/R", Auth: "iam"},
			wantURL: "https://zz9.execute-api.ap-southeast-2.amazonaws.com/prod/R", wantAuth: "iam", wantRegion: "ap-southeast-2", wantKind: KindURL},
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
			rt, err := r.Resolve(context.Background(), tt.tf)
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
		tf        Flags
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
		{name: "url and local", tf: Flags{URL: "http://x/p", Local: true}, want: "choose one", wantUsage: true},
		{name: "data dir without local", tf: Flags{DataDir: "d"}, want: "--local only", wantUsage: true},
		{name: "bad url", tf: Flags{URL: "localhost:3000/prod"}, want: "invalid --url", wantUsage: true},
		{name: "url with user info", tf: Flags{URL: "https://me:pw@x/p"}, want: "user info", wantUsage: true},
		{name: "bad auth", tf: Flags{URL: "http://x/p", Auth: "basic"}, want: "invalid --auth", wantUsage: true},
		{name: "api key with iam", tf: Flags{URL: "http://x/p", Auth: "iam", APIKey: "k"}, want: "--api-key needs --auth apikey", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, keys, _ := testResolver(t, tt.state, nil)
			keys.err = tt.keysErr
			_, err := r.Resolve(context.Background(), tt.tf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			var ue *cmdutil.UsageError
			if errors.As(err, &ue) != tt.wantUsage {
				t.Errorf("usage error = %v, want %v", !tt.wantUsage, tt.wantUsage)
			}
			var he *cmdutil.HintError
			if tt.wantHint != "" && (!errors.As(err, &he) || !strings.Contains(he.Hint, tt.wantHint)) {
				t.Errorf("hint missing or wrong: %v", err)
			}
			if strings.Contains(err.Error(), "the-secret-key-value") || strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
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
		if got := SameURL(tt.a, tt.b); got != tt.want {
			t.Errorf("SameURL(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

// A locked data dir whose holder is just starting to serve: resolution
// polls Discover and goes to the server.
func TestResolveLocalLockedThenServed(t *testing.T) {
	t.Parallel()
	s := Settings{DataDir: "d", Table: "t", Stage: "prod", Resource: "R"}
	info := &local.ServerInfo{URL: "http://127.0.0.1:9/prod/R", Auth: "apikey", APIKey: "server-key", PID: 1}
	var discovers int
	r := New(s, AWSOptions{}, cmdutil.Env{}, &strings.Builder{})
	r.LockedWait = 10 * time.Second
	r.Discover = func(string) (*local.ServerInfo, error) {
		discovers++
		if discovers < 3 {
			return nil, nil
		}
		return info, nil
	}
	r.Open = func(context.Context, local.Options) (LocalStack, error) {
		return nil, &local.LockedError{Dir: "d", PID: 1}
	}
	rt, err := r.Resolve(context.Background(), Flags{Local: true})
	if err != nil {
		t.Fatal(err)
	}
	if rt.Kind != KindServer || rt.Target.URL != info.URL || rt.Target.APIKey != "server-key" || rt.Target.Auth != "apikey" {
		t.Errorf("resolved %+v", rt)
	}

	// Nobody ever serves: an error with a hint, after lockedWait.
	r.Discover = func(string) (*local.ServerInfo, error) { return nil, nil }
	r.LockedWait = 0
	_, err = r.Resolve(context.Background(), Flags{Local: true})
	if err == nil || !strings.Contains(err.Error(), "in use by another ddbops process") {
		t.Fatalf("err = %v", err)
	}
	var he *cmdutil.HintError
	if !errors.As(err, &he) {
		t.Errorf("no hint: %v", err)
	}
}

// The in-process target closes the stack it opened, once.
func TestResolveLocalInProcessClose(t *testing.T) {
	t.Parallel()
	s := Settings{DataDir: "d", Table: "t", Stage: "prod", Resource: "R"}
	fs := &fakeStack{}
	var got local.Options
	r := New(s, AWSOptions{}, cmdutil.Env{}, &strings.Builder{})
	r.Discover = func(string) (*local.ServerInfo, error) { return nil, nil }
	r.Open = func(_ context.Context, o local.Options) (LocalStack, error) { got = o; return fs, nil }
	rt, err := r.Resolve(context.Background(), Flags{Local: true, DataDir: "x", Auth: "iam"})
	if err != nil {
		t.Fatal(err)
	}
	if rt.Kind != KindInProcess || rt.Target.Auth != wire.AuthNone || rt.Target.Transport == nil || rt.Target.TableName != "t" {
		t.Errorf("resolved %+v", rt)
	}
	if got.DataDir != "x" || got.Auth != wire.AuthNone || got.TableName != "t" || got.Stage != "prod" || got.Resource != "R" {
		t.Errorf("opened with %+v", got)
	}
	rt.Close()
	rt.Close()
	if fs.closed != 1 {
		t.Errorf("closed %d times", fs.closed)
	}
}

type fakeStack struct{ closed int }

func (s *fakeStack) Handler() http.Handler { return http.NotFoundHandler() }
func (s *fakeStack) Close() error          { s.closed++; return nil }
