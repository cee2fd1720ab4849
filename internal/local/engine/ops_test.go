package engine

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/itemsize"
)

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

// TestKeysStayConsistent: failed puts store nothing, conditional puts and
// deletes leave exactly the keys they should, and Scan sees them in order.
func TestKeysStayConsistent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTestEngine(t)
	table := aws.String(testTable)
	put := func(id, cond string) error {
		_, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: map[string]types.AttributeValue{"id": str(id)}, ConditionExpression: opt(cond)})
		return err
	}
	for _, id := range []string{"m", "c", "x", "a"} {
		if err := put(id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("b", "attribute_exists(id)"); !isConditionFailed(err) {
		t.Fatalf("conditional put of a new key: %v", err)
	}
	if err := put("d", "bad syntax ((("); !isValidation(err) {
		t.Fatalf("a bad condition: %v", err)
	}
	if err := put("e", "attribute_not_exists(id)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("x")}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "c", "e", "m"}
	if got := strings.Join(e.st.keys, ","); got != strings.Join(want, ",") || len(e.st.vals) != len(want) {
		t.Fatalf("stored keys %q, %d items; want %q", got, len(e.st.vals), want)
	}
	out, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: table})
	if err != nil || out.Count != 4 || out.ScannedCount != 4 || out.LastEvaluatedKey != nil {
		t.Fatalf("scan: %+v %v", out, err)
	}
	for i, it := range out.Items {
		if show(it) != `{"id":"`+want[i]+`"}` {
			t.Errorf("scan item %d: %s", i, show(it))
		}
	}
	if got, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: keyMap("b")}); err != nil || got.Item != nil {
		t.Fatalf("the failed put left an item: %+v %v", got, err)
	}
}

// TestPutItemNumbers: PutItem stores numbers in DynamoDB's canonical
// spelling and refuses, with DynamoDB's messages and without storing
// anything, what DynamoDB refuses.
func TestPutItemNumbers(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	e.put(t, `{"id":"n","a":1e3,"b":2.5E-3,"c":1.50,"d":-0,"e":1E+2,"f":0.70,"l":[0.10,{"x":-0.0}],"ns":{"$NS":["1e1","2"]}}`)
	if got, want := e.stored(t, "n"), sorted(t, `{"id":"n","a":1000,"b":0.0025,"c":1.5,"d":0,"e":100,"f":0.7,"l":[0.1,{"x":0}],"ns":{"$NS":[10,2]}}`); got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
	tests := []struct{ item, want string }{
		{`{"id":"x","n":123456789012345678901234567890123456789}`, msgNumberPrecision},
		{`{"id":"x","n":1e126}`, msgNumberOverflow},
		{`{"id":"x","m":{"l":[1e-131]}}`, msgNumberUnderflow},
		{`{"id":"x","ns":{"$NS":["1","1.0"]}}`, "contains duplicates"},
		{`{"id":"x","ss":{"$SS":["a","a"]}}`, "contains duplicates"},
		{`{"id":"x","ss":{"$SS":[]}}`, "One or more parameter values were invalid: An string set  may not be empty"},
		{`{"id":"x","blob":"` + strings.Repeat("b", maxItemBytes) + `"}`, "Item size has exceeded the maximum allowed size"},
	}
	for _, tt := range tests {
		_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: fixture(t, tt.item)})
		if !isValidation(err) || !strings.Contains(message(err), tt.want) {
			t.Errorf("%.80s: %v, want ValidationException %q", tt.item, err, tt.want)
		}
	}
	if e.stored(t, "x") != "" || e.st.len() != 1 {
		t.Errorf("a refused put stored something: %v", e.st.keys)
	}
	// A number out of range in a condition's values is refused too.
	_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: fixture(t, `{"id":"y"}`),
		ConditionExpression: aws.String("attribute_not_exists(n) OR n < :v"), ExpressionAttributeValues: fixture(t, `{":v":1e999}`)})
	if !strings.Contains(message(err), "ExpressionAttributeValues contains invalid value: "+msgNumberOverflow+" for key :v") {
		t.Errorf("condition value out of range: %v", err)
	}
	// The caller's values are not rewritten: canonical numbers go to copies.
	in := fixture(t, `{"id":"z","n":1.50}`)
	if _, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: in}); err != nil || show(in) != `{"id":"z","n":1.50}` {
		t.Errorf("the caller's item changed: %s %v", show(in), err)
	}
}

// TestDecodeCanonicalizes: items stored with numbers as written (by an
// older version) are served canonically; a number DynamoDB would refuse
// is served as it was stored, not dropped.
func TestDecodeCanonicalizes(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	b, err := EncodeItem(fixture(t, `{"id":"a","n":1.50,"l":[1e3],"huge":1e200,"ns":{"$NS":["2.0"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Update(context.Background(), []byte("a"), func([]byte) ([]byte, error) { return b, nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := e.stored(t, "a"), sorted(t, `{"id":"a","n":1.5,"l":[1000],"huge":1e200,"ns":{"$NS":[2]}}`); got != want {
		t.Errorf("loaded %s, want %s", got, want)
	}
}

// TestPastTheEndIsFalse: a list index past the end in a condition or a
// filter (tags[7] = :v) reaches nothing, so the comparison is false, as
// in DynamoDB (minidyn's interpreter panicked here; the old engine
// answered an internal error), and nothing changes.
func TestPastTheEndIsFalse(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	e.put(t, `{"id":"a","tags":["x"]}`)
	table := aws.String(testTable)
	vals := fixture(t, `{":v":"x"}`)
	cond := aws.String("tags[7] = :v")
	out, err := e.Scan(context.Background(), &dynamodb.ScanInput{TableName: table, FilterExpression: cond, ExpressionAttributeValues: vals})
	if err != nil || out.Count != 0 || out.ScannedCount != 1 {
		t.Errorf("scan: %+v %v", out, err)
	}
	calls := map[string]func() error{
		"put": func() error {
			_, err := e.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"a"}`), ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
		"update": func() error {
			_, err := e.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: table, Key: keyMap("a"), UpdateExpression: aws.String("SET n = :v"),
				ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
		"delete": func() error {
			_, err := e.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("a"), ConditionExpression: cond, ExpressionAttributeValues: vals})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !isConditionFailed(err) {
			t.Errorf("%s: %v, want ConditionalCheckFailedException", name, err)
		}
	}
	if got := e.stored(t, "a"); got != `{"id":"a","tags":["x"]}` || e.st.len() != 1 {
		t.Errorf("after the failed calls: %s, keys %v", got, e.st.keys)
	}
}

// TestItemSizeAgreesWithHandler: the engine's item size (which refuses
// an update past 400 KB) is the handler's (which refuses a create past
// 400 KB and says by how many bytes): both count the same for every type.
func TestItemSizeAgreesWithHandler(t *testing.T) {
	t.Parallel()
	h := handler.New(newTestEngine(t), handler.Config{TableName: testTable})
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
		item := fixture(t, js)
		item[KeyAttribute] = str("size")
		item["pad"] = str(pad)
		status, out := h.Do(context.Background(), []byte(`{"operation":"create","payload":{"Item":`+show(item)+`}}`), "RID")
		m := bytesRe.FindSubmatch(out)
		if status != 413 || m == nil {
			t.Fatalf("%s: %d %.200s", js, status, out)
		}
		handlerSize, _ := strconv.Atoi(string(m[1]))
		canonical, err := canonicalItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := itemsize.Of(item), itemsize.Of(canonical); a != handlerSize || b != handlerSize {
			t.Errorf("%s: handler %d bytes, engine %d (as written) and %d (canonical)", js, handlerSize, a, b)
		}
	}
}

// TestOtherTable: a request for another table is DynamoDB's
// ResourceNotFoundException, which the handler never sends (it answers
// 403 itself) but the SDK contract requires.
func TestOtherTable(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	var rnf *types.ResourceNotFoundException
	if _, err := e.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("other"), Key: keyMap("a")}); !errors.As(err, &rnf) {
		t.Errorf("GetItem of another table: %v", err)
	}
	if _, err := e.Scan(context.Background(), &dynamodb.ScanInput{}); !isValidation(err) {
		t.Errorf("Scan without a table: %v", err)
	}
}
