package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const table = "lambda-apigateway"

// The tests store values of a fake encoding (the engine's is not needed:
// the store knows bytes).
func val(k string, v int) []byte { return fmt.Appendf(nil, "%s=%d", k, v) }

func open(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	if o.Table == "" {
		o.Table = table
	}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func put(t *testing.T, s *Store, key string, v []byte) {
	t.Helper()
	if err := s.Update(context.Background(), []byte(key), func([]byte) ([]byte, error) { return v, nil }); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	v, err := s.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v
}

// all returns every key=value of s in scan order, with pages of n.
func all(t *testing.T, s *Store, n int) ([]string, error) {
	t.Helper()
	var out []string
	var after []byte
	for {
		got := 0
		err := s.Scan(context.Background(), after, func(k, v []byte) (bool, error) {
			out = append(out, string(k)+":"+string(v))
			after = bytes.Clone(k)
			got++
			return got < n, nil
		})
		if err != nil {
			return out, err
		}
		if got < n {
			return out, nil
		}
	}
}

func TestStoreBasics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	ctx := context.Background()
	if v := get(t, s, "a"); v != nil {
		t.Fatalf("get of a missing key = %q", v)
	}
	put(t, s, "b", val("b", 1))
	put(t, s, "a", val("a", 1))
	put(t, s, "c", val("c", 1))
	// fn sees the current value, its own copy.
	err := s.Update(ctx, []byte("b"), func(old []byte) ([]byte, error) {
		if string(old) != "b=1" {
			return nil, fmt.Errorf("old = %q", old)
		}
		old[0] = 'X' // must not reach the store
		return val("b", 2), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An error from fn stores nothing and comes back as is.
	sentinel := errors.New("condition failed")
	if err := s.Update(ctx, []byte("a"), func([]byte) ([]byte, error) { return val("a", 9), sentinel }); err != sentinel {
		t.Fatalf("Update = %v, want the sentinel itself", err)
	}
	// A panicking fn fails its call only.
	if err := s.Update(ctx, []byte("a"), func([]byte) ([]byte, error) { panic("engine bug") }); err == nil || s.Err() != nil {
		t.Fatalf("panicking fn: Update = %v, store Err = %v", err, s.Err())
	}
	// nil deletes; deleting an absent key is fine.
	if err := s.Update(ctx, []byte("c"), func([]byte) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, []byte("zz"), func([]byte) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := all(t, s, 1); strings.Join(got, ",") != "a:a=1,b:b=2" {
		t.Fatalf("scan = %v", got)
	}
	if s.Count() != 2 {
		t.Fatalf("Count = %d", s.Count())
	}
	// Scan after a key that is not there starts at the next one.
	var keys []string
	_ = s.Scan(ctx, []byte("aa"), func(k, _ []byte) (bool, error) { keys = append(keys, string(k)); return true, nil })
	if strings.Join(keys, ",") != "b" {
		t.Fatalf("scan after aa = %v", keys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, []byte("a"), func([]byte) ([]byte, error) { return nil, nil }); err == nil {
		t.Fatal("Update after Close succeeded")
	}

	s = open(t, dir, Options{})
	if got, _ := all(t, s, 10); strings.Join(got, ",") != "a:a=1,b:b=2" || s.Count() != 2 {
		t.Fatalf("after reopen: %v, count %d", got, s.Count())
	}
	if !s.CheckedInline() {
		t.Error("a small file was not checked before Open returned")
	}
	s.Close()
	if _, err := Open(dir, Options{Table: "other"}); err == nil || !strings.Contains(err.Error(), `the data dir holds table "lambda-apigateway", not "other"`) {
		t.Fatalf("other table: %v", err)
	}
}

// TestConcurrentUpdates: many writers' read-modify-writes of shared
// counters interleave without a lost update, batched into fewer commits.
func TestConcurrentUpdates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	const writers, each, counters = 16, 50, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := []byte("counter-" + strconv.Itoa((w+i)%counters))
				err := s.Update(context.Background(), key, func(old []byte) ([]byte, error) {
					n := 0
					if old != nil {
						n, _ = strconv.Atoi(string(old))
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for c := range counters {
		n, _ := strconv.Atoi(string(get(t, s, "counter-"+strconv.Itoa(c))))
		total += n
	}
	if total != writers*each {
		t.Fatalf("counters sum to %d, want %d", total, writers*each)
	}
	s.Close()
	s = open(t, dir, Options{})
	if s.Count() != counters {
		t.Fatalf("count %d", s.Count())
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	n, err := s.Import("test: 3 items", func(put func(k, v []byte) error) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := put([]byte(k), val(k, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Import = %d, %v", n, err)
	}
	if _, err := s.Import("again", func(func(k, v []byte) error) error { return nil }); err == nil {
		t.Fatal("a second import was accepted")
	}
	s.Close()
	s = open(t, dir, Options{})
	if s.Imported() != "test: 3 items" || s.Count() != 3 {
		t.Fatalf("after reopen: imported %q, count %d", s.Imported(), s.Count())
	}

	// A failing fill stores nothing.
	dir2 := t.TempDir()
	s2 := open(t, dir2, Options{})
	boom := errors.New("boom")
	if _, err := s2.Import("x", func(put func(k, v []byte) error) error {
		_ = put([]byte("a"), val("a", 1))
		return boom
	}); err != boom {
		t.Fatalf("Import = %v", err)
	}
	if s2.Count() != 0 || s2.Imported() != "" || get(t, s2, "a") != nil || s2.Err() != nil {
		t.Fatal("a failed import left something behind")
	}
}

func TestClassifyCommit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: "f", Err: errors.New("no space left on device")}, "write"},
		{errors.New("file resize error: no space left on device"), "write"},
		{errors.New("input/output error"), "failed"},
		{errors.New("file sync error: input/output error"), "failed"},
	} {
		err := classifyCommit("/d/data.db", tt.err)
		var we *WriteError
		var fe *FailedError
		got := ""
		switch {
		case errors.As(err, &we):
			got = "write"
		case errors.As(err, &fe):
			got = "failed"
		}
		if got != tt.want {
			t.Errorf("%v: %T, want %s", tt.err, err, tt.want)
		}
	}
}

// fill writes n items and closes the store.
func fill(t *testing.T, dir string, n int) {
	t.Helper()
	s := open(t, dir, Options{})
	for i := range n {
		k := fmt.Sprintf("k%04d", i)
		put(t, s, k, bytes.Repeat(val(k, i), 1+i%7))
	}
	// One large value (overflow pages).
	put(t, s, "big", bytes.Repeat([]byte("x"), 20000))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMissingDatabaseWithWitness(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fill(t, dir, 3)
	if err := os.Remove(filepath.Join(dir, DBFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{Table: table})
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "is missing or empty") || !strings.Contains(err.Error(), "remove "+filepath.Join(dir, WitnessFile)) {
		t.Fatalf("Open = %v", err)
	}
	// A zero-filled file is no database either.
	if err := os.WriteFile(filepath.Join(dir, DBFile), make([]byte, 16384), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Table: table}); !errors.As(err, &de) {
		t.Fatalf("zero-filled: %v", err)
	}
}

func TestSymlinkedDatabase(t *testing.T) {
	t.Parallel()
	dir, elsewhere := t.TempDir(), t.TempDir()
	fill(t, elsewhere, 1)
	if err := os.Symlink(filepath.Join(elsewhere, DBFile), filepath.Join(dir, DBFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{Table: table})
	var le *LinkError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("Open = %v", err)
	}
}

// TestFailedBatchFailsEveryCall: when a batch cannot commit (here: the
// store failed before it ran), no call of it is acknowledged, including
// those whose function never ran.
func TestFailedBatchFailsEveryCall(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir(), Options{})
	ran := 0
	mk := func(k string) *call {
		return &call{key: []byte(k), done: make(chan struct{}), fn: func([]byte) ([]byte, error) { ran++; return []byte("v"), nil }}
	}
	batch := []*call{mk("a"), mk("b")}
	failure := errors.New("disk gone")
	s.setBad(failure)
	s.commit(batch)
	for _, c := range batch {
		<-c.done
		if c.err != failure {
			t.Errorf("call %s: err %v, want the store's failure", c.key, c.err)
		}
	}
	if ran != 0 {
		t.Errorf("%d functions ran on a failed store", ran)
	}
}
