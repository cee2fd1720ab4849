package store

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// TestCodecRoundTrip: every DynamoDB type survives the journal encoding
// exactly, and equal items encode to equal bytes.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	item := map[string]types.AttributeValue{
		"id":    s("k\"ey\\\n\t\x01é😀"),
		"n":     &types.AttributeValueMemberN{Value: "-12345678901234567890.000001e-3"},
		"b":     &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"empty": &types.AttributeValueMemberB{Value: []byte{}},
		"t":     &types.AttributeValueMemberBOOL{Value: true},
		"f":     &types.AttributeValueMemberBOOL{Value: false},
		"null":  &types.AttributeValueMemberNULL{Value: true},
		"m":     &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": s("y"), "inner": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
		"l":     &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a"), &types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
		"ss":    &types.AttributeValueMemberSS{Value: []string{"b", "a"}},
		"ns":    &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"":      s("empty attribute name"),
	}
	enc, err := appendItem(nil, item)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseItem(enc)
	if err != nil {
		t.Fatalf("parse %s: %v", enc, err)
	}
	enc2, _ := appendItem(nil, got)
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("round trip changed the item:\n%s\n%s", enc, enc2)
	}
	if fmt.Sprint(got["ss"]) != fmt.Sprint(item["ss"]) || fmt.Sprint(got["b"]) != fmt.Sprint(item["b"]) {
		t.Errorf("values differ: %v %v", got["ss"], got["b"])
	}
	if _, err := appendItem(nil, map[string]types.AttributeValue{"id": s("bad\xff")}); err == nil {
		t.Error("invalid UTF-8 was encoded")
	}
	// Any JSON spelling of the same item parses to it.
	spelled := "{ \"id\" : { \"S\" :\"\\u00e9\\/\\b\\f\\ud83d\\ude00\\\"\" } ,\n\t\"l\":{\"L\":[ ]},\"m\":{\"M\":{}} }"
	it, err := parseItem([]byte(spelled))
	if err != nil {
		t.Fatalf("parse %s: %v", spelled, err)
	}
	if got := it["id"].(*types.AttributeValueMemberS).Value; got != "é/\b\f😀\"" {
		t.Errorf("escapes: %q", got)
	}
	if l := it["l"].(*types.AttributeValueMemberL).Value; l == nil || len(l) != 0 {
		t.Errorf("empty list: %#v", l)
	}
	for _, bad := range []string{`{"a":{"S":"\ud800"}}`, `{"a":{"S":"x"},"a":{"S":"y"}}`, `{"a":{"BOOL":1}}`, `{"a":{"S":"` + "\x01" + `"}}`, `{"a":{"L":[{"S":"x"},]}}`, `{"a":{"S":"x","N":"1"}}`, `{"a":{}}`, `{"a":{"Q":"x"}}`, `{"a":null}`, `null`, `{"a":{"B":"!!"}}`, `{"a":{"S":"x"}} x`} {
		if _, err := parseItem([]byte(bad)); err == nil {
			t.Errorf("parseItem(%s) accepted", bad)
		}
	}
}

// TestGroupCommit: concurrent appends all become durable, in one file, in
// fewer syncs than records.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	var syncs sync.Map
	var n int64
	var mu sync.Mutex
	j, err := OpenJournal(t.TempDir(), func(f *os.File) error {
		mu.Lock()
		n++
		mu.Unlock()
		syncs.Store(n, true)
		return Datasync(f)
	})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rec, _ := encodePut(nil, map[string]types.AttributeValue{"id": s(fmt.Sprintf("%d-%d", w, i))})
				b, err := j.append(rec)
				if err == nil {
					err = waitBatch(b, nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if j.durable.Load() != writers*each {
		t.Errorf("durable %d, want %d", j.durable.Load(), writers*each)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(j.path)
	count := 0
	if _, err := readRecords(b, false, func([]byte) error { count++; return nil }); err != nil || count != writers*each {
		t.Fatalf("file: %d records, %v", count, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n >= writers*each {
		t.Logf("no batching happened (%d syncs for %d records)", n, writers*each)
	}
}
