package local

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestEngineKeysStayConsistent: the key placed ahead of a Put is undone
// when the Put fails, and the sorted key list always matches the data.
func TestEngineKeysStayConsistent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEmbeddedEngine()
	if err := e.createTable(ctx, DefaultTable); err != nil {
		t.Fatal(err)
	}
	table := aws.String(DefaultTable)
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
