package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// nested is an attribute value of levels levels: levels-1 maps around a
// number.
func nested(levels int) string {
	return strings.Repeat(`{"a":`, levels-1) + "1" + strings.Repeat("}", levels-1)
}

func TestKeyRules(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := context.Background()
	table := aws.String(testTable)
	k2048, k2049 := strings.Repeat("k", 2048), strings.Repeat("k", 2049)
	e.put(t, `{"id":"`+k2048+`"}`)
	if e.stored(t, k2048) == "" {
		t.Fatal("a 2048-byte key was not stored")
	}
	// é is two bytes: 1024 of them are 2048 bytes, one more is too many.
	e.put(t, `{"id":"`+strings.Repeat("é", 1024)+`"}`)
	puts := []struct{ item, want string }{
		{`{"id":"` + k2049 + `"}`, msgKeyTooLong},
		{`{"id":"` + strings.Repeat("é", 1024) + `x"}`, msgKeyTooLong},
		{`{"id":""}`, msgKeyEmpty},
		{`{"name":"x"}`, "One or more parameter values were invalid: Missing the key id in the item"},
		{`{"id":5}`, "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"},
		{`{"id":{"$B":"AQ=="}}`, "Type mismatch for key id expected: S actual: B"},
		{`{"id":"x","":"empty name"}`, "An attribute name may not be empty"},
		{`{"id":"x","d":` + nested(33) + `}`, msgNesting},
		{`{"id":"x","d":[` + nested(32) + `]}`, msgNesting},
	}
	for _, tt := range puts {
		_, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, tt.item)})
		if !isValidation(err) || !strings.Contains(message(err), tt.want) {
			t.Errorf("put %.70s: %v, want %q", tt.item, err, tt.want)
		}
	}
	e.put(t, `{"id":"deep","d":`+nested(32)+`}`)
	keys := []struct {
		key  map[string]types.AttributeValue
		want string
	}{
		{keyMap(k2049), msgKeyTooLong},
		{keyMap(""), msgKeyEmpty},
		{map[string]types.AttributeValue{"id": num("1")}, msgKeySchema},
		{map[string]types.AttributeValue{"id": str("a"), "x": str("b")}, msgKeySchema},
		{map[string]types.AttributeValue{"x": str("b")}, msgKeySchema},
		{nil, msgKeySchema},
	}
	for _, tt := range keys {
		_, errGet := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: tt.key})
		_, errDel := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: tt.key})
		_, errUpd := e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: tt.key})
		for _, err := range []error{errGet, errDel, errUpd} {
			if !isValidation(err) || !strings.Contains(message(err), tt.want) {
				t.Errorf("key %s: %v, want %q", show(tt.key), err, tt.want)
			}
		}
		_, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: table, ExclusiveStartKey: tt.key})
		if tt.key != nil && (!isValidation(err) || message(err) != "The provided starting key is invalid: "+tt.want) {
			t.Errorf("ExclusiveStartKey %s: %v", show(tt.key), err)
		}
	}
	// An update nesting a value past 32 levels is refused like a put.
	_, err := e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: keyMap("deep"),
		UpdateExpression: aws.String("SET d" + strings.Repeat(".a", 31) + " = :v"), ExpressionAttributeValues: fixture(t, `{":v":{"b":1}}`)})
	if !isValidation(err) || message(err) != msgNesting {
		t.Errorf("update past 32 levels: %v", err)
	}
	_, err = e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: keyMap("deep"),
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: fixture(t, `{":v":`+nested(33)+`}`)})
	if !isValidation(err) || !strings.Contains(message(err), "ExpressionAttributeValues contains invalid value: "+msgNesting) {
		t.Errorf("a value of 33 levels: %v", err)
	}
}

func TestReturnValuesOfPutAndDelete(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := context.Background()
	table := aws.String(testTable)
	out, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"r","v":1}`), ReturnValues: types.ReturnValueAllOld})
	if err != nil || out.Attributes != nil {
		t.Fatalf("ALL_OLD of a new item: %v %v", out, err)
	}
	out, err = e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"r","v":2}`), ReturnValues: types.ReturnValueAllOld})
	if err != nil || show(out.Attributes) != `{"id":"r","v":1}` {
		t.Fatalf("ALL_OLD of a replaced item: %v %v", show(out.Attributes), err)
	}
	if out, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"r","v":3}`)}); err != nil || out.Attributes != nil {
		t.Fatalf("put without ReturnValues answers attributes: %v %v", out, err)
	}
	for _, rv := range []types.ReturnValue{types.ReturnValueAllNew, types.ReturnValueUpdatedOld, "all_old"} {
		if _, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"r"}`), ReturnValues: rv}); !isValidation(err) {
			t.Errorf("PutItem ReturnValues %s: %v", rv, err)
		}
		if _, err := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("r"), ReturnValues: rv}); !isValidation(err) {
			t.Errorf("DeleteItem ReturnValues %s: %v", rv, err)
		}
	}
	// A failed condition carries the item with ALL_OLD, nothing without.
	for _, onFail := range []types.ReturnValuesOnConditionCheckFailure{types.ReturnValuesOnConditionCheckFailureAllOld, ""} {
		_, errPut := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: fixture(t, `{"id":"r"}`), ConditionExpression: aws.String("attribute_not_exists(id)"),
			ReturnValuesOnConditionCheckFailure: onFail})
		_, errDel := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("r"), ConditionExpression: aws.String("v = :v"),
			ExpressionAttributeValues: fixture(t, `{":v":9}`), ReturnValuesOnConditionCheckFailure: onFail})
		for _, err := range []error{errPut, errDel} {
			var ccf *types.ConditionalCheckFailedException
			if !isConditionFailed(err) {
				t.Fatalf("%v", err)
			}
			_ = errorsAs(err, &ccf)
			want := ""
			if onFail != "" {
				want = `{"id":"r","v":3}`
			}
			if show(ccf.Item) != want {
				t.Errorf("on failure %q: item %s, want %s", onFail, show(ccf.Item), want)
			}
		}
	}
	out2, err := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("r"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || show(out2.Attributes) != `{"id":"r","v":3}` || e.stored(t, "r") != "" {
		t.Fatalf("delete ALL_OLD: %v %v", show(out2.Attributes), err)
	}
	out2, err = e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: keyMap("r"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || out2.Attributes != nil {
		t.Fatalf("delete of a missing item: %v %v", out2, err)
	}
}

func TestScanPages(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := context.Background()
	// Keys in UTF-8 byte order: "B" < "a" < "b" < "é" < "😀".
	for _, id := range []string{"b", "😀", "a", "é", "B"} {
		e.put(t, fmt.Sprintf(`{"id":%q,"n":%d}`, id, len(id)))
	}
	scan := func(in *dynamodb.ScanInput) *dynamodb.ScanOutput {
		t.Helper()
		in.TableName = aws.String(testTable)
		out, err := e.Scan(ctx, in)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		return out
	}
	ids := func(out *dynamodb.ScanOutput) string {
		var s []string
		for _, it := range out.Items {
			s = append(s, it["id"].(*types.AttributeValueMemberS).Value)
		}
		return strings.Join(s, ",")
	}
	if got := ids(scan(&dynamodb.ScanInput{})); got != "B,a,b,é,😀" {
		t.Errorf("order %s", got)
	}
	// Limit counts items read before the filter; the page ends with the
	// last key read, even when it was filtered out.
	p := scan(&dynamodb.ScanInput{Limit: aws.Int32(2), FilterExpression: aws.String("n > :one"), ExpressionAttributeValues: fixture(t, `{":one":1}`)})
	if p.Count != 0 || p.ScannedCount != 2 || show(p.LastEvaluatedKey) != `{"id":"a"}` || len(p.Items) != 0 {
		t.Errorf("filtered page: %s count %d scanned %d LEK %s", ids(p), p.Count, p.ScannedCount, show(p.LastEvaluatedKey))
	}
	p = scan(&dynamodb.ScanInput{Limit: aws.Int32(2), ExclusiveStartKey: p.LastEvaluatedKey, FilterExpression: aws.String("n > :one"), ExpressionAttributeValues: fixture(t, `{":one":1}`)})
	if ids(p) != "é" || p.Count != 1 || p.ScannedCount != 2 || show(p.LastEvaluatedKey) != `{"id":"é"}` {
		t.Errorf("second page: %s count %d scanned %d LEK %s", ids(p), p.Count, p.ScannedCount, show(p.LastEvaluatedKey))
	}
	// A page that reaches Limit on the last item still has a
	// LastEvaluatedKey; the next one is empty and has none.
	p = scan(&dynamodb.ScanInput{Limit: aws.Int32(1), ExclusiveStartKey: p.LastEvaluatedKey})
	if ids(p) != "😀" || show(p.LastEvaluatedKey) != `{"id":"😀"}` {
		t.Errorf("last page: %s LEK %s", ids(p), show(p.LastEvaluatedKey))
	}
	p = scan(&dynamodb.ScanInput{Limit: aws.Int32(1), ExclusiveStartKey: p.LastEvaluatedKey})
	if len(p.Items) != 0 || p.ScannedCount != 0 || p.LastEvaluatedKey != nil {
		t.Errorf("after the end: %+v", p)
	}
	// An ExclusiveStartKey that no longer exists continues after it.
	p = scan(&dynamodb.ScanInput{ExclusiveStartKey: keyMap("aa")})
	if ids(p) != "b,é,😀" || p.LastEvaluatedKey != nil {
		t.Errorf("after a deleted key: %s", ids(p))
	}
	for _, limit := range []int32{0, -1} {
		if _, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(testTable), Limit: aws.Int32(limit)}); !isValidation(err) {
			t.Errorf("Limit %d: %v", limit, err)
		}
	}
}

// TestScanMegabyte: a page stops once it has read 1 MB.
func TestScanMegabyte(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	blob := strings.Repeat("x", 300*1024)
	for i := range 5 {
		e.put(t, fmt.Sprintf(`{"id":"%d","blob":%q}`, i, blob))
	}
	out, err := e.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(testTable)})
	if err != nil {
		t.Fatal(err)
	}
	// 4 × (300 KB + 10 bytes) is the first total of 1 MB or more.
	if out.ScannedCount != 4 || show(out.LastEvaluatedKey) != `{"id":"3"}` {
		t.Errorf("scanned %d, LEK %s", out.ScannedCount, show(out.LastEvaluatedKey))
	}
}

// TestConcurrentConditionalWrites: conditional increments of one key
// from many goroutines serialize in Store.Update: every one that
// succeeded is counted, none is lost.
func TestConcurrentConditionalWrites(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := context.Background()
	e.put(t, `{"id":"c","n":0}`)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range workers {
		wg.Go(func() {
			for range rounds {
				out, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: keyMap("c")})
				if err != nil {
					t.Error(err)
					return
				}
				cur := out.Item["n"]
				// Compare-and-set: increment only if nobody else did.
				_, err = e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(testTable), Key: keyMap("c"),
					UpdateExpression: aws.String("SET n = n + :one"), ConditionExpression: aws.String("n = :cur"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num("1"), ":cur": cur}})
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case !isConditionFailed(err):
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := e.stored(t, "c"); got != fmt.Sprintf(`{"id":"c","n":%d}`, ok) || ok == 0 {
		t.Errorf("stored %s after %d successful increments", got, ok)
	}
}
