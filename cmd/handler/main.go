// Command handler is the Lambda function's bootstrap (runtime
// provided.al2023, built with -tags lambda.norpc): it reads TABLE_NAME and
// CORS_ORIGINS, builds the DynamoDB client once per execution environment,
// and serves every invocation with internal/handler.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbops/ddbops/internal/handler"
)

func main() {
	h, err := newHandler(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "handler: %v\n", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// newHandler wires the handler from the environment: TABLE_NAME,
// CORS_ORIGINS (the browser origins allowed, comma-separated; set by
// ddbops setup --cors, see docs/cors.md), and the standard AWS SDK settings (region and credentials from the Lambda
// environment; AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL to use an
// emulator instead of DynamoDB).
func newHandler(ctx context.Context) (*handler.Handler, error) {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set: set it to the DynamoDB table this function serves (e.g. lambda-apigateway)")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// DynamoDB signs every response body with X-Amz-Crc32; emulators
		// (moto, minidyn) do not send it, and the SDK would log a
		// warning for each of their responses.
		if o.BaseEndpoint != nil {
			o.DisableValidateResponseChecksum = true
		}
	})
	return handler.New(db, handler.Config{
		TableName:   table,
		Logger:      slog.New(slog.NewJSONHandler(os.Stderr, nil)),
		CORSOrigins: splitOrigins(os.Getenv("CORS_ORIGINS")),
	}), nil
}

// splitOrigins splits a comma-separated list, dropping blanks (setup has
// validated the origins; an entry no browser sends simply never matches).
func splitOrigins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
