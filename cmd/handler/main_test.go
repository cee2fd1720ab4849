package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	miniserver "github.com/truora/minidyn/server"

	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/testenv/lambdatest"
)

const table = "lambda-apigateway"

// startMinidyn serves an empty minidyn with the tutorial's table.
func startMinidyn(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(miniserver.NewServer())
	t.Cleanup(srv.Close)
	testenv.CreateTable(t, testenv.DynamoDB(t, srv.URL), table)
	return srv.URL
}

func setenv(t *testing.T, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Not parallel: these tests set process environment variables.

func TestNewHandlerRequiresTableName(t *testing.T) {
	setenv(t, testenv.AWSEnv(t))
	t.Setenv("TABLE_NAME", "")
	_, err := newHandler(context.Background())
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME is not set") {
		t.Fatalf("err = %v, want TABLE_NAME is not set", err)
	}
}

// The SDK resolves the emulator endpoint from the standard variables by
// itself; these tests prove the wiring does not defeat that.
func TestNewHandlerHonoursEndpointVariables(t *testing.T) {
	for _, variable := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"} {
		t.Run(variable, func(t *testing.T) {
			url := startMinidyn(t)
			setenv(t, testenv.AWSEnv(t))
			t.Setenv("TABLE_NAME", table)
			t.Setenv(variable, url)
			h, err := newHandler(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			out, err := h.Invoke(ctx, []byte(`{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`))
			if err != nil || !bytes.Contains(out, []byte(`"HTTPStatusCode":200`)) {
				t.Fatalf("create = %s, %v", out, err)
			}
			out, err = h.Invoke(ctx, []byte(`{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`))
			if err != nil || !bytes.HasPrefix(out, []byte(`{"Item":{"id":"1","name":"Bob"}`)) {
				t.Fatalf("read = %s, %v", out, err)
			}
		})
	}
}

func TestBootstrapWithoutTableNameExits(t *testing.T) {
	cmd := exec.Command(lambdatest.Bootstrap(t))
	cmd.Env = append(testenv.AWSEnv(t), "TABLE_NAME=")
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	err := testenv.Run(t, cmd)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	if got := stderr.String(); got != "handler: TABLE_NAME is not set: set it to the DynamoDB table this function serves (e.g. lambda-apigateway)\n" {
		t.Errorf("stderr = %q", got)
	}
}

// TestRuntimeUnderRIE runs the real bootstrap, packaged as Lambda gets it,
// under the Lambda Runtime Interface Emulator with DynamoDB pointed at
// minidyn (the runtime layer of docs/testing.md), invoking it with API
// Gateway proxy events and with the tutorial's direct test event.
func TestRuntimeUnderRIE(t *testing.T) {
	rie := lambdatest.StartFunction(t, table, startMinidyn(t))

	invoke := func(t *testing.T, event []byte) []byte {
		t.Helper()
		resp, err := http.Post(rie.InvokeURL, "application/json", bytes.NewReader(event))
		if err != nil {
			t.Fatalf("invoke: %v", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("invoke: HTTP %d %s %v", resp.StatusCode, b, err)
		}
		return b
	}
	proxy := func(t *testing.T, body string) events.APIGatewayProxyResponse {
		t.Helper()
		event, err := json.Marshal(events.APIGatewayProxyRequest{
			Resource: "/DynamoDBManager", Path: "/DynamoDBManager", HTTPMethod: "POST", Body: body,
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "rie-req", Stage: "prod"},
		})
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayProxyResponse
		if out := invoke(t, event); json.Unmarshal(out, &resp) != nil {
			t.Fatalf("not a proxy response: %s", out)
		}
		if resp.Headers["Content-Type"] != "application/json" {
			t.Errorf("Content-Type = %q", resp.Headers["Content-Type"])
		}
		return resp
	}

	const meta = `"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"rie-req"}`
	steps := []struct {
		name, body string
		status     int
		want       string
	}{
		{"ping", `{"operation":"ping"}`, 200, `"pong"`},
		{"echo", `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`, 200, `{"somekey1":"somevalue1","somekey2":"somevalue2"}`},
		{"create", `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`, 200, `{` + meta + `}`},
		{"read", `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`, 200, `{"Item":{"id":"1","name":"Bob"},` + meta + `}`},
		{"bad request", `{"operation":"read","payload":{"Key":{"id":""}}}`, 400, `{"error":{"code":"BadRequest","message":"payload.Key.id: required, a non-empty string"},"requestId":"rie-req"}`},
		{"not found", `{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"2"}}}`, 404, `{"error":{"code":"NotFound","message":"delete: no item with this id"},"requestId":"rie-req"}`},
	}
	for _, st := range steps {
		if resp := proxy(t, st.body); resp.StatusCode != st.status || resp.Body != st.want {
			t.Errorf("%s: got %d %s\nwant %d %s", st.name, resp.StatusCode, resp.Body, st.status, st.want)
		}
	}

	// The tutorial's console test event: the response is the payload.
	if out := invoke(t, []byte(`{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`)); string(out) != `{"somekey1":"somevalue1","somekey2":"somevalue2"}` {
		t.Errorf("direct echo = %s", out)
	}
	// A direct invocation's error is its response body; the request id is
	// the invocation's.
	var eb struct {
		Error     struct{ Code string }
		RequestID string
	}
	if out := invoke(t, []byte(`{"operation":"read","payload":{"Key":{"id":"2"}}}`)); json.Unmarshal(out, &eb) != nil || eb.Error.Code != "NotFound" || eb.RequestID == "" {
		t.Errorf("direct read of a missing id = %s", out)
	}
}
