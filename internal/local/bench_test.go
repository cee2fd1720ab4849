package local

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/wire"
)

// BenchmarkGatewayRead measures the local stack's own per-request cost
// (gateway, handler, engine, store) for the tutorial's read, without
// the network: the part of a request that `ddbops local` adds on top of
// net/http.
func BenchmarkGatewayRead(b *testing.B) {
	s, err := Open(context.Background(), withNames(Options{DataDir: b.TempDir(), Auth: wire.AuthNone}))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	do := func(body string) int {
		req := httptest.NewRequest(http.MethodPost, "/prod/DynamoDBManager", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if c := do(`{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`); c != 200 {
		b.Fatalf("create: %d", c)
	}
	const read = `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if c := do(read); c != 200 {
			b.Fatalf("read: %d", c)
		}
	}
}

// BenchmarkOpen measures Open (lock, open and verify the database) of a
// data dir holding 10 000 items.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(dir, store.Options{Table: testTable})
	if err != nil {
		b.Fatal(err)
	}
	_, err = st.Import("bench", func(put func(k, v []byte) error) error {
		for i := range 10000 {
			id := fmt.Sprintf("%05d", i)
			v, err := engine.EncodeItem(map[string]types.AttributeValue{
				"id":   &types.AttributeValueMemberS{Value: id},
				"n":    &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
				"name": &types.AttributeValueMemberS{Value: "user " + id},
			})
			if err != nil {
				return err
			}
			if err := put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || st.Close() != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := Open(context.Background(), withNames(Options{DataDir: dir, Auth: wire.AuthNone}))
		if err != nil {
			b.Fatal(err)
		}
		if s.Recovery().Items != 10000 {
			b.Fatalf("%+v", s.Recovery())
		}
		s.Close()
	}
}
