// Package wire is the wire contract of the API in one place: the
// operations and the payload keys each accepts, the auth modes, the key
// attribute, the size and nesting limits, and builders for the
// tutorial-format request bodies. The handler, the client, the load
// generator, the local stack and the exports all use it (docs/wire.md).
package wire

// Operations of the wire contract (docs/wire.md).
const (
	OpCreate = "create"
	OpRead   = "read"
	OpUpdate = "update"
	OpDelete = "delete"
	OpList   = "list"
	OpEcho   = "echo"
	OpPing   = "ping"
)

// Operations lists every operation in the order the docs present them.
var Operations = []string{OpCreate, OpRead, OpUpdate, OpDelete, OpList, OpEcho, OpPing}

// Payload keys of the five DynamoDB operations.
const (
	KeyItem                      = "Item"
	KeyKey                       = "Key"
	KeyUpdateExpression          = "UpdateExpression"
	KeyConditionExpression       = "ConditionExpression"
	KeyFilterExpression          = "FilterExpression"
	KeyProjectionExpression      = "ProjectionExpression"
	KeyExpressionAttributeNames  = "ExpressionAttributeNames"
	KeyExpressionAttributeValues = "ExpressionAttributeValues"
	KeyConsistentRead            = "ConsistentRead"
	KeyReturnValues              = "ReturnValues"
	KeyLimit                     = "Limit"
	KeyExclusiveStartKey         = "ExclusiveStartKey"
)

// PayloadKeys lists every payload key in the order the handler validates
// them, so that a request with several faults always gets the same error.
var PayloadKeys = []string{
	KeyItem, KeyKey, KeyUpdateExpression, KeyConditionExpression, KeyFilterExpression,
	KeyProjectionExpression, KeyExpressionAttributeNames, KeyExpressionAttributeValues,
	KeyConsistentRead, KeyReturnValues, KeyLimit, KeyExclusiveStartKey,
}

// Accepted is the whitelist of payload keys per operation; any other key is
// rejected by name. echo accepts any payload (it is returned unchanged) and
// is not listed; ping accepts none.
var Accepted = map[string][]string{
	OpCreate: {KeyItem, KeyConditionExpression, KeyExpressionAttributeNames, KeyExpressionAttributeValues},
	OpRead:   {KeyKey, KeyProjectionExpression, KeyExpressionAttributeNames, KeyConsistentRead},
	OpUpdate: {KeyKey, KeyUpdateExpression, KeyConditionExpression, KeyExpressionAttributeNames, KeyExpressionAttributeValues, KeyReturnValues},
	OpDelete: {KeyKey, KeyConditionExpression, KeyExpressionAttributeNames, KeyExpressionAttributeValues, KeyReturnValues},
	OpList:   {KeyLimit, KeyExclusiveStartKey, KeyFilterExpression, KeyProjectionExpression, KeyExpressionAttributeNames, KeyExpressionAttributeValues},
	OpPing:   {},
}

// ReturnValuesOf lists the ReturnValues each operation accepts (as
// DynamoDB's UpdateItem and DeleteItem do).
var ReturnValuesOf = map[string][]string{
	OpUpdate: {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"},
	OpDelete: {"NONE", "ALL_OLD"},
}

// Stable error codes of the wire contract ("error.code" in error bodies).
// Each belongs to exactly one HTTP status (ErrorStatus).
const (
	CodeBadRequest             = "BadRequest"
	CodeForbidden              = "Forbidden"
	CodeNotFound               = "NotFound"
	CodeConditionalCheckFailed = "ConditionalCheckFailed"
	CodePayloadTooLarge        = "PayloadTooLarge"
	CodeThrottled              = "Throttled"
	CodeInternalError          = "InternalError"
)

// ErrorStatus is the HTTP status of each error code.
var ErrorStatus = map[string]int{
	CodeBadRequest:             400,
	CodeForbidden:              403,
	CodeNotFound:               404,
	CodeConditionalCheckFailed: 409,
	CodePayloadTooLarge:        413,
	CodeThrottled:              429,
	CodeInternalError:          500,
}

// KeyAttribute is the table's partition key, a string.
const KeyAttribute = "id"

// Auth modes of the API: how a request proves it may call it.
const (
	AuthNone   = "none"
	AuthAPIKey = "apikey"
	AuthIAM    = "iam"
)

// AuthModes lists the auth modes in the order help text shows them.
var AuthModes = []string{AuthIAM, AuthAPIKey, AuthNone}

// ValidAuth reports whether s is one of AuthModes.
func ValidAuth(s string) bool { return s == AuthNone || s == AuthAPIKey || s == AuthIAM }

// SigningService is the SigV4 service name of API Gateway invocations.
const SigningService = "execute-api"

// APIKeyHeader carries the API key under apikey auth.
const APIKeyHeader = "X-Api-Key"

// Limits of the wire contract.
const (
	// MaxBodyBytes is the largest request body accepted (413 above).
	MaxBodyBytes = 1 << 20
	// MaxItemBytes is DynamoDB's item size limit (413 above).
	MaxItemBytes = 400 * 1024
	// MaxDepth is the deepest JSON nesting accepted (400 above).
	MaxDepth = 64
	// MaxListLimit caps the list operation's Limit (and is its default).
	MaxListLimit = 100
)

// NotExistsCondition makes create refuse to replace an existing item.
const NotExistsCondition = "attribute_not_exists(" + KeyAttribute + ")"
