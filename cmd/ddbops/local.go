package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/local/gateway"
	"github.com/ddbops/ddbops/internal/target"
	"github.com/ddbops/ddbops/internal/wire"
)

// localOptions holds the flags and dependencies of `ddbops local`.
type localOptions struct {
	IO *cmdutil.IOStreams

	Addr             string
	DataDir          string
	Auth             string
	APIKey           string
	APIKeySource     string // where APIKey came from, for the start banner
	DynamoDBEndpoint string
	CPUProfile       string // hidden: write a CPU profile of the serving phase (bench/)

	// CORS is --cors as given (ORIGIN[,ORIGIN]); runLocal parses it.
	CORS                       string
	AllowRemoteUnauthenticated bool
	MaxConns                   int
	MaxBodyBytesInFlight       int64

	Table    string
	Stage    string
	Resource string
	// Region is the SigV4 scope when the AWS configuration names none.
	Region string
	JSON   bool
	Quiet  bool

	// AWSConfig loads the AWS configuration: credentials that verify
	// signatures under iam auth, and that sign calls to a non-loopback
	// --dynamodb-endpoint.
	AWSConfig func(ctx context.Context) (aws.Config, error)
	// Env is the environment (GOGC, GOMAXPROCS: the user's tuning wins).
	Env cmdutil.Env
	// TuneRuntime: set the collector and the thread count for a
	// single-user server (tuneLocalRuntime); the real binary only.
	TuneRuntime bool
}

func newLocalCmd(f *Factory, runF func(context.Context, *localOptions) error) *cobra.Command {
	opts := &localOptions{}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Serve the API on this machine: no AWS account, no Docker",
		Long: `Serve POST http://<addr>/<stage>/<resource> on loopback with the same handler
the Lambda function runs, in-process, backed by an embedded DynamoDB-compatible
engine. Every acknowledged write is committed and fsync'ed to the data dir's
database before the answer is sent, so stopping or killing the server loses
nothing.

Auth behaves as API Gateway's: apikey (the default) wants the x-api-key header,
iam wants SigV4 signatures (service execute-api) made with your AWS
credentials, none wants nothing. Runs until Ctrl-C or SIGTERM.

Browsers: on a loopback address a request whose Host is not a loopback name
gets 403 (DNS rebinding), and so does one from a web page of another origin
unless --cors allows that origin. --auth none on any other address refuses to
start without --allow-remote-unauthenticated.`,
		Example: `  ddbops local
  ddbops local --auth none --addr 127.0.0.1:8080
  ddbops local --auth iam --region eu-west-1
  ddbops local --cors http://localhost:5173                 # a dev server's page may call it
  ddbops local --dynamodb-endpoint http://127.0.0.1:8000   # DynamoDB Local, LocalStack, moto`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			opts.Table = f.Settings.Table
			opts.Stage = f.Settings.Stage
			opts.Resource = f.Settings.Resource
			opts.Region = f.Settings.LocalRegion
			opts.JSON = f.Settings.JSON()
			opts.Quiet = f.Settings.Quiet
			opts.TuneRuntime = f.TuneRuntime
			opts.AWSConfig = f.AWSConfig
			opts.Env = f.Env
			switch {
			case cmd.Flags().Changed("api-key"):
				opts.APIKeySource = "--api-key"
			case f.Env.APIKey() != "":
				opts.APIKey, opts.APIKeySource = f.Env.APIKey(), cmdutil.EnvAPIKey
			}
			switch opts.Auth {
			case wire.AuthNone, wire.AuthAPIKey, wire.AuthIAM:
			default:
				return cmdutil.UsageErrorf("invalid --auth %q: want none, apikey or iam", opts.Auth)
			}
			if opts.Addr == "" {
				return cmdutil.UsageErrorf("--addr must not be empty")
			}
			if opts.MaxConns < 1 {
				return cmdutil.UsageErrorf("invalid --max-conns %d: want at least 1", opts.MaxConns)
			}
			if opts.MaxBodyBytesInFlight < wire.MaxBodyBytes {
				return cmdutil.UsageErrorf("invalid --max-body-bytes-in-flight %d: want at least %d (one body's limit)", opts.MaxBodyBytesInFlight, wire.MaxBodyBytes)
			}
			if opts.APIKey != "" {
				if err := gateway.ValidAPIKey(opts.APIKey); err != nil {
					return cmdutil.UsageErrorf("invalid API key from %s: %v", opts.APIKeySource, err)
				}
			}
			return runOr(cmd.Context(), opts, runF, runLocal)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "", "listen address (port 0 picks a free one)")
	fl.StringVar(&opts.DataDir, "data-dir", "", "database, lock, API key and server info")
	fl.StringVar(&opts.Auth, "auth", "", "none|apikey|iam (config key local-auth)")
	fl.StringVar(&opts.APIKey, "api-key", "", "API key for apikey auth (also DDBOPS_API_KEY; default: generated once, saved in the data dir)")
	fl.StringVar(&opts.DynamoDBEndpoint, "dynamodb-endpoint", "", "use this DynamoDB-compatible endpoint (DynamoDB Local, LocalStack, moto) instead of the embedded one (its durability is the endpoint's)")
	fl.StringVar(&opts.CORS, "cors", "", "browser origins allowed to call the API, ORIGIN[,ORIGIN] (scheme://host[:port]) or * (default from config cors: none)")
	fl.BoolVar(&opts.AllowRemoteUnauthenticated, "allow-remote-unauthenticated", false, "let --auth none listen on an address other machines can reach")
	fl.IntVar(&opts.MaxConns, "max-conns", 0, "connections held at once; more wait in the listen queue (default from config local-max-conns: 1024)")
	fl.Int64Var(&opts.MaxBodyBytesInFlight, "max-body-bytes-in-flight", 0, "request-body bytes held at once; a body that does not fit gets 503 (default from config local-max-body-bytes-in-flight: 32 MiB)")
	fl.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the serving phase to this file (for bench/)")
	_ = fl.MarkHidden("cpuprofile")
	bindConfig(fl, "addr", "addr")
	bindConfig(fl, "data-dir", "data-dir")
	bindConfig(fl, "auth", "local-auth")
	bindConfig(fl, "dynamodb-endpoint", "dynamodb-endpoint")
	bindConfig(fl, "cors", "cors")
	bindConfig(fl, "max-conns", "local-max-conns")
	bindConfig(fl, "max-body-bytes-in-flight", "local-max-body-bytes-in-flight")
	completeValues(cmd, map[string][]string{"auth": wire.AuthModes})
	_ = cmd.MarkFlagDirname("data-dir")
	return cmd
}

// localReady is the -o json document printed once the server accepts
// requests.
type localReady struct {
	URL  string `json:"url"`
	Auth string `json:"auth"`
	// APIKey is a key ddbops generated (now or at an earlier start); a
	// key the user gave is never printed.
	APIKey    string   `json:"apiKey,omitempty"`
	CORS      []string `json:"cors,omitempty"`
	Region    string   `json:"region,omitempty"`
	PID       int      `json:"pid"`
	DataDir   string   `json:"dataDir"`
	Engine    string   `json:"engine"`
	Items     int      `json:"items"`
	StartupMS int64    `json:"startupMs"`
}

func runLocal(ctx context.Context, opts *localOptions) error {
	start := time.Now()
	if opts.TuneRuntime {
		defer tuneLocalRuntime(opts.Env)()
	}
	errOut := opts.IO.ErrOut
	cors, err := local.ParseOrigins(opts.CORS)
	if err != nil {
		return cmdutil.UsageErrorf("invalid --cors %q: %v", opts.CORS, err)
	}
	if err := checkExposure(ctx, opts, addrIsLoopback(ctx, opts.Addr)); err != nil {
		return err
	}
	lo := local.Options{
		DataDir:          opts.DataDir,
		Auth:             opts.Auth,
		APIKey:           opts.APIKey,
		Region:           opts.Region,
		DynamoDBEndpoint: opts.DynamoDBEndpoint,
		TableName:        opts.Table,
		Stage:            opts.Stage,
		Resource:         opts.Resource,
		Log:              errOut,
		// An in-process `call --local` holds the data dir for a moment.
		LockWait: 3 * time.Second,

		CORS:                 cors,
		MaxConns:             opts.MaxConns,
		MaxBodyBytesInFlight: opts.MaxBodyBytesInFlight,
	}
	region, creds, err := target.ServerAWS(ctx, opts.AWSConfig, opts.Auth, opts.DynamoDBEndpoint)
	if err != nil {
		return err
	}
	if region != "" {
		lo.Region, lo.Credentials = region, creds
	}

	stack, err := local.Open(ctx, lo)
	if err != nil {
		var le *local.LockedError
		if errors.As(err, &le) {
			return cmdutil.WithHint(fmt.Errorf("ddbops local: %w", err),
				"another `ddbops local` serves this data dir: use it (ddbops call --local ...) or stop it, or pass another --data-dir")
		}
		var ce *local.CorruptJournalError
		if errors.As(err, &ce) {
			return cmdutil.WithHint(fmt.Errorf("ddbops local: %w", err),
				fmt.Sprintf("nothing was changed; keep a copy of the data dir, then `truncate -s %d %s` recovers every record before the damaged one (and loses it and what follows)", ce.Offset, ce.Path))
		}
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EROFS) {
			return cmdutil.WithHint(fmt.Errorf("ddbops local: %w", err), "check --data-dir (it must be a directory you can write)")
		}
		// A damaged database, a link in the data dir, unsafe permissions:
		// the error says what to do.
		return fmt.Errorf("ddbops local: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		_ = stack.Close()
		return cmdutil.WithHint(fmt.Errorf("ddbops local: listen on %s: %w", opts.Addr, err),
			"is another server using that port? pass --addr 127.0.0.1:0 to pick a free one")
	}
	so := stack.Options()
	if loopback := local.IsLoopbackAddr(ln.Addr()); !loopback {
		// The name resolved otherwise than checkExposure was told.
		if err := checkExposure(ctx, opts, loopback); err != nil {
			_ = ln.Close()
			_ = stack.Close()
			return err
		}
		if opts.Auth == wire.AuthNone {
			fmt.Fprintf(errOut, "warning: %s is not a loopback address: anyone who can reach this machine can read and write the table, without authentication\n", ln.Addr())
		} else {
			fmt.Fprintf(errOut, "warning: %s is not a loopback address: other machines can reach this API, over plain HTTP (the API key or signed requests and every item travel unencrypted)\n", ln.Addr())
		}
	}
	if len(cors) == 1 && cors[0] == local.AnyOrigin && opts.Auth == wire.AuthNone {
		fmt.Fprintln(errOut, "warning: --cors * with --auth none: every web page you visit can read and write the table")
	}

	var readyErr error
	onReady := func(info local.ServerInfo) {
		startup := time.Since(start)
		if !opts.Quiet {
			printLocalBanner(opts, stack, info, startup)
		}
		if opts.JSON {
			engine := "embedded"
			if so.DynamoDBEndpoint != "" {
				engine = so.DynamoDBEndpoint
			}
			doc := localReady{
				URL: info.URL, Auth: info.Auth, Region: info.Region, PID: info.PID, CORS: cors,
				DataDir: so.DataDir, Engine: engine, Items: stack.Recovery().Items, StartupMS: startup.Milliseconds(),
			}
			if opts.APIKeySource == "" {
				doc.APIKey = info.APIKey
			}
			readyErr = cmdutil.WriteJSON(opts.IO.Out, doc)
		}
		// Last: whoever waits for this line finds everything else written.
		fmt.Fprintf(errOut, "ddbops local: ready on %s (auth %s)\n", info.URL, info.Auth)
	}
	if opts.CPUProfile != "" {
		stop, err := cmdutil.StartCPUProfile(opts.CPUProfile)
		if err != nil {
			_ = ln.Close()
			_ = stack.Close()
			return fmt.Errorf("ddbops local: %w", err)
		}
		defer stop()
	}
	serveErr := stack.ServeWithReady(ctx, ln, onReady)
	closeErr := stack.Close()
	if serveErr != nil {
		return fmt.Errorf("ddbops local: %w", serveErr)
	}
	if closeErr != nil {
		return fmt.Errorf("ddbops local: %w", closeErr)
	}
	if !opts.Quiet {
		fmt.Fprintln(errOut, "ddbops local: stopped; every write committed, data dir released")
	}
	return readyErr
}

func printLocalBanner(opts *localOptions, stack *local.Stack, info local.ServerInfo, startup time.Duration) {
	w := opts.IO.ErrOut
	so := stack.Options()
	if so.DynamoDBEndpoint != "" {
		fmt.Fprintf(w, "ddbops local: DynamoDB at %s, table %s (durability is the endpoint's)\n", so.DynamoDBEndpoint, so.TableName)
	} else {
		rec := stack.Recovery()
		detail := ""
		if rec.JournalRecords > 0 || rec.Imported > 0 {
			detail = " (imported from the journal format)"
		}
		fmt.Fprintf(w, "ddbops local: data dir %s: %s%s, table %s, started in %s\n",
			so.DataDir, cmdutil.Plural(rec.Items, "item"), detail, so.TableName, startup.Round(time.Millisecond))
	}
	switch info.Auth {
	case wire.AuthAPIKey:
		shown := info.APIKey
		switch {
		case opts.APIKeySource != "":
			// The caller's own key: not echoed into logs.
			shown = "$" + cmdutil.EnvAPIKey
			if opts.APIKeySource != cmdutil.EnvAPIKey {
				shown = "<the key given to " + opts.APIKeySource + ">"
			}
			fmt.Fprintf(w, "ddbops local: API key from %s\n", opts.APIKeySource)
		case stack.APIKeyGenerated():
			fmt.Fprintf(w, "ddbops local: API key %s (generated, saved to %s)\n", info.APIKey, filepath.Join(so.DataDir, "api-key"))
		default:
			fmt.Fprintf(w, "ddbops local: API key %s (from %s)\n", info.APIKey, filepath.Join(so.DataDir, "api-key"))
		}
		fmt.Fprintf(w, "ddbops local: try  curl -X POST -H \"x-api-key: %s\" -d '{\"operation\":\"ping\"}' %s\n", shown, info.URL)
	case wire.AuthIAM:
		fmt.Fprintf(w, "ddbops local: requests must be SigV4-signed (service execute-api, region %s) with your AWS credentials\n", info.Region)
		fmt.Fprintf(w, "ddbops local: try  curl -X POST --aws-sigv4 \"aws:amz:%s:execute-api\" --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" -d '{\"operation\":\"ping\"}' %s\n", info.Region, info.URL)
	default:
		fmt.Fprintf(w, "ddbops local: try  curl -X POST -d '{\"operation\":\"ping\"}' %s\n", info.URL)
	}
}

// checkExposure refuses --auth none on an address other machines can
// reach, unless the user said so.
func checkExposure(_ context.Context, opts *localOptions, loopback bool) error {
	if loopback || opts.Auth != wire.AuthNone || opts.AllowRemoteUnauthenticated {
		return nil
	}
	return cmdutil.UsageErrorf("--auth none on %s would serve anyone who can reach this machine without authentication: listen on 127.0.0.1, use --auth apikey or iam, or pass --allow-remote-unauthenticated", opts.Addr)
}

// addrIsLoopback reports whether listening on addr (host:port) listens on
// the loopback interface only: a loopback address, localhost, or a name
// that resolves to loopback addresses only. An empty host is every
// interface.
func addrIsLoopback(ctx context.Context, addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// tuneLocalRuntime sets the Go runtime for a single-user server, each knob
// only when the environment does not set it, and returns what restores
// them. GOGC: the server allocates little per request and keeps a small
// heap, so collecting less often saves CPU. GOMAXPROCS: one thread runs Go
// code; a dev server's few clients gain nothing from a second, which costs
// CPU per request in scheduling and wake-ups (docs/local.md#runtime-settings,
// docs/benchmarks.md). Blocking system calls (fsync) still get their own
// threads.
func tuneLocalRuntime(env cmdutil.Env) (restore func()) {
	gc, procs := -1, -1
	if env.GOGC() == "" {
		gc = debug.SetGCPercent(400)
	}
	if env.GOMAXPROCS() == "" {
		procs = runtime.GOMAXPROCS(1)
	}
	return func() {
		if gc != -1 {
			debug.SetGCPercent(gc)
		}
		if procs != -1 {
			runtime.GOMAXPROCS(procs)
		}
	}
}
