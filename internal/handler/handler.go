// Package handler is the Lambda function's business logic: decode a request
// in the tutorial's wire format (from an API Gateway proxy event or a direct
// invocation), validate it, run one DynamoDB operation through a small
// injected interface, and encode the response (DESIGN §5).
package handler

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB is the part of the DynamoDB API the handler uses. The SDK's
// *dynamodb.Client satisfies it.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Limits of the wire contract.
const (
	// MaxBodyBytes is the largest request body accepted (413 above).
	MaxBodyBytes = 1 << 20
	// MaxItemBytes is DynamoDB's item size limit (413 above).
	MaxItemBytes = 400 * 1024
	// MaxDepth is the deepest JSON nesting accepted (400 above).
	MaxDepth = 64
	// MaxListLimit caps the list operation's Limit (and is its default).
	MaxListLimit = 100
)

// Config is the handler's configuration.
type Config struct {
	// TableName is the only table the handler touches; a request naming
	// another table gets 403.
	TableName string
}

// Handler serves the seven operations. It is safe for concurrent use.
type Handler struct {
	db  DynamoDB
	cfg Config
}

// New returns a Handler over db.
func New(db DynamoDB, cfg Config) *Handler { return &Handler{db: db, cfg: cfg} }

// Invoke implements lambda.Handler: event is either an API Gateway proxy
// event (the response is a proxy response) or the tutorial JSON itself
// (a direct invocation; the response is the body JSON).
func (h *Handler) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	panic("not implemented")
}

// HandleProxy serves one API Gateway (REST, proxy integration) request.
func (h *Handler) HandleProxy(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	panic("not implemented")
}

// Do serves one tutorial-format request body and returns the HTTP status
// and the JSON response body. requestID is echoed in errors and metadata.
func (h *Handler) Do(ctx context.Context, body []byte, requestID string) (int, []byte) {
	panic("not implemented")
}
