package store

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/handler"
)

// panicky is an engine whose reads panic and whose deletes succeed.
type panicky struct{ handler.DynamoDB }

func (panicky) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	panic("engine bug")
}

func (panicky) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	panic("engine bug")
}

func (panicky) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, nil
}

// TestJournaledLocksSurvivePanics: a panic inside the engine (which the
// handler recovers from) releases the store's lock, so later writes do not
// hang.
func TestJournaledLocksSurvivePanics(t *testing.T) {
	t.Parallel()
	j, err := OpenJournal(t.TempDir(), Datasync)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	const table = "lambda-apigateway"
	key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}
	s := NewDB(panicky{}, j)
	for _, read := range []func(){
		func() {
			_, _ = s.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
		},
		func() { _, _ = s.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)}) },
	} {
		func() {
			defer func() { _ = recover() }()
			read()
		}()
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write after a panicking read did not complete: the read lock was not released")
	}
}
