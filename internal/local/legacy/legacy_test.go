package legacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const table = "lambda-apigateway"

func osOpen(p string) (io.ReadCloser, error) { return os.Open(p) }

// plain is av as the handler renders it (numbers as JSON numbers), for
// comparison with what the old release answered.
func plain(t *testing.T, av types.AttributeValue) any {
	t.Helper()
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			t.Fatalf("number %q: %v", v.Value, err)
		}
		return f
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = plain(t, e)
		}
		return l
	case *types.AttributeValueMemberM:
		return plainItem(t, v.Value)
	}
	t.Fatalf("unexpected type %T", av)
	return nil
}

func plainItem(t *testing.T, item map[string]types.AttributeValue) map[string]any {
	m := map[string]any{}
	for k, v := range item {
		m[k] = plain(t, v)
	}
	return m
}

// TestReadRelease reads the data dir the journal + snapshot release wrote
// (testdata/legacy-v1/README.md) and finds exactly the items it served.
func TestReadRelease(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "testdata", "legacy-v1")
	res, err := Read(dir, table, false, osOpen)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ Items []map[string]any }
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil || json.Unmarshal(b, &want) != nil {
		t.Fatalf("expected.json: %v", err)
	}
	if len(res.Items) != len(want.Items) || res.SnapshotRecords != 21 || res.JournalRecords != 12 || res.Torn != "" {
		t.Fatalf("read %d items (%d snapshot, %d journal records, torn %q), want %d", len(res.Items), res.SnapshotRecords, res.JournalRecords, res.Torn, len(want.Items))
	}
	for i, it := range res.Items {
		if got := plainItem(t, it.Item); !reflect.DeepEqual(got, want.Items[i]) {
			t.Errorf("item %d (%s):\n got %v\nwant %v", i, it.Key, got, want.Items[i])
		}
	}
	// Numbers keep their exact digits.
	if n := res.Items[1].Item["big"].(*types.AttributeValueMemberN).Value; n != "12345678901234567890.123456789" {
		t.Errorf("big = %s", n)
	}
	if _, err := Read(dir, "other", false, osOpen); err == nil || !strings.Contains(err.Error(), `the data dir holds table "lambda-apigateway", not "other"`) {
		t.Errorf("other table: %v", err)
	}
}

func frame(payload string) string {
	return fmt.Sprintf("%08x %s\n", crc32.Checksum([]byte(payload), crcTable), payload)
}

// TestJournalRules: the old release's rules, kept for the import: a torn
// last record is dropped (never acknowledged), damage before it is an
// error naming the record and offset.
func TestJournalRules(t *testing.T) {
	t.Parallel()
	recs := []string{
		frame(`{"put":{"id":{"S":"a"},"n":{"N":"1"}}}`),
		frame(`{"put":{"id":{"S":"b"},"ss":{"SS":["x","y"]},"bin":{"B":"AAE="}}}`),
		frame(`{"del":{"id":{"S":"a"}}}`),
	}
	good := strings.Join(recs, "")
	for _, tt := range []struct {
		name, journal string
		items         int
		torn, err     string
	}{
		{"clean", good, 1, "", ""},
		{"cut mid-record", good + recs[0][:15], 1, "record 4, 15 bytes at offset", ""},
		{"zeroed tail", good + "\x00\x00\x00\x00", 1, "incomplete line", ""},
		{"bad checksum on the last record", good[:len(good)-3] + "X}\n", 2, "bad checksum", ""},
		{"bad checksum mid-file", recs[0] + strings.Replace(recs[1], `"x"`, `"z"`, 1) + recs[2], 0, "", fmt.Sprintf("record 2 (byte offset %d): bad checksum", len(recs[0]))},
		{"valid checksum, no id", frame(`{"put":{"name":{"S":"x"}}}`) + recs[0], 0, "", `record 1 (byte offset 0): item has no string attribute "id"`},
		{"unknown type", frame(`{"put":{"id":{"S":"x"},"v":{"Q":"1"}}}`) + recs[0], 0, "", `unknown type "Q"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tt.journal), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := Read(dir, table, false, osOpen)
			if tt.err != "" {
				var ce *CorruptJournalError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Read = %v, want a *CorruptJournalError with %q", err, tt.err)
				}
				return
			}
			if err != nil || len(res.Items) != tt.items || !strings.Contains(res.Torn, tt.torn) || (tt.torn == "") != (res.Torn == "") {
				t.Fatalf("Read = %d items, torn %q, %v", len(res.Items), res.Torn, err)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{SnapshotFile + RenamedSuffix, JournalFile} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	orig, renamed, err := Files(dir)
	if err != nil || !reflect.DeepEqual(orig, []string{JournalFile}) || !reflect.DeepEqual(renamed, []string{SnapshotFile + RenamedSuffix}) {
		t.Fatalf("Files = %v, %v, %v", orig, renamed, err)
	}
}
