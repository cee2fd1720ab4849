package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkEngine measures the engine's operations as the handler calls
// them, over the in-memory store: the engine's own cost per request
// (decoding, expressions, encoding), without a durable store or HTTP.
func BenchmarkEngine(b *testing.B) {
	ctx := context.Background()
	e := New(newMemStore(), testTable)
	table := aws.String(testTable)
	item := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"id": str(id), "name": str("Bob"), "age": num("41"), "score": num("12.5"),
			"tags": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("a"), str("b"), str("c")}},
			"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"lvl": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": num("1"), "y": str("two")}}}},
		}
	}
	for i := range 100 {
		if _, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item(fmt.Sprint(i))}); err != nil {
			b.Fatal(err)
		}
	}
	key := map[string]types.AttributeValue{"id": str("1")}
	names := map[string]string{"#n": "name"}
	run := func(name string, op func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("GetItem", func() error {
		_, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key})
		return err
	})
	run("GetItem/projection", func() error {
		_, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key,
			ProjectionExpression: aws.String("#n, age, nested.lvl.x"), ExpressionAttributeNames: names})
		return err
	})
	run("PutItem", func() error {
		_, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("1")})
		return err
	})
	run("PutItem/condition", func() error {
		_, err := e.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("1"),
			ConditionExpression: aws.String("attribute_exists(id) AND age >= :a"), ExpressionAttributeValues: map[string]types.AttributeValue{":a": num("18")}})
		return err
	})
	run("UpdateItem/set", func() error {
		_, err := e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key,
			UpdateExpression: aws.String("SET #n = :n"), ConditionExpression: aws.String("attribute_exists(id)"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: map[string]types.AttributeValue{":n": str("Alice")},
			ReturnValues: types.ReturnValueAllNew})
		return err
	})
	run("UpdateItem/arithmetic", func() error {
		_, err := e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: key,
			UpdateExpression:          aws.String("SET age = age + :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num("1")}, ReturnValues: types.ReturnValueUpdatedNew})
		return err
	})
	run("DeleteItem/missing", func() error {
		_, err := e.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: map[string]types.AttributeValue{"id": str("none")}})
		return err
	})
	run("Scan/100", func() error {
		_, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: table, Limit: aws.Int32(100)})
		return err
	})
	run("Scan/100/filter+projection", func() error {
		_, err := e.Scan(ctx, &dynamodb.ScanInput{TableName: table, Limit: aws.Int32(100),
			FilterExpression: aws.String("age > :a"), ProjectionExpression: aws.String("id, #n"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: map[string]types.AttributeValue{":a": num("10")}})
		return err
	})
}
