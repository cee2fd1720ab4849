package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// goldenTable is the table the handler's golden events are served by.
const goldenTable = "lambda-apigateway"

// goldenCase is one of the handler's golden events: the request body, and
// the status and body the handler answered.
type goldenCase struct {
	name     string
	body     []byte
	status   int
	response []byte
}

// goldenCases reads internal/handler/testdata/golden: proxy events carry
// the body in "body" (maybe base64), direct invocations are the body.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	dir := filepath.Join("..", "handler", "testdata", "golden")
	events, err := filepath.Glob(filepath.Join(dir, "*.event.json"))
	if err != nil || len(events) == 0 {
		t.Fatalf("no golden events in %s: %v", dir, err)
	}
	codeStatus := map[string]int{}
	for _, e := range errorStatuses {
		codeStatus[e.code] = e.status
	}
	var out []goldenCase
	for _, path := range events {
		name := strings.TrimSuffix(filepath.Base(path), ".event.json")
		ev, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := os.ReadFile(filepath.Join(dir, name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		c := goldenCase{name: name}
		if strings.HasPrefix(name, "proxy-") {
			var p struct {
				Body            string `json:"body"`
				IsBase64Encoded bool   `json:"isBase64Encoded"`
			}
			var r struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(ev, &p); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(resp, &r); err != nil {
				t.Fatal(err)
			}
			c.body, c.status, c.response = []byte(p.Body), r.StatusCode, []byte(r.Body)
			if p.IsBase64Encoded {
				if c.body, err = base64.StdEncoding.DecodeString(p.Body); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			c.body, c.response, c.status = ev, bytes.TrimSpace(resp), 200
			var e struct {
				Error *struct{ Code string }
			}
			if json.Unmarshal(resp, &e) == nil && e.Error != nil {
				c.status = codeStatus[e.Error.Code]
			}
		}
		out = append(out, c)
	}
	return out
}

// TestExportOpenAPISpecValidator runs openapi-spec-validator on the
// document of every auth mode, with and without a recorded stack.
func TestExportOpenAPISpecValidator(t *testing.T) {
	validator := tool(t, "openapi-spec-validator", "pip install openapi-spec-validator")
	dir := t.TempDir()
	var files []string
	for _, auth := range authModes {
		files = append(files,
			writeTemp(t, dir, auth+".json", mustOpenAPI(t, API{Spec: defaultSpec(auth)})),
			writeTemp(t, dir, auth+"-recorded.json", mustOpenAPI(t, API{
				Spec: otherSpec(auth), AccountID: "123456789012", Version: "v1.2.3",
				InvokeURL: "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/v1/Items",
			})))
	}
	out, err := exec.Command(validator, append([]string{"--schema", "3.0", "--validation-errors", "all"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("openapi-spec-validator: %v\n%s", err, out)
	}
	for _, f := range files {
		if !strings.Contains(string(out), f+": OK\n") {
			t.Errorf("openapi-spec-validator did not say %s: OK\n%s", filepath.Base(f), out)
		}
	}
}

// TestExportOpenAPIGoldenRequests validates the body of every golden event
// of the handler against the request schema: it validates exactly when the
// handler's decoder accepted it (answers 200, 404, 409 validate; 400 and
// the wrong table's 403 do not).
func TestExportOpenAPIGoldenRequests(t *testing.T) {
	t.Parallel()
	c := jsonSchemaOf(t, mustOpenAPI(t, API{Spec: defaultSpec(wire.AuthIAM)}))
	req := compileSchema(t, c, "Request")
	valid := 0
	for _, g := range goldenCases(t) {
		want := g.status != 400 && g.status != 403 && g.status != 413
		got, verr := validates(t, req, g.body)
		_, derr := handler.Decode(g.body, goldenTable)
		if got != want || (derr == nil) != want {
			t.Errorf("%s (status %d): schema says valid=%v (%v), decoder says %v; want valid=%v\nbody: %s",
				g.name, g.status, got, verr, derr, want, short(g.body))
		}
		if want {
			valid++
		}
	}
	if valid < 5 {
		t.Errorf("only %d golden requests are valid: the test proves little", valid)
	}
}

// TestExportOpenAPIStructuralCases compares the request schema with the
// handler's decoder on the structural cases the decoder answers 400 to
// (unknown operation, missing or non-string id, unknown payload key, a
// Limit that is not a positive integer, ...) and on valid requests: the
// schema accepts a body exactly when the decoder does.
func TestExportOpenAPIStructuralCases(t *testing.T) {
	t.Parallel()
	c := jsonSchemaOf(t, mustOpenAPI(t, API{Spec: defaultSpec(wire.AuthAPIKey)}))
	req := compileSchema(t, c, "Request")
	cases := []struct {
		name  string
		body  string
		valid bool
	}{
		{"create", `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`, true},
		{"create with condition", `{"operation":"create","payload":{"Item":{"id":"1","n":1,"l":[1,"a",null],"m":{"x":true}},"ConditionExpression":"attribute_not_exists(id)","ExpressionAttributeNames":{"#n":"n"},"ExpressionAttributeValues":{":v":1}}}`, true},
		{"read projection", `{"operation":"read","payload":{"Key":{"id":"1"},"ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"name"},"ConsistentRead":true}}`, true},
		{"read null extras", `{"operation":"read","tableName":null,"payload":{"Key":{"id":"1"},"ConsistentRead":null,"ProjectionExpression":null}}`, true},
		{"update", `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":1},"ReturnValues":"UPDATED_OLD"}}`, true},
		{"delete", `{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":1},"ReturnValues":"ALL_OLD"}}`, true},
		{"list limit", `{"operation":"list","payload":{"Limit":5,"FilterExpression":"a > :z","ExpressionAttributeValues":{":z":0}}}`, true},
		{"list limit above cap", `{"operation":"list","payload":{"Limit":100000}}`, true},
		{"list next page", `{"operation":"list","payload":{"ExclusiveStartKey":{"id":"9"}}}`, true},
		{"list no payload", `{"operation":"list"}`, true},
		{"list null payload", `{"operation":"list","payload":null}`, true},
		{"ping", `{"operation":"ping"}`, true},
		{"ping empty payload", `{"operation":"ping","payload":{}}`, true},
		{"echo anything", `{"operation":"echo","payload":[1,{"a":"b"},null]}`, true},
		{"echo string", `{"operation":"echo","payload":"hi"}`, true},
		{"echo nothing", `{"operation":"echo"}`, true},

		{"unknown operation", `{"operation":"scan","payload":{}}`, false},
		{"operation missing", `{"payload":{"Key":{"id":"1"}}}`, false},
		{"operation not a string", `{"operation":1}`, false},
		{"unknown top-level key", `{"operation":"ping","extra":1}`, false},
		{"wrong table", `{"operation":"ping","tableName":"users"}`, false},
		{"table not a string", `{"operation":"ping","tableName":5}`, false},
		{"create missing id", `{"operation":"create","payload":{"Item":{"name":"Bob"}}}`, false},
		{"create non-string id", `{"operation":"create","payload":{"Item":{"id":1}}}`, false},
		{"create empty id", `{"operation":"create","payload":{"Item":{"id":""}}}`, false},
		{"create no Item", `{"operation":"create","payload":{}}`, false},
		{"create no payload", `{"operation":"create"}`, false},
		{"create payload not an object", `{"operation":"create","payload":"x"}`, false},
		{"create with Key", `{"operation":"create","payload":{"Item":{"id":"1"},"Key":{"id":"1"}}}`, false},
		{"read missing id", `{"operation":"read","payload":{"Key":{}}}`, false},
		{"read non-string id", `{"operation":"read","payload":{"Key":{"id":1}}}`, false},
		{"read id true", `{"operation":"read","payload":{"Key":{"id":true}}}`, false},
		{"read key with more attributes", `{"operation":"read","payload":{"Key":{"id":"1","name":"Bob"}}}`, false},
		{"read with Limit", `{"operation":"read","payload":{"Key":{"id":"1"},"Limit":5}}`, false},
		{"read ConsistentRead not a boolean", `{"operation":"read","payload":{"Key":{"id":"1"},"ConsistentRead":"yes"}}`, false},
		{"update blank expression", `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"  "}}`, false},
		{"update names not strings", `{"operation":"update","payload":{"Key":{"id":"1"},"ExpressionAttributeNames":{"#a":1}}}`, false},
		{"delete ReturnValues ALL_NEW", `{"operation":"delete","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_NEW"}}`, false},
		{"update ReturnValues unknown", `{"operation":"update","payload":{"Key":{"id":"1"},"ReturnValues":"ALL"}}`, false},
		{"list Limit 0", `{"operation":"list","payload":{"Limit":0}}`, false},
		{"list Limit negative", `{"operation":"list","payload":{"Limit":-1}}`, false},
		{"list Limit string", `{"operation":"list","payload":{"Limit":"5"}}`, false},
		{"list Limit fraction", `{"operation":"list","payload":{"Limit":1.5}}`, false},
		{"list Limit boolean", `{"operation":"list","payload":{"Limit":true}}`, false},
		{"list empty start key", `{"operation":"list","payload":{"ExclusiveStartKey":{}}}`, false},
		{"list with Key", `{"operation":"list","payload":{"Key":{"id":"1"}}}`, false},
		{"ping with payload", `{"operation":"ping","payload":{"x":1}}`, false},
		{"ping payload not an object", `{"operation":"ping","payload":[]}`, false},
		{"not an object", `["ping"]`, false},
	}
	for _, tc := range cases {
		got, verr := validates(t, req, []byte(tc.body))
		_, derr := handler.Decode([]byte(tc.body), goldenTable)
		if (derr == nil) != tc.valid {
			t.Errorf("%s: the decoder says %v; the case says valid=%v (fix the case)", tc.name, derr, tc.valid)
		}
		if got != tc.valid {
			t.Errorf("%s: schema says valid=%v (%v), want %v\nbody: %s", tc.name, got, verr, tc.valid, tc.body)
		}
	}
}

// TestExportOpenAPIExamples validates the document's request examples
// against the request schema and the handler's decoder.
func TestExportOpenAPIExamples(t *testing.T) {
	t.Parallel()
	doc := mustOpenAPI(t, API{Spec: defaultSpec(wire.AuthNone)})
	req := compileSchema(t, jsonSchemaOf(t, doc), "Request")
	var d struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Examples map[string]struct{ Value json.RawMessage }
				}
			}
		}
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	ex := d.Paths["/DynamoDBManager"]["post"].RequestBody.Content["application/json"].Examples
	if len(ex) != len(wire.Operations) {
		t.Errorf("%d examples, want one per operation (%d)", len(ex), len(wire.Operations))
	}
	for _, op := range wire.Operations {
		e, ok := ex[op]
		if !ok {
			t.Errorf("no example for %s", op)
			continue
		}
		if ok, err := validates(t, req, e.Value); !ok {
			t.Errorf("example %s does not validate: %v", op, err)
		}
		if _, err := handler.Decode(e.Value, goldenTable); err != nil {
			t.Errorf("example %s: decoder: %v", op, err)
		}
	}
}

// TestExportOpenAPIResponses validates the handler's golden answers
// against the response schemas: successes against their operation's
// result, errors against Error.
func TestExportOpenAPIResponses(t *testing.T) {
	t.Parallel()
	c := jsonSchemaOf(t, mustOpenAPI(t, API{Spec: defaultSpec(wire.AuthIAM)}))
	results := map[string]string{
		wire.OpCreate: "CreateResult", wire.OpRead: "ReadResult", wire.OpUpdate: "WriteResult",
		wire.OpDelete: "WriteResult", wire.OpList: "ListResult", wire.OpPing: "PingResult", wire.OpEcho: "EchoResult",
	}
	errSchema := compileSchema(t, c, "Error")
	checked := 0
	for _, g := range goldenCases(t) {
		name := "Error"
		s := errSchema
		if g.status == 200 {
			name = results[wire.OperationOf(g.body)]
			s = compileSchema(t, c, name)
		}
		if ok, err := validates(t, s, g.response); !ok {
			t.Errorf("%s: the golden answer does not validate against %s: %v\n%s", g.name, name, err, short(g.response))
		}
		checked++
	}
	// The result schemas are not vacuous: an error body is no ReadResult.
	if ok, _ := validates(t, compileSchema(t, c, "ReadResult"), []byte(`{"error":{"code":"NotFound","message":"x"},"requestId":"r"}`)); ok {
		t.Error("an error body validates as a ReadResult")
	}
	if checked == 0 {
		t.Fatal("no golden answers")
	}
}

// TestExportOpenAPIErrorCodes checks the error statuses against the
// handler's stable codes.
func TestExportOpenAPIErrorCodes(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		handler.CodeBadRequest: 400, handler.CodeForbidden: 403, handler.CodeNotFound: 404,
		handler.CodeConditionalCheckFailed: 409, handler.CodePayloadTooLarge: 413,
		handler.CodeThrottled: 429, handler.CodeInternalError: 500,
	}
	got := map[string]int{}
	for _, e := range errorStatuses {
		got[e.code] = e.status
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("error statuses %v, the handler's %v", got, want)
	}
}

// TestExportOpenAPISecurityAndIntegration checks the security scheme per
// auth mode and the integration URI (the provisioner's), with and without
// a known account.
func TestExportOpenAPISecurityAndIntegration(t *testing.T) {
	t.Parallel()
	type doc struct {
		Servers []struct {
			URL string
		}
		Paths map[string]map[string]struct {
			Security    []map[string][]string
			Integration map[string]string `json:"x-amazon-apigateway-integration"`
		}
		Components struct {
			SecuritySchemes map[string]map[string]string
		}
		KeySource string `json:"x-amazon-apigateway-api-key-source"`
	}
	for _, auth := range authModes {
		spec := otherSpec(auth)
		d, err := OpenAPI(API{Spec: spec, AccountID: "123456789012", InvokeURL: "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/v1/Items"})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Warnings) != 0 {
			t.Errorf("%s: warnings %v with account and region known", auth, d.Warnings)
		}
		b, _ := d.JSON()
		var got doc
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		post := got.Paths["/Items"]["post"]
		wantURI := provision.StackARNs(spec, provision.Account{ID: "123456789012", Partition: "aws-cn"}).IntegrationURI()
		if post.Integration["type"] != "aws_proxy" || post.Integration["httpMethod"] != "POST" || post.Integration["uri"] != wantURI {
			t.Errorf("%s: integration %v, want aws_proxy POST %s", auth, post.Integration, wantURI)
		}
		if got.Servers[0].URL != "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/v1" {
			t.Errorf("%s: server %s", auth, got.Servers[0].URL)
		}
		schemes := got.Components.SecuritySchemes
		switch auth {
		case wire.AuthIAM:
			if s := schemes["sigv4"]; s["x-amazon-apigateway-authtype"] != "awsSigv4" || s["name"] != "Authorization" || s["in"] != "header" {
				t.Errorf("iam: security scheme %v", schemes)
			}
			if !reflect.DeepEqual(post.Security, []map[string][]string{{"sigv4": {}}}) {
				t.Errorf("iam: security %v", post.Security)
			}
		case wire.AuthAPIKey:
			if s := schemes["api_key"]; s["type"] != "apiKey" || s["name"] != "x-api-key" || s["in"] != "header" {
				t.Errorf("apikey: security scheme %v", schemes)
			}
			if !reflect.DeepEqual(post.Security, []map[string][]string{{"api_key": {}}}) || got.KeySource != "HEADER" {
				t.Errorf("apikey: security %v, key source %q", post.Security, got.KeySource)
			}
		case wire.AuthNone:
			if len(schemes) != 0 || post.Security == nil || len(post.Security) != 0 {
				t.Errorf("none: schemes %v, security %v (want none, and an explicit empty list)", schemes, post.Security)
			}
		}
		if !Generated(FormatOpenAPI, b) || Generated(FormatPostman, b) {
			t.Errorf("%s: the generated marker is wrong", auth)
		}
	}
	d, err := OpenAPI(API{Spec: func() provision.Spec { s := defaultSpec(wire.AuthIAM); s.Region = ""; return s }()})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.JSON()
	if len(d.Warnings) != 2 || !bytes.Contains(b, []byte(PlaceholderAccount)) || !bytes.Contains(b, []byte(PlaceholderRegion)) {
		t.Errorf("unknown account and region: warnings %v", d.Warnings)
	}
}
