package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbops/ddbops/internal/handler"
)

// The engine satisfies the handler's DynamoDB interface.
var _ handler.DynamoDB = (*Engine)(nil)

// testTable is the table of the engine's tests.
const testTable = "lambda-apigateway"

// Items in the tests are written as plain JSON (strings S, numbers N
// exactly as written, booleans BOOL, null NULL, arrays L, objects M, as the
// handler maps JSON), plus {"$SS": [...]}, {"$NS": [...]} and
// {"$BS": [base64...]} for sets and {"$B": base64} for binary.

// fixture parses js, a JSON object, into an item (nil for "").
func fixture(t testing.TB, js string) map[string]types.AttributeValue {
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
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = fixtureValue(t, v)
	}
	return out
}

func fixtureValue(t testing.TB, v any) types.AttributeValue {
	t.Helper()
	switch x := v.(type) {
	case string:
		return &types.AttributeValueMemberS{Value: x}
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			l[i] = fixtureValue(t, e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		if len(x) == 1 {
			for k, e := range x {
				switch k {
				case "$SS", "$NS":
					ss := []string{}
					for _, s := range e.([]any) {
						if n, ok := s.(json.Number); ok {
							ss = append(ss, n.String())
						} else {
							ss = append(ss, s.(string))
						}
					}
					if k == "$SS" {
						return &types.AttributeValueMemberSS{Value: ss}
					}
					return &types.AttributeValueMemberNS{Value: ss}
				case "$BS":
					bs := [][]byte{}
					for _, s := range e.([]any) {
						b, _ := base64.StdEncoding.DecodeString(s.(string))
						bs = append(bs, b)
					}
					return &types.AttributeValueMemberBS{Value: bs}
				case "$B":
					b, _ := base64.StdEncoding.DecodeString(e.(string))
					return &types.AttributeValueMemberB{Value: b}
				}
			}
		}
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			m[k] = fixtureValue(t, e)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	t.Fatalf("fixture value %#v", v)
	return nil
}

// show renders an item as plain JSON with sorted keys, numbers as stored
// and sets in their stored order; "" for no item.
func show(item map[string]types.AttributeValue) string {
	if item == nil {
		return ""
	}
	var b bytes.Buffer
	showMap(&b, item)
	return b.String()
}

func showMap(b *bytes.Buffer, m map[string]types.AttributeValue) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		showValue(b, m[k])
	}
	b.WriteByte('}')
}

func showValue(b *bytes.Buffer, av types.AttributeValue) {
	quoted := func(ss []string) string {
		q, _ := json.Marshal(ss)
		return string(q)
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		s, _ := json.Marshal(v.Value)
		b.Write(s)
	case *types.AttributeValueMemberN:
		b.WriteString(v.Value)
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *types.AttributeValueMemberNULL:
		b.WriteString("null")
	case *types.AttributeValueMemberL:
		b.WriteByte('[')
		for i, e := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			showValue(b, e)
		}
		b.WriteByte(']')
	case *types.AttributeValueMemberM:
		showMap(b, v.Value)
	case *types.AttributeValueMemberSS:
		b.WriteString(`{"$SS":` + quoted(v.Value) + `}`)
	case *types.AttributeValueMemberNS:
		b.WriteString(`{"$NS":[` + strings.Join(v.Value, ",") + `]}`)
	case *types.AttributeValueMemberB:
		b.WriteString(`{"$B":"` + base64.StdEncoding.EncodeToString(v.Value) + `"}`)
	case *types.AttributeValueMemberBS:
		ss := make([]string, len(v.Value))
		for i, x := range v.Value {
			ss[i] = base64.StdEncoding.EncodeToString(x)
		}
		b.WriteString(`{"$BS":` + quoted(ss) + `}`)
	default:
		b.WriteString("<?>")
	}
}

// sorted re-renders plain JSON with sorted keys (numbers untouched), so
// that expectations can be written in any key order.
func sorted(t testing.TB, js string) string {
	t.Helper()
	if js == "" {
		return ""
	}
	return show(fixture(t, js))
}

// testEngine is an engine over a fresh in-memory store.
type testEngine struct {
	*Engine
	st *memStore
}

func newTestEngine(t testing.TB) *testEngine {
	t.Helper()
	st := newMemStore()
	st.retry = true // every fn runs twice: it must not depend on running once
	return &testEngine{Engine: New(st, testTable), st: st}
}

func (e *testEngine) put(t testing.TB, js string) {
	t.Helper()
	if _, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: fixture(t, js)}); err != nil {
		t.Fatalf("put %s: %v", js, err)
	}
}

// stored is the item of id as plain JSON, "" for none.
func (e *testEngine) stored(t testing.TB, id string) string {
	t.Helper()
	out, err := e.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: keyMap(id)})
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return show(out.Item)
}

func keyMap(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: id}}
}

// opt is nil for "" (an absent expression).
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// message is the message of an API error ("" for none).
func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func isValidation(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException"
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
