package export

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// Placeholders of an OpenAPI document whose account or region is unknown:
// the document is valid, but API Gateway can import it only once they are
// replaced (Document.Warnings says so).
const (
	PlaceholderAccount = "ACCOUNT_ID"
	PlaceholderRegion  = "REGION"
)

// API is what the OpenAPI document describes.
type API struct {
	// Spec names the API, its resource, stage, table and function, and
	// its auth mode and region.
	Spec provision.Spec
	// AccountID is the account the function lives in, for the
	// integration URI ("" = PlaceholderAccount).
	AccountID string
	// InvokeURL is the recorded invoke URL ("" = the execute-api URL as a
	// server template).
	InvokeURL string
	// Version is info.version.
	Version string
}

// Document is a rendered JSON export with what its reader should know.
type Document struct {
	root *Obj
	// Warnings name what must be filled in before the document can be
	// used as is (e.g. a placeholder account id).
	Warnings []string
}

// JSON renders the document.
func (d *Document) JSON() ([]byte, error) { return renderJSON(d.root) }

// Partition returns the AWS partition of a region.
func Partition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"}, {"eu-isoe-", "aws-iso-e"}, {"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// OpenAPI returns the OpenAPI 3.0 document of the API: POST /<resource>
// with the wire contract as its request schema, the success and error
// answers, the auth mode's security scheme, and the
// x-amazon-apigateway-integration (aws_proxy) that lets API Gateway import
// it.
func OpenAPI(a API) (*Document, error) {
	spec := a.Spec
	if !wire.ValidAuth(spec.Auth) {
		return nil, fmt.Errorf("openapi: auth %q: want iam, apikey or none", spec.Auth)
	}
	if spec.Resource == "" || spec.Stage == "" || spec.Table == "" || spec.Function == "" {
		return nil, fmt.Errorf("openapi: resource, stage, table and function must be set")
	}
	d := &Document{}
	if spec.Region == "" {
		spec.Region = PlaceholderRegion
		d.Warnings = append(d.Warnings, "the integration URI names region "+PlaceholderRegion+": pass --region (or run ddbops setup) before importing into API Gateway")
	}
	acct := provision.Account{ID: a.AccountID, Partition: Partition(spec.Region)}
	if acct.ID == "" {
		acct.ID = PlaceholderAccount
		d.Warnings = append(d.Warnings, "the integration URI names account "+PlaceholderAccount+": pass --account-id (or run ddbops setup) before importing into API Gateway")
	}
	spec.EndpointURL = ""
	arn := provision.StackARNs(spec, acct)

	schemas := &Obj{}
	if err := requestSchemas(schemas, spec.Table); err != nil {
		return nil, err
	}
	responseSchemas(schemas)
	components := obj("schemas", schemas)

	op := obj(
		"operationId", spec.Resource,
		"summary", "Run one DynamoDB operation (create, read, update, delete, list) or echo / ping",
		"description", "The tutorial's request format: the operation, the table (optional) and DynamoDB DocumentClient-style parameters in plain JSON. Unknown keys are rejected by name.",
		"requestBody", obj(
			"required", true,
			"content", obj("application/json", obj(
				"schema", schemaRef("Request"),
				"examples", requestExamples(spec.Table),
			)),
		),
		"responses", responses(),
	)
	version := a.Version
	if version == "" {
		version = "1"
	}
	root := obj(
		"openapi", "3.0.3",
		"info", obj(
			"title", spec.API,
			"description", fmt.Sprintf(generatedBy(FormatOpenAPI)+" ddbops stack %s: POST /%s runs the tutorial's DynamoDB operations on table %s through Lambda %s (auth %s).",
				spec.Stack, spec.Resource, spec.Table, spec.Function, spec.Auth),
			"version", version,
		),
		"servers", []any{server(a, spec, acct)},
	)
	switch spec.Auth {
	case wire.AuthIAM:
		components.Set("securitySchemes", obj("sigv4", obj(
			"type", "apiKey", "name", "Authorization", "in", "header",
			"description", "AWS Signature Version 4, service "+wire.SigningService,
			"x-amazon-apigateway-authtype", "awsSigv4",
		)))
		op.Set("security", []any{obj("sigv4", []any{})})
	case wire.AuthAPIKey:
		components.Set("securitySchemes", obj("api_key", obj(
			"type", "apiKey", "name", strings.ToLower(wire.APIKeyHeader), "in", "header",
			"description", "the stack's API key (aws apigateway get-api-key --include-value)",
		)))
		op.Set("security", []any{obj("api_key", []any{})})
		root.Set("x-amazon-apigateway-api-key-source", "HEADER")
	default:
		op.Set("security", []any{})
	}
	op.Set("x-amazon-apigateway-integration", obj(
		"type", "aws_proxy",
		"httpMethod", "POST",
		"uri", arn.IntegrationURI(),
		"passthroughBehavior", "when_no_match",
	))
	root.Set("paths", obj("/"+spec.Resource, obj("post", op)))
	root.Set("components", components)
	d.root = root
	return d, nil
}

// server is where the API is served: the recorded invoke URL's stage, or
// the execute-api URL with the REST API id as a variable.
func server(a API, spec provision.Spec, acct provision.Account) *Obj {
	if a.InvokeURL != "" {
		return obj("url", strings.TrimSuffix(strings.TrimRight(a.InvokeURL, "/"), "/"+spec.Resource),
			"description", "stage "+spec.Stage+" of the stack's REST API")
	}
	return obj(
		"url", "https://{restApiId}.execute-api.{region}."+acct.DNSSuffix()+"/{basePath}",
		"description", "stage "+spec.Stage+" of the stack's REST API (its id is printed by ddbops setup)",
		"variables", obj(
			"restApiId", obj("default", "restApiId", "description", "the REST API id"),
			"region", obj("default", spec.Region),
			"basePath", obj("default", spec.Stage),
		),
	)
}

// requestExamples are the tutorial's requests, built as ddbops call builds
// them.
func requestExamples(table string) *Obj {
	ex := &Obj{}
	for _, r := range exampleRequests(table, "1") {
		v, err := orderedJSON(r.body)
		if err != nil {
			panic(err) // built by wire: valid JSON
		}
		ex.Set(r.name, obj("summary", r.summary, "value", v))
	}
	return ex
}

// exampleRequest is one tutorial-format request.
type exampleRequest struct {
	name, summary string
	body          []byte
}

// exampleRequests are one request per operation for item id (the
// tutorial's create is {"id": "1", "name": "Bob"}).
func exampleRequests(table, id string) []exampleRequest {
	must := func(b []byte, err error) []byte {
		if err != nil {
			panic(err) // static input
		}
		return b
	}
	item := wire.Object{{Name: wire.KeyAttribute, Value: jsonString(id)}, {Name: "name", Value: jsonString("Bob")}}
	return []exampleRequest{
		{"create", "create (or replace) an item: the tutorial's request", must(wire.CreateBody(table, item, true))},
		{"read", "read an item by id", must(wire.ReadBody(table, id))},
		{"update", "set attributes of an existing item", must(wire.UpdateBody(table, wire.UpdateInput{ID: id, Set: wire.Object{{Name: "name", Value: jsonString("Alice")}}}))},
		{"list", "one page of a scan", must(wire.ListBody(table, wire.ListInput{}))},
		{"echo", "the payload comes back unchanged", must(wire.EchoBody(wire.Object{{Name: "somekey1", Value: jsonString("somevalue1")}, {Name: "somekey2", Value: jsonString("somevalue2")}}))},
		{"ping", "answers \"pong\"", wire.PingBody()},
		{"delete", "delete an item by id", must(wire.DeleteBody(table, id))},
	}
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// responses are the POST method's answers by status.
func responses() *Obj {
	rs := obj("200", obj(
		"description", "success: create -> CreateResult, read -> ReadResult, update and delete -> WriteResult, list -> ListResult, echo -> the payload, ping -> \"pong\"",
		"content", obj("application/json", obj("schema", obj("anyOf", []any{
			schemaRef("CreateResult"), schemaRef("ReadResult"), schemaRef("WriteResult"),
			schemaRef("ListResult"), schemaRef("PingResult"), schemaRef("EchoResult"),
		}))),
	))
	for _, e := range errorStatuses {
		schema := schemaRef("Error")
		if e.gateway {
			schema = obj("oneOf", []any{schemaRef("Error"), schemaRef("GatewayError")})
		}
		rs.Set(strconv.Itoa(e.status), obj(
			"description", e.code+": "+e.when,
			"content", obj("application/json", obj("schema", schema)),
		))
	}
	rs.Set("502", obj(
		"description", "API Gateway: the function failed or timed out",
		"content", obj("application/json", obj("schema", schemaRef("GatewayError"))),
	))
	return rs
}
