package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/spf13/pflag"

	"github.com/ddbops/ddbops/internal/client"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// targetFlags are the targeting flags `call` and `bench` share.
type targetFlags struct {
	URL     string // --url: an explicit invoke URL
	Local   bool   // --local: the local stack of DataDir
	DataDir string // --data-dir ("" = settings data-dir); only with --local
	Auth    string // --auth none|apikey|iam ("" = what the target recorded)
	APIKey  string // --api-key ("" = $DDBOPS_API_KEY, else what the target recorded)

	// NoSecrets resolves for --print-curl: no API key is fetched, no AWS
	// credentials are loaded (Target.Credentials stays nil), and --local
	// without a running server describes the URL `ddbops local` would
	// serve instead of opening the data dir. Such a target only describes;
	// client.New refuses it under iam auth.
	NoSecrets bool
}

// addTargetFlags registers the shared targeting flags on fs.
func addTargetFlags(fs *pflag.FlagSet, tf *targetFlags) {
	fs.StringVar(&tf.URL, "url", "", "invoke URL to call (default: the one recorded by ddbops setup)")
	fs.BoolVar(&tf.Local, "local", false, "target the local stack of --data-dir (a running ddbops local, else in-process)")
	fs.StringVar(&tf.DataDir, "data-dir", "", "local stack data dir, with --local (default from config: .ddbops/local)")
	fs.StringVar(&tf.Auth, "auth", "", "auth of the target: none|apikey|iam (default: as recorded; none for an unknown --url)")
	fs.StringVar(&tf.APIKey, "api-key", "", "API key for apikey auth (default $DDBOPS_API_KEY, else the recorded key)")
}

// Kinds of resolved target.
const (
	targetURL       = "url"       // --url
	targetState     = "state"     // the invoke URL recorded by setup
	targetServer    = "server"    // a running `ddbops local`
	targetInProcess = "inprocess" // the local stack opened in this process
	targetNotServed = "notserved" // --local, nothing serving, NoSecrets: the URL ddbops local would serve
)

// resolvedTarget is a target ready for client.New.
type resolvedTarget struct {
	// Target is complete: URL, auth material, region and credentials for
	// iam, Transport for the in-process local stack, TableName for bodies.
	Target client.Target
	// Kind says where it came from (target* constants).
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

	close func() error
}

// Close releases what resolution opened in this process (the local
// stack's data dir lock and journal). It is safe to call more than once
// and on targets that opened nothing.
func (r *resolvedTarget) Close() error {
	if r == nil || r.close == nil {
		return nil
	}
	c := r.close
	r.close = nil
	return c()
}

// resolveTarget decides where `call` and `bench` send requests and how they
// authenticate. Contract (shared by both commands):
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
//   - neither: the state file (settings state-file). apikey fetches the key
//     value with API Gateway GetApiKey(includeValue) in the state's region
//     and endpoint; iam signs with the SDK credentials, the region parsed
//     from an execute-api host, else the recorded region. No state file →
//     an error with a hint (run ddbops setup, or use --local / --url).
//   - --auth and --api-key always override what was recorded;
//     $DDBOPS_API_KEY stands in for --api-key.
//
// The result is ready for client.New(rt.Target, ...): one client, many
// concurrent requests, Close when done. Errors never contain the API key or
// credentials.
func resolveTarget(ctx context.Context, f *Factory, tf targetFlags) (*resolvedTarget, error) {
	return newTargetResolver(f).resolve(ctx, tf)
}

// apiKeyGetter is the part of API Gateway target resolution needs.
type apiKeyGetter interface {
	GetApiKey(ctx context.Context, in *apigateway.GetApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error)
}

// localStack is what target resolution uses of an opened *local.Stack.
type localStack interface {
	Handler() http.Handler
	Close() error
}

// targetResolver holds resolveTarget's dependencies so tests can replace
// them (an API Gateway fake, a local stack stand-in).
type targetResolver struct {
	f        *Factory
	apiKeys  func(aws.Config) apiKeyGetter
	discover func(dataDir string) (*local.ServerInfo, error)
	open     func(ctx context.Context, opts local.Options) (localStack, error)
	// lockedWait bounds how long a locked data dir is polled for a server.
	lockedWait time.Duration
	// lockWait bounds how long Open waits for a data dir held by another
	// in-process caller (not a server).
	lockWait time.Duration
	// loadAWS loads the SDK configuration for a target in region and,
	// unless --endpoint-url is set, endpoint ("" = the defaults).
	loadAWS func(ctx context.Context, region, endpoint string) (aws.Config, error)
}

func newTargetResolver(f *Factory) *targetResolver {
	return &targetResolver{
		f:        f,
		apiKeys:  func(cfg aws.Config) apiKeyGetter { return apigateway.NewFromConfig(cfg) },
		discover: local.Discover,
		open: func(ctx context.Context, o local.Options) (localStack, error) {
			s, err := local.Open(ctx, o)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		lockedWait: 5 * time.Second,
		lockWait:   10 * time.Second,
		loadAWS: func(ctx context.Context, region, endpoint string) (aws.Config, error) {
			// The API (and its key) live in the target's region, whatever
			// the profile's default; an explicit --endpoint-url still wins.
			g := *f
			if region != "" {
				g.Settings.Region = region
			}
			if endpoint != "" && g.Settings.EndpointURL == "" {
				g.Settings.EndpointURL = endpoint
			}
			return g.AWSConfig(ctx)
		},
	}
}

func (r *targetResolver) resolve(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
	switch tf.Auth {
	case "", wire.AuthNone, wire.AuthAPIKey, wire.AuthIAM:
	default:
		return nil, usageErrorf("invalid --auth %q: want none, apikey or iam", tf.Auth)
	}
	if tf.APIKey != "" && tf.Auth != "" && tf.Auth != wire.AuthAPIKey {
		return nil, usageErrorf("--api-key needs --auth apikey (got --auth %s)", tf.Auth)
	}
	switch {
	case tf.URL != "" && tf.Local:
		return nil, usageErrorf("--url and --local: choose one target")
	case tf.DataDir != "" && !tf.Local:
		return nil, usageErrorf("--data-dir applies to --local only")
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

func (r *targetResolver) fromURL(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
	u, err := url.Parse(tf.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("invalid --url: want http(s)://host/path")
	}
	if u.User != nil {
		return nil, usageErrorf("invalid --url: user info is not supported (use --auth and --api-key)")
	}
	rec := recorded{url: tf.URL, auth: wire.AuthNone, table: r.f.Settings.Table, source: "--url", kind: targetURL}
	// The recorded invoke URL keeps its recorded auth: `call --url $(jq
	// -r .invokeUrl .ddbops/state.json)` behaves as plain `call`.
	if st, err := provision.LoadState(r.f.Settings.StateFile); err == nil && st.InvokeURL != "" && sameURL(st.InvokeURL, tf.URL) {
		rec = r.fromStateRecord(st)
		rec.url, rec.source, rec.kind = tf.URL, "--url", targetURL
	}
	return r.finish(ctx, tf, rec)
}

func (r *targetResolver) fromState(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
	path := r.f.Settings.StateFile
	st, err := provision.LoadState(path)
	if errors.Is(err, provision.ErrNoState) {
		return nil, withHint(fmt.Errorf("no target: no --url, no --local, and no state file %s", path),
			"run ddbops setup, or use --local / --url")
	}
	if err != nil {
		return nil, withHint(err, "re-run ddbops setup to rewrite it, or use --local / --url")
	}
	if st.Stack != "" && r.f.Settings.Stack != "" && st.Stack != r.f.Settings.Stack {
		return nil, withHint(fmt.Errorf("state file %s: it records stack %q, not %q", path, st.Stack, r.f.Settings.Stack),
			"run ddbops setup for this stack, or use --url")
	}
	if st.InvokeURL == "" {
		return nil, withHint(fmt.Errorf("state file %s: no invoke URL recorded", path),
			"run ddbops setup to finish deploying the API, or use --local / --url")
	}
	return r.finish(ctx, tf, r.fromStateRecord(st))
}

func (r *targetResolver) fromStateRecord(st *provision.State) recorded {
	rec := recorded{
		url:      st.InvokeURL,
		auth:     st.Auth,
		region:   st.Region,
		apiKeyID: st.APIKeyID,
		endpoint: st.EndpointURL,
		table:    st.TableName,
		source:   r.f.Settings.StateFile,
		kind:     targetState,
	}
	if rec.auth == "" {
		rec.auth = r.f.Settings.Auth
	}
	if rec.table == "" {
		rec.table = r.f.Settings.Table
	}
	return rec
}

func (r *targetResolver) fromLocal(ctx context.Context, tf targetFlags) (*resolvedTarget, error) {
	s := r.f.Settings
	dataDir := tf.DataDir
	if dataDir == "" {
		dataDir = s.DataDir
	}
	info, err := r.discover(dataDir)
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
		rec := recorded{url: "http://" + s.Addr + path, auth: auth, region: s.Region, table: s.Table, source: dataDir, kind: targetNotServed}
		return r.finish(ctx, tf, rec)
	}

	stack, err := r.open(ctx, local.Options{
		DataDir:          dataDir,
		Auth:             wire.AuthNone,
		TableName:        s.Table,
		Stage:            s.Stage,
		Resource:         s.Resource,
		DynamoDBEndpoint: s.DynamoDBEndpoint,
		Log:              r.f.IO.ErrOut,
		// Another in-process `call --local` on the same data dir finishes
		// within a request's time: wait for it rather than fail.
		LockWait: r.lockWait,
	})
	if errors.Is(err, local.ErrLocked) {
		// Someone holds the data dir: most likely a `ddbops local` that
		// has not published its address yet.
		if info, derr := r.waitForServer(ctx, dataDir); derr != nil {
			return nil, derr
		} else if info != nil {
			return r.finish(ctx, tf, r.fromServer(info, dataDir))
		}
		return nil, withHint(fmt.Errorf("local stack %s: %w", dataDir, err),
			"another ddbops process holds it; wait for it to finish, or stop it")
	}
	if err != nil {
		return nil, fmt.Errorf("open local stack %s: %w", dataDir, err)
	}
	// Requests in-process carry no auth: there is no gateway to satisfy
	// but our own, opened with auth none. --auth/--api-key do not apply.
	return &resolvedTarget{
		Target: client.Target{
			URL:       "http://in-process" + path,
			Auth:      wire.AuthNone,
			Transport: client.HandlerTransport(stack.Handler()),
			TableName: s.Table,
		},
		Kind:   targetInProcess,
		Source: dataDir,
		close:  stack.Close,
	}, nil
}

func (r *targetResolver) fromServer(info *local.ServerInfo, dataDir string) recorded {
	auth := info.Auth
	if auth == "" {
		auth = wire.AuthNone
	}
	region := info.Region
	if region == "" {
		region = "us-east-1"
	}
	return recorded{url: info.URL, auth: auth, region: region, apiKey: info.APIKey, table: r.f.Settings.Table, source: dataDir, kind: targetServer}
}

// waitForServer polls Discover until a server publishes itself, the
// lock is released (nil, nil), or lockedWait passes.
func (r *targetResolver) waitForServer(ctx context.Context, dataDir string) (*local.ServerInfo, error) {
	deadline := time.Now().Add(r.lockedWait)
	for {
		info, err := r.discover(dataDir)
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

// finish applies --auth / --api-key / $DDBOPS_API_KEY to what the target
// recorded and fetches what the auth mode needs.
func (r *targetResolver) finish(ctx context.Context, tf targetFlags, rec recorded) (*resolvedTarget, error) {
	auth := tf.Auth
	if auth == "" {
		auth = rec.auth
		if tf.APIKey != "" {
			auth = wire.AuthAPIKey
		}
	}
	rt := &resolvedTarget{
		Target: client.Target{URL: rec.url, Auth: auth, TableName: rec.table},
		Kind:   rec.kind,
		Source: rec.source,
	}
	switch auth {
	case wire.AuthNone:
	case wire.AuthAPIKey:
		rt.APIKeyID = rec.apiKeyID
		key := tf.APIKey
		if key == "" && r.f.Getenv != nil {
			key = r.f.Getenv(client.APIKeyEnv)
		}
		if key == "" {
			key = rec.apiKey
		}
		if key == "" && !tf.NoSecrets {
			if rec.apiKeyID == "" {
				return nil, withHint(fmt.Errorf("apikey auth: no API key for %s", rec.url),
					"pass --api-key or set "+client.APIKeyEnv)
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
			rt.SessionToken = r.f.Getenv != nil && r.f.Getenv("AWS_SESSION_TOKEN") != ""
			return rt, nil
		}
		cfg, err := r.loadAWS(ctx, region, "")
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = cfg.Region
		}
		rt.Target.Region = region
		if tf.NoSecrets {
			rt.SessionToken = r.f.Getenv != nil && r.f.Getenv("AWS_SESSION_TOKEN") != ""
			return rt, nil
		}
		rt.Target.Credentials = cfg.Credentials
		if cfg.Credentials == nil {
			return nil, withHint(errors.New("iam auth: no AWS credentials found"),
				"configure credentials (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID), or use --auth none|apikey")
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, withHint(fmt.Errorf("iam auth: retrieve AWS credentials: %w", err),
				"configure credentials (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID), or use --auth none|apikey")
		}
		rt.SessionToken = creds.SessionToken != ""
	default:
		return nil, fmt.Errorf("%s records auth %q: want none, apikey or iam", rec.source, auth)
	}
	return rt, nil
}

// fetchAPIKey reads the value of the recorded API key from API Gateway, in
// the region and endpoint setup used.
func (r *targetResolver) fetchAPIKey(ctx context.Context, rec recorded) (string, error) {
	cfg, err := r.loadAWS(ctx, rec.region, rec.endpoint)
	if err != nil {
		return "", err
	}
	out, err := r.apiKeys(cfg).GetApiKey(ctx, &apigateway.GetApiKeyInput{
		ApiKey:       aws.String(rec.apiKeyID),
		IncludeValue: aws.Bool(true),
	})
	if err != nil {
		return "", withHint(fmt.Errorf("apikey auth: get API key %s: %w", rec.apiKeyID, err),
			"pass --api-key (or set "+client.APIKeyEnv+"), or re-run ddbops setup")
	}
	if out.Value == nil || *out.Value == "" {
		return "", withHint(fmt.Errorf("apikey auth: API key %s has no value", rec.apiKeyID),
			"pass --api-key (or set "+client.APIKeyEnv+")")
	}
	return *out.Value, nil
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

// sameURL compares invoke URLs ignoring a trailing slash and the case of
// scheme and host.
func sameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/")
}
