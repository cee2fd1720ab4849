package handler

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// benchDB answers instantly with a fixed item, so that the benchmarks
// measure the handler alone (the fakeDB records every call and would grow).
type benchDB struct {
	item map[string]types.AttributeValue
}

func (d benchDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

func (d benchDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: d.item}, nil
}

func (d benchDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

func (d benchDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, nil
}

func (d benchDB) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return &dynamodb.ScanOutput{Items: []map[string]types.AttributeValue{d.item}, Count: 1, ScannedCount: 1}, nil
}

// BenchmarkDo measures the handler's per-request cost (decode, validate,
// build the SDK input, encode the response) with a store that costs nothing.
func BenchmarkDo(b *testing.B) {
	h := New(benchDB{item: item("1", "Bob")}, Config{TableName: testTable})
	bodies := []struct{ name, body string }{
		{"read", `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`},
		{"create", `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`},
		{"update", `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n = :n","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Carol"}}}`},
		{"list", `{"operation":"list","tableName":"lambda-apigateway","payload":{}}`},
		{"echo", `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`},
		{"ping", `{"operation":"ping"}`},
	}
	ctx := context.Background()
	for _, bb := range bodies {
		body := []byte(bb.body)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if status, _ := h.Do(ctx, body, "bench-request-id"); status != 200 {
					b.Fatalf("status %d", status)
				}
			}
		})
	}
	b.Run("proxy-read", func(b *testing.B) {
		req := proxyEvent(bodies[0].body, false)
		b.ReportAllocs()
		for b.Loop() {
			if resp := h.HandleProxy(ctx, &req); resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.Run("invoke-proxy-read", func(b *testing.B) {
		event, err := json.Marshal(proxyEvent(bodies[0].body, false))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Invoke(ctx, event); err != nil {
				b.Fatal(err)
			}
		}
	})
}
