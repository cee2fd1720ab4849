package minidynengine

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/wire"
)

// TestEngineKeysStayConsistent: the key placed ahead of a Put is undone
// when the Put fails, and the sorted key list always matches the data.
func TestEngineKeysStayConsistent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := New()
	if err := e.CreateTable(ctx, testTable); err != nil {
		t.Fatal(err)
	}
	table := aws.String(testTable)
	put := func(id, cond string) error {
		in := &dynamodb.PutItemInput{TableName: table, Item: map[string]types.AttributeValue{"id": s(id)}}
		if cond != "" {
			in.ConditionExpression = aws.String(cond)
		}
		_, err := e.PutItem(ctx, in)
		return err
	}
	for _, id := range []string{"m", "c", "x", "a"} {
		if err := put(id, ""); err != nil {
			t.Fatal(err)
		}
	}
	var ccf *types.ConditionalCheckFailedException
	if err := put("b", "attribute_exists(id)"); !errors.As(err, &ccf) {
		t.Fatalf("conditional put of a new key: %v", err)
	}
	if err := put("d", "bad syntax ((("); err == nil {
		t.Fatal("a bad condition was accepted")
	}
	if err := put("e", "attribute_not_exists(id)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: map[string]types.AttributeValue{"id": s("x")}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "c", "e", "m"}
	if got := e.table.SortedKeys; !slices.Equal(got, want) || len(e.table.Data) != len(want) {
		t.Fatalf("sorted keys %q, %d items; want %q", got, len(e.table.Data), want)
	}
	out, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: table})
	if err != nil || out.Count != 4 || out.ScannedCount != 4 {
		t.Fatalf("scan: %+v %v", out, err)
	}
	if got, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: map[string]types.AttributeValue{"id": s("b")}}); err != nil || got.Item != nil {
		t.Fatalf("the failed put left an item: %+v %v", got, err)
	}
}

// TestPutItemNumbers: PutItem stores numbers in DynamoDB's canonical
// spelling and refuses, with DynamoDB's messages and without storing
// anything, what DynamoDB refuses.
func TestPutItemNumbers(t *testing.T) {
	t.Parallel()
	e := testEngine(t)
	e.mustPut(t, `{"id":"n","a":1e3,"b":2.5E-3,"c":1.50,"d":-0,"e":1E+2,"f":0.70,"l":[0.10,{"x":-0.0}],"ns":{"$NS":["1e1","2"]}}`)
	if got, want := e.stored(t, "n"), canon(t, `{"id":"n","a":1000,"b":0.0025,"c":1.5,"d":0,"e":100,"f":0.7,"l":[0.1,{"x":0}],"ns":{"$NS":[10,2]}}`); got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
	tests := []struct{ item, want string }{
		{`{"id":"x","n":123456789012345678901234567890123456789}`, msgNumberPrecision},
		{`{"id":"x","n":1e126}`, msgNumberOverflow},
		{`{"id":"x","m":{"l":[1e-131]}}`, msgNumberUnderflow},
		{`{"id":"x","ns":{"$NS":["1","1.0"]}}`, "contains duplicates"},
		{`{"id":"x","ss":{"$SS":[]}}`, "One or more parameter values were invalid: An string set  may not be empty"},
		{`{"id":"x","blob":"` + strings.Repeat("b", maxItemBytes) + `"}`, "Item size has exceeded the maximum allowed size"},
	}
	for _, tt := range tests {
		_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: doc(t, tt.item)})
		if !isValidation(err) || !strings.Contains(apiMessage(err), tt.want) {
			t.Errorf("%.80s: %v, want ValidationException %q", tt.item, err, tt.want)
		}
	}
	if e.stored(t, "x") != "" || len(e.table.SortedKeys) != 1 {
		t.Errorf("a refused put stored something: %v", e.table.SortedKeys)
	}
	// A number out of range in a condition's values is refused too.
	_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: doc(t, `{"id":"y"}`),
		ConditionExpression: aws.String("attribute_not_exists(n) OR n < :v"), ExpressionAttributeValues: doc(t, `{":v":1e999}`)})
	if !strings.Contains(apiMessage(err), "ExpressionAttributeValues contains invalid value: "+msgNumberOverflow+" for key :v") {
		t.Errorf("condition value out of range: %v", err)
	}
}

// TestLoadCanonicalizes: items journaled with numbers as written (before
// the engine stored them canonically) are served canonically; a number
// DynamoDB would refuse is served as it was journaled, not dropped.
func TestLoadCanonicalizes(t *testing.T) {
	t.Parallel()
	e := testEngine(t)
	if err := e.Load([]map[string]types.AttributeValue{doc(t, `{"id":"a","n":1.50,"l":[1e3],"huge":1e200}`)}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.stored(t, "a"), canon(t, `{"id":"a","n":1.5,"l":[1000],"huge":1e200}`); got != want {
		t.Errorf("loaded %s, want %s", got, want)
	}
}

// TestMinidynPanicsBecomeErrors: minidyn's interpreter panics on a list
// index past the end of a list in a condition or a filter; the engine
// answers an internal error instead, and the table is as it was.
func TestMinidynPanicsBecomeErrors(t *testing.T) {
	t.Parallel()
	e := testEngine(t)
	e.mustPut(t, `{"id":"a","tags":["x"]}`)
	table := aws.String(testTable)
	vals := doc(t, `{":v":"x"}`)
	cond := aws.String("tags[7] = :v")
	calls := map[string]func() error{
		"scan": func() error {
			_, err := e.Scan(context.Background(), &dynamodb.ScanInput{TableName: table, FilterExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
		"put": func() error {
			_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: table, Item: doc(t, `{"id":"a"}`), ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
		"update": func() error {
			_, err := e.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: table, Key: idKey("a"), UpdateExpression: aws.String("SET n = :v"),
				ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
		"delete": func() error {
			_, err := e.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: table, Key: idKey("a"), ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
	}
	for name, call := range calls {
		var ae smithy.APIError
		if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "InternalServerError" {
			t.Errorf("%s: %v, want an InternalServerError", name, err)
		}
	}
	if got := e.stored(t, "a"); got != `{"id":"a","tags":["x"]}` || !slices.Equal(e.table.SortedKeys, []string{"a"}) || len(e.table.Data) != 1 {
		t.Errorf("after the failed calls: %s, keys %v", got, e.table.SortedKeys)
	}
}

// TestItemSizeAgreesWithHandler: the engine's item size (which refuses
// an update past 400 KB) is the handler's (which refuses a create past
// 400 KB and says by how many bytes): both count the same for every type.
func TestItemSizeAgreesWithHandler(t *testing.T) {
	t.Parallel()
	h := handler.New(testEngine(t), handler.Config{TableName: testTable})
	bytesRe := regexp.MustCompile(`item is (\d+) bytes`)
	pad := strings.Repeat("x", maxItemBytes)
	for _, js := range []string{
		`{}`,
		`{"s":"żółw ☃","e":""}`,
		`{"n":12345678901234567890,"z":0,"f":0.000120,"neg":-1.50,"e":1e3,"e2":2.5E-3,"one":1,"tenth":0.1}`,
		`{"b":true,"f":false,"nul":null}`,
		`{"l":[1,"two",[3,[4]],{"k":null}],"m":{"a":{"b":{"c":[]}},"ü":{}},"el":[],"em":{}}`,
		`{"ünïcödé näme":"v","k":{"ключ":"значение"}}`,
	} {
		item := doc(t, js)
		item[wire.KeyAttribute] = &types.AttributeValueMemberS{Value: "size"}
		item["pad"] = &types.AttributeValueMemberS{Value: pad}
		status, out := h.Do(context.Background(), []byte(`{"operation":"create","payload":{"Item":`+plain(item)+`}}`), "RID")
		m := bytesRe.FindSubmatch(out)
		if status != 413 || m == nil {
			t.Fatalf("%s: %d %.200s", js, status, out)
		}
		handlerSize, _ := strconv.Atoi(string(m[1]))
		written := toItemMap(item)
		canonical := toItemMap(item)
		if err := canonicalizeItem(canonical); err != nil {
			t.Fatal(err)
		}
		if a, b := itemSize(written), itemSize(canonical); a != handlerSize || b != handlerSize {
			t.Errorf("%s: handler %d bytes, engine %d (as written) and %d (canonical)", js, handlerSize, a, b)
		}
	}
}
