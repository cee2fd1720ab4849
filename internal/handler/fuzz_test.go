package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// addSeeds adds the golden direct-invoke events and the bodies of the
// unit-test cases (small ones) to the fuzz corpus.
func addSeeds(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "golden", "direct-*.event.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tc := range append(errorCases(), successCases()...) {
		if len(tc.body) <= 4096 {
			f.Add([]byte(tc.body))
		}
	}
}

func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body, testTable)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			switch {
			case e.Status == 400 && e.Code == CodeBadRequest,
				e.Status == 403 && e.Code == CodeForbidden,
				e.Status == 413 && e.Code == CodePayloadTooLarge:
			default:
				t.Fatalf("unexpected status/code %d %s", e.Status, e.Code)
			}
			if e.Message == "" || !utf8.ValidString(e.Message) || strings.ContainsAny(e.Message, "\r\n") {
				t.Fatalf("bad message %q", e.Message)
			}
			return
		}
		if !json.Valid(body) || len(body) > wire.MaxBodyBytes {
			t.Fatalf("accepted invalid or oversized body %q", body)
		}
		p := req.Params
		switch req.Op {
		case OpCreate:
			if id, ok := p.Item[wire.KeyAttribute].(*types.AttributeValueMemberS); !ok || id.Value == "" {
				t.Fatalf("create accepted without a string id: %q", body)
			}
		case OpRead, OpUpdate, OpDelete:
			if id, ok := p.Key[wire.KeyAttribute].(*types.AttributeValueMemberS); !ok || id.Value == "" || len(p.Key) != 1 {
				t.Fatalf("%s accepted with key %v: %q", req.Op, p.Key, body)
			}
		case OpList:
			if p.Limit < 1 || p.Limit > wire.MaxListLimit {
				t.Fatalf("list Limit %d: %q", p.Limit, body)
			}
		case OpEcho:
			if req.Payload != nil && !json.Valid(req.Payload) {
				t.Fatalf("echo payload %q is not JSON", req.Payload)
			}
		case OpPing:
		default:
			t.Fatalf("accepted operation %d", req.Op)
		}
		if _, ok := p.ExpressionAttributeNames[ReservedIDName]; ok {
			t.Fatalf("accepted reserved name: %q", body)
		}
		// Whatever was accepted renders back to valid JSON.
		for _, m := range []map[string]types.AttributeValue{p.Item, p.Key, p.ExpressionAttributeValues, p.ExclusiveStartKey} {
			if out := appendAttrMap(nil, m); !json.Valid(out) {
				t.Fatalf("rendered %q is not JSON", out)
			}
		}
	})
}

// FuzzDo checks that no body makes Do or Invoke panic (the recover at the
// boundary would hide it, so panics are detected through the log) and
// that every answer is JSON with a status of the contract.
func FuzzDo(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var logs bytes.Buffer
		h := New(newFakeDB(item("1", "Bob")), Config{TableName: testTable, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		status, out := h.Do(context.Background(), body, "fuzz")
		switch status {
		case 200, 400, 403, 404, 409, 413, 500:
		default:
			t.Fatalf("status %d", status)
		}
		if !json.Valid(out) {
			t.Fatalf("body %q is not JSON", out)
		}
		if ev, err := h.Invoke(context.Background(), body); err != nil || !json.Valid(ev) {
			t.Fatalf("Invoke = %q, %v", ev, err)
		}
		if strings.Contains(logs.String(), "panicked") {
			t.Fatalf("panic on %q:\n%s", body, logs.String())
		}
	})
}
