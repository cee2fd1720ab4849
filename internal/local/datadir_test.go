package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/legacy"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// openDir opens the stack of dir (auth none).
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
	for _, it := range items(t, st) {
		all = append(all, it["id"].(string))
	}
	return strings.Join(all, ",")
}

// items lists every item of st through its handler, page by page.
func items(t *testing.T, st *Stack) []map[string]any {
	t.Helper()
	var all []map[string]any
	body := `{"operation":"list","payload":{"Limit":7}}`
	for {
		r := inProcess(t, st.Handler(), body)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		page := r.json(t)
		for _, it := range page["Items"].([]any) {
			all = append(all, it.(map[string]any))
		}
		lek, ok := page["LastEvaluatedKey"].(map[string]any)
		if !ok {
			return all
		}
		body = fmt.Sprintf(`{"operation":"list","payload":{"Limit":7,"ExclusiveStartKey":{"id":%q}}}`, lek["id"])
	}
}

// copyLegacy copies the data dir the journal + snapshot release wrote
// (testdata/legacy-v1) into a new data dir.
func copyLegacy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{legacy.SnapshotFile, legacy.JournalFile} {
		b, err := os.ReadFile(filepath.Join("testdata", "legacy-v1", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func expectedLegacyItems(t *testing.T) []map[string]any {
	t.Helper()
	var want struct{ Items []map[string]any }
	b, err := os.ReadFile(filepath.Join("testdata", "legacy-v1", "expected.json"))
	if err != nil || json.Unmarshal(b, &want) != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return want.Items
}

// TestUpgradeFromJournalFormat opens a data dir written by the journal +
// snapshot release: its items are imported once, in one transaction, and
// served exactly as that release served them; the old files are gone and
// the user is told in one line.
func TestUpgradeFromJournalFormat(t *testing.T) {
	t.Parallel()
	dir := copyLegacy(t)
	var logw testenv.SyncBuffer
	st := openDir(t, dir, &logw)
	want := expectedLegacyItems(t)
	if got := items(t, st); !reflect.DeepEqual(got, want) {
		t.Fatalf("imported items differ:\n got %v\nwant %v", got, want)
	}
	r := inProcess(t, st.Handler(), `{"operation":"read","payload":{"Key":{"id":"2"}}}`)
	if !strings.Contains(string(r.body), `"big":12345678901234567890.123456789`) {
		t.Errorf("a number lost digits in the import: %s", r.body)
	}
	line := fmt.Sprintf("ddbops local: data dir %s: imported 30 items from the journal format into data.db; the old snapshot and journal are removed\n", dir)
	if logw.String() != line {
		t.Errorf("log %q, want the one line %q", logw.String(), line)
	}
	if rec := st.Recovery(); rec.Items != 30 || rec.Imported != 30 || rec.JournalRecords != 12 {
		t.Errorf("recovery %+v", rec)
	}
	st.Close()
	for _, name := range []string{legacy.SnapshotFile, legacy.JournalFile, legacy.SnapshotFile + legacy.RenamedSuffix, legacy.JournalFile + legacy.RenamedSuffix} {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after the import", name)
		}
	}
	logw.Reset()
	st = openDir(t, dir, &logw)
	defer st.Close()
	if logw.Len() != 0 || st.Recovery().Imported != 0 || st.Recovery().Items != 30 {
		t.Errorf("second start: log %q, recovery %+v", logw.String(), st.Recovery())
	}
}

// TestUpgradeResumes: a crash after the rename and before the commit
// imports from the renamed files; one after the commit only removes them.
func TestUpgradeResumes(t *testing.T) {
	t.Parallel()
	t.Run("before the commit", func(t *testing.T) {
		t.Parallel()
		dir := copyLegacy(t)
		for _, n := range []string{legacy.SnapshotFile, legacy.JournalFile} {
			if err := os.Rename(filepath.Join(dir, n), filepath.Join(dir, n+legacy.RenamedSuffix)); err != nil {
				t.Fatal(err)
			}
		}
		st := openDir(t, dir, nil)
		defer st.Close()
		if got := items(t, st); !reflect.DeepEqual(got, expectedLegacyItems(t)) {
			t.Fatalf("resumed import: %d items", len(got))
		}
		if _, err := os.Lstat(filepath.Join(dir, legacy.JournalFile+legacy.RenamedSuffix)); !errors.Is(err, os.ErrNotExist) {
			t.Error("renamed journal left behind")
		}
	})
	t.Run("after the commit", func(t *testing.T) {
		t.Parallel()
		dir := copyLegacy(t)
		st := openDir(t, dir, nil)
		st.Close()
		// As if the crash came before the removal: the renamed files are
		// back (with a record more, which must not be imported again).
		b, _ := os.ReadFile(filepath.Join("testdata", "legacy-v1", legacy.JournalFile))
		b = append(b, frame(`{"put":{"id":{"S":"extra"}}}`)...)
		os.WriteFile(filepath.Join(dir, legacy.JournalFile+legacy.RenamedSuffix), b, 0o600)
		st = openDir(t, dir, nil)
		defer st.Close()
		if st.Recovery().Items != 30 || strings.Contains(ids(t, st), "extra") {
			t.Fatalf("the renamed journal was imported again: %d items", st.Recovery().Items)
		}
		if _, err := os.Lstat(filepath.Join(dir, legacy.JournalFile+legacy.RenamedSuffix)); !errors.Is(err, os.ErrNotExist) {
			t.Error("renamed journal left behind")
		}
	})
	t.Run("journal files next to a database with items", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 1)
		st.Close()
		os.WriteFile(filepath.Join(dir, legacy.JournalFile), frame(`{"put":{"id":{"S":"x"}}}`), 0o600)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, LockWait: 10 * time.Second}))
		if err == nil || !strings.Contains(err.Error(), "holds both data.db with 1 items and journal-format files (journal): move one of them away") {
			t.Fatalf("Open = %v", err)
		}
	})
}

// TestUpgradeRefusesDamage: a damaged journal record before the last one
// stops the import with the old release's error, changing nothing; a
// torn last record is dropped with a warning (it was never
// acknowledged); a snapshot of another table is refused.
func TestUpgradeRefusesDamage(t *testing.T) {
	t.Parallel()
	t.Run("corrupt record", func(t *testing.T) {
		t.Parallel()
		dir := copyLegacy(t)
		jpath := filepath.Join(dir, legacy.JournalFile)
		b, _ := os.ReadFile(jpath)
		lines := strings.SplitAfter(string(b), "\n")
		lines[1] = strings.Replace(lines[1], `"n"`, `"w"`, 1)
		os.WriteFile(jpath, []byte(strings.Join(lines, "")), 0o600)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
		var ce *CorruptJournalError
		if !errors.As(err, &ce) || ce.Record != 2 || ce.Offset != len(lines[0]) || ce.Path != jpath {
			t.Fatalf("Open = %v, want a *CorruptJournalError at record 2 of %s", err, jpath)
		}
		if now, _ := os.ReadFile(jpath); string(now) != strings.Join(lines, "") {
			t.Error("the refused import changed the journal")
		}
	})
	t.Run("torn last record", func(t *testing.T) {
		t.Parallel()
		dir := copyLegacy(t)
		f, _ := os.OpenFile(filepath.Join(dir, legacy.JournalFile), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`7c9ac2b1 {"put":{"id":{"S`)
		f.Close()
		var logw testenv.SyncBuffer
		st := openDir(t, dir, &logw)
		defer st.Close()
		if st.Recovery().Items != 30 || !strings.Contains(logw.String(), "dropped a torn last record (record 13") {
			t.Fatalf("items %d, log %q", st.Recovery().Items, logw.String())
		}
	})
	t.Run("other table", func(t *testing.T) {
		t.Parallel()
		dir := copyLegacy(t)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, TableName: "other"}))
		if err == nil || !strings.Contains(err.Error(), `the data dir holds table "lambda-apigateway", not "other"`) {
			t.Fatalf("Open = %v", err)
		}
	})
}

// TestDamagedDatabase: a record whose bytes changed is an error at Open
// naming the file, never fewer items; found by the background check
// instead, it turns every answer into a 503 until a restart.
func TestDamagedDatabase(t *testing.T) {
	t.Parallel()
	damaged := func(t *testing.T) string {
		dir := t.TempDir()
		st := openDir(t, dir, nil)
		putN(t, st, 0, 50)
		st.Close()
		path := filepath.Join(dir, store.DBFile)
		b, _ := os.ReadFile(path)
		enc, err := engine.EncodeItem(map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: "17"}, "v": &types.AttributeValueMemberN{Value: "17"}})
		if err != nil {
			t.Fatal(err)
		}
		// Every copy (free pages hold older versions of the leaf too).
		n := 0
		for i := bytes.Index(b, enc); i >= 0; i = bytes.Index(b, enc) {
			b[i+len(enc)-1] ^= 1 // the number's last digit: 17 becomes 16
			n++
		}
		if n == 0 {
			t.Fatal("item 17 not found in the file")
		}
		os.WriteFile(path, b, 0o600)
		return dir
	}
	t.Run("at Open", func(t *testing.T) {
		t.Parallel()
		dir := damaged(t)
		_, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
		var de *DamagedError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "database "+filepath.Join(dir, store.DBFile)+" is damaged") {
			t.Fatalf("Open = %v", err)
		}
	})
	t.Run("in the background", func(t *testing.T) {
		t.Parallel()
		dir := damaged(t)
		var logw testenv.SyncBuffer
		st, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone, Log: &logw, checkInline: -1}))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := inProcess(t, st.Handler(), tutorialList)
			if r.status == 503 {
				if !strings.Contains(string(r.body), "database is damaged") {
					t.Errorf("503 body %s", r.body)
				}
				break
			}
			if r.status != 200 || time.Now().After(deadline) {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, body := range []string{tutorialRead, tutorialCreate, `{"operation":"ping"}`} {
			if r := inProcess(t, st.Handler(), body); r.status != 503 {
				t.Errorf("%s: %d %s, want 503", body, r.status, r.body)
			}
		}
		if !strings.Contains(logw.String(), "is damaged") {
			t.Errorf("log %q", logw.String())
		}
	})
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

// TestDataDirGetsGitignore: a data dir ddbops creates gets a .gitignore
// of its own listing its files (and itself), and git sees nothing in it.
func TestDataDirGetsGitignore(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	git := gitIn(t, repo)
	git("init", "-q")
	dir := filepath.Join(repo, ".ddbops", "local")
	st, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthAPIKey}))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveStack(t, st)
	if r := do(t, "POST", srv.info.URL, tutorialCreate, map[string]string{"x-api-key": st.APIKey()}); r.status != 200 {
		t.Fatalf("create: %d", r.status)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil || !strings.HasPrefix(string(b), "# written by ddbops") || !strings.Contains(string(b), "\n/data.db\n") || !strings.Contains(string(b), "\n/.gitignore\n") {
		t.Fatalf(".gitignore = %q, %v", b, err)
	}
	if out := git("status", "--porcelain", "--untracked-files=all"); out != "" {
		t.Errorf("git status shows the data dir while serving:\n%s", out)
	}
}

// gitIn returns a runner of git in dir (skipping the test without git).
func gitIn(t *testing.T, dir string) func(args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found")
	}
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
}
