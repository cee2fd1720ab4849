package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// writeItems opens dir, writes n items through the journaled engine and
// closes it.
func openDir(t *testing.T, dir string, logw *testenv.SyncBuffer) *Stack {
	t.Helper()
	// LockWait: a subprocess forked by a parallel test holds a copy of
	// the lock's descriptor until it execs.
	opts := Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}
	if logw != nil {
		opts.Log = logw
	}
	st, err := Open(context.Background(), withNames(opts))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func putN(t *testing.T, st *Stack, from, to int) {
	t.Helper()
	h := st.Handler()
	for i := from; i < to; i++ {
		r := inProcess(t, h, fmt.Sprintf(`{"operation":"create","payload":{"Item":{"id":"%d","v":%d}}}`, i, i))
		if r.status != 200 {
			t.Fatalf("create %d: %d %s", i, r.status, r.body)
		}
	}
}

func ids(t *testing.T, st *Stack) string {
	t.Helper()
	var all []string
	body := `{"operation":"list","payload":{"Limit":100}}`
	for {
		r := inProcess(t, st.Handler(), body)
		m := r.json(t)
		for _, it := range m["Items"].([]any) {
			all = append(all, it.(map[string]any)["id"].(string))
		}
		lek, ok := m["LastEvaluatedKey"].(map[string]any)
		if !ok {
			break
		}
		body = fmt.Sprintf(`{"operation":"list","payload":{"Limit":100,"ExclusiveStartKey":{"id":%q}}}`, lek["id"])
	}
	return strings.Join(all, ",")
}

// TestJournalRecovery covers replay, compaction and the torn-tail and
// corruption rules.
func TestJournalRecovery(t *testing.T) {
	t.Parallel()
	journal := func(dir string) string { return filepath.Join(dir, store.JournalFile) }

	t.Run("replay and compact", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 3)
		st.Close()
		if b, _ := os.ReadFile(journal(dir)); bytes.Count(b, []byte("\n")) != 3 {
			t.Fatalf("journal has %q", b)
		}
		st = openDir(t, dir, nil)
		defer st.Close()
		if rec := st.Recovery(); rec.Items != 3 || rec.JournalRecords != 3 || !rec.Compacted {
			t.Errorf("recovery %+v", rec)
		}
		if b, _ := os.ReadFile(journal(dir)); len(b) != 0 {
			t.Errorf("journal not emptied after compaction: %q", b)
		}
		snap, _ := os.ReadFile(filepath.Join(dir, store.SnapshotFile))
		if bytes.Count(snap, []byte("\n")) != 4 || !bytes.Contains(snap, []byte(`{"format":"ddbops-local","version":1,"table":"lambda-apigateway"}`)) {
			t.Errorf("snapshot:\n%s", snap)
		}
		if got := ids(t, st); got != "0,1,2" {
			t.Errorf("ids %s", got)
		}
	})

	t.Run("torn tail is dropped with a warning", func(t *testing.T) {
		t.Parallel()
		for _, tail := range []string{
			`0000ab`,                    // partial frame
			`7c9ac2b1 {"put":{"id":{"S`, // partial record
			"deadbeef {\"put\":{\"id\":{\"S\":\"x\"}}}\n", // complete line, bad checksum
			"\x00\x00\x00\x00\x00\x00",                    // zeroed extent
		} {
			dir := t.TempDir()
			st := openDir(t, dir, nil)
			putN(t, st, 0, 2)
			st.Close()
			f, _ := os.OpenFile(journal(dir), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(tail)
			f.Close()
			var logw testenv.SyncBuffer
			st = openDir(t, dir, &logw)
			if rec := st.Recovery(); !rec.TornTail || rec.Items != 2 {
				t.Errorf("tail %q: recovery %+v", tail, rec)
			}
			if !strings.Contains(logw.String(), "warning: journal "+journal(dir)+": dropped a torn last record (record 3") {
				t.Errorf("tail %q: log %q", tail, logw.String())
			}
			if got := ids(t, st); got != "0,1" {
				t.Errorf("tail %q: ids %s", tail, got)
			}
			st.Close()
		}
	})

	t.Run("corruption before the last record is an error", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 3)
		st.Close()
		b, _ := os.ReadFile(journal(dir))
		lines := strings.SplitAfter(string(b), "\n")
		lines[1] = strings.Replace(lines[1], `"v"`, `"w"`, 1) // checksum no longer matches
		os.WriteFile(journal(dir), []byte(strings.Join(lines, "")), 0o600)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
		want := fmt.Sprintf("replay journal %s: record 2 (byte offset %d): bad checksum", journal(dir), len(lines[0]))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Open = %v, want %q", err, want)
		}
		var ce *CorruptJournalError
		if !errors.As(err, &ce) || ce.Offset != len(lines[0]) || ce.Record != 2 || ce.Path != journal(dir) {
			t.Fatalf("want a *CorruptJournalError at record 2, offset %d; got %#v", len(lines[0]), err)
		}
		// Nothing was changed: the same error again, data still there.
		if b2, _ := os.ReadFile(journal(dir)); !bytes.Equal(b2, []byte(strings.Join(lines, ""))) {
			t.Error("a failed replay modified the journal")
		}
	})

	t.Run("valid checksum but bad record is an error", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		st.Close()
		os.WriteFile(journal(dir), frame(`{"put":{"name":{"S":"no id"}}}`), 0o600)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
		if err == nil || !strings.Contains(err.Error(), `record 1 (byte offset 0): item has no string attribute "id"`) {
			t.Fatalf("Open = %v", err)
		}
	})

	t.Run("snapshot corruption and table mismatch are errors", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 2)
		st.Close()
		st = openDir(t, dir, nil) // compacts
		st.Close()
		if _, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, TableName: "other", LockWait: 10 * time.Second})); err == nil ||
			!strings.Contains(err.Error(), `the data dir holds table "lambda-apigateway", not "other"`) {
			t.Errorf("table mismatch: %v", err)
		}
		snap := filepath.Join(dir, store.SnapshotFile)
		b, _ := os.ReadFile(snap)
		os.WriteFile(snap, b[:len(b)-5], 0o600) // a snapshot is never torn: it is renamed into place
		if _, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second})); err == nil ||
			!strings.Contains(err.Error(), "read snapshot "+snap+": record 3") {
			t.Errorf("torn snapshot: %v", err)
		}
	})

	t.Run("crash after the new snapshot, before the journal is emptied", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 3)
		inProcess(t, st.Handler(), `{"operation":"delete","payload":{"Key":{"id":"1"}}}`)
		inProcess(t, st.Handler(), `{"operation":"update","payload":{"Key":{"id":"2"},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":99}}}`)
		st.Close()
		old, _ := os.ReadFile(journal(dir))
		st = openDir(t, dir, nil) // writes the merged snapshot, empties the journal
		st.Close()
		// Put the old journal back: as if the crash came between rename
		// and truncate. Replaying it over the new snapshot is idempotent.
		os.WriteFile(journal(dir), old, 0o600)
		os.WriteFile(filepath.Join(dir, store.SnapshotFile+".tmp"), []byte("half-written garbage"), 0o600)
		st = openDir(t, dir, nil)
		defer st.Close()
		if got := ids(t, st); got != "0,2" {
			t.Errorf("ids %s", got)
		}
		r := inProcess(t, st.Handler(), `{"operation":"read","payload":{"Key":{"id":"2"}}}`)
		if !strings.Contains(string(r.body), `"v":99`) {
			t.Errorf("item 2: %s", r.body)
		}
	})
}

// TestJournalFailureStopsAcknowledging: a failed write or sync fails the
// request in flight with a 500, fails everything after it, and makes
// Serve return the error.
func TestJournalFailureStopsAcknowledging(t *testing.T) {
	t.Parallel()
	var logw testenv.SyncBuffer
	st, err := Open(context.Background(), withNames(Options{DataDir: t.TempDir(), Auth: wire.AuthNone, Log: &logw}))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveStack(t, st)
	if r := post(t, srv.info.URL, tutorialCreate); r.status != 200 {
		t.Fatalf("create: %d", r.status)
	}
	// The disk fills up.
	st.mu.Lock()
	st.syncFile = func(*os.File) error { return syscall.ENOSPC }
	st.mu.Unlock()
	r := post(t, srv.info.URL, `{"operation":"create","payload":{"Item":{"id":"2"}}}`)
	if r.status != 500 || strings.Contains(string(r.body), "no space") {
		t.Fatalf("write on a full disk: %d %s", r.status, r.body)
	}
	err = srv.stop()
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Serve/Close = %v, want the journal error", err)
	}
	if !strings.Contains(logw.String(), "request failed") {
		t.Errorf("the failure was not logged: %q", logw.String())
	}
	// Reads and writes fail too until a restart.
	if r := inProcess(t, st.Handler(), tutorialRead); r.status != 500 {
		t.Errorf("read after failure: %d %s", r.status, r.body)
	}
	if r := inProcess(t, st.Handler(), `{"operation":"create","payload":{"Item":{"id":"3"}}}`); r.status != 500 {
		t.Errorf("write after failure: %d", r.status)
	}
}

// TestUnwritableDataDir: a data dir that cannot be written fails Open
// with a clear error.
func TestUnwritableDataDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	_, err := Open(context.Background(), withNames(Options{DataDir: filepath.Join(file, "sub"), Auth: wire.AuthNone}))
	if err == nil || !strings.Contains(err.Error(), "open data dir "+filepath.Join(file, "sub")) {
		t.Errorf("data dir under a file: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not make a directory read-only")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	_, err = Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("read-only data dir: %v", err)
	}
}

func TestDataDirGetsGitignore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	st := openDir(t, dir, nil)
	st.Close()
	b, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil || !strings.Contains(string(b), "\n*\n") {
		t.Fatalf(".gitignore = %q, %v; want one ignoring everything", b, err)
	}
}
