package local

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

// TestLockExcludesSecondOpen: one process (or one Open) at a time per
// data dir; the error names the holder; Close releases.
func TestLockExcludesSecondOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second Open = %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	if !strings.Contains(err.Error(), dir+": data dir is in use by another ddbops process (pid ") {
		t.Errorf("message %q", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b.Close()
}

// TestLockWait: LockWait waits for a holder that is not serving, and
// gives up at once on a serving one.
func TestLockWait(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
	if err != nil {
		t.Fatal(err)
	}
	var closing atomic.Bool
	go func() {
		time.Sleep(100 * time.Millisecond) // the holder finishes its work
		closing.Store(true)
		a.Close()
	}()
	b, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatalf("Open with LockWait: %v", err)
	}
	if !closing.Load() {
		t.Fatal("Open returned before the holder released the lock")
	}
	srv := serveStack(t, b)
	start := time.Now()
	_, err = Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: time.Minute}))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while served: %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("Open waited for a serving holder")
	}
	_ = srv.stop()
}

// TestDiscover: a serving stack is found; before Serve, after Serve, and
// with a server.json left by a dead server, nothing is.
func TestDiscover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if info, err := Discover(dir); info != nil || err != nil {
		t.Fatalf("empty dir: %+v %v", info, err)
	}
	st, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := Discover(dir); info != nil || err != nil {
		t.Fatalf("opened, not serving: %+v %v", info, err)
	}
	srv := serveStack(t, st)
	info, err := Discover(dir)
	if err != nil || info == nil || *info != srv.info || info.PID != os.Getpid() {
		t.Fatalf("serving: %+v %v, want %+v", info, err, srv.info)
	}
	if r := post(t, info.URL, `{"operation":"ping"}`); r.status != 200 {
		t.Fatalf("discovered URL does not serve: %d", r.status)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if info, err := Discover(dir); info != nil || err != nil {
		t.Fatalf("after stop: %+v %v", info, err)
	}

	// A killed server leaves server.json behind; nobody holds the lock.
	stale, _ := json.Marshal(ServerInfo{URL: "http://127.0.0.1:1/prod/DynamoDBManager", Auth: wire.AuthNone, PID: os.Getpid()})
	os.WriteFile(filepath.Join(dir, serverFile), stale, 0o600)
	if info, err := Discover(dir); info != nil || err != nil {
		t.Fatalf("stale file, no lock holder: %+v %v", info, err)
	}
	// The next holder removes it on Open.
	st2, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := os.Stat(filepath.Join(dir, serverFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open left a stale server.json: %v", err)
	}
	// A file naming another process than the lock holder is not reported.
	other, _ := json.Marshal(ServerInfo{URL: "http://127.0.0.1:1/prod/DynamoDBManager", Auth: wire.AuthNone, PID: os.Getpid() + 1})
	os.WriteFile(filepath.Join(dir, serverFile), other, 0o600)
	if info, err := Discover(dir); info != nil || err != nil {
		t.Fatalf("pid mismatch: %+v %v", info, err)
	}
}

// TestOpenNeedsOptions: Open has no defaults of its own (they are the
// CLI's): an option left empty is a clear error, and nothing is created.
func TestOpenNeedsOptions(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	full := withNames(Options{DataDir: dir, Auth: wire.AuthNone})
	tests := []struct {
		name  string
		clear func(*Options)
		want  string
	}{
		{"data dir", func(o *Options) { o.DataDir = "" }, "local stack: no data dir given"},
		{"auth", func(o *Options) { o.Auth = "" }, `local stack: invalid auth "": want none, apikey or iam`},
		{"table", func(o *Options) { o.TableName = "" }, "local stack: no table name given"},
		{"stage", func(o *Options) { o.Stage = "" }, "local stack: no stage given"},
		{"resource", func(o *Options) { o.Resource = "" }, "local stack: no resource given"},
		{"iam region", func(o *Options) { o.Auth = wire.AuthIAM }, "local stack: iam auth needs a region"},
	}
	for _, tt := range tests {
		o := full
		tt.clear(&o)
		if _, err := Open(context.Background(), o); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: Open = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused Open created the data dir: %v", err)
	}
	if _, err := Discover(""); err == nil {
		t.Error(`Discover("") found something`)
	}
}
