package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

var update = flag.Bool("update", false, "rewrite the golden responses in testdata/golden and testdata/golden-cors")

// TestGolden feeds every testdata/golden/*.event.json to Invoke (as Lambda
// would: API Gateway proxy events and direct invocations) against a fresh
// fake table holding {"id":"1","name":"Bob"}, and compares the response
// with the matching *.golden.json.
func TestGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "golden", Config{TableName: testTable})
}

// TestGoldenCORS is TestGolden for testdata/golden-cors with two browser
// origins allowed: an allowed Origin is named in
// Access-Control-Allow-Origin (errors included), a foreign or absent one
// is not, and every proxy response says it varies by Origin.
func TestGoldenCORS(t *testing.T) {
	t.Parallel()
	runGolden(t, "golden-cors", Config{TableName: testTable, CORSOrigins: []string{"https://app.example.com", "http://localhost:5173"}})
}

func runGolden(t *testing.T, dir string, cfg Config) {
	events, err := filepath.Glob(filepath.Join("testdata", dir, "*.event.json"))
	if err != nil || len(events) == 0 {
		t.Fatalf("no golden events: %v", err)
	}
	for _, path := range events {
		name := strings.TrimSuffix(filepath.Base(path), ".event.json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			event, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h := New(newFakeDB(item("1", "Bob")), cfg)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
				AwsRequestID: "c0ffee00-1111-4222-8333-444455556666",
			})
			got, err := h.Invoke(ctx, event)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if !json.Valid(got) {
				t.Fatalf("response is not JSON: %s", got)
			}
			golden := filepath.Join("testdata", dir, name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
				t.Errorf("response differs from %s\ngot:  %s\nwant: %s", golden, got, want)
			}
		})
	}
}
