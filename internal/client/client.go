// Package client is the typed client of the deployed (or local) API: it
// builds tutorial-format requests, signs them (SigV4 for iam auth, x-api-key
// for apikey auth), sends them and decodes the responses.
package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Target is where requests go and how they are authenticated.
type Target struct {
	URL         string // full invoke URL, e.g. https://id.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager
	Auth        string // none | apikey | iam
	APIKey      string
	Region      string // SigV4 credential scope region
	Credentials aws.CredentialsProvider
	// Transport replaces the HTTP transport (e.g. in-process local stack).
	Transport http.RoundTripper
}

// Client talks to one Target.
type Client struct{}

// New returns a client for t.
func New(t Target) (*Client, error) { return nil, errors.New("client: not implemented yet") }

// NewRequest returns a ready-to-send, authenticated POST of body.
func (c *Client) NewRequest(ctx context.Context, body []byte) (*http.Request, error) {
	return nil, errors.New("client: not implemented yet")
}
