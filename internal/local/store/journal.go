package store

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Record framing, shared by the journal and the snapshot: one record per
// line, "<crc32c of payload, 8 hex digits> <payload>\n", where payload is
// one JSON object:
//
//	{"put":<item in typed DynamoDB JSON>}   the item's full after-image
//	{"del":<key in typed DynamoDB JSON>}    a tombstone
//	{"format":"ddbops-local","version":1,"table":"..."}   snapshot header
//
// After-images and tombstones make replay idempotent: applying a record
// twice, or replaying the journal over a snapshot that already contains
// it, gives the same state.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const frameHeaderLen = 9 // 8 hex digits and a space

// beginFrame reserves the frame header; finishFrame fills it in for the
// payload appended since and terminates the line.
func beginFrame(dst []byte) ([]byte, int) {
	return append(dst, "00000000 "...), len(dst)
}

func finishFrame(dst []byte, start int) []byte {
	sum := crc32.Checksum(dst[start+frameHeaderLen:], crcTable)
	for i := 7; i >= 0; i-- {
		dst[start+i] = hexDigits[sum&0xf]
		sum >>= 4
	}
	return append(dst, '\n')
}

// errJournalClosed is returned for writes after Close.
var errJournalClosed = errors.New("journal is closed")

// Journal appends framed records to a file with group commit: concurrent
// appends accumulate in one batch that a single goroutine writes and
// fdatasyncs; every appender waits for the batch holding its record.
// After the first write or sync error the journal is failed for good
// (fail-stop): what is in memory may be ahead of what is on disk, so
// nothing more may be acknowledged until a restart replays the file.
type Journal struct {
	path string
	f    *os.File
	sync func(*os.File) error // fdatasync; replaceable in tests

	mu       sync.Mutex
	cur      *batch // accumulating
	flushing *batch // being written, nil when idle
	spare    []byte
	err      error // sticky failure
	closed   bool

	lastSeq atomic.Uint64 // sequence number of the last appended record
	durable atomic.Uint64 // every record up to here is on disk

	kick   chan struct{}
	done   chan struct{} // closed when the writer goroutine exits
	failed chan struct{} // closed on the first failure
}

type batch struct {
	buf  []byte
	last uint64        // sequence number of the last record in buf
	done chan struct{} // closed once buf is durable (err == nil) or failed
	err  error
}

func newBatch(buf []byte) *batch {
	return &batch{buf: buf[:0], done: make(chan struct{})}
}

// OpenJournal opens the journal of the data dir dir for appending and
// starts its writer; sync makes what was written durable (Datasync, or a
// failing one in tests).
func OpenJournal(dir string, sync func(*os.File) error) (*Journal, error) {
	path := filepath.Join(dir, JournalFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{
		path:   path,
		f:      f,
		sync:   sync,
		cur:    newBatch(make([]byte, 0, 64<<10)),
		spare:  make([]byte, 0, 64<<10),
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		failed: make(chan struct{}),
	}
	go j.run()
	return j, nil
}

// append adds one framed record and returns the batch to wait on.
func (j *Journal) append(rec []byte) (*batch, error) {
	j.mu.Lock()
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return nil, err
	}
	if j.closed {
		j.mu.Unlock()
		return nil, errJournalClosed
	}
	b := j.cur
	b.buf = append(b.buf, rec...)
	b.last = j.lastSeq.Add(1)
	// Sent under mu so that Close cannot close kick in between.
	select {
	case j.kick <- struct{}{}:
	default:
	}
	j.mu.Unlock()
	return b, nil
}

// fail marks the journal failed (e.g. memory and disk diverged for a
// reason other than I/O).
func (j *Journal) fail(err error) {
	j.mu.Lock()
	j.setErrLocked(err)
	j.mu.Unlock()
}

func (j *Journal) setErrLocked(err error) {
	if j.err == nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
		close(j.failed)
	}
}

// Failed is closed on the journal's first failure: from then on nothing
// more can be acknowledged durably.
func (j *Journal) Failed() <-chan struct{} { return j.failed }

// Synced reports whether every record appended so far is on disk.
func (j *Journal) Synced() bool { return j.durable.Load() == j.lastSeq.Load() }

// Err returns the sticky failure, if any.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// waitBatch blocks until b is durable.
func waitBatch(b *batch, stop <-chan struct{}) error {
	select {
	case <-b.done:
		return b.err
	case <-stop:
		return errors.New("request canceled while waiting for the journal")
	}
}

// waitSeq blocks until every record up to seq is durable. It is the read
// barrier: a read that may have seen a write not yet on disk waits for it,
// so no response ever exposes data a crash could lose.
func (j *Journal) waitSeq(seq uint64, stop <-chan struct{}) error {
	if j.durable.Load() >= seq {
		return nil
	}
	j.mu.Lock()
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return err
	}
	if j.durable.Load() >= seq {
		j.mu.Unlock()
		return nil
	}
	b := j.cur
	if j.flushing != nil && seq <= j.flushing.last {
		b = j.flushing
	}
	j.mu.Unlock()
	return waitBatch(b, stop)
}

func (j *Journal) run() {
	defer close(j.done)
	for range j.kick {
		for j.flushOne() {
		}
	}
	for j.flushOne() {
	}
}

// flushOne writes the accumulated batch; it reports whether there was one.
func (j *Journal) flushOne() bool {
	j.mu.Lock()
	b := j.cur
	if len(b.buf) == 0 {
		j.mu.Unlock()
		return false
	}
	j.cur = newBatch(j.spare)
	j.spare = nil
	failed := j.err
	syncFile := j.sync
	if failed == nil {
		j.flushing = b
	}
	j.mu.Unlock()

	err := failed
	if err == nil {
		if _, werr := j.f.Write(b.buf); werr != nil {
			// The journal's error already names the file.
			var pe *fs.PathError
			if errors.As(werr, &pe) {
				werr = pe.Err
			}
			err = fmt.Errorf("write: %w", werr)
		} else if serr := syncFile(j.f); serr != nil {
			err = fmt.Errorf("sync: %w", serr)
		}
	}

	j.mu.Lock()
	j.flushing = nil
	j.spare = b.buf
	if err != nil {
		j.setErrLocked(err)
		err = j.err
	}
	j.mu.Unlock()

	b.err = err
	if err == nil {
		j.durable.Store(b.last)
	}
	close(b.done)
	return true
}

// Close flushes what is pending, stops the writer and closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.kick)
	j.mu.Unlock()
	<-j.done
	cerr := j.f.Close()
	if err := j.Err(); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("close journal %s: %w", j.path, cerr)
	}
	return nil
}
