// Package target decides where `ddbops call` and `ddbops bench` send
// requests (--url, --local, the stack recorded by setup) and how they
// authenticate: the auth mode, the API key (flag, environment, API
// Gateway's GetApiKey), the SigV4 region and credentials.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// Flags are the targeting flags `call` and `bench` share.
type Flags struct {
	URL     string // --url: an explicit invoke URL
	Local   bool   // --local: the local stack of DataDir
	DataDir string // --data-dir ("" = Settings.DataDir); only with --local
	Auth    string // --auth none|apikey|iam ("" = what the target recorded)
	APIKey  string // --api-key ("" = $DDBOPS_API_KEY, else what the target recorded)

	// NoSecrets resolves for --print-curl: no API key is fetched, no AWS
	// credentials are loaded (Target.Credentials stays nil), and --local
	// without a running server describes the URL `ddbops local` would
	// serve instead of opening the data dir. Such a target only describes;
	// client.New refuses it under iam auth.
	NoSecrets bool
}

// Kinds of resolved target.
const (
	KindURL       = "url"       // --url
	KindState     = "state"     // the invoke URL recorded by setup
	KindServer    = "server"    // a running `ddbops local`
	KindInProcess = "inprocess" // the local stack opened in this process
	KindNotServed = "notserved" // --local, nothing serving, NoSecrets: the URL ddbops local would serve
)

// Resolved is a target ready for client.New.
type Resolved struct {
	// Target is complete: URL, auth material, region and credentials for
	// iam, Transport for the in-process local stack, TableName for bodies.
	Target client.Target
	// Kind says where it came from (Kind* constants).
	Kind string
	// Source names it for diagnostics: "--url", the state file path, the
	// data dir. Never contains a secret.
	Source string
	// APIKeyID is the recorded API key's id (apikey auth from the state
	// file), for hints; never the key itself.
	APIKeyID string
	// SessionToken is true when the iam credentials are temporary (a curl
	// command then needs $AWS_SESSION_TOKEN too); with NoSecrets, when
	// $AWS_SESSION_TOKEN is set.
	SessionToken bool
	// Emulator is the AWS endpoint setup ran against (--endpoint-url),
	// when the target is a stack recorded on one: "" for AWS itself.
	Emulator string

	close func() error
}

// Close releases what resolution opened in this process (the local
// stack's data dir lock and journal). It is safe to call more than once
// and on targets that opened nothing.
func (r *Resolved) Close() error {
	if r == nil || r.close == nil {
		return nil
	}
	c := r.close
	r.close = nil
	return c()
}

// Describe names the target for people: its URL and auth, never a secret.
func (r *Resolved) Describe() string {
	if r.Kind == KindInProcess {
		return fmt.Sprintf("the local stack in %s, in-process", r.Source)
	}
	auth := r.Target.Auth
	if auth == "" {
		auth = wire.AuthNone
	}
	return fmt.Sprintf("%s (auth %s)", r.Target.URL, auth)
}

// Settings is what resolution needs of the configuration.
type Settings struct {
	StateFile string // the state file setup records the stack in
	Stack     string // the stack a state file must record
	Table     string // table of a target that records none
	Auth      string // auth of a state file that records none (setup's default)
	Function  string // function of a state file that records none (sweeps)

	// The local stack: where `ddbops local` serves the data dir.
	DataDir          string // --local's data dir without --data-dir
	Addr             string
	LocalAuth        string
	LocalRegion      string // SigV4 region of a local stack that records none
	Stage, Resource  string
	DynamoDBEndpoint string
}

// APIKeyGetter is the part of API Gateway target resolution needs.
type APIKeyGetter interface {
	GetApiKey(ctx context.Context, in *apigateway.GetApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error)
}

// LocalStack is what target resolution uses of an opened *local.Stack.
type LocalStack interface {
	Handler() http.Handler
	Close() error
}

// Resolver resolves targets. New fills every dependency with the real one;
// tests replace them (an API Gateway fake, a local stack stand-in).
type Resolver struct {
	Settings Settings
	// AWS is how the command loads AWS configurations (--profile,
	// --region, --endpoint-url); LoadAWS loads one.
	AWS     AWSOptions
	LoadAWS AWSLoader
	Env     cmdutil.Env
	// Log receives an in-process local stack's diagnostics.
	Log io.Writer

	APIKeys  func(aws.Config) APIKeyGetter
	Discover func(dataDir string) (*local.ServerInfo, error)
	Open     func(ctx context.Context, opts local.Options) (LocalStack, error)
	// LockedWait bounds how long a locked data dir is polled for a server.
	LockedWait time.Duration
	// LockWait bounds how long Open waits for a data dir held by another
	// in-process caller (not a server).
	LockWait time.Duration
}

// New returns a resolver with the real dependencies.
func New(s Settings, awsOpts AWSOptions, env cmdutil.Env, log io.Writer) *Resolver {
	return &Resolver{
		Settings: s, AWS: awsOpts, LoadAWS: LoadAWS, Env: env, Log: log,
		APIKeys:  func(cfg aws.Config) APIKeyGetter { return apigateway.NewFromConfig(cfg) },
		Discover: local.Discover,
		Open: func(ctx context.Context, o local.Options) (LocalStack, error) {
			s, err := local.Open(ctx, o)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		LockedWait: 5 * time.Second,
		// Another in-process `call --local` on the same data dir finishes
		// within a request's time: wait for it rather than fail.
		LockWait: 10 * time.Second,
	}
}

// Resolve decides where requests go and how they authenticate. Contract
// (shared by call and bench; docs/call.md):
//
//   - --url and --local are exclusive (usage error). --data-dir needs --local.
//   - --url URL: auth from --auth; without --auth it is none, unless URL is
//     the invoke URL recorded in the state file, whose auth (and API key)
//     then apply. --api-key alone implies --auth apikey.
//   - --local: if `ddbops local` serves the data dir (local.Discover), HTTP
//     to it with its auth (its API key unless --api-key; iam signs with the
//     SDK default credentials and the server's region). Otherwise the
//     local stack is opened in this process (auth none) and Target.Transport
//     serves requests without sockets; the caller MUST Close the result to
//     release the data dir. If the data dir is locked, a server is just
//     starting: Discover is polled for a few seconds.
//   - neither: the state file. apikey fetches the key value with API
//     Gateway GetApiKey(includeValue) in the state's region and endpoint;
//     iam signs with the SDK credentials, the region parsed from an
//     execute-api host, else the recorded region. No state file → an error
//     with a hint (run ddbops setup, or use --local / --url).
//   - --auth and --api-key always override what was recorded;
//     $DDBOPS_API_KEY stands in for --api-key.
//
// The result is ready for client.New(rt.Target, ...): one client, many
// concurrent requests, Close when done. Errors never contain the API key or
// credentials.
func (r *Resolver) Resolve(ctx context.Context, tf Flags) (*Resolved, error) {
	switch tf.Auth {
	case "", wire.AuthNone, wire.AuthAPIKey, wire.AuthIAM:
	default:
		return nil, cmdutil.UsageErrorf("invalid --auth %q: want none, apikey or iam", tf.Auth)
	}
	if tf.APIKey != "" && tf.Auth != "" && tf.Auth != wire.AuthAPIKey {
		return nil, cmdutil.UsageErrorf("--api-key needs --auth apikey (got --auth %s)", tf.Auth)
	}
	switch {
	case tf.URL != "" && tf.Local:
		return nil, cmdutil.UsageErrorf("--url and --local: choose one target")
	case tf.DataDir != "" && !tf.Local:
		return nil, cmdutil.UsageErrorf("--data-dir applies to --local only")
	case tf.URL != "":
		return r.fromURL(ctx, tf)
	case tf.Local:
		return r.fromLocal(ctx, tf)
	}
	return r.fromState(ctx, tf)
}

// recorded is what a target recorded about itself, before overrides.
type recorded struct {
	url, auth, region, apiKey, apiKeyID, endpoint, table, source, kind string
}

func (r *Resolver) fromURL(ctx context.Context, tf Flags) (*Resolved, error) {
	u, err := url.Parse(tf.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cmdutil.UsageErrorf("invalid --url: want http(s)://host/path")
	}
	if u.User != nil {
		return nil, cmdutil.UsageErrorf("invalid --url: user info is not supported (use --auth and --api-key)")
	}
	rec := recorded{url: tf.URL, auth: wire.AuthNone, table: r.Settings.Table, source: "--url", kind: KindURL}
	// The recorded invoke URL keeps its recorded auth: `call --url $(jq
	// -r .invokeUrl .ddbops/state.json)` behaves as plain `call`.
	if st, err := provision.LoadState(r.Settings.StateFile); err == nil && st.InvokeURL != "" && SameURL(st.InvokeURL, tf.URL) {
		rec = r.fromStateRecord(st)
		rec.url, rec.source, rec.kind = tf.URL, "--url", KindURL
	}
	return r.finish(ctx, tf, rec)
}

func (r *Resolver) fromState(ctx context.Context, tf Flags) (*Resolved, error) {
	path := r.Settings.StateFile
	st, err := provision.LoadState(path)
	if errors.Is(err, provision.ErrNoState) {
		return nil, cmdutil.WithHint(fmt.Errorf("no target: no --url, no --local, and no state file %s", path),
			"run ddbops setup, or use --local / --url")
	}
	if err != nil {
		return nil, cmdutil.WithHint(err, "re-run ddbops setup to rewrite it, or use --local / --url")
	}
	if st.Stack != "" && r.Settings.Stack != "" && st.Stack != r.Settings.Stack {
		return nil, cmdutil.WithHint(fmt.Errorf("state file %s: it records stack %q, not %q", path, st.Stack, r.Settings.Stack),
			"run ddbops setup for this stack, or use --url")
	}
	if st.InvokeURL == "" {
		return nil, cmdutil.WithHint(fmt.Errorf("state file %s: no invoke URL recorded", path),
			"run ddbops setup to finish deploying the API, or use --local / --url")
	}
	return r.finish(ctx, tf, r.fromStateRecord(st))
}

func (r *Resolver) fromStateRecord(st *provision.State) recorded {
	rec := recorded{
		url:      st.InvokeURL,
		auth:     st.Auth,
		region:   st.Region,
		apiKeyID: st.APIKeyID,
		endpoint: st.EndpointURL,
		table:    st.TableName,
		source:   r.Settings.StateFile,
		kind:     KindState,
	}
	if rec.auth == "" {
		rec.auth = r.Settings.Auth
	}
	if rec.table == "" {
		rec.table = r.Settings.Table
	}
	return rec
}

func (r *Resolver) fromLocal(ctx context.Context, tf Flags) (*Resolved, error) {
	s := r.Settings
	dataDir := tf.DataDir
	if dataDir == "" {
		dataDir = s.DataDir
	}
	info, err := r.Discover(dataDir)
	if err != nil {
		return nil, fmt.Errorf("find ddbops local serving %s: %w", dataDir, err)
	}
	if info != nil {
		return r.finish(ctx, tf, r.fromServer(info, dataDir))
	}
	path := "/" + s.Stage + "/" + s.Resource
	if tf.NoSecrets {
		// --print-curl: describe the server `ddbops local` would start,
		// without taking the data dir's lock.
		auth := s.LocalAuth
		if auth == "" {
			auth = wire.AuthNone
		}
		rec := recorded{url: "http://" + s.Addr + path, auth: auth, region: r.AWS.Region, table: s.Table, source: dataDir, kind: KindNotServed}
		return r.finish(ctx, tf, rec)
	}

	stack, err := r.Open(ctx, local.Options{
		DataDir:          dataDir,
		Auth:             wire.AuthNone,
		Region:           s.LocalRegion,
		TableName:        s.Table,
		Stage:            s.Stage,
		Resource:         s.Resource,
		DynamoDBEndpoint: s.DynamoDBEndpoint,
		Log:              r.Log,
		LockWait:         r.LockWait,
	})
	if errors.Is(err, local.ErrLocked) {
		// Someone holds the data dir: most likely a `ddbops local` that
		// has not published its address yet.
		if info, derr := r.waitForServer(ctx, dataDir); derr != nil {
			return nil, derr
		} else if info != nil {
			return r.finish(ctx, tf, r.fromServer(info, dataDir))
		}
		return nil, cmdutil.WithHint(fmt.Errorf("local stack %s: %w", dataDir, err),
			"another ddbops process holds it; wait for it to finish, or stop it")
	}
	if err != nil {
		return nil, fmt.Errorf("open local stack %s: %w", dataDir, err)
	}
	// Requests in-process carry no auth: there is no gateway to satisfy
	// but our own, opened with auth none. --auth/--api-key do not apply.
	return &Resolved{
		Target: client.Target{
			URL:       "http://in-process" + path,
			Auth:      wire.AuthNone,
			Transport: client.HandlerTransport(stack.Handler()),
			TableName: s.Table,
		},
		Kind:   KindInProcess,
		Source: dataDir,
		close:  stack.Close,
	}, nil
}

func (r *Resolver) fromServer(info *local.ServerInfo, dataDir string) recorded {
	auth := info.Auth
	if auth == "" {
		auth = wire.AuthNone
	}
	region := info.Region
	if region == "" {
		region = r.Settings.LocalRegion
	}
	return recorded{url: info.URL, auth: auth, region: region, apiKey: info.APIKey, table: r.Settings.Table, source: dataDir, kind: KindServer}
}

// waitForServer polls Discover until a server publishes itself, the
// lock is released (nil, nil), or LockedWait passes.
func (r *Resolver) waitForServer(ctx context.Context, dataDir string) (*local.ServerInfo, error) {
	deadline := time.Now().Add(r.LockedWait)
	for {
		info, err := r.Discover(dataDir)
		if err != nil {
			return nil, fmt.Errorf("find ddbops local serving %s: %w", dataDir, err)
		}
		if info != nil || time.Now().After(deadline) {
			return info, nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// loadAWSIn loads the AWS configuration for a target in region and,
// unless --endpoint-url is set, endpoint ("" = the command's own). The
// API (and its key) live in the target's region, whatever the profile's
// default.
func (r *Resolver) loadAWSIn(ctx context.Context, region, endpoint string) (aws.Config, error) {
	o := r.AWS
	if region != "" {
		o.Region = region
	}
	if endpoint != "" && o.EndpointURL == "" {
		o.EndpointURL = endpoint
	}
	return r.LoadAWS(ctx, o)
}

// finish applies --auth / --api-key / $DDBOPS_API_KEY to what the target
// recorded and fetches what the auth mode needs.
func (r *Resolver) finish(ctx context.Context, tf Flags, rec recorded) (*Resolved, error) {
	auth := tf.Auth
	if auth == "" {
		auth = rec.auth
		if tf.APIKey != "" {
			auth = wire.AuthAPIKey
		}
	}
	rt := &Resolved{
		Target: client.Target{URL: rec.url, Auth: auth, TableName: rec.table},
		Kind:   rec.kind,
		Source: rec.source,
	}
	if rec.kind == KindState {
		rt.Emulator = rec.endpoint
	}
	switch auth {
	case wire.AuthNone:
	case wire.AuthAPIKey:
		rt.APIKeyID = rec.apiKeyID
		key := tf.APIKey
		if key == "" {
			key = r.Env.APIKey()
		}
		if key == "" {
			key = rec.apiKey
		}
		if key == "" && !tf.NoSecrets {
			if rec.apiKeyID == "" {
				return nil, cmdutil.WithHint(fmt.Errorf("apikey auth: no API key for %s", rec.url),
					"pass --api-key or set "+cmdutil.EnvAPIKey)
			}
			var err error
			if key, err = r.fetchAPIKey(ctx, rec); err != nil {
				return nil, err
			}
		}
		rt.Target.APIKey = key
	case wire.AuthIAM:
		region := regionFromHost(rec.url)
		if region == "" {
			region = rec.region
		}
		if tf.NoSecrets && region != "" {
			// A printed curl command signs with the environment's
			// credentials when it runs: nothing to load now.
			rt.Target.Region = region
			rt.SessionToken = r.Env.HasSessionToken()
			return rt, nil
		}
		cfg, err := r.loadAWSIn(ctx, region, "")
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = cfg.Region
		}
		rt.Target.Region = region
		if tf.NoSecrets {
			rt.SessionToken = r.Env.HasSessionToken()
			return rt, nil
		}
		rt.Target.Credentials = cfg.Credentials
		const hint = "configure credentials (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID), or use --auth none|apikey"
		if cfg.Credentials == nil {
			return nil, cmdutil.WithHint(errors.New("iam auth: no AWS credentials found"), hint)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, cmdutil.WithHint(fmt.Errorf("iam auth: retrieve AWS credentials: %w", err), hint)
		}
		rt.SessionToken = creds.SessionToken != ""
	default:
		return nil, fmt.Errorf("%s records auth %q: want none, apikey or iam", rec.source, auth)
	}
	return rt, nil
}

// fetchAPIKey reads the value of the recorded API key from API Gateway, in
// the region and endpoint setup used.
func (r *Resolver) fetchAPIKey(ctx context.Context, rec recorded) (string, error) {
	cfg, err := r.loadAWSIn(ctx, rec.region, rec.endpoint)
	if err != nil {
		return "", err
	}
	out, err := r.APIKeys(cfg).GetApiKey(ctx, &apigateway.GetApiKeyInput{
		ApiKey:       aws.String(rec.apiKeyID),
		IncludeValue: aws.Bool(true),
	})
	if err != nil {
		return "", cmdutil.WithHint(fmt.Errorf("apikey auth: get API key %s: %w", rec.apiKeyID, err),
			"pass --api-key (or set "+cmdutil.EnvAPIKey+"), or re-run ddbops setup")
	}
	if out.Value == nil || *out.Value == "" {
		return "", cmdutil.WithHint(fmt.Errorf("apikey auth: API key %s has no value", rec.apiKeyID),
			"pass --api-key (or set "+cmdutil.EnvAPIKey+")")
	}
	return *out.Value, nil
}

// Function is the recorded stack's Lambda function, the one a memory
// sweep changes.
type Function struct {
	Name      string
	LogGroup  string
	InvokeURL string
	// AWS is the configuration in the stack's region and endpoint (unless
	// --region / --endpoint-url say otherwise).
	AWS aws.Config
}

// Function finds the function setup recorded and loads the AWS
// configuration of its region and endpoint.
func (r *Resolver) Function(ctx context.Context) (*Function, error) {
	path := r.Settings.StateFile
	st, err := provision.LoadState(path)
	if errors.Is(err, provision.ErrNoState) {
		return nil, cmdutil.WithHint(fmt.Errorf("--memory: no stack recorded in %s", path),
			"run ddbops setup first: the sweep changes the memory of the function it created")
	}
	if err != nil {
		return nil, err
	}
	o := r.AWS
	if o.Region == "" {
		o.Region = st.Region
	}
	if o.EndpointURL == "" {
		o.EndpointURL = st.EndpointURL
	}
	cfg, err := r.LoadAWS(ctx, o)
	if err != nil {
		return nil, err
	}
	fn := st.FunctionName
	if fn == "" {
		fn = r.Settings.Function
	}
	return &Function{Name: fn, LogGroup: st.LogGroupName, InvokeURL: st.InvokeURL, AWS: cfg}, nil
}

// executeAPIHost matches API Gateway's default hosts, public and private
// (VPC endpoint), capturing the region.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9-]+\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$`)

// regionFromHost returns the region of an execute-api URL, "" for any other
// host (custom domains, local servers, emulators).
func regionFromHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	m := executeAPIHost.FindStringSubmatch(strings.ToLower(u.Hostname()))
	if m == nil {
		return ""
	}
	return m[1]
}

// SameURL compares invoke URLs ignoring a trailing slash and the case of
// scheme and host.
func SameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/")
}
