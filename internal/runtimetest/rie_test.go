// Package runtimetest is the runtime test layer (docs/testing.md): the
// bootstrap packaged for this machine exactly as `ddbops package` zips it
// (with the file mode the zip records) runs under the AWS Lambda Runtime
// Interface Emulator and answers API Gateway proxy events against a real
// DynamoDB-compatible server (minidyn's HTTP server, and moto_server when
// it is installed). The package holds only tests.
package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/testenv/lambdatest"
)

const tableName = "lambda-apigateway"

// checkout fails the test when this checkout cannot build the handler.
func checkout(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(testenv.ModuleRoot(t), "cmd", "handler", "main.go")); err != nil {
		t.Fatalf("this checkout has no cmd/handler/main.go: %v", err)
	}
}

// backend starts a DynamoDB-compatible server and returns its endpoint.
type backend struct {
	name  string
	start func(t *testing.T) string
}

var backends = []backend{
	{"minidyn", func(t *testing.T) string {
		srv := httptest.NewServer(miniserver.NewServer())
		t.Cleanup(srv.Close)
		return srv.URL
	}},
	{"moto", func(t *testing.T) string { return testenv.StartMoto(t).URL }},
}

// invoker posts API Gateway proxy events to the emulator. Each event gets
// fresh API Gateway and Lambda request ids, remembered for the asserts.
type invoker struct {
	url string
	n   int
}

type invocation struct {
	resp         events.APIGatewayProxyResponse
	raw          []byte
	apiRequestID string // requestContext.requestId of the proxy event
	lambdaID     string // the Lambda invocation's request id
}

func (iv *invoker) post(t *testing.T, body string) invocation {
	t.Helper()
	iv.n++
	apiID := fmt.Sprintf("apigw-%d-%d", time.Now().UnixNano(), iv.n)
	lambdaID := fmt.Sprintf("lambda-%d-%d", time.Now().UnixNano(), iv.n)
	ev := events.APIGatewayProxyRequest{
		Resource:   "/DynamoDBManager",
		Path:       "/DynamoDBManager",
		HTTPMethod: http.MethodPost,
		Headers:    map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    apiID,
			Stage:        "prod",
			ResourcePath: "/DynamoDBManager",
			HTTPMethod:   http.MethodPost,
			Path:         "/prod/DynamoDBManager",
		},
		Body: body,
	}
	evb, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, iv.url, bytes.NewReader(evb))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amzn-RequestId", lambdaID)
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read invoke response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("emulator answered %d: %s", resp.StatusCode, raw)
	}
	var out events.APIGatewayProxyResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.StatusCode == 0 {
		t.Fatalf("the function did not return a proxy response (%v): %s", err, raw)
	}
	return invocation{resp: out, raw: raw, apiRequestID: apiID, lambdaID: lambdaID}
}

// contentType returns the response's Content-Type, from either header map.
func contentType(r events.APIGatewayProxyResponse) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, "Content-Type") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// jsonValue decodes s, failing the test when it is not one JSON value.
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value: %q", s)
	}
	return v
}

// check asserts the common parts of every response: status, JSON content
// type, a JSON body. It returns the decoded body.
func (inv invocation) check(t *testing.T, status int) any {
	t.Helper()
	if inv.resp.StatusCode != status {
		t.Fatalf("status %d, want %d; response %s", inv.resp.StatusCode, status, inv.raw)
	}
	mt, _, err := mime.ParseMediaType(contentType(inv.resp))
	if err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", contentType(inv.resp))
	}
	if inv.resp.IsBase64Encoded {
		t.Fatalf("body is base64-encoded; want plain JSON")
	}
	return jsonValue(t, inv.resp.Body)
}

// checkMetadata asserts the ResponseMetadata of a success body (the wire
// contract, docs/design.md).
func (inv invocation) checkMetadata(t *testing.T, body any) map[string]any {
	t.Helper()
	m, ok := body.(map[string]any)
	if !ok {
		t.Fatalf("body is %T, want an object: %s", body, inv.resp.Body)
	}
	md, ok := m["ResponseMetadata"].(map[string]any)
	if !ok {
		t.Fatalf("no ResponseMetadata object in %s", inv.resp.Body)
	}
	if code, _ := md["HTTPStatusCode"].(json.Number); code.String() != "200" {
		t.Errorf("ResponseMetadata.HTTPStatusCode = %v, want 200", md["HTTPStatusCode"])
	}
	inv.checkRequestID(t, "ResponseMetadata.RequestId", md["RequestId"])
	return m
}

// checkRequestID asserts id names this request: the API Gateway request
// id of the event or the Lambda invocation's.
func (inv invocation) checkRequestID(t *testing.T, what string, id any) {
	t.Helper()
	s, _ := id.(string)
	if s == "" || (s != inv.apiRequestID && s != inv.lambdaID) {
		t.Errorf("%s = %v, want %q (API Gateway) or %q (Lambda)", what, id, inv.apiRequestID, inv.lambdaID)
	}
}

// checkError asserts the error shape of the wire contract (docs/design.md).
func (inv invocation) checkError(t *testing.T, body any) {
	t.Helper()
	m, ok := body.(map[string]any)
	if !ok {
		t.Fatalf("error body is %T: %s", body, inv.resp.Body)
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", inv.resp.Body)
	}
	for _, k := range []string{"code", "message"} {
		if s, _ := e[k].(string); s == "" {
			t.Errorf("error.%s empty in %s", k, inv.resp.Body)
		}
	}
	inv.checkRequestID(t, "requestId", m["requestId"])
}

// TestPackagedBootstrapUnderRIE runs the contract's smoke sequence — ping,
// echo, create, read, a 400 and a 404 — through the emulator's invoke
// endpoint, once per DynamoDB backend.
func TestPackagedBootstrapUnderRIE(t *testing.T) {
	t.Parallel()
	lambdatest.Prepare(t) // packaging overlaps with starting the backends
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			checkout(t)
			endpoint := be.start(t)
			db := testenv.DynamoDB(t, endpoint)
			testenv.CreateTable(t, db, tableName)
			rie := lambdatest.StartFunction(t, tableName, endpoint)
			iv := &invoker{url: rie.InvokeURL}

			// The emulator serves one invocation at a time: the steps are
			// sequential, and create precedes read.
			t.Run("ping", func(t *testing.T) {
				inv := iv.post(t, `{"operation":"ping"}`)
				if got := inv.check(t, http.StatusOK); got != "pong" {
					t.Errorf("ping body %s, want \"pong\"", inv.resp.Body)
				}
			})
			t.Run("echo", func(t *testing.T) {
				payload := `{"somekey1":"somevalue1","somekey2":"somevalue2","n":12345678901234567890,"nested":{"l":[true,null,0.1]}}`
				inv := iv.post(t, `{"operation":"echo","payload":`+payload+`}`)
				got := inv.check(t, http.StatusOK)
				if want := jsonValue(t, payload); !reflect.DeepEqual(got, want) {
					t.Errorf("echo body %s, want exactly the payload %s", inv.resp.Body, payload)
				}
			})
			t.Run("create", func(t *testing.T) {
				inv := iv.post(t, `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1234ABCD","number":5,"name":"Bob"}}}`)
				inv.checkMetadata(t, inv.check(t, http.StatusOK))
				// The item really is in the backend the bootstrap was pointed at.
				out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
					TableName: aws.String(tableName), ConsistentRead: aws.Bool(true),
					Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "1234ABCD"}},
				})
				if err != nil {
					t.Fatalf("get item from the backend: %v", err)
				}
				n, _ := out.Item["number"].(*types.AttributeValueMemberN)
				name, _ := out.Item["name"].(*types.AttributeValueMemberS)
				if n == nil || n.Value != "5" || name == nil || name.Value != "Bob" {
					t.Errorf("stored item %v, want number 5 and name Bob", out.Item)
				}
			})
			t.Run("read", func(t *testing.T) {
				inv := iv.post(t, `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1234ABCD"}}}`)
				m := inv.checkMetadata(t, inv.check(t, http.StatusOK))
				want := jsonValue(t, `{"id":"1234ABCD","number":5,"name":"Bob"}`)
				if !reflect.DeepEqual(m["Item"], want) {
					t.Errorf("read Item = %v, want %v (body %s)", m["Item"], want, inv.resp.Body)
				}
			})
			t.Run("malformed is 400", func(t *testing.T) {
				inv := iv.post(t, `{"operation": "create", "payload": `)
				inv.checkError(t, inv.check(t, http.StatusBadRequest))
			})
			t.Run("missing id is 404", func(t *testing.T) {
				inv := iv.post(t, `{"operation":"read","payload":{"Key":{"id":"no-such-id"}}}`)
				inv.checkError(t, inv.check(t, http.StatusNotFound))
			})
		})
	}
}
