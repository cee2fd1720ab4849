package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// snapshotDir returns the database and witness of dir.
func snapshotDir(t *testing.T, dir string) (db, wit []byte) {
	t.Helper()
	db, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	wit, err = os.ReadFile(filepath.Join(dir, WitnessFile))
	if err != nil {
		t.Fatal(err)
	}
	return db, wit
}

func writeDir(t *testing.T, db, wit []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DBFile), db, 0o600); err != nil {
		t.Fatal(err)
	}
	if wit != nil {
		if err := os.WriteFile(filepath.Join(dir, WitnessFile), wit, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFlippedBytes flips one byte at a time all over a database file and
// opens the copy: Open either refuses it with a *DamagedError naming the
// file, changing nothing, or serves exactly the items that were written
// (a flip in free space or in the slack of a page is harmless). With the
// check in the background, every read either fails or is right: never a
// wrong value, never an absent item, never a short scan.
func TestFlippedBytes(t *testing.T) {
	t.Parallel()
	good := t.TempDir()
	fill(t, good, 300)
	db, wit := snapshotDir(t, good)
	s := open(t, good, Options{})
	want, err := all(t, s, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wantCount := s.Count()
	s.Close()

	// Flip bytes of the pages in use (below the high-water mark): past it
	// the file is unallocated.
	f, err := os.Open(filepath.Join(good, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	m0, m1, err := readMetas(f, int64(len(db)))
	f.Close()
	m, ok := inForce(m0, m1)
	if err != nil || !ok {
		t.Fatal(err)
	}
	used := int(m.hwm) * int(m.pageSize)
	step := 29
	if testing.Short() {
		step = 97
	}
	var detected, harmless, background int
	for off := 0; off < used; off += step {
		bad := slices.Clone(db)
		bad[off] ^= 0x10
		if off%5 == 0 {
			bad[off] ^= 0xef // a whole-byte change now and then
		}
		dir := writeDir(t, bad, wit)
		s, err := Open(dir, Options{Table: table})
		if err != nil {
			var de *DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), filepath.Join(dir, DBFile)) {
				t.Fatalf("offset %d: Open = %v, want a *DamagedError naming the file", off, err)
			}
			if now, _ := os.ReadFile(filepath.Join(dir, DBFile)); !bytes.Equal(now, bad) {
				t.Fatalf("offset %d: a refused Open changed the file", off)
			}
			detected++
			continue
		}
		got, err := all(t, s, 7)
		if err != nil || !slices.Equal(got, want) || s.Count() != wantCount {
			t.Fatalf("offset %d: opened, and then served %d items (err %v), want the %d written", off, len(got), err, len(want))
		}
		s.Close()
		harmless++

		// The same damage, found by the background check.
		if off%3 != 0 {
			continue
		}
		dir = writeDir(t, bad, wit)
		s, err = Open(dir, Options{Table: table, CheckInline: -1})
		if err != nil {
			continue // preflight: meta pages and free list
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, ":")
			got, err := s.Get(context.Background(), []byte(k))
			if err == nil && string(got) != v {
				t.Fatalf("offset %d, background check: %s = %q, want %q or an error", off, k, got, v)
			}
		}
		if got, err := all(t, s, 50); err == nil && !slices.Equal(got, want) {
			t.Fatalf("offset %d, background check: a scan served %d items", off, len(got))
		}
		background++
		s.Close()
	}
	t.Logf("%d flips: %d refused at Open, %d harmless (free space, page slack), %d also opened with the check in the background", detected+harmless, detected, harmless, background)
	if detected == 0 {
		t.Fatal("no flip was detected")
	}
}

// TestMetaPages: a damaged newest meta page makes bbolt open the older
// one; the witness turns that into an error. A damaged older one (or one a
// crash tore) is served with a warning, since the newest commit is there.
func TestMetaPages(t *testing.T) {
	t.Parallel()
	good := t.TempDir()
	fill(t, good, 20)
	db, wit := snapshotDir(t, good)
	f, err := os.Open(filepath.Join(good, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	m0, m1, err := readMetas(f, int64(len(db)))
	f.Close()
	if err != nil || !m0.valid || !m1.valid {
		t.Fatalf("metas %+v %+v %v", m0, m1, err)
	}
	newest, older := m0, m1
	if m1.txid > m0.txid {
		newest, older = m1, m0
	}
	flip := func(m boltMeta) []byte {
		b := slices.Clone(db)
		b[m.page*int(m.pageSize)+pageHeaderLen+48] ^= 1 // in the txid
		return b
	}

	dir := writeDir(t, flip(newest), wit)
	_, err = Open(dir, Options{Table: table})
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "acknowledged commit") {
		t.Fatalf("newest meta page damaged: Open = %v", err)
	}
	t.Logf("newest meta page damaged: %v", err)

	var log bytes.Buffer
	dir = writeDir(t, flip(older), wit)
	s, err := Open(dir, Options{Table: table, Log: &log})
	if err != nil {
		t.Fatalf("older meta page damaged: %v", err)
	}
	if s.Count() != 21 || !strings.Contains(log.String(), "the last one acknowledged: serving it") {
		t.Fatalf("count %d, log %q", s.Count(), log.String())
	}
	put(t, s, "after", val("after", 1)) // overwrites the damaged page
	s.Close()
	log.Reset()
	s = open(t, dir, Options{Log: &log})
	if s.Count() != 22 || log.Len() != 0 {
		t.Fatalf("after a commit: count %d, log %q", s.Count(), log.String())
	}

	// Without the witness nothing tells a torn newest page from a
	// damaged one: refused.
	dir = writeDir(t, flip(older), nil)
	if _, err := Open(dir, Options{Table: table}); !errors.As(err, &de) || !strings.Contains(err.Error(), "no record of the last commit") {
		t.Fatalf("no witness: Open = %v", err)
	}
}
