package parity

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	miniserver "github.com/truora/minidyn/server"

	"github.com/ddbops/ddbops/internal/local"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/testenv/lambdatest"
	"github.com/ddbops/ddbops/internal/wire"
)

const tableName = "lambda-apigateway"

// Targets, in the order answers are printed.
const (
	targetLocal   = "local"       // (a) the local stack over real HTTP
	targetMoto    = "rie+moto"    // (b) the bootstrap under the RIE, DynamoDB = moto_server
	targetMinidyn = "rie+minidyn" // (c) the bootstrap under the RIE, DynamoDB = minidyn's HTTP server
)

// target is one deployment of the API the sequence is sent to.
type target struct {
	name  string
	start func(t *testing.T) sender
}

var targets = []target{
	{targetLocal, startLocal},
	{targetMoto, func(t *testing.T) sender { return startRIE(t, testenv.StartMoto(t).URL) }},
	{targetMinidyn, func(t *testing.T) sender {
		srv := httptest.NewServer(miniserver.NewServer())
		t.Cleanup(srv.Close)
		return startRIE(t, srv.URL)
	}},
}

// raw is one answer as the caller sees it: the HTTP status, the
// Content-Type and the body (for the RIE targets, as API Gateway would
// turn the function's proxy response into them).
type raw struct {
	status      int
	contentType string
	body        []byte
}

// sender sends one tutorial-format request body to a target.
type sender func(t *testing.T, body []byte) raw

var httpClient = &http.Client{Timeout: 60 * time.Second}

// startLocal opens a local stack (auth none, fresh data dir, embedded
// engine with its journal) and serves it on a free loopback port, as
// `ddbops local` does.
func startLocal(t *testing.T) sender {
	t.Helper()
	logs := &testenv.SyncBuffer{}
	st, err := local.Open(context.Background(), local.Options{
		DataDir:   t.TempDir(),
		Auth:      wire.AuthNone,
		TableName: "lambda-apigateway",
		Stage:     "prod",
		Resource:  "DynamoDBManager",
		Log:       logs,
	})
	if err != nil {
		t.Fatalf("open the local stack: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = st.Close()
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan local.ServerInfo, 1)
	done := make(chan error, 1)
	go func() { done <- st.ServeWithReady(ctx, ln, func(i local.ServerInfo) { ready <- i }) }()
	var info local.ServerInfo
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		_ = st.Close()
		t.Fatalf("serve the local stack: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		<-done
		_ = st.Close()
		t.Fatal("the local stack was not ready after 30s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("local stack Serve: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("local stack Close: %v", err)
		}
		if t.Failed() && logs.String() != "" {
			t.Logf("local stack log:\n%s", logs.String())
		}
	})
	return func(t *testing.T, body []byte) raw {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, info.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", info.URL, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read the local stack's answer: %v", err)
		}
		return raw{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
	}
}

// startRIE creates a fresh tutorial table in the DynamoDB at endpoint,
// runs the packaged bootstrap under the Lambda Runtime Interface Emulator
// pointed at it, and returns a sender that wraps each body in the API
// Gateway proxy event the cloud sends.
func startRIE(t *testing.T, endpoint string) sender {
	t.Helper()
	testenv.CreateTable(t, testenv.DynamoDB(t, endpoint), tableName)
	rie := lambdatest.StartFunction(t, tableName, endpoint)
	var n atomic.Int64
	return func(t *testing.T, body []byte) raw {
		t.Helper()
		i := n.Add(1)
		ev := events.APIGatewayProxyRequest{
			Resource:   "/DynamoDBManager",
			Path:       "/DynamoDBManager",
			HTTPMethod: http.MethodPost,
			Headers:    map[string]string{"Content-Type": "application/json"},
			MultiValueHeaders: map[string][]string{
				"Content-Type": {"application/json"},
			},
			RequestContext: events.APIGatewayProxyRequestContext{
				AccountID:    "123456789012",
				RequestID:    fmt.Sprintf("parity-apigw-%d", i),
				Stage:        "prod",
				ResourcePath: "/DynamoDBManager",
				HTTPMethod:   http.MethodPost,
				Path:         "/prod/DynamoDBManager",
			},
			Body: string(body),
		}
		evb, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, rie.InvokeURL, bytes.NewReader(evb))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amzn-RequestId", fmt.Sprintf("parity-lambda-%d", i))
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read the invoke answer: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the emulator answered %d: %s", resp.StatusCode, clip(out))
		}
		var pr events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &pr); err != nil || pr.StatusCode == 0 {
			t.Fatalf("the function did not return a proxy response (%v): %s", err, clip(out))
		}
		b := []byte(pr.Body)
		if pr.IsBase64Encoded {
			if b, err = base64.StdEncoding.DecodeString(pr.Body); err != nil {
				t.Fatalf("proxy response: isBase64Encoded but the body is not base64: %v", err)
			}
		}
		return raw{status: pr.StatusCode, contentType: proxyContentType(pr), body: b}
	}
}

// proxyContentType is the Content-Type API Gateway would send for pr: the
// multi-value header wins over the single-value one, as in the cloud.
func proxyContentType(pr events.APIGatewayProxyResponse) string {
	for k, v := range pr.MultiValueHeaders {
		if strings.EqualFold(k, "Content-Type") && len(v) > 0 {
			return v[len(v)-1]
		}
	}
	for k, v := range pr.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	return ""
}
