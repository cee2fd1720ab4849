// Package legacy reads a data dir written by the journal + snapshot
// release of the local stack, once, so that its items can be imported
// into the bbolt store (docs/local-storage.md#upgrade). It reads and never
// writes that format.
package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The legacy files of a data dir, and the names they get while an import
// is under way.
const (
	SnapshotFile  = "snapshot"
	JournalFile   = "journal"
	RenamedSuffix = ".pre-bbolt"
)

// Format of the old files: one record per line, "<crc32c of payload, 8 hex
// digits> <payload>\n", where payload is
//
//	{"format":"ddbops-local","version":1,"table":"..."}  first line of the snapshot
//	{"put":<item in typed DynamoDB JSON>}                 an item's whole after-image
//	{"del":<key in typed DynamoDB JSON>}                  a tombstone
//
// The snapshot holds every item at the last compaction, the journal the
// records appended since; replaying after-images in order gives the state.
const (
	snapshotFormat  = "ddbops-local"
	snapshotVersion = 1
	frameHeaderLen  = 9
	keyAttribute    = "id"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Item is one item of the old data dir, with its key (the id).
type Item struct {
	Key  string
	Item map[string]types.AttributeValue
}

// Result is what Read found.
type Result struct {
	Items           []Item // in ascending key byte order
	SnapshotRecords int
	JournalRecords  int
	// Torn describes a torn last journal record that was dropped ("" when
	// none), as the old release dropped it: a write that was never
	// acknowledged.
	Torn string
}

// CorruptJournalError is a damaged journal record before the last one:
// the records before Offset are intact, nothing was changed.
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

// Files returns the legacy files of dir that exist under their own names
// and under their renamed ones.
func Files(dir string) (orig, renamed []string, err error) {
	for _, name := range []string{SnapshotFile, JournalFile} {
		for _, n := range []string{name, name + RenamedSuffix} {
			_, err := os.Lstat(filepath.Join(dir, n))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if n == name {
				orig = append(orig, n)
			} else {
				renamed = append(renamed, n)
			}
		}
	}
	return orig, renamed, nil
}

// Read reads the snapshot and journal of dir (under their renamed names
// when renamed is set) of table. open opens a file for reading (the
// caller's, which refuses symbolic links).
func Read(dir, table string, renamed bool, open func(path string) (io.ReadCloser, error)) (Result, error) {
	var res Result
	suffix := ""
	if renamed {
		suffix = RenamedSuffix
	}
	state := map[string]map[string]types.AttributeValue{}
	snapPath := filepath.Join(dir, SnapshotFile+suffix)
	snap, haveSnap, err := readAll(snapPath, open)
	if err != nil {
		return res, err
	}
	if haveSnap {
		first := true
		_, err := records(snap, false, func(payload []byte) error {
			if first {
				first = false
				return checkHeader(payload, table)
			}
			res.SnapshotRecords++
			return apply(state, payload)
		})
		if err == nil && first {
			err = errors.New("record 1: missing header")
		}
		if err != nil {
			return res, fmt.Errorf("read snapshot %s: %w", snapPath, err)
		}
	}
	journalPath := filepath.Join(dir, JournalFile+suffix)
	journal, _, err := readAll(journalPath, open)
	if err != nil {
		return res, err
	}
	torn, err := records(journal, true, func(payload []byte) error {
		res.JournalRecords++
		return apply(state, payload)
	})
	if err != nil {
		var re *recordError
		if errors.As(err, &re) {
			return res, &CorruptJournalError{Path: journalPath, Record: re.record, Offset: re.offset, Err: re.err}
		}
		return res, fmt.Errorf("replay journal %s: %w", journalPath, err)
	}
	if torn != nil {
		res.Torn = fmt.Sprintf("journal %s: dropped a torn last record (record %d, %d bytes at offset %d: %s); it was never acknowledged",
			journalPath, torn.record, torn.size, torn.offset, torn.why)
	}
	res.Items = make([]Item, 0, len(state))
	for k, it := range state {
		res.Items = append(res.Items, Item{Key: k, Item: it})
	}
	sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].Key < res.Items[j].Key })
	return res, nil
}

func readAll(path string, open func(string) (io.ReadCloser, error)) ([]byte, bool, error) {
	f, err := open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return b, true, nil
}

func checkHeader(payload []byte, table string) error {
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		Table   string `json:"table"`
	}
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

// apply applies one put or del record to state.
func apply(state map[string]map[string]types.AttributeValue, payload []byte) error {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(payload, &rec); err != nil {
		return fmt.Errorf("malformed record: %w", err)
	}
	if len(rec) != 1 {
		return errors.New("unknown record type")
	}
	raw, del := rec["del"]
	if !del {
		var ok bool
		if raw, ok = rec["put"]; !ok {
			return errors.New("unknown record type")
		}
	}
	item, err := parseItem(raw)
	if err != nil {
		return err
	}
	id, ok := item[keyAttribute].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("item has no string attribute %q", keyAttribute)
	}
	if del {
		delete(state, id.Value)
	} else {
		state[id.Value] = item
	}
	return nil
}

func parseItem(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("malformed item: %w", err)
	}
	item := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := parseValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		item[k] = av
	}
	return item, nil
}

// parseValue decodes one typed value ({"S":"x"}, {"N":"1"}, ...), strictly:
// one type key, of the ten DynamoDB has.
func parseValue(raw json.RawMessage) (types.AttributeValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return nil, errors.New("not a typed value")
	}
	for typ, v := range m {
		switch typ {
		case "S":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "N":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			if _, err := strconv.ParseFloat(s, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("bad number %q", s)
			}
			return &types.AttributeValueMemberN{Value: s}, nil
		case "B":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberB{Value: b}, nil
		case "BOOL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberNULL{Value: b}, nil
		case "M":
			item, err := parseItem(v)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberM{Value: item}, nil
		case "L":
			var raws []json.RawMessage
			if err := json.Unmarshal(v, &raws); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(raws))
			for i, r := range raws {
				av, err := parseValue(r)
				if err != nil {
					return nil, fmt.Errorf("list element %d: %w", i, err)
				}
				l[i] = av
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, err
			}
			if typ == "SS" {
				return &types.AttributeValueMemberSS{Value: ss}, nil
			}
			return &types.AttributeValueMemberNS{Value: ss}, nil
		case "BS":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, err
			}
			bs := make([][]byte, len(ss))
			for i, s := range ss {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, err
				}
				bs[i] = b
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		}
		return nil, fmt.Errorf("unknown type %q", typ)
	}
	return nil, errors.New("not a typed value")
}

type tornRecord struct {
	record, offset, size int
	why                  string
}

type recordError struct {
	record, offset int
	err            error
}

func (e *recordError) Error() string {
	return fmt.Sprintf("record %d (byte offset %d): %v", e.record, e.offset, e.err)
}
func (e *recordError) Unwrap() error { return e.err }

// records calls fn with the payload of every framed record of data. A
// framing error on the last line is a torn record when tolerateTorn is
// set (the old release's rule); anywhere else it is an error naming the
// record and its offset.
func records(data []byte, tolerateTorn bool, fn func(payload []byte) error) (*tornRecord, error) {
	n := 0
	for off := 0; off < len(data); {
		n++
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0 || off+end+1 == len(data)
		var line []byte
		var ferr error
		if end < 0 {
			line, ferr = data[off:], errors.New("incomplete line")
		} else {
			line, ferr = data[off:off+end], checkFrame(data[off:off+end])
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
