package export

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ddbops/ddbops/internal/wire"
)

// The request and response schemas of the wire contract, as OpenAPI 3.0
// schema objects (docs/wire.md). The request schema accepts exactly the
// bodies whose structure the handler's decoder accepts; what only the
// handler can judge (expression syntax, nesting depth, body and item size,
// the spelling of a number: 5.0 is not a positive integer literal) is left
// to it and described in the 400 response.

// errorStatus is one error answer of the handler: its status and stable
// code, and when it is given.
type errorStatus struct {
	status int
	code   string
	when   string
	// gateway: API Gateway itself may answer this status, with its own
	// body ({"message": ...}).
	gateway bool
}

// errorStatuses are the handler's error answers, in status order.
var errorStatuses = []errorStatus{
	{wire.ErrorStatus[wire.CodeBadRequest], wire.CodeBadRequest, fmt.Sprintf("malformed JSON, JSON nested deeper than %d levels, unknown operation or key, wrong types, missing or empty or non-string %s, a Limit that is not a positive integer, an invalid expression", wire.MaxDepth, wire.KeyAttribute), false},
	{wire.ErrorStatus[wire.CodeForbidden], wire.CodeForbidden, "a tableName other than the configured table; API Gateway answers 403 itself for a missing or wrong API key or SigV4 signature", true},
	{wire.ErrorStatus[wire.CodeNotFound], wire.CodeNotFound, "read, update or delete of a missing " + wire.KeyAttribute, false},
	{wire.ErrorStatus[wire.CodeConditionalCheckFailed], wire.CodeConditionalCheckFailed, "a condition was false, e.g. create of an existing " + wire.KeyAttribute + " with " + wire.NotExistsCondition, false},
	{wire.ErrorStatus[wire.CodePayloadTooLarge], wire.CodePayloadTooLarge, fmt.Sprintf("body over %d bytes or item over DynamoDB's %d KB", wire.MaxBodyBytes, wire.MaxItemBytes/1024), true},
	{wire.ErrorStatus[wire.CodeThrottled], wire.CodeThrottled, "DynamoDB throttled the request; API Gateway answers 429 itself above the stage's throttling", true},
	{wire.ErrorStatus[wire.CodeInternalError], wire.CodeInternalError, "anything else; the message carries the request id", false},
}

func schemaRef(name string) *Obj { return obj("$ref", "#/components/schemas/"+name) }

// opSchemaName is the schema name prefix of an operation: create -> Create.
func opSchemaName(op string) string { return strings.ToUpper(op[:1]) + op[1:] }

// requiredPayloadKeys are the keys an operation cannot do without.
func requiredPayloadKeys(op string) []string {
	var req []string
	for _, k := range []string{wire.KeyItem, wire.KeyKey} {
		if slices.Contains(wire.Accepted[op], k) {
			req = append(req, k)
		}
	}
	return req
}

// payloadProperty is the schema of payload key for op.
func payloadProperty(op, key string) (any, error) {
	switch key {
	case wire.KeyItem:
		return schemaRef("Item"), nil
	case wire.KeyKey:
		return schemaRef("Key"), nil
	case wire.KeyUpdateExpression, wire.KeyConditionExpression, wire.KeyFilterExpression, wire.KeyProjectionExpression:
		return schemaRef("Expression"), nil
	case wire.KeyExpressionAttributeNames:
		return schemaRef("ExpressionAttributeNames"), nil
	case wire.KeyExpressionAttributeValues:
		return schemaRef("ExpressionAttributeValues"), nil
	case wire.KeyConsistentRead:
		return schemaRef("ConsistentRead"), nil
	case wire.KeyReturnValues:
		return schemaRef(opSchemaName(op) + "ReturnValues"), nil
	case wire.KeyLimit:
		return schemaRef("Limit"), nil
	case wire.KeyExclusiveStartKey:
		return schemaRef("ExclusiveStartKey"), nil
	}
	return nil, fmt.Errorf("openapi: no schema for payload key %q of operation %s", key, op)
}

// nullableEnum is a string enum that also accepts null (JSON null is
// treated as absent by the handler).
func nullableEnum(desc string, values []string) *Obj {
	enum := make([]any, 0, len(values)+1)
	for _, v := range values {
		enum = append(enum, v)
	}
	return obj("type", "string", "nullable", true, "enum", append(enum, nil), "description", desc)
}

// requestSchemas adds the request schemas for table to schemas: Request
// (one of the operations' requests, by "operation") and its parts.
func requestSchemas(schemas *Obj, table string) error {
	schemas.Set("Request", nil) // first in the document; set below
	schemas.Set("TableName", nullableEnum("optional; when present it must name the configured table (else 403)", []string{table}))
	schemas.Set("Item", obj(
		"type", "object",
		"description", "the item as plain JSON (strings S, numbers N, booleans BOOL, null NULL, arrays L, objects M); "+wire.KeyAttribute+" is the partition key",
		"required", []any{wire.KeyAttribute},
		"properties", obj(wire.KeyAttribute, schemaRef("ID")),
		"additionalProperties", true,
	))
	schemas.Set("Key", obj(
		"type", "object",
		"description", "the key of one item: exactly "+wire.KeyAttribute,
		"required", []any{wire.KeyAttribute},
		"properties", obj(wire.KeyAttribute, schemaRef("ID")),
		"additionalProperties", false,
	))
	schemas.Set("ID", obj("type", "string", "minLength", 1, "description", "the partition key: a non-empty string"))
	schemas.Set("Expression", obj("type", "string", "nullable", true, "pattern", `\S`, "description", "a DynamoDB expression (not blank)"))
	schemas.Set("ExpressionAttributeNames", obj(
		"type", "object", "nullable", true,
		"description", "placeholders (#name) for attribute names",
		"additionalProperties", obj("type", "string"),
	))
	schemas.Set("ExpressionAttributeValues", obj(
		"type", "object", "nullable", true,
		"description", "placeholders (:value) for values, as plain JSON",
		"additionalProperties", true,
	))
	schemas.Set("ConsistentRead", obj("type", "boolean", "nullable", true))
	schemas.Set("UpdateReturnValues", nullableEnum("what update answers in Attributes", wire.ReturnValuesOf[wire.OpUpdate]))
	schemas.Set("DeleteReturnValues", nullableEnum("what delete answers in Attributes", wire.ReturnValuesOf[wire.OpDelete]))
	schemas.Set("Limit", obj(
		"type", "integer", "minimum", 1, "nullable", true,
		"description", fmt.Sprintf("page size: a positive integer; at most %d items are returned (the default)", wire.MaxListLimit),
	))
	schemas.Set("ExclusiveStartKey", obj(
		"type", "object", "nullable", true, "minProperties", 1,
		"description", "the LastEvaluatedKey of the previous page",
		"additionalProperties", true,
	))

	variants := make([]any, 0, len(wire.Operations))
	mapping := &Obj{}
	for _, op := range wire.Operations {
		name := opSchemaName(op)
		payload, err := payloadSchema(op)
		if err != nil {
			return err
		}
		schemas.Set(name+"Payload", payload)
		required := []any{"operation"}
		if len(requiredPayloadKeys(op)) > 0 {
			required = append(required, "payload")
		}
		schemas.Set(name+"Request", obj(
			"type", "object",
			"required", required,
			"additionalProperties", false,
			"properties", obj(
				"operation", obj("type", "string", "enum", []any{op}),
				"tableName", schemaRef("TableName"),
				"payload", schemaRef(name+"Payload"),
			),
		))
		variants = append(variants, schemaRef(name+"Request"))
		mapping.Set(op, "#/components/schemas/"+name+"Request")
	}
	schemas.Set("Request", obj(
		"description", "the tutorial's request body: {operation, tableName, payload}",
		"oneOf", variants,
		"discriminator", obj("propertyName", "operation", "mapping", mapping),
	))
	return nil
}

// payloadSchema is the payload of op: the keys wire.Accepted lists, the
// required ones required, nothing else.
func payloadSchema(op string) (*Obj, error) {
	switch op {
	case wire.OpEcho:
		return obj("description", "any JSON value: echo answers it unchanged"), nil
	case wire.OpPing:
		return obj("type", "object", "nullable", true, "additionalProperties", false,
			"description", "ping takes no payload (absent, null or {})"), nil
	}
	accepted, ok := wire.Accepted[op]
	if !ok {
		return nil, fmt.Errorf("openapi: operation %s has no accepted payload keys", op)
	}
	props := &Obj{}
	for _, k := range accepted {
		p, err := payloadProperty(op, k)
		if err != nil {
			return nil, err
		}
		props.Set(k, p)
	}
	s := obj("type", "object")
	if req := requiredPayloadKeys(op); len(req) > 0 {
		l := make([]any, len(req))
		for i, k := range req {
			l[i] = k
		}
		s.Set("required", l)
	} else {
		s.Set("nullable", true)
	}
	s.Set("additionalProperties", false)
	s.Set("properties", props)
	return s, nil
}

// responseSchemas adds the success and error body schemas.
func responseSchemas(schemas *Obj) {
	schemas.Set("ResponseMetadata", obj(
		"type", "object",
		"required", []any{"HTTPStatusCode", "RequestId"},
		"properties", obj(
			"HTTPStatusCode", obj("type", "integer", "enum", []any{200}),
			"RequestId", obj("type", "string"),
		),
	))
	schemas.Set("AttributeMap", obj("type", "object", "additionalProperties", true, "description", "an item, or part of one, as plain JSON"))
	schemas.Set("CreateResult", obj(
		"type", "object", "required", []any{"ResponseMetadata"},
		"properties", obj("ResponseMetadata", schemaRef("ResponseMetadata")),
	))
	schemas.Set("ReadResult", obj(
		"type", "object", "required", []any{"Item", "ResponseMetadata"},
		"properties", obj("Item", schemaRef("AttributeMap"), "ResponseMetadata", schemaRef("ResponseMetadata")),
	))
	schemas.Set("WriteResult", obj(
		"type", "object", "required", []any{"ResponseMetadata"},
		"description", "update and delete: Attributes as ReturnValues asked",
		"properties", obj("Attributes", schemaRef("AttributeMap"), "ResponseMetadata", schemaRef("ResponseMetadata")),
	))
	schemas.Set("ListResult", obj(
		"type", "object", "required", []any{"Items", "Count", "ScannedCount", "ResponseMetadata"},
		"description", "one page of a scan; LastEvaluatedKey when there are more",
		"properties", obj(
			"Items", obj("type", "array", "items", schemaRef("AttributeMap")),
			"Count", obj("type", "integer", "minimum", 0),
			"ScannedCount", obj("type", "integer", "minimum", 0),
			"LastEvaluatedKey", schemaRef("AttributeMap"),
			"ResponseMetadata", schemaRef("ResponseMetadata"),
		),
	))
	schemas.Set("EchoResult", obj("description", "exactly the payload echo was sent"))
	schemas.Set("PingResult", obj("type", "string", "enum", []any{"pong"}))
	codes := make([]any, len(errorStatuses))
	for i, e := range errorStatuses {
		codes[i] = e.code
	}
	schemas.Set("Error", obj(
		"type", "object", "required", []any{"error", "requestId"},
		"description", "the handler's error answer",
		"properties", obj(
			"error", obj(
				"type", "object", "required", []any{"code", "message"},
				"properties", obj(
					"code", obj("type", "string", "enum", codes),
					"message", obj("type", "string"),
				),
			),
			"requestId", obj("type", "string"),
		),
	))
	schemas.Set("GatewayError", obj(
		"type", "object", "required", []any{"message"},
		"description", "API Gateway's own answer, before or instead of the function",
		"properties", obj("message", obj("type", "string")),
	))
}
