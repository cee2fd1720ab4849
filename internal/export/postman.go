package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ddbops/ddbops/internal/wire"
)

// PostmanSchema is the Postman collection format the export writes.
const PostmanSchema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

// Collection variables. Only baseUrl and region get a value; the secrets
// are left empty for the user (or newman --env-var) to fill in.
const (
	VarBaseURL      = "baseUrl"
	VarAPIKey       = "apiKey"
	VarAccessKey    = "accessKey"
	VarSecretKey    = "secretKey"
	VarSessionToken = "sessionToken"
	VarRegion       = "region"
	// VarItemID is the id the run works on, set by the first request.
	VarItemID = "itemId"
)

// Collection is what the Postman collection targets.
type Collection struct {
	// Name of the collection.
	Name string
	// InvokeURL is baseUrl's value: the URL the requests are POSTed to
	// (the invoke URL setup records, or ddbops local's URL).
	InvokeURL string
	// Auth is the target's auth mode.
	Auth string
	// Region is region's value, for SigV4 under iam auth.
	Region string
	// Table is the tableName the requests carry.
	Table string
}

// postmanRequest is one request of the collection and its tests.
type postmanRequest struct {
	name, description string
	body              []byte
	prerequest        []string
	tests             []string
}

// Postman returns a Postman v2.1 collection of the tutorial's requests:
// one per operation in order create, read, update, list, echo, ping, then
// a read of a missing id (404), a repeated create (409) and the delete,
// each with tests on status and body. It runs in order on an empty table,
// and again: the create picks a new id each run. No secret is written:
// credentials and the API key are collection variables left empty.
func Postman(c Collection) (*Document, error) {
	if !wire.ValidAuth(c.Auth) {
		return nil, fmt.Errorf("postman: auth %q: want iam, apikey or none", c.Auth)
	}
	if c.InvokeURL == "" || c.Table == "" {
		return nil, fmt.Errorf("postman: the invoke URL and the table must be set")
	}
	name := c.Name
	if name == "" {
		name = "ddbops"
	}
	reqs, err := postmanRequests(c.Table)
	if err != nil {
		return nil, err
	}
	items := make([]any, 0, len(reqs))
	for _, r := range reqs {
		items = append(items, postmanItem(r))
	}
	variables := []any{
		postmanVar(VarBaseURL, c.InvokeURL, "the invoke URL: POST requests go here"),
		postmanVar(VarAPIKey, "", "apikey auth: the API key (aws apigateway get-api-key --api-key ID --include-value, or ddbops local's)"),
		postmanVar(VarAccessKey, "", "iam auth: AWS access key id"),
		postmanVar(VarSecretKey, "", "iam auth: AWS secret access key"),
		postmanVar(VarSessionToken, "", "iam auth: AWS session token, for temporary credentials"),
		postmanVar(VarRegion, c.Region, "iam auth: the API's region (SigV4 scope)"),
		postmanVar(VarItemID, "", "set by the first request: the id this run creates, reads, updates and deletes"),
	}
	root := obj(
		"info", obj(
			"name", name,
			"description", fmt.Sprintf(generatedBy(FormatPostman)+" The tutorial's requests against %s (auth %s), with tests. Run it in order, on an empty table or not: create, read, update, list, echo, ping, a read of a missing id (404), a repeated create (409), delete. %s",
				"{{"+VarBaseURL+"}}", c.Auth, secretVarsOf(c.Auth)),
			"schema", PostmanSchema,
		),
		"auth", postmanAuth(c.Auth),
		"item", items,
		"variable", variables,
	)
	return &Document{root: root}, nil
}

// secretVarsOf says which variables an auth mode needs filled in.
func secretVarsOf(auth string) string {
	switch auth {
	case wire.AuthIAM:
		return "Fill in the variables " + VarAccessKey + " and " + VarSecretKey + " (and " + VarSessionToken + " for temporary credentials) first."
	case wire.AuthAPIKey:
		return "Fill in the variable " + VarAPIKey + " first."
	}
	return "No variable needs filling in."
}

func postmanVar(key, value, desc string) *Obj {
	return obj("key", key, "value", value, "type", "string", "description", desc)
}

func postmanAuth(auth string) *Obj {
	kv := func(k, v string) *Obj { return obj("key", k, "value", v, "type", "string") }
	switch auth {
	case wire.AuthIAM:
		return obj("type", "awsv4", "awsv4", []any{
			kv("accessKey", "{{"+VarAccessKey+"}}"),
			kv("secretKey", "{{"+VarSecretKey+"}}"),
			kv("sessionToken", "{{"+VarSessionToken+"}}"),
			kv("region", "{{"+VarRegion+"}}"),
			kv("service", wire.SigningService),
		})
	case wire.AuthAPIKey:
		return obj("type", "apikey", "apikey", []any{
			kv("key", strings.ToLower(wire.APIKeyHeader)),
			kv("value", "{{"+VarAPIKey+"}}"),
			kv("in", "header"),
		})
	}
	return obj("type", "noauth")
}

func postmanItem(r postmanRequest) *Obj {
	var events []any
	if len(r.prerequest) > 0 {
		events = append(events, postmanScript("prerequest", r.prerequest))
	}
	events = append(events, postmanScript("test", r.tests))
	return obj(
		"name", r.name,
		"event", events,
		"request", obj(
			"method", "POST",
			"header", []any{obj("key", "Content-Type", "value", "application/json")},
			"body", obj(
				"mode", "raw",
				"raw", string(r.body),
				"options", obj("raw", obj("language", "json")),
			),
			"url", obj("raw", "{{"+VarBaseURL+"}}", "host", []any{"{{" + VarBaseURL + "}}"}),
			"description", r.description,
		),
		"response", []any{},
	)
}

func postmanScript(listen string, lines []string) *Obj {
	exec := make([]any, len(lines))
	for i, l := range lines {
		exec[i] = l
	}
	return obj("listen", listen, "script", obj("type", "text/javascript", "exec", exec))
}

// js quotes s as a JavaScript string literal (JSON's is one).
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pretty indents a request body for reading in Postman.
func pretty(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// testError is the tests of an error answer: its status and code.
func testError(status int, code string) []string {
	return []string{
		fmt.Sprintf("pm.test(%s, function () {", js(fmt.Sprintf("status %d", status))),
		fmt.Sprintf("    pm.response.to.have.status(%d);", status),
		"});",
		fmt.Sprintf("pm.test(%s, function () {", js("error code "+code)),
		"    const body = pm.response.json();",
		fmt.Sprintf("    pm.expect(body.error.code).to.eql(%s);", js(code)),
		"    pm.expect(body.error.message).to.be.a('string');",
		"    pm.expect(body.requestId).to.be.a('string');",
		"});",
	}
}

// testOK is the tests of a successful DynamoDB operation; check holds
// more expectations on body.
func testOK(check ...string) []string {
	lines := []string{
		"pm.test(\"status 200\", function () {",
		"    pm.response.to.have.status(200);",
		"});",
		"pm.test(\"body\", function () {",
		"    const body = pm.response.json();",
		"    pm.expect(body.ResponseMetadata.HTTPStatusCode).to.eql(200);",
	}
	for _, c := range check {
		lines = append(lines, "    "+c)
	}
	return append(lines, "});")
}

// postmanRequests are the collection's requests, built with the same body
// builders as ddbops call, on the run's item id.
func postmanRequests(table string) ([]postmanRequest, error) {
	id := "{{" + VarItemID + "}}"
	all := map[string][]byte{}
	for _, r := range exampleRequests(table, id) {
		b, err := pretty(r.body)
		if err != nil {
			return nil, fmt.Errorf("postman: %s body: %w", r.name, err)
		}
		all[r.name] = b
	}
	missing, err := wire.ReadBody(table, id+"-missing")
	if err != nil {
		return nil, err
	}
	item := wire.Object{{Name: wire.KeyAttribute, Value: jsonString(id)}, {Name: "name", Value: jsonString("Bob")}}
	again, err := wire.CreateBody(table, item, false)
	if err != nil {
		return nil, err
	}
	if missing, err = pretty(missing); err != nil {
		return nil, err
	}
	if again, err = pretty(again); err != nil {
		return nil, err
	}
	var echo struct{ Payload json.RawMessage }
	if err := json.Unmarshal(all["echo"], &echo); err != nil {
		return nil, fmt.Errorf("postman: echo body: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, echo.Payload); err != nil {
		return nil, fmt.Errorf("postman: echo payload: %w", err)
	}
	echoPayload := compact.String()
	wantID := "pm.collectionVariables.get(" + js(VarItemID) + ")"
	return []postmanRequest{
		{
			name: "create", description: "Create the item {id, name: Bob}: the tutorial's request. Picks a new id for this run first.",
			body: all["create"],
			prerequest: []string{
				"// A new id per run, so that the collection runs again (and under a",
				"// performance test's virtual users) without colliding.",
				fmt.Sprintf("pm.collectionVariables.set(%s, 'ddbops-' + Date.now() + '-' + Math.floor(Math.random() * 1e9));", js(VarItemID)),
			},
			tests: testOK(),
		},
		{
			name: "read", description: "Read the item back.", body: all["read"],
			tests: testOK(
				"pm.expect(body.Item."+wire.KeyAttribute+").to.eql("+wantID+");",
				"pm.expect(body.Item.name).to.eql(\"Bob\");",
			),
		},
		{
			name: "update", description: "Set name to Alice; the answer is the item after the update (ReturnValues ALL_NEW).", body: all["update"],
			tests: testOK(
				"pm.expect(body.Attributes."+wire.KeyAttribute+").to.eql("+wantID+");",
				"pm.expect(body.Attributes.name).to.eql(\"Alice\");",
			),
		},
		{
			name: "list", description: "One page of a scan of the table.", body: all["list"],
			tests: testOK(
				"pm.expect(body.Items).to.be.an('array');",
				"pm.expect(body.Count).to.eql(body.Items.length);",
				"pm.expect(body.ScannedCount).to.be.at.least(body.Count);",
			),
		},
		{
			name: "echo", description: "The payload comes back unchanged (the tutorial's test event).", body: all["echo"],
			tests: []string{
				"pm.test(\"status 200\", function () {",
				"    pm.response.to.have.status(200);",
				"});",
				"pm.test(\"body is the payload\", function () {",
				"    pm.expect(pm.response.json()).to.eql(" + echoPayload + ");",
				"});",
			},
		},
		{
			name: "ping", description: "Answers \"pong\".", body: all["ping"],
			tests: []string{
				"pm.test(\"status 200\", function () {",
				"    pm.response.to.have.status(200);",
				"});",
				"pm.test(\"body is pong\", function () {",
				"    pm.expect(pm.response.json()).to.eql(\"pong\");",
				"});",
			},
		},
		{name: "read missing (404)", description: "Read an id that does not exist: 404 NotFound.", body: missing, tests: testError(404, "NotFound")},
		{
			name: "create again (409)", description: "Create the same id with " + wire.NotExistsCondition + ": 409 ConditionalCheckFailed.",
			body: again, tests: testError(wire.ErrorStatus[wire.CodeConditionalCheckFailed], wire.CodeConditionalCheckFailed),
		},
		{
			name: "delete", description: "Delete the item: the table is as the run found it.", body: all["delete"],
			tests: testOK(),
		},
	}, nil
}
