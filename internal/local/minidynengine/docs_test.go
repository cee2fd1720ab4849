package minidynengine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// Test helpers for the engine's expression tests: items written as plain
// JSON (strings S, numbers N exactly as written, booleans BOOL, null NULL,
// arrays L, objects M, as the handler maps JSON), plus {"$SS": [...]},
// {"$NS": [...]} and {"$BS": [base64...]} for sets and {"$B": base64} for
// binary.

// doc parses js, a JSON object, into an item.
func doc(t testing.TB, js string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	if js == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("fixture %s: %v", js, err)
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, v := range m {
		out[k] = docValue(t, v)
	}
	return out
}

func docValue(t testing.TB, v any) ddbtypes.AttributeValue {
	t.Helper()
	switch x := v.(type) {
	case string:
		return &ddbtypes.AttributeValueMemberS{Value: x}
	case json.Number:
		return &ddbtypes.AttributeValueMemberN{Value: x.String()}
	case bool:
		return &ddbtypes.AttributeValueMemberBOOL{Value: x}
	case nil:
		return &ddbtypes.AttributeValueMemberNULL{Value: true}
	case []any:
		l := make([]ddbtypes.AttributeValue, len(x))
		for i, e := range x {
			l[i] = docValue(t, e)
		}
		return &ddbtypes.AttributeValueMemberL{Value: l}
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				switch k {
				case "$SS", "$NS":
					var ss []string
					for _, s := range e.([]any) {
						if n, ok := s.(json.Number); ok {
							ss = append(ss, n.String())
						} else {
							ss = append(ss, s.(string))
						}
					}
					if ss == nil {
						ss = []string{}
					}
					if k == "$SS" {
						return &ddbtypes.AttributeValueMemberSS{Value: ss}
					}
					return &ddbtypes.AttributeValueMemberNS{Value: ss}
				case "$BS":
					bs := [][]byte{}
					for _, s := range e.([]any) {
						b, _ := base64.StdEncoding.DecodeString(s.(string))
						bs = append(bs, b)
					}
					return &ddbtypes.AttributeValueMemberBS{Value: bs}
				case "$B":
					b, _ := base64.StdEncoding.DecodeString(e.(string))
					return &ddbtypes.AttributeValueMemberB{Value: b}
				}
			}
		}
		m := make(map[string]ddbtypes.AttributeValue, len(x))
		for k, e := range x {
			m[k] = docValue(t, e)
		}
		return &ddbtypes.AttributeValueMemberM{Value: m}
	}
	t.Fatalf("fixture value %#v", v)
	return nil
}

// plain renders an item as plain JSON with sorted keys, numbers as stored
// and sets in their written order; "" for no item.
func plain(item map[string]ddbtypes.AttributeValue) string {
	if item == nil {
		return ""
	}
	var b bytes.Buffer
	writePlainMap(&b, item)
	return b.String()
}

func writePlainMap(b *bytes.Buffer, m map[string]ddbtypes.AttributeValue) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		writePlain(b, m[k])
	}
	b.WriteByte('}')
}

func writePlain(b *bytes.Buffer, av ddbtypes.AttributeValue) {
	quoted := func(ss []string) string {
		q, _ := json.Marshal(ss)
		return string(q)
	}
	switch v := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		s, _ := json.Marshal(v.Value)
		b.Write(s)
	case *ddbtypes.AttributeValueMemberN:
		b.WriteString(v.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		if v.Value {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *ddbtypes.AttributeValueMemberNULL:
		b.WriteString("null")
	case *ddbtypes.AttributeValueMemberL:
		b.WriteByte('[')
		for i, e := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			writePlain(b, e)
		}
		b.WriteByte(']')
	case *ddbtypes.AttributeValueMemberM:
		writePlainMap(b, v.Value)
	case *ddbtypes.AttributeValueMemberSS:
		b.WriteString(`{"$SS":` + quoted(v.Value) + `}`)
	case *ddbtypes.AttributeValueMemberNS:
		b.WriteString(`{"$NS":[` + strings.Join(v.Value, ",") + `]}`)
	case *ddbtypes.AttributeValueMemberB:
		b.WriteString(`{"$B":"` + base64.StdEncoding.EncodeToString(v.Value) + `"}`)
	case *ddbtypes.AttributeValueMemberBS:
		ss := make([]string, len(v.Value))
		for i, x := range v.Value {
			ss[i] = base64.StdEncoding.EncodeToString(x)
		}
		b.WriteString(`{"$BS":` + quoted(ss) + `}`)
	default:
		b.WriteString("<?>")
	}
}

// canon re-renders plain JSON with sorted keys (numbers untouched), so
// that expectations can be written in any key order.
func canon(t testing.TB, js string) string {
	t.Helper()
	if js == "" {
		return ""
	}
	return plain(doc(t, js))
}

// testTable is the table the tests create.
const testTable = "lambda-apigateway"

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

// testEngine is an embedded engine with the table created.
func testEngine(t testing.TB) *DB {
	t.Helper()
	e := New()
	if err := e.CreateTable(context.Background(), testTable); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *DB) mustPut(t testing.TB, js string) {
	t.Helper()
	if _, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: doc(t, js)}); err != nil {
		t.Fatalf("put %s: %v", js, err)
	}
}

// stored is the item of id as plain JSON, "" for none.
func (e *DB) stored(t testing.TB, id string) string {
	t.Helper()
	out, err := e.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: idKey(id)})
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return plain(out.Item)
}

func idKey(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{wire.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: id}}
}

// optString is nil for "" (an absent expression).
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
