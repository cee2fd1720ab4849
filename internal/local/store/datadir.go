package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// Files of a data dir the store owns.
const (
	LockFile     = "lock"     // flock target; holds the holder's PID
	SnapshotFile = "snapshot" // every item at the last compaction
	JournalFile  = "journal"  // records appended since the snapshot
)

const (
	snapshotFormat  = "ddbops-local"
	snapshotVersion = 1
)

type snapshotHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Table   string `json:"table"`
}

// entry is one live item during recovery: its typed JSON as read (written
// back verbatim to the new snapshot) and its decoded form (loaded into the
// engine).
type entry struct {
	raw  []byte
	item map[string]types.AttributeValue
}

// Recovery describes what Recover found in the data dir.
type Recovery struct {
	Items           int  // items loaded
	SnapshotRecords int  // item records read from the snapshot
	JournalRecords  int  // records replayed from the journal
	TornTail        bool // a torn last journal record was dropped
	Compacted       bool // a new snapshot was written and the journal emptied
}

// Recover recovers the data dir dir of table (see recoverDir) and returns
// every item it holds, in no order, for the caller to load into its engine
// before it opens the journal, and what it found.
func Recover(dir, table string, logw io.Writer) ([]map[string]types.AttributeValue, Recovery, error) {
	state, rec, err := recoverDir(dir, table, logw)
	if err != nil {
		return nil, rec, err
	}
	items := make([]map[string]types.AttributeValue, 0, len(state))
	for _, e := range state {
		items = append(items, e.item)
	}
	return items, rec, nil
}

// recoverDir reads the snapshot and replays the journal of dir, then
// compacts when the journal held anything: the merged state is written to
// a new snapshot (temp file, fsync, rename, fsync dir) and only then is
// the journal emptied. A crash at any point leaves either the old snapshot
// and the full journal, or the new snapshot and (part of) a journal it
// already contains; replaying after-images is idempotent, so both recover
// the same items.
func recoverDir(dir, table string, logw io.Writer) (map[string]*entry, Recovery, error) {
	var rec Recovery
	state := map[string]*entry{}
	snapPath := filepath.Join(dir, SnapshotFile)
	journalPath := filepath.Join(dir, JournalFile)

	// A leftover temp file is an interrupted compaction: the old snapshot
	// and journal are intact, so it is garbage.
	if err := os.Remove(snapPath + ".tmp"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, rec, fmt.Errorf("remove %s.tmp: %w", snapPath, err)
	}

	snap, err := os.ReadFile(snapPath)
	haveSnapshot := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, rec, fmt.Errorf("read snapshot: %w", err)
	}
	if haveSnapshot {
		first := true
		_, err := readRecords(snap, false, func(payload []byte) error {
			if first {
				first = false
				return checkHeader(payload, table)
			}
			rec.SnapshotRecords++
			return applyRecord(state, payload)
		})
		if err == nil && first {
			err = errors.New("record 1: missing header")
		}
		if err != nil {
			return nil, rec, fmt.Errorf("read snapshot %s: %w", snapPath, err)
		}
	}

	jdata, err := os.ReadFile(journalPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, rec, fmt.Errorf("read journal: %w", err)
	}
	torn, err := readRecords(jdata, true, func(payload []byte) error {
		rec.JournalRecords++
		return applyRecord(state, payload)
	})
	if err != nil {
		var re *recordError
		if errors.As(err, &re) {
			return nil, rec, &CorruptJournalError{Path: journalPath, Record: re.record, Offset: re.offset, Err: re.err}
		}
		return nil, rec, fmt.Errorf("replay journal %s: %w", journalPath, err)
	}
	if torn != nil {
		rec.TornTail = true
		if logw != nil {
			fmt.Fprintf(logw, "warning: journal %s: dropped a torn last record (record %d, %d bytes at offset %d: %s); it was never acknowledged\n",
				journalPath, torn.record, torn.size, torn.offset, torn.why)
		}
	}

	if !haveSnapshot || len(jdata) > 0 {
		if err := writeSnapshot(dir, table, state); err != nil {
			return nil, rec, err
		}
		if err := resetJournal(dir); err != nil {
			return nil, rec, err
		}
		rec.Compacted = true
	}
	rec.Items = len(state)
	return state, rec, nil
}

func checkHeader(payload []byte, table string) error {
	var h snapshotHeader
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("record 1: bad header: %w", err)
	}
	if h.Format != snapshotFormat || h.Version != snapshotVersion {
		return fmt.Errorf("record 1: unsupported format %q version %d (want %q version %d)", h.Format, h.Version, snapshotFormat, snapshotVersion)
	}
	if h.Table != table {
		return fmt.Errorf("the data dir holds table %q, not %q (use another --data-dir per table)", h.Table, table)
	}
	return nil
}

var (
	putPrefix = []byte(`{"put":`)
	delPrefix = []byte(`{"del":`)
)

// applyRecord applies one put or del record to state.
func applyRecord(state map[string]*entry, payload []byte) error {
	var del bool
	switch {
	case bytes.HasPrefix(payload, putPrefix):
	case bytes.HasPrefix(payload, delPrefix):
		del = true
	default:
		return errors.New("unknown record type")
	}
	if len(payload) < len(putPrefix)+2 || payload[len(payload)-1] != '}' {
		return errors.New("malformed record")
	}
	raw := payload[len(putPrefix) : len(payload)-1]
	item, err := parseItem(raw)
	if err != nil {
		return err
	}
	key, err := keyOf(item)
	if err != nil {
		return err
	}
	if del {
		delete(state, key)
		return nil
	}
	state[key] = &entry{raw: raw, item: item}
	return nil
}

func keyOf(item map[string]types.AttributeValue) (string, error) {
	s, ok := item[wire.KeyAttribute].(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("item has no string attribute %q", wire.KeyAttribute)
	}
	return s.Value, nil
}

type tornRecord struct {
	record int
	offset int
	size   int
	why    string
}

// recordError names the record (1-based) and byte offset a framing or
// decoding error was found at.
type recordError struct {
	record, offset int
	err            error
}

func (e *recordError) Error() string {
	return fmt.Sprintf("record %d (byte offset %d): %v", e.record, e.offset, e.err)
}
func (e *recordError) Unwrap() error { return e.err }

// CorruptJournalError is a damaged journal record before the last one: the
// records before Offset are intact and were replayed; nothing was changed.
type CorruptJournalError struct {
	Path   string
	Record int
	Offset int
	Err    error
}

func (e *CorruptJournalError) Error() string {
	return fmt.Sprintf("replay journal %s: record %d (byte offset %d): %v", e.Path, e.Record, e.Offset, e.Err)
}
func (e *CorruptJournalError) Unwrap() error { return e.Err }

// readRecords calls fn with the payload of every framed record of data.
// A framing error (partial line, bad checksum) on the last line is
// returned as a torn record when tolerateTorn is set; anywhere else, and
// any error from fn, is an error naming the record and its byte offset.
func readRecords(data []byte, tolerateTorn bool, fn func(payload []byte) error) (*tornRecord, error) {
	n := 0
	for off := 0; off < len(data); {
		n++
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0 || off+end+1 == len(data)
		var line []byte
		var ferr error
		if end < 0 {
			line = data[off:]
			ferr = errors.New("incomplete line")
		} else {
			line = data[off : off+end]
			ferr = checkFrame(line)
		}
		if ferr != nil {
			if tolerateTorn && last {
				return &tornRecord{record: n, offset: off, size: len(data) - off, why: ferr.Error()}, nil
			}
			return nil, &recordError{record: n, offset: off, err: ferr}
		}
		if err := fn(line[frameHeaderLen:]); err != nil {
			return nil, &recordError{record: n, offset: off, err: err}
		}
		off += end + 1
	}
	return nil, nil
}

func checkFrame(line []byte) error {
	if len(line) < frameHeaderLen+2 || line[8] != ' ' {
		return errors.New("malformed frame")
	}
	want, err := strconv.ParseUint(string(line[:8]), 16, 32)
	if err != nil {
		return errors.New("malformed checksum")
	}
	if crc32.Checksum(line[frameHeaderLen:], crcTable) != uint32(want) {
		return errors.New("bad checksum")
	}
	return nil
}

// writeSnapshot atomically replaces the snapshot with state.
func writeSnapshot(dir, table string, state map[string]*entry) error {
	path := filepath.Join(dir, SnapshotFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr, _ := json.Marshal(snapshotHeader{Format: snapshotFormat, Version: snapshotVersion, Table: table})
	buf, start := beginFrame(make([]byte, 0, 4096))
	buf = finishFrame(append(buf, hdr...), start)
	if _, err := w.Write(buf); err != nil {
		return fail(err)
	}
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf, start = beginFrame(buf[:0])
		buf = append(buf, putPrefix...)
		buf = append(buf, state[k].raw...)
		buf = finishFrame(append(buf, '}'), start)
		if _, err := w.Write(buf); err != nil {
			return fail(err)
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return syncDir(dir)
}

// resetJournal empties the journal once the snapshot holds its records.
func resetJournal(dir string) error {
	path := filepath.Join(dir, JournalFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("reset journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("reset journal %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("reset journal %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes renames and file creations in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// encodePut and encodeDel build one framed journal record.
func encodePut(dst []byte, item map[string]types.AttributeValue) ([]byte, error) {
	return encodeRecord(dst, putPrefix, item)
}

func encodeDel(dst []byte, key map[string]types.AttributeValue) ([]byte, error) {
	return encodeRecord(dst, delPrefix, key)
}

func encodeRecord(dst, prefix []byte, item map[string]types.AttributeValue) ([]byte, error) {
	if _, err := keyOf(item); err != nil {
		return nil, err
	}
	dst, start := beginFrame(dst)
	dst = append(dst, prefix...)
	dst, err := appendItem(dst, item)
	if err != nil {
		return nil, err
	}
	return finishFrame(append(dst, '}'), start), nil
}
