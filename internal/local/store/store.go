// Package store is the local stack's durable store: the data dir's lock
// and one table's items in a bbolt database (docs/local-storage.md), an
// ordered key→bytes map with a transaction per acknowledged write, fsync
// on commit and group commit. Every record carries its own checksum, the
// whole file is verified at start (or in the background when large), and
// damage is reported, never served. It knows keys and bytes, not items
// or expressions, and nothing of HTTP.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultCheckInline is the largest database file Open verifies before it
// returns; a larger one is verified in the background.
const DefaultCheckInline = 64 << 20

const (
	formatVersion = "1"
	// maxBatch bounds the writes that share one transaction (and one
	// fsync): writers block until their batch commits, so a batch never
	// holds more than the writers waiting at once.
	maxBatch = 256
	// boltTimeout bounds the wait for bbolt's own flock of the file,
	// which the data dir lock already makes uncontended.
	boltTimeout = 5 * time.Second
)

// Keys of the meta bucket.
var (
	metaFormat   = []byte("format")   // formatVersion
	metaTable    = []byte("table")    // the table the data dir holds
	metaID       = []byte("id")       // 16 random bytes naming this file (witness.go)
	metaCount    = []byte("count")    // items, uint64 LE, updated by every write
	metaImported = []byte("imported") // what Import brought in, once
)

// Options configures Open.
type Options struct {
	// Table is the table the data dir holds: recorded when the database is
	// created, and Open refuses a database of another table.
	Table string
	// Log receives warnings (one line each); nil discards them.
	Log io.Writer
	// CheckInline is the largest file verified before Open returns
	// (0: DefaultCheckInline; negative: always in the background).
	CheckInline int64
}

// Store is one table's items in <data-dir>/data.db. It implements the
// engine's Store: Get, Update and Scan are safe for concurrent use;
// concurrent Updates share a transaction and its fsync (group commit).
type Store struct {
	path    string
	db      *bolt.DB
	wit     *witness
	fileID  [16]byte
	log     io.Writer
	count   atomic.Int64
	imports string

	bad atomic.Pointer[error] // the first damage or sync failure: sticky

	mu      sync.Mutex
	pending []*call
	closed  bool
	kick    chan struct{}
	done    chan struct{} // closed when the committer exits

	checked     chan struct{} // closed once the check has run
	checkStop   chan struct{}
	checkDone   chan struct{}
	checkInline bool

	closeOnce sync.Once
	closeErr  error
}

// call is one Update waiting for its batch.
type call struct {
	key  []byte
	fn   func(old []byte) ([]byte, error)
	ok   bool // fn succeeded: the batch's outcome is the call's
	err  error
	done chan struct{}
}

// Open opens (or creates) the database of the data dir dir, which the
// caller has locked (LockDir), and verifies it (see Options.CheckInline).
// A damaged file is a *DamagedError; nothing is changed then.
func Open(dir string, o Options) (*Store, error) {
	if o.Table == "" {
		return nil, errors.New("store: no table given")
	}
	limit := o.CheckInline
	if limit == 0 {
		limit = DefaultCheckInline
	}
	s := &Store{
		path:      filepath.Join(dir, DBFile),
		log:       o.Log,
		kick:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		checked:   make(chan struct{}),
		checkStop: make(chan struct{}),
		checkDone: make(chan struct{}),
	}
	wpath := filepath.Join(dir, WitnessFile)
	wit, haveWit, err := readWitness(wpath)
	if err != nil {
		return nil, err
	}
	size, err := fileSize(s.path)
	if err != nil {
		return nil, err
	}
	fresh := size == 0
	if fresh && haveWit {
		return nil, &DamagedError{Path: s.path,
			Why: fmt.Sprintf("the file is missing or empty, but this data dir acknowledged commit %d of it", wit.txid),
			Fix: fmt.Sprintf("restore the file from a copy, or remove %s to start with an empty database", wpath)}
	}

	var inForceMeta boltMeta
	var otherBad string
	s.checkInline = fresh // nothing to check yet
	if !fresh {
		m, other, err := s.preflight(size, limit)
		if err != nil {
			return nil, err
		}
		inForceMeta, otherBad = m, other
		s.checkInline = limit >= 0 && size <= limit
	}

	bo := &bolt.Options{
		Timeout:      boltTimeout,
		FreelistType: bolt.FreelistMapType,
		OpenFile:     OpenFile,
	}
	if !s.checkInline && size > 0 {
		// A background check holds a read transaction for a while; a
		// remap (a file outgrowing its mapping) would wait for it, and
		// every transaction behind the remap with it.
		bo.InitialMmapSize = int(2 * size)
	}
	if err := s.safely(func() error {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		db, err := bolt.Open(s.path, 0o600, bo)
		if err != nil {
			return err
		}
		s.db = db
		return nil
	}); err != nil {
		return nil, s.openErr(err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = s.safely(s.db.Close)
		}
	}()

	txid, err := s.loadMeta(fresh, o.Table)
	if err != nil {
		return nil, err
	}
	if !fresh {
		if err := s.compareWitness(wpath, wit, haveWit, txid, inForceMeta, otherBad); err != nil {
			return nil, err
		}
	}
	if s.wit, err = openWitness(wpath); err != nil {
		return nil, err
	}
	if err := s.wit.record(s.fileID, txid); err != nil {
		_ = s.wit.f.Close()
		return nil, fmt.Errorf("%s: %w", wpath, err)
	}
	if !haveWit {
		// Created now: make its existence durable, so that after a power
		// loss its absence means the file was deleted.
		if err := syncCreated(s.wit.f, dir); err != nil {
			_ = s.wit.f.Close()
			return nil, err
		}
	}

	if fresh || s.checkInline {
		close(s.checked)
		close(s.checkDone)
	} else {
		go s.checkBackground()
	}
	go s.run()
	ok = true
	return s, nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case st.Mode()&fs.ModeSymlink != 0:
		return 0, &LinkError{Path: path}
	case !st.Mode().IsRegular():
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return st.Size(), nil
}

// preflight reads the meta pages and, for a file of at most limit bytes,
// verifies the whole file; for a larger one only what bbolt.Open reads
// (the free list), so that Open cannot be made to allocate or follow
// something absurd. It returns the meta page in force and why the other
// one is not valid ("" when it is).
func (s *Store) preflight(size, limit int64) (boltMeta, string, error) {
	f, err := OpenFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		return boltMeta{}, "", err
	}
	defer f.Close()
	m0, m1, err := readMetas(f, size)
	if err != nil {
		return boltMeta{}, "", fmt.Errorf("read %s: %w", s.path, err)
	}
	m, ok := inForce(m0, m1)
	if !ok {
		return boltMeta{}, "", &DamagedError{Path: s.path, Why: fmt.Sprintf("neither meta page is valid (page 0 %s, page 1 %s)", m0.why, m1.why)}
	}
	other := m0
	if m.page == 0 {
		other = m1
	}
	otherBad := ""
	if !other.valid {
		otherBad = other.why
	}
	if limit >= 0 && size <= limit {
		_, err = s.verify(f, m, nil)
	} else {
		err = s.verifyFreelist(f, m)
	}
	return m, otherBad, err
}

// verify checks state m of f and the record count against the meta
// bucket's.
func (s *Store) verify(f *os.File, m boltMeta, stop <-chan struct{}) (res checkResult, err error) {
	err = s.safely(func() error {
		var err error
		res, err = checkFile(f, m, stop)
		return err
	})
	var d *damage
	if errors.As(err, &d) {
		return res, &DamagedError{Path: s.path, Why: d.why}
	}
	if err != nil {
		return res, err
	}
	if c, ok := res.meta[string(metaCount)]; !ok || len(c) != 8 || int64(binary.LittleEndian.Uint64(c)) != res.items {
		return res, &DamagedError{Path: s.path, Why: fmt.Sprintf("it holds %d items, not the number its meta bucket records", res.items)}
	}
	return res, nil
}

func (s *Store) verifyFreelist(f *os.File, m boltMeta) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := &checker{f: f, size: st.Size(), pageSize: uint64(m.pageSize), hwm: m.hwm}
	if c.hwm > uint64(c.size)/c.pageSize {
		return &DamagedError{Path: s.path, Why: fmt.Sprintf("the file is shorter (%d bytes) than its %d pages", c.size, c.hwm)}
	}
	c.reach, c.free = newBitmap(c.hwm), newBitmap(c.hwm)
	err = s.safely(func() error {
		if m.freelist == noFreelist {
			return damagef("meta page %d names no free list", m.page)
		}
		return c.freelist(m.freelist)
	})
	var d *damage
	if errors.As(err, &d) {
		return &DamagedError{Path: s.path, Why: d.why}
	}
	return err
}

// openErr names the file in what bbolt.Open returned.
func (s *Store) openErr(err error) error {
	var de *DamagedError
	var le *LinkError
	if errors.As(err, &de) || errors.As(err, &le) {
		return err
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return &DamagedError{Path: s.path, Why: err.Error()}
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("open %s: another process holds the file", s.path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("open %s: %w", s.path, err)
}

// loadMeta creates the buckets of a fresh database, or reads and checks
// the meta bucket of an existing one; it returns the txid in force.
func (s *Store) loadMeta(fresh bool, table string) (txid uint64, err error) {
	if fresh {
		if _, err := rand.Read(s.fileID[:]); err != nil {
			return 0, err
		}
		err = s.safely(func() error {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			return s.db.Update(func(tx *bolt.Tx) error {
				items, err := tx.CreateBucket(bucketItems)
				if err != nil {
					return err
				}
				_ = items
				meta, err := tx.CreateBucket(bucketMeta)
				if err != nil {
					return err
				}
				for _, kv := range [][2][]byte{
					{metaFormat, []byte(formatVersion)},
					{metaTable, []byte(table)},
					{metaID, s.fileID[:]},
					{metaCount, binary.LittleEndian.AppendUint64(nil, 0)},
				} {
					if err := meta.Put(kv[0], frame(kv[0], kv[1])); err != nil {
						return err
					}
				}
				txid = uint64(tx.ID())
				return nil
			})
		})
		if err != nil {
			return 0, s.classify(err)
		}
		return txid, nil
	}
	err = s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || tx.Bucket(bucketItems) == nil {
			return &DamagedError{Path: s.path, Why: "a bucket is missing"}
		}
		get := func(k []byte) ([]byte, error) {
			rec := meta.Get(k)
			p, ok := unframe(k, rec)
			if rec == nil || !ok {
				return nil, &DamagedError{Path: s.path, Why: fmt.Sprintf("meta record %q is missing or fails its checksum", k)}
			}
			return p, nil
		}
		f, err := get(metaFormat)
		if err != nil {
			return err
		}
		if string(f) != formatVersion {
			return fmt.Errorf("%s: unsupported store format %q (want %q): written by a newer ddbops?", s.path, f, formatVersion)
		}
		t, err := get(metaTable)
		if err != nil {
			return err
		}
		if string(t) != table {
			return fmt.Errorf("the data dir holds table %q, not %q (use another --data-dir per table)", t, table)
		}
		id, err := get(metaID)
		if err != nil {
			return err
		}
		c, err := get(metaCount)
		if err != nil {
			return err
		}
		if len(id) != len(s.fileID) || len(c) != 8 {
			return &DamagedError{Path: s.path, Why: "a meta record has the wrong size"}
		}
		copy(s.fileID[:], id)
		s.count.Store(int64(binary.LittleEndian.Uint64(c)))
		if rec := meta.Get(metaImported); rec != nil {
			p, ok := unframe(metaImported, rec)
			if !ok {
				return &DamagedError{Path: s.path, Why: fmt.Sprintf("meta record %q fails its checksum", metaImported)}
			}
			s.imports = string(p)
		}
		txid = uint64(tx.ID())
		return nil
	})
	return txid, err
}

// compareWitness refuses a database whose newest valid commit is older
// than the last one this data dir acknowledged (witness.go).
func (s *Store) compareWitness(wpath string, w witnessState, have bool, txid uint64, m boltMeta, otherBad string) error {
	same := have && w.fileID == s.fileID
	if same && txid < w.txid {
		why := fmt.Sprintf("its newest valid commit is %d, but this data dir acknowledged commit %d", txid, w.txid)
		if otherBad != "" {
			why += fmt.Sprintf(" (meta page %d: %s)", 1-m.page, otherBad)
		}
		return &DamagedError{Path: s.path, Why: why,
			Fix: fmt.Sprintf("restore a copy of it, or start on a new data dir; if you put an older copy in place on purpose, remove %s", wpath)}
	}
	if have && !same {
		s.warnf("warning: %s is not the database this data dir last served (another copy was put in place): serving it", s.path)
	}
	if otherBad == "" {
		return nil
	}
	if !same {
		return &DamagedError{Path: s.path, Why: fmt.Sprintf("meta page %d: %s, and no record of the last commit tells whether the other one is the newest", 1-m.page, otherBad),
			Fix: "restore a copy of it, or start on a new data dir"}
	}
	// The newest acknowledged commit is there: the other page was being
	// written by a commit that never returned, or is older damage that
	// the next commit overwrites.
	s.warnf("warning: %s: meta page %d: %s; meta page %d holds commit %d, the last one acknowledged: serving it", s.path, 1-m.page, otherBad, m.page, txid)
	return nil
}

func (s *Store) warnf(format string, a ...any) {
	if s.log != nil {
		fmt.Fprintf(s.log, format+"\n", a...)
	}
}

// syncCreated makes a newly created file and its directory entry durable.
func syncCreated(f *os.File, dir string) error {
	if err := f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkBackground verifies the whole file at one committed state while
// the store serves: a read transaction pins that state (bbolt reuses no
// page a reader may see), and the meta page of that txid names it.
func (s *Store) checkBackground() {
	defer close(s.checkDone)
	defer close(s.checked)
	err := s.checkLive()
	if err != nil && !errors.Is(err, errCheckStopped) {
		err = s.setBad(err)
		s.warnf("ddbops local: %v", err)
	}
}

func (s *Store) checkLive() error {
	f, err := OpenFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for range 10 {
		var res error
		retry := false
		err := s.safely(func() error {
			tx, err := s.db.Begin(false)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			m0, m1, err := readMetas(f, st.Size())
			if err != nil {
				return err
			}
			var m boltMeta
			switch want := uint64(tx.ID()); {
			case m0.valid && m0.txid == want:
				m = m0
			case m1.valid && m1.txid == want:
				m = m1
			default:
				// Two commits overwrote that meta page since Begin.
				retry = true
				return nil
			}
			_, res = s.verify(f, m, s.checkStop)
			return nil
		})
		if err != nil {
			return err
		}
		if !retry {
			return res
		}
	}
	return errors.New("background check: the file changed too fast to read one state of it")
}

// safely runs fn, turning a panic (bbolt on a damaged page, or a fault on
// its mapping, which SetPanicOnFault makes a panic) into the store's
// damage.
func (s *Store) safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if len(msg) > 120 {
				msg = msg[:120] + "…"
			}
			err = s.setBad(&DamagedError{Path: s.path, Why: "reading it failed (" + msg + ")"})
		}
	}()
	return fn()
}

// view runs fn in a read-only transaction, safely.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	return s.safely(func() error {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return s.db.View(fn)
	})
}

// setBad records the store's first damage or sync failure and returns
// it: from then on every operation fails with it.
func (s *Store) setBad(err error) error {
	if s.bad.CompareAndSwap(nil, &err) {
		return err
	}
	return *s.bad.Load()
}

// Err returns the damage or sync failure that made the store unusable,
// nil while it is usable. The local stack answers 503 while it is not.
func (s *Store) Err() error {
	if p := s.bad.Load(); p != nil {
		return *p
	}
	return nil
}

// damaged records damage found while serving.
func (s *Store) damaged(why string) error {
	return s.setBad(&DamagedError{Path: s.path, Why: why})
}

// classify maps an error of a write transaction.
func (s *Store) classify(err error) error {
	var de *DamagedError
	if errors.As(err, &de) {
		return err
	}
	err = classifyCommit(s.path, err)
	var fe *FailedError
	if errors.As(err, &fe) {
		return s.setBad(err)
	}
	return err
}

// Checked reports whether the check has run (see Options.CheckInline)
// and what it found.
func (s *Store) Checked() (done bool, err error) {
	select {
	case <-s.checked:
		return true, s.Err()
	default:
		return false, nil
	}
}

// CheckedInline reports whether Open verified the file before it
// returned.
func (s *Store) CheckedInline() bool { return s.checkInline }

// waitChecked waits for a background check: until it has passed, an
// absent key or a short scan could be a damaged branch page hiding items.
func (s *Store) waitChecked(ctx context.Context) error {
	select {
	case <-s.checked:
	default:
		select {
		case <-s.checked:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Err()
}

// Count returns the number of items (kept in the meta bucket by every
// write: O(1)).
func (s *Store) Count() int64 { return s.count.Load() }

// Imported returns the marker of the Import the database holds ("" if
// none).
func (s *Store) Imported() string { return s.imports }

// Get returns the value of key, nil when absent; the slice is the
// caller's.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	v, err := s.get(key)
	if v != nil || err != nil {
		return v, err
	}
	select {
	case <-s.checked:
		return nil, nil
	default:
	}
	if err := s.waitChecked(ctx); err != nil {
		return nil, err
	}
	return s.get(key)
}

func (s *Store) get(key []byte) (v []byte, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bucketItems).Get(key)
		if rec == nil {
			return nil
		}
		p, ok := unframe(key, rec)
		if !ok {
			return s.damaged("an item record fails its checksum")
		}
		v = make([]byte, len(p))
		copy(v, p)
		return nil
	})
	return v, err
}

// Scan calls fn for each key > after (after nil: from the first key) in
// ascending byte order until fn returns false or an error. The slices are
// valid only during the call.
func (s *Store) Scan(ctx context.Context, after []byte, fn func(key, value []byte) (bool, error)) error {
	if err := s.waitChecked(ctx); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketItems).Cursor()
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			p, ok := unframe(k, v)
			if !ok {
				return s.damaged("an item record fails its checksum")
			}
			more, err := fn(k, p)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

// Update runs fn on key's current value (nil when absent; fn gets its own
// copy) and stores what it returns (nil deletes) durably before it
// returns. Concurrent Updates share a transaction; fn runs once, and an
// error from it stores nothing of this call and is returned as is. A
// commit that fails returns a *WriteError (nothing stored; the store goes
// on) or a *FailedError (the store stops serving).
func (s *Store) Update(ctx context.Context, key []byte, fn func(old []byte) ([]byte, error)) error {
	if err := s.waitChecked(ctx); err != nil {
		return err
	}
	if len(key) == 0 || len(key) > bolt.MaxKeySize {
		return fmt.Errorf("store: a key of %d bytes", len(key))
	}
	c := &call{key: key, fn: fn, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	s.pending = append(s.pending, c)
	select {
	case s.kick <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	<-c.done
	return c.err
}

// run is the committer: it takes every waiting Update (up to maxBatch)
// into one transaction, commits it with one fsync and answers them all.
// It runs in a goroutine of its own so that a panic in bbolt's commit on a
// damaged page is recovered here (a batch run on bbolt's DB.Batch
// goroutines could not be), and it adds no delay: a lone writer commits at
// once, and writers that arrive during a commit form the next batch.
func (s *Store) run() {
	defer close(s.done)
	debug.SetPanicOnFault(true)
	var batch []*call
	for range s.kick {
		for {
			s.mu.Lock()
			n := min(len(s.pending), maxBatch)
			batch = append(batch[:0], s.pending[:n]...)
			s.pending = append(s.pending[:0], s.pending[n:]...)
			s.mu.Unlock()
			if n == 0 {
				break
			}
			s.commit(batch)
			clear(batch)
		}
	}
}

func (s *Store) commit(batch []*call) {
	err := s.Err()
	if err == nil {
		err = s.safely(func() error { return s.commitTx(batch) })
	}
	for _, c := range batch {
		// A failed batch fails every call but those whose own fn failed
		// (including the ones it never reached).
		if err != nil && (c.ok || c.err == nil) {
			c.err = err
		}
		close(c.done)
	}
}

func (s *Store) commitTx(batch []*call) error {
	var delta int64
	committed, err := s.writeTx(func(items, meta *bolt.Bucket) (bool, error) {
		changed := false
		delta = 0
		for _, c := range batch {
			rec := items.Get(c.key)
			var old []byte
			if rec != nil {
				p, ok := unframe(c.key, rec)
				if !ok {
					return false, s.damaged("an item record fails its checksum")
				}
				old = bytes.Clone(p)
			}
			nv, err := callFn(c.fn, old)
			if err != nil {
				c.err = err
				continue
			}
			c.ok = true
			switch {
			case nv == nil && rec != nil:
				if err := items.Delete(c.key); err != nil {
					return false, err
				}
				changed, delta = true, delta-1
			case nv != nil:
				if err := items.Put(c.key, frame(c.key, nv)); err != nil {
					return false, err
				}
				changed = true
				if rec == nil {
					delta++
				}
			}
		}
		if !changed {
			// Nothing to store (failed conditions, deletes of absent keys):
			// no commit, no fsync.
			return false, nil
		}
		if delta != 0 {
			return true, putCount(meta, s.count.Load()+delta)
		}
		return true, nil
	})
	if committed {
		s.count.Add(delta)
	}
	return err
}

// writeTx runs fn in a write transaction over the items and meta buckets
// and commits what it wrote when it returns true. A commit is recorded in
// the witness; failing that is only a warning (the witness is a hint).
func (s *Store) writeTx(fn func(items, meta *bolt.Bucket) (bool, error)) (committed bool, err error) {
	tx, err := s.db.Begin(true)
	if err != nil {
		return false, s.classify(err)
	}
	defer func() {
		if tx.DB() != nil {
			_ = tx.Rollback()
		}
	}()
	items, meta := tx.Bucket(bucketItems), tx.Bucket(bucketMeta)
	if items == nil || meta == nil {
		return false, s.damaged("a bucket is missing")
	}
	if commit, err := fn(items, meta); err != nil || !commit {
		return false, err
	}
	txid := uint64(tx.ID())
	if err := tx.Commit(); err != nil {
		return false, s.classify(err)
	}
	if err := s.wit.record(s.fileID, txid); err != nil {
		s.warnf("warning: %s: %v", s.path, err)
	}
	return true, nil
}

// putCount records the number of items in meta.
func putCount(meta *bolt.Bucket, n int64) error {
	return meta.Put(metaCount, frame(metaCount, binary.LittleEndian.AppendUint64(nil, uint64(n))))
}

// callFn runs an Update's fn; a panic in it (a bug of the caller) fails
// that call only, not the store.
func callFn(fn func([]byte) ([]byte, error), old []byte) (nv []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			nv, err = nil, fmt.Errorf("store: update function panicked: %v", r)
		}
	}()
	return fn(old)
}

// Import stores what fill puts, in one transaction, into a store that
// holds no items, and records marker (see Imported) in the same
// transaction: either everything is stored or nothing. It is for the
// data dir's upgrade, before the store serves.
func (s *Store) Import(marker string, fill func(put func(key, value []byte) error) error) (int, error) {
	if s.count.Load() != 0 || s.imports != "" {
		return 0, errors.New("store: import into a database that holds items")
	}
	n := 0
	var fillErr error
	err := s.safely(func() error {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		_, err := s.writeTx(func(items, meta *bolt.Bucket) (bool, error) {
			// The upgrade puts keys in ascending order: full pages.
			items.FillPercent = 1
			fillErr = fill(func(key, value []byte) error {
				if len(key) == 0 || len(key) > bolt.MaxKeySize {
					return fmt.Errorf("store: a key of %d bytes", len(key))
				}
				if items.Get(key) == nil {
					n++
				}
				return items.Put(key, frame(key, value))
			})
			if fillErr != nil {
				return false, nil
			}
			if err := putCount(meta, int64(n)); err != nil {
				return false, err
			}
			return true, meta.Put(metaImported, frame(metaImported, []byte(marker)))
		})
		return err
	})
	if fillErr != nil {
		return 0, fillErr
	}
	if err != nil {
		return 0, err
	}
	s.count.Store(int64(n))
	s.imports = marker
	return n, nil
}

// Close stops the background check, lets pending writes commit, closes
// the database and releases nothing else (the caller's lock stays). It
// is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.checkStop)
		<-s.checkDone
		s.mu.Lock()
		s.closed = true
		close(s.kick)
		s.mu.Unlock()
		<-s.done
		err := s.safely(s.db.Close)
		if werr := s.wit.close(); err == nil && werr != nil {
			err = fmt.Errorf("%s: %w", WitnessFile, werr)
		}
		s.closeErr = err
	})
	return s.closeErr
}
