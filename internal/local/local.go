// Package local is the local stack: an HTTP gateway that turns requests
// into API Gateway proxy events for the in-process handler, backed by an
// embedded DynamoDB (minidyn) made durable by a journal in the data dir.
package local

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrLocked is returned by Open when another process holds the data dir.
var ErrLocked = errors.New("data dir is in use by another ddbops process")

// Options configures a local stack.
type Options struct {
	DataDir  string // default .ddbops/local
	Auth     string // none | apikey | iam
	APIKey   string // apikey auth; "" loads <data-dir>/api-key or generates one
	Region   string // iam auth: region in the credential scope (default us-east-1)
	// Credentials verify SigV4 signatures under iam auth.
	Credentials aws.CredentialsProvider
	// DynamoDBEndpoint uses an external DynamoDB-compatible endpoint
	// instead of the embedded engine (no journal then).
	DynamoDBEndpoint string
	TableName        string // default lambda-apigateway
	Stage            string // default prod
	Resource         string // default DynamoDBManager
	Log              io.Writer
}

// Stack is an open local stack.
type Stack struct{}

// Open locks the data dir, replays and compacts the journal, and creates
// the table if missing.
func Open(ctx context.Context, opts Options) (*Stack, error) {
	return nil, errors.New("local: not implemented yet")
}

// Handler returns the gateway (auth included).
func (s *Stack) Handler() http.Handler { panic("not implemented") }

// APIKey returns the API key in force under apikey auth.
func (s *Stack) APIKey() string { panic("not implemented") }

// Serve serves the gateway on ln until ctx is done, then shuts down
// gracefully. While serving, Discover finds it.
func (s *Stack) Serve(ctx context.Context, ln net.Listener) error {
	return errors.New("local: not implemented yet")
}

// Close flushes the journal and releases the data dir.
func (s *Stack) Close() error { return nil }

// ServerInfo describes a running `ddbops local`.
type ServerInfo struct {
	URL    string `json:"url"` // base URL, e.g. http://127.0.0.1:3000/prod/DynamoDBManager
	Auth   string `json:"auth"`
	APIKey string `json:"apiKey,omitempty"`
	PID    int    `json:"pid"`
	Region string `json:"region,omitempty"`
}

// Discover returns the server serving dataDir, or (nil, nil) when none is.
func Discover(dataDir string) (*ServerInfo, error) {
	return nil, errors.New("local: not implemented yet")
}
