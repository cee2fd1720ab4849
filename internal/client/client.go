// Package client is the typed client of the deployed (or local) API: it
// builds tutorial-format requests, signs them (SigV4 for iam auth, x-api-key
// for apikey auth), sends them and decodes the responses.
package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/ddbops/ddbops/internal/wire"
)

// DefaultTimeout bounds one HTTP attempt (connect, send, read the answer).
const DefaultTimeout = 30 * time.Second

// maxResponseBytes bounds how much of a response body is read. A full list
// page is at most 100 items of 400 KB; anything larger is not our API.
const maxResponseBytes = 64 << 20

// Target is where requests go and how they are authenticated.
type Target struct {
	URL         string // full invoke URL, e.g. https://id.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager
	Auth        string // none | apikey | iam ("" = none)
	APIKey      string
	Region      string // SigV4 credential scope region
	Credentials aws.CredentialsProvider
	// Transport replaces the HTTP transport (e.g. in-process local stack).
	Transport http.RoundTripper
	// TableName is sent as "tableName" in the five DynamoDB operations, as
	// the tutorial's bodies do; "" leaves it out (the handler then uses its
	// configured table).
	TableName string
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout bounds each HTTP attempt (default DefaultTimeout; 0 or less
// means no per-attempt bound beyond the caller's context).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetry sets the retry policy of idempotent operations (default
// DefaultRetryPolicy). Writes are never retried, whatever the policy.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithUserAgent sets the User-Agent header (default "ddbops/dev").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// Client talks to one Target. It is safe for concurrent use.
type Client struct {
	target    Target
	url       *url.URL
	header    http.Header // sent with every request; cloned per request
	creds     aws.CredentialsProvider
	signer    *v4.Signer
	http      *http.Client
	timeout   time.Duration
	retry     RetryPolicy
	userAgent string
	now       func() time.Time
}

// New returns a client for t.
func New(t Target, opts ...Option) (*Client, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, fmt.Errorf("target URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target URL %q: want http(s)://host/path", redactURL(u))
	}
	if u.User != nil {
		return nil, errors.New("target URL: user info is not supported (use --auth and --api-key)")
	}
	c := &Client{
		target:    t,
		url:       u,
		timeout:   DefaultTimeout,
		retry:     DefaultRetryPolicy(),
		userAgent: "ddbops/dev",
		now:       time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	switch t.Auth {
	case "", wire.AuthNone:
		c.target.Auth = wire.AuthNone
	case wire.AuthAPIKey:
		if t.APIKey == "" {
			return nil, errors.New("apikey auth: no API key")
		}
	case wire.AuthIAM:
		if t.Credentials == nil {
			return nil, errors.New("iam auth: no AWS credentials")
		}
		if t.Region == "" {
			return nil, errors.New("iam auth: no region for the SigV4 scope")
		}
		c.creds = t.Credentials
		if _, cached := c.creds.(*aws.CredentialsCache); !cached {
			c.creds = aws.NewCredentialsCache(c.creds)
		}
		c.signer = v4.NewSigner()
	default:
		return nil, fmt.Errorf("auth %q: want none, apikey or iam", t.Auth)
	}

	c.header = http.Header{}
	c.header.Set("Content-Type", "application/json")
	c.header.Set("Accept", "application/json")
	c.header.Set("User-Agent", c.userAgent)
	if c.target.Auth == wire.AuthAPIKey {
		c.header.Set(wire.APIKeyHeader, t.APIKey)
	}

	tr := t.Transport
	if tr == nil {
		dt := http.DefaultTransport.(*http.Transport).Clone()
		dt.MaxIdleConnsPerHost = 64
		tr = dt
	}
	c.http = &http.Client{
		Transport: tr,
		// A redirect would resend a signed body to another place; the API
		// never redirects, so a 3xx is reported as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Target returns the target the client was built for.
func (c *Client) Target() Target { return c.target }

// HTTPClient returns the *http.Client the client sends with (its transport
// is Target.Transport when set).
func (c *Client) HTTPClient() *http.Client { return c.http }

// NewRequest returns a ready-to-send, authenticated POST of body. Each call
// builds and (under iam auth) signs a fresh request, so it is cheap enough
// to call once per request of a load test: the URL, the fixed headers and
// the signer are prepared once by New, and credentials come from a cache.
func (c *Client) NewRequest(ctx context.Context, body []byte) (*http.Request, error) {
	u := *c.url
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        c.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          u.Host,
	}).WithContext(ctx)
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	if c.signer != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("sign request: retrieve AWS credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), wire.SigningService, c.target.Region, c.now()); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
	}
	return req, nil
}

// Response is a complete HTTP answer of the API.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends body as one request of operation op (the body's "operation",
// which decides whether the request may be retried) and returns the
// response. A non-2xx answer returns the response together with an error
// wrapping an *APIError. A failure to get any answer for a write returns an error that
// says whether the write may have been applied (see OutcomeUnknownError).
func (c *Client) Do(ctx context.Context, op string, body []byte) (*Response, error) {
	retry := Idempotent(op) && c.retry.Attempts > 1
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, body)
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %w", op, ctxErr)
		}
		retryable := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retry || !retryable || attempt >= c.retry.Attempts {
			if err != nil {
				if !Idempotent(op) && !notSent(err) {
					return nil, &OutcomeUnknownError{Op: op, Err: err}
				}
				if attempt > 1 {
					return nil, fmt.Errorf("%s: gave up after %d attempts: %w", op, attempt, err)
				}
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			apiErr := decodeAPIError(resp)
			apiErr.Attempts = attempt
			// The handler's messages name the operation; it is already
			// the prefix of the error.
			apiErr.Message = strings.TrimPrefix(apiErr.Message, op+": ")
			return resp, fmt.Errorf("%s: %w", op, apiErr)
		}
		if err := c.retry.wait(ctx, attempt); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
}

// once makes one HTTP attempt under the per-attempt timeout and reads the
// whole answer.
func (c *Client) once(ctx context.Context, body []byte) (*Response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.NewRequest(ctx, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, describeTransportError(err, c.timeout)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, describeTransportError(fmt.Errorf("read response: %w", err), c.timeout)
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("response body larger than %d MiB", maxResponseBytes>>20)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// describeTransportError drops the *url.Error wrapper (it repeats the URL,
// which may be long) and names a timeout as such.
func describeTransportError(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Errorf("no answer within %s (--timeout): %w", timeout, err)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// notSent reports whether err proves the request never left this machine
// (no connection could be made), so even a write certainly did not apply.
func notSent(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de)
}

// redactURL prints u without user info or query (either may carry secrets).
func redactURL(u *url.URL) string {
	r := *u
	r.User = nil
	r.RawQuery = ""
	r.ForceQuery = false
	return r.String()
}

// Idempotent reports whether an operation may be sent twice without a
// different outcome: only those are retried automatically.
func Idempotent(op string) bool {
	switch op {
	case wire.OpRead, wire.OpList, wire.OpEcho, wire.OpPing:
		return true
	}
	return false
}
