// Package local wires the local stack (docs/local.md): the HTTP gateway
// (local/gateway) in front of the in-process handler, over the embedded
// DynamoDB engine (local/engine) whose items live in the store's bbolt
// database in the data dir (local/store, docs/local-storage.md), or over an
// external DynamoDB-compatible endpoint. It owns the data dir's life:
// lock, checks, upgrade of an older data dir, API key, server.json and
// Discover.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/gateway"
	"github.com/ddbops/ddbops/internal/local/legacy"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/wire"
)

// ErrLocked is returned by Open when another process holds the data dir.
var ErrLocked = store.ErrLocked

// LockedError is the ErrLocked that Open returns: it names the data dir
// and, when known, the PID of the process holding it.
type LockedError = store.LockedError

// CorruptJournalError is a damaged record before the last one in the
// journal of a data dir of the journal format, which Open refuses to
// import: the records before Offset are intact and nothing was changed.
type CorruptJournalError = legacy.CorruptJournalError

// DamagedError is a database file that fails its check: Open refuses to
// start on it, and nothing was changed.
type DamagedError = store.DamagedError

// Recovery describes what Open found in the data dir.
type Recovery struct {
	// Items is the number of items in the data dir (kept by the store:
	// O(1) to read).
	Items int
	// JournalRecords is the number of journal records read when Open
	// imported a data dir of the journal format (0 otherwise).
	JournalRecords int
	// Imported is the number of items imported then.
	Imported int
	// CheckedAtOpen reports whether the database was verified before
	// Open returned (small files); a larger one is verified in the
	// background, and damage found then makes every answer a 503.
	CheckedAtOpen bool
}

// The HTTP front's browser rules, for the command that configures them
// (docs/local-security.md).
var (
	// ParseOrigins parses --cors: ORIGIN[,ORIGIN] or AnyOrigin.
	ParseOrigins = gateway.ParseOrigins
	// IsLoopbackAddr reports whether a listener is on loopback only.
	IsLoopbackAddr = gateway.IsLoopbackAddr
)

// AnyOrigin, alone in Options.CORS, allows every origin.
const AnyOrigin = gateway.AnyOrigin

const (
	shutdownTimeout = 10 * time.Second
	lockRetryEvery  = 20 * time.Millisecond
)

// Options configures a local stack. Open refuses an empty DataDir, Auth,
// TableName, Stage or Resource, and an empty Region under iam auth: the
// defaults are the CLI's (configs/ddbops.yaml), not this package's.
type Options struct {
	DataDir string
	Auth    string // none | apikey | iam
	APIKey  string // apikey auth; "" loads <data-dir>/api-key or generates one
	// Region is the region of the credential scope under iam auth, and of
	// the client of an external endpoint ("" leaves it to the endpoint).
	Region string
	// Credentials verify SigV4 signatures under iam auth.
	Credentials aws.CredentialsProvider
	// DynamoDBEndpoint uses an external DynamoDB-compatible endpoint
	// instead of the embedded engine (no database then).
	DynamoDBEndpoint string
	TableName        string
	Stage            string
	Resource         string
	Log              io.Writer

	// The HTTP front's limits and browser rules (gateway.Config): CORS
	// origins besides the server's own (gateway.CheckOrigins), the
	// connection cap and the request-body bytes held at once (0: none).
	CORS                 []string
	MaxConns             int
	MaxBodyBytesInFlight int64

	// LockWait makes Open wait up to this long for a data dir held by a
	// process that is not serving it (e.g. an in-process `call --local`).
	// A data dir held by a running server fails at once with ErrLocked
	// whatever LockWait says: Discover finds that server.
	LockWait time.Duration

	// checkInline is the store's CheckInline (tests force the background
	// check with -1).
	checkInline int64
}

// validate refuses options Open cannot serve, before anything is touched.
func (o *Options) validate() error {
	if o.DataDir == "" {
		return errors.New("no data dir given")
	}
	if o.TableName == "" {
		return errors.New("no table name given")
	}
	if !wire.ValidAuth(o.Auth) {
		return fmt.Errorf("invalid auth %q: want none, apikey or iam", o.Auth)
	}
	if o.Auth == wire.AuthIAM && o.Region == "" {
		return errors.New("iam auth needs a region (the credential scope's)")
	}
	for _, seg := range []struct{ name, value string }{{"stage", o.Stage}, {"resource", o.Resource}} {
		if seg.value == "" {
			return fmt.Errorf("no %s given", seg.name)
		}
		if strings.ContainsAny(seg.value, "/?#% ") {
			return fmt.Errorf("invalid %s %q: must be one path segment", seg.name, seg.value)
		}
	}
	if o.APIKey != "" {
		if err := gateway.ValidAPIKey(o.APIKey); err != nil {
			return fmt.Errorf("invalid API key: %w", err)
		}
	}
	if _, err := gateway.CheckOrigins(o.CORS); err != nil {
		return fmt.Errorf("invalid CORS origins: %w", err)
	}
	if o.MaxConns < 0 {
		return fmt.Errorf("invalid connection cap %d: must be positive (0: none)", o.MaxConns)
	}
	if o.MaxBodyBytesInFlight != 0 && o.MaxBodyBytesInFlight < wire.MaxBodyBytes {
		return fmt.Errorf("invalid body bytes in flight %d: must be at least one body's limit, %d (0: no bound)", o.MaxBodyBytesInFlight, wire.MaxBodyBytes)
	}
	return nil
}

// Stack is an open local stack.
type Stack struct {
	opts        Options
	lock        *store.DirLock
	st          *store.Store // nil with an external endpoint
	h           *handler.Handler
	gw          *gateway.Gateway
	apiKey      string
	keyCreated  bool
	recovery    Recovery
	closeOnce   sync.Once
	closeErr    error
	serveCalled bool
	mu          sync.Mutex
}

// Open locks the data dir, checks it, opens (or creates) its database,
// importing a data dir of the journal format once, and verifies the
// database (in the background when it is large).
func Open(ctx context.Context, opts Options) (*Stack, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("local stack: %w", err)
	}
	dir := opts.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open data dir %s: %w", dir, err)
	}
	if err := checkDataDir(dir); err != nil {
		return nil, err
	}
	lk, err := acquire(ctx, dir, opts.LockWait)
	if err != nil {
		var le *LockedError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("open data dir %s: %w", dir, err)
	}
	ignoreDataFiles(dir, opts.Log)
	s := &Stack{opts: opts, lock: lk}
	if err := s.open(ctx); err != nil {
		if s.st != nil {
			_ = s.st.Close()
		}
		_ = lk.Release()
		return nil, err
	}
	return s, nil
}

// acquire takes the data dir lock, waiting up to wait while the holder is
// not a server.
func acquire(ctx context.Context, dir string, wait time.Duration) (*store.DirLock, error) {
	deadline := time.Now().Add(wait)
	for {
		lk, err := store.LockDir(dir)
		var le *LockedError
		if err == nil || !errors.As(err, &le) || time.Now().After(deadline) {
			return lk, err
		}
		if info, _ := Discover(dir); info != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(lockRetryEvery):
		}
	}
}

func (s *Stack) open(ctx context.Context) error {
	o := &s.opts
	dir := o.DataDir
	// Only the lock holder writes server.json; one left by a killed server
	// is stale from the moment we hold the lock.
	if err := os.Remove(filepath.Join(dir, serverFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("open data dir %s: remove stale server info: %w", dir, err)
	}

	if o.Auth == wire.AuthAPIKey {
		s.apiKey = o.APIKey
		if s.apiKey == "" {
			k, created, err := loadOrCreateAPIKey(dir)
			if err != nil {
				return fmt.Errorf("open data dir %s: %w", dir, err)
			}
			s.apiKey, s.keyCreated = k, created
		}
	}
	var creds aws.CredentialsProvider
	if o.Auth == wire.AuthIAM {
		if o.Credentials == nil {
			return errors.New("local stack: iam auth needs AWS credentials to verify signatures, and none were found")
		}
		// The gateway asks for them on every signed request: the same
		// cache serves this check and those.
		creds = o.Credentials
		if _, ok := creds.(*aws.CredentialsCache); !ok {
			creds = aws.NewCredentialsCache(creds)
		}
		if _, err := creds.Retrieve(ctx); err != nil {
			return fmt.Errorf("local stack: iam auth needs AWS credentials to verify signatures: %w", err)
		}
	}

	var db handler.DynamoDB
	var down func() error
	if o.DynamoDBEndpoint != "" {
		ext, err := newExternalEngine(o)
		if err != nil {
			return err
		}
		if err := ensureTable(ctx, ext, o.TableName, true); err != nil {
			return fmt.Errorf("dynamodb endpoint %s: %w", o.DynamoDBEndpoint, err)
		}
		db = ext
	} else {
		if err := s.openStore(); err != nil {
			return err
		}
		db = engine.New(s.st, o.TableName)
		down = s.unavailable
	}

	cors, _ := gateway.CheckOrigins(o.CORS) // validated by Open
	s.h = handler.New(db, handler.Config{TableName: o.TableName, Logger: handlerLogger(o.Log)})
	s.gw = gateway.New(gateway.Config{
		Handler:     s.h,
		Stage:       o.Stage,
		Resource:    o.Resource,
		Auth:        o.Auth,
		APIKey:      s.apiKey,
		Credentials: creds,
		Region:      o.Region,
		Log:         o.Log,
		Unavailable: down,

		CORS:                 cors,
		MaxConns:             o.MaxConns,
		MaxBodyBytesInFlight: o.MaxBodyBytesInFlight,
	})
	return nil
}

// openStore opens the data dir's database, importing a data dir of the
// journal format into it once.
func (s *Stack) openStore() error {
	o := &s.opts
	st, err := store.Open(o.DataDir, store.Options{Table: o.TableName, Log: o.Log, CheckInline: o.checkInline})
	if err != nil {
		return fmt.Errorf("open data dir %s: %w", o.DataDir, err)
	}
	s.st = st
	up, err := upgrade(o.DataDir, o.TableName, st, o.Log)
	if err != nil {
		return fmt.Errorf("open data dir %s: %w", o.DataDir, err)
	}
	s.recovery = Recovery{Items: int(st.Count()), JournalRecords: up.JournalRecords, Imported: up.imported, CheckedAtOpen: st.CheckedInline()}
	return nil
}

// unavailable is the gateway's 503 while the store is unusable: damage
// found by the background check or a read, or a failed sync.
func (s *Stack) unavailable() error {
	err := s.st.Err()
	if err == nil {
		return nil
	}
	var de *store.DamagedError
	if errors.As(err, &de) {
		return fmt.Errorf("the local stack's database is damaged (%s): nothing more is served from it; restore a copy of %s, or start on a new --data-dir, then restart", de.Why, de.Path)
	}
	return fmt.Errorf("the local stack's database cannot be trusted since a sync failed: restart `ddbops local` (acknowledged writes are on disk)")
}

// handlerLogger sends the handler's records of failed requests (request
// id and cause, never item data) to w.
func handlerLogger(w io.Writer) *slog.Logger {
	if w == nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Handler returns the gateway (auth included).
func (s *Stack) Handler() http.Handler { return s.gw }

// APIKey returns the API key in force under apikey auth ("" otherwise).
func (s *Stack) APIKey() string { return s.apiKey }

// APIKeyGenerated reports whether Open generated the API key (and saved
// it to <data-dir>/api-key).
func (s *Stack) APIKeyGenerated() bool { return s.keyCreated }

// Recovery reports what Open found in the data dir (zero with an
// external endpoint).
func (s *Stack) Recovery() Recovery { return s.recovery }

// Options returns the options Open was given.
func (s *Stack) Options() Options { return s.opts }

// Serve serves the gateway on ln until ctx is done, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish (up to
// 10 s) and returns nil. While serving, <data-dir>/server.json describes
// it so that Discover finds it. A write that cannot be made durable (disk
// full, read-only, I/O error) fails that request with a 500 and the
// server goes on; damage makes every answer a 503. Call Close after Serve
// returns.
func (s *Stack) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeWithReady(ctx, ln, nil)
}

// ServeWithReady is Serve that calls ready (if not nil) once the gateway
// accepts connections and Discover finds it.
func (s *Stack) ServeWithReady(ctx context.Context, ln net.Listener, ready func(ServerInfo)) error {
	s.mu.Lock()
	if s.serveCalled {
		s.mu.Unlock()
		return errors.New("local stack: Serve called twice")
	}
	s.serveCalled = true
	s.mu.Unlock()

	srv := s.gw.NewServer(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	info := ServerInfo{
		URL:    endpointURL(ln.Addr(), s.opts.Stage, s.opts.Resource),
		Auth:   s.opts.Auth,
		APIKey: s.apiKey,
		PID:    os.Getpid(),
		Region: s.opts.Region,
	}
	infoPath := filepath.Join(s.opts.DataDir, serverFile)
	if err := writeServerInfo(infoPath, info); err != nil {
		_ = srv.Shutdown()
		_ = ln.Close()
		<-errc
		return err
	}
	if ready != nil {
		ready(info)
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		_ = os.Remove(infoPath)
		if err == nil {
			err = errors.New("server stopped")
		}
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	_ = os.Remove(infoPath)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Stops accepting, lets in-flight requests finish, closes idle
	// keep-alive connections.
	_ = srv.ShutdownWithContext(sctx)
	// Shutdown only closes listeners Serve has registered; one that
	// came too early would leave Serve accepting.
	_ = ln.Close()
	<-errc
	return nil
}

// Close closes the database (pending writes commit first) and releases
// the data dir. It is safe to call more than once.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		if s.st != nil {
			s.closeErr = s.st.Close()
		}
		if err := s.lock.Release(); err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("release data dir %s: %w", s.opts.DataDir, err)
		}
	})
	return s.closeErr
}

func endpointURL(addr net.Addr, stage, resource string) string {
	host := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		loop := "127.0.0.1"
		if ta.IP.To4() == nil {
			loop = "::1"
		}
		host = net.JoinHostPort(loop, fmt.Sprint(ta.Port))
	}
	return "http://" + host + "/" + stage + "/" + resource
}

// ServerInfo describes a running `ddbops local`.
type ServerInfo struct {
	URL    string `json:"url"` // full endpoint, e.g. http://127.0.0.1:3000/prod/DynamoDBManager
	Auth   string `json:"auth"`
	APIKey string `json:"apiKey,omitempty"`
	PID    int    `json:"pid"`
	Region string `json:"region,omitempty"`
}

// Discover returns the server serving dataDir, or (nil, nil) when none is.
//
// A server is reported only when all of these hold, so a file left by a
// killed server is never reported:
//   - <data-dir>/server.json exists (only the lock holder writes it, from
//     Serve, once it accepts connections; Open removes any stale one right
//     after taking the lock; Serve removes it before shutting down);
//   - the data dir lock is held right now (probed with a non-blocking
//     shared flock; the kernel drops a dead process's lock);
//   - the PID in the lock file is the PID in server.json;
//   - that process is alive.
//
// A server may still stop between Discover and the request: the caller
// then gets a connection error and can Discover again.
func Discover(dataDir string) (*ServerInfo, error) {
	if dataDir == "" {
		return nil, errors.New("discover local server: no data dir given")
	}
	b, err := store.ReadFile(filepath.Join(dataDir, serverFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discover local server in %s: %w", dataDir, err)
	}
	var info ServerInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("discover local server in %s: %s: %w", dataDir, serverFile, err)
	}
	held, err := store.LockHeld(dataDir)
	if err != nil {
		return nil, fmt.Errorf("discover local server in %s: %w", dataDir, err)
	}
	if !held || info.PID <= 0 || store.LockHolder(dataDir) != info.PID || !store.ProcessAlive(info.PID) {
		return nil, nil
	}
	return &info, nil
}
