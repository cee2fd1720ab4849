package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// jsonValue maps decoded plain JSON to attribute values as the handler
// does (and {"$SS"/"$NS"/"$BS": [...]} to sets), reporting false for what
// it cannot map.
func jsonValue(v any) (types.AttributeValue, bool) {
	switch x := v.(type) {
	case string:
		return &types.AttributeValueMemberS{Value: x}, true
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}, true
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, true
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, true
	case []any:
		l := make([]types.AttributeValue, 0, len(x))
		for _, e := range x {
			av, ok := jsonValue(e)
			if !ok {
				return nil, false
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, true
	case map[string]any:
		if set, ok := x["$SS"].([]any); ok && len(x) == 1 {
			ss := []string{}
			for _, e := range set {
				s, ok := e.(string)
				if !ok {
					return nil, false
				}
				ss = append(ss, s)
			}
			return &types.AttributeValueMemberSS{Value: ss}, true
		}
		if set, ok := x["$NS"].([]any); ok && len(x) == 1 {
			ns := []string{}
			for _, e := range set {
				n, ok := e.(json.Number)
				if !ok {
					return nil, false
				}
				ns = append(ns, n.String())
			}
			return &types.AttributeValueMemberNS{Value: ns}, true
		}
		m, ok := jsonMap(x)
		return &types.AttributeValueMemberM{Value: m}, ok
	}
	return nil, false
}

func jsonMap(x map[string]any) (map[string]types.AttributeValue, bool) {
	m := make(map[string]types.AttributeValue, len(x))
	for k, e := range x {
		av, ok := jsonValue(e)
		if !ok {
			return nil, false
		}
		m[k] = av
	}
	return m, true
}

func decodeJSONMap(s string) (map[string]any, bool) {
	if s == "" {
		return nil, true
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	return m, dec.Decode(&m) == nil
}

// FuzzCondition feeds the condition and filter evaluator an expression,
// expression attribute names and values, and an item: it never panics,
// and every error is a ValidationException. The seed corpus runs with
// every `go test`.
func FuzzCondition(f *testing.F) {
	item := `{"id":"c","n":5,"s":"hello","u":"é𝄞","l":[1,"x",[2]],"m":{"a":{"b":[1,2]}},"t":true,"z":null,"ss":{"$SS":["a"]},"ns":{"$NS":[1,2]}}`
	for _, seed := range []struct{ expr, names, values string }{
		{"n = :v", "", `{":v":5}`},
		{"n <> :v AND NOT s = :s", "", `{":v":5,":s":"x"}`},
		{"#a.#b[1] BETWEEN :lo AND :hi", `{"#a":"m","#b":"b"}`, `{":lo":1,":hi":2}`},
		{"n BETWEEN :hi AND :lo", "", `{":lo":1,":hi":2}`},
		{"n IN (:a, :b, :c)", "", `{":a":1,":b":"5",":c":5}`},
		{"attribute_exists(m.a.b[7]) OR attribute_not_exists(l[0].x)", "", ""},
		{"attribute_type(n, :t)", "", `{":t":"N"}`},
		{"attribute_type(n, :t)", "", `{":t":"DOG"}`},
		{"begins_with(s, :p) AND contains(l, :e)", "", `{":p":"he",":e":[2]}`},
		{"contains(ss, :x) OR contains(ns, :n)", "", `{":x":"a",":n":2.0}`},
		{"size(u) = :three AND size(l) > :one", "", `{":three":3,":one":1}`},
		{"size(size(s)) = :one", "", `{":one":1}`},
		{"size(s)", "", ""},
		{"((n = :v))", "", `{":v":5}`},
		{"(n = :v OR n = :w) AND (s < :s)", "", `{":v":5,":w":6,":s":"z"}`},
		{"NOT NOT NOT n > :big", "", `{":big":12345678901234567890}`},
		{"name = :v", "", `{":v":1}`},
		{"n = :v", `{"#unused":"x"}`, `{":v":1,":unused":2}`},
		{"n = :v", "", `{":v":1e999}`},
		{"n < :l", "", `{":l":[1]}`},
		{"dog(n) = :v", "", `{":v":1}`},
		{"a.b[99999999999] = :v", "", `{":v":1}`},
		{"n = :v" + strings.Repeat(" OR n = :v", 160), "", `{":v":1}`},
		{"((((((((((n = :v", "", `{":v":1}`},
		{"n = :v)", "", `{":v":1}`},
		{"☃ = :v", "", `{":v":1}`},
		{"", "", ""},
	} {
		f.Add(seed.expr, seed.names, seed.values, item)
	}
	e := newTestEngine(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, expr, namesJSON, valuesJSON, itemJSON string) {
		rawNames, ok1 := decodeJSONMap(namesJSON)
		rawValues, ok2 := decodeJSONMap(valuesJSON)
		rawItem, ok3 := decodeJSONMap(itemJSON)
		if !ok1 || !ok2 || !ok3 {
			return
		}
		var names map[string]string
		if rawNames != nil {
			names = map[string]string{}
			for k, v := range rawNames {
				s, ok := v.(string)
				if !ok {
					return
				}
				names[k] = s
			}
		}
		var values map[string]types.AttributeValue
		if rawValues != nil {
			var ok bool
			if values, ok = jsonMap(rawValues); !ok {
				return
			}
		}
		item, ok := jsonMap(rawItem)
		if !ok {
			return
		}
		// The evaluator on its own, against the item as given.
		ph, err := newPlaceholders(names, values, true)
		if err == nil {
			var c *cond
			if c, err = parseCondition(labelCondition, expr, ph); err == nil {
				if err = ph.checkUnused(); err == nil {
					c.eval(item)
					c.eval(nil)
				}
			}
		}
		if err != nil && !isValidation(err) {
			t.Fatalf("%q: %v is not a ValidationException", expr, err)
		}
		// Through the engine: the item stored, the expression as a
		// filter and as a condition.
		item[KeyAttribute] = &types.AttributeValueMemberS{Value: "fuzz"}
		if _, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: item}); err != nil {
			if !isValidation(err) {
				t.Fatalf("put: %v is not a ValidationException", err)
			}
			return
		}
		_, err = e.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(testTable), FilterExpression: &expr,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		if err != nil && !isValidation(err) {
			t.Fatalf("scan %q: %v is not a ValidationException", expr, err)
		}
		_, err = e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(testTable), Key: keyMap("fuzz"), ConditionExpression: &expr,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		if err != nil && !isValidation(err) && !isConditionFailed(err) {
			t.Fatalf("delete %q: %v is neither a ValidationException nor a failed condition", expr, err)
		}
	})
}
