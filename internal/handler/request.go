package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// Operation is one of the seven operations of the wire contract.
type Operation uint8

// The operations, in the order of wire.Operations.
const (
	OpCreate Operation = iota + 1
	OpRead
	OpUpdate
	OpDelete
	OpList
	OpEcho
	OpPing
)

var opNames = [...]string{
	OpCreate: wire.OpCreate,
	OpRead:   wire.OpRead,
	OpUpdate: wire.OpUpdate,
	OpDelete: wire.OpDelete,
	OpList:   wire.OpList,
	OpEcho:   wire.OpEcho,
	OpPing:   wire.OpPing,
}

// String returns the operation's wire name ("" for the zero value).
func (o Operation) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return ""
}

func parseOperation(s string) Operation {
	for op := OpCreate; op <= OpPing; op++ {
		if opNames[op] == s {
			return op
		}
	}
	return 0
}

var opList = strings.Join(wire.Operations, ", ")

// field is one accepted payload key.
type field uint16

const (
	fItem field = 1 << iota
	fKey
	fConditionExpression
	fUpdateExpression
	fFilterExpression
	fProjectionExpression
	fNames
	fValues
	fConsistentRead
	fReturnValues
	fLimit
	fExclusiveStartKey
)

// fields lists every payload key in the order they are validated, so that
// a request with several faults always gets the same error.
var fields = [...]struct {
	f    field
	name string
}{
	{fItem, wire.KeyItem},
	{fKey, wire.KeyKey},
	{fUpdateExpression, wire.KeyUpdateExpression},
	{fConditionExpression, wire.KeyConditionExpression},
	{fFilterExpression, wire.KeyFilterExpression},
	{fProjectionExpression, wire.KeyProjectionExpression},
	{fNames, wire.KeyExpressionAttributeNames},
	{fValues, wire.KeyExpressionAttributeValues},
	{fConsistentRead, wire.KeyConsistentRead},
	{fReturnValues, wire.KeyReturnValues},
	{fLimit, wire.KeyLimit},
	{fExclusiveStartKey, wire.KeyExclusiveStartKey},
}

// accepted is wire.Accepted as bit sets, indexed by operation.
var accepted = func() (a [OpPing + 1]field) {
	for op := OpCreate; op <= OpPing; op++ {
		for _, name := range wire.Accepted[op.String()] {
			a[op] |= fieldByName(name)
		}
	}
	return a
}()

func fieldByName(name string) field {
	for _, e := range fields {
		if e.name == name {
			return e.f
		}
	}
	return 0
}

func acceptedKeys(op Operation) string {
	var names []string
	for _, e := range fields {
		if accepted[op]&e.f != 0 {
			names = append(names, e.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Request is a decoded and validated tutorial-format request.
type Request struct {
	Op Operation
	// Payload is the raw payload JSON, kept for echo only (nil when absent).
	Payload json.RawMessage
	Params  Params
}

// Params are the DynamoDB parameters of a request's payload, converted to
// SDK types. Fields the operation does not accept are always zero.
type Params struct {
	Item                      map[string]types.AttributeValue
	Key                       map[string]types.AttributeValue
	UpdateExpression          *string
	ConditionExpression       *string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]types.AttributeValue
	ConsistentRead            *bool
	ReturnValues              types.ReturnValue
	Limit                     int32 // 1..MaxListLimit for list
	ExclusiveStartKey         map[string]types.AttributeValue
}

// Decode parses and validates a tutorial-format request body for the
// table tableName. Errors are *Error values with status 400, 403 or 413.
func Decode(body []byte, tableName string) (*Request, error) {
	if len(body) > wire.MaxBodyBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "request body: larger than %d bytes", wire.MaxBodyBytes)
	}
	if tooDeep(body, wire.MaxDepth) {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "request body: JSON nested deeper than %d levels", wire.MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "request body: empty")
		}
		return nil, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, malformed(err)
		}
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON: unexpected data after the request object")
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "request body: must be a JSON object, not %s", jsonKind(v))
	}
	if k, found := firstUnknown(top, func(k string) bool {
		return k == "operation" || k == "tableName" || k == "payload"
	}); found {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "request body: unknown key %s (accepted: operation, tableName, payload)", quoteName(k))
	}

	req := &Request{}
	switch s, ok := top["operation"].(string); {
	case top["operation"] == nil:
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "operation: required, one of %s", opList)
	case !ok:
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "operation: must be a string, not %s", jsonKind(top["operation"]))
	default:
		if req.Op = parseOperation(s); req.Op == 0 {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "operation: unknown operation %s, want one of %s", quoteName(s), opList)
		}
	}
	if t, present := top["tableName"]; present && t != nil {
		s, ok := t.(string)
		if !ok {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "tableName: must be a string, not %s", jsonKind(t))
		}
		if s != tableName {
			return nil, errorf(http.StatusForbidden, CodeForbidden, "tableName: this API serves only table %s", quoteName(tableName))
		}
	}

	payload := top["payload"]
	switch req.Op {
	case OpEcho:
		if payload != nil {
			raw, err := rawPayload(body)
			if err != nil {
				return nil, err
			}
			req.Payload = raw
		}
		return req, nil
	case OpPing:
		if payload == nil {
			return req, nil
		}
	}
	var pm map[string]any
	if payload != nil {
		if pm, ok = payload.(map[string]any); !ok {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload: must be an object for operation %s, not %s", req.Op, jsonKind(payload))
		}
	}
	if err := req.Params.decode(req.Op, pm); err != nil {
		return nil, err
	}
	return req, nil
}

// rawPayload returns the exact bytes of the body's payload value (the body
// is known to be valid JSON whose only keys are the accepted ones).
func rawPayload(body []byte) (json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, malformed(err)
	}
	return top["payload"], nil
}

func (p *Params) decode(op Operation, pm map[string]any) error {
	allowed := accepted[op]
	if k, found := firstUnknown(pm, func(k string) bool { return allowed&fieldByName(k) != 0 }); found {
		return errorf(http.StatusBadRequest, CodeBadRequest, "payload: unknown key %s for operation %s (accepted: %s)", quoteName(k), op, acceptedKeys(op))
	}
	var err error
	for _, e := range fields {
		if allowed&e.f == 0 {
			continue
		}
		v := pm[e.name] // JSON null is treated as absent
		switch e.f {
		case fItem:
			p.Item, err = decodeItem(v)
		case fKey:
			p.Key, err = decodeKey(v)
		case fUpdateExpression:
			p.UpdateExpression, err = decodeExpr(e.name, v)
		case fConditionExpression:
			p.ConditionExpression, err = decodeExpr(e.name, v)
		case fFilterExpression:
			p.FilterExpression, err = decodeExpr(e.name, v)
		case fProjectionExpression:
			p.ProjectionExpression, err = decodeExpr(e.name, v)
		case fNames:
			p.ExpressionAttributeNames, err = decodeNames(v)
		case fValues:
			p.ExpressionAttributeValues, err = decodeValues(v)
		case fConsistentRead:
			if v != nil {
				b, isBool := v.(bool)
				if !isBool {
					return errorf(http.StatusBadRequest, CodeBadRequest, "payload.ConsistentRead: must be a boolean, not %s", jsonKind(v))
				}
				p.ConsistentRead = &b
			}
		case fReturnValues:
			p.ReturnValues, err = decodeReturnValues(op, v)
		case fLimit:
			p.Limit, err = decodeLimit(v)
		case fExclusiveStartKey:
			p.ExclusiveStartKey, err = decodeStartKey(v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeItem(v any) (map[string]types.AttributeValue, error) {
	if v == nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Item: required, an object with a non-empty string %q", wire.KeyAttribute)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Item: must be an object, not %s", jsonKind(v))
	}
	if id, ok := m[wire.KeyAttribute].(string); !ok || id == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Item.%s: required, a non-empty string", wire.KeyAttribute)
	}
	return toAttrMap(m), nil
}

func decodeKey(v any) (map[string]types.AttributeValue, error) {
	if v == nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, `payload.Key: required, {%q: "<non-empty string>"}`, wire.KeyAttribute)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Key: must be an object, not %s", jsonKind(v))
	}
	if k, found := firstUnknown(m, func(k string) bool { return k == wire.KeyAttribute }); found {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Key: unknown attribute %s, the key holds exactly %q", quoteName(k), wire.KeyAttribute)
	}
	id, ok := m[wire.KeyAttribute].(string)
	if !ok || id == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Key.%s: required, a non-empty string", wire.KeyAttribute)
	}
	return map[string]types.AttributeValue{wire.KeyAttribute: &types.AttributeValueMemberS{Value: id}}, nil
}

func decodeExpr(name string, v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.%s: must be a non-empty string", name)
	}
	return &s, nil
}

func decodeNames(v any) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.ExpressionAttributeNames: must be an object, not %s", jsonKind(v))
	}
	out := make(map[string]string, len(m))
	var bad string
	found := false
	for k, e := range m {
		s, ok := e.(string)
		if !ok && (!found || k < bad) {
			bad, found = k, true
		}
		out[k] = s
	}
	if found {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.ExpressionAttributeNames[%s]: must be a string", quoteName(bad))
	}
	if _, ok := out[ReservedIDName]; ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.ExpressionAttributeNames: %s is reserved by the handler", ReservedIDName)
	}
	return out, nil
}

func decodeValues(v any) (map[string]types.AttributeValue, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.ExpressionAttributeValues: must be an object, not %s", jsonKind(v))
	}
	return toAttrMap(m), nil
}

func decodeStartKey(v any) (map[string]types.AttributeValue, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "payload.ExclusiveStartKey: must be a non-empty object (a LastEvaluatedKey)")
	}
	return toAttrMap(m), nil
}

// returnValues is wire.ReturnValuesOf by operation.
var returnValues = func() (rv [OpPing + 1][]types.ReturnValue) {
	for op := OpCreate; op <= OpPing; op++ {
		for _, v := range wire.ReturnValuesOf[op.String()] {
			rv[op] = append(rv[op], types.ReturnValue(v))
		}
	}
	return rv
}()

func decodeReturnValues(op Operation, v any) (types.ReturnValue, error) {
	if v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok {
		for _, rv := range returnValues[op] {
			if string(rv) == s {
				return rv, nil
			}
		}
	}
	want := make([]string, len(returnValues[op]))
	for i, rv := range returnValues[op] {
		want[i] = string(rv)
	}
	return "", errorf(http.StatusBadRequest, CodeBadRequest, "payload.ReturnValues: must be one of %s for operation %s", strings.Join(want, ", "), op)
}

// decodeLimit accepts a positive integer literal; values above
// wire.MaxListLimit (however large) are capped, absence means wire.MaxListLimit.
func decodeLimit(v any) (int32, error) {
	if v == nil {
		return wire.MaxListLimit, nil
	}
	n, ok := v.(json.Number)
	if !ok || !isPositiveInteger(string(n)) {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "payload.Limit: must be a positive integer (at most %d are returned per page)", wire.MaxListLimit)
	}
	if len(n) > 9 {
		return wire.MaxListLimit, nil
	}
	i, _ := strconv.Atoi(string(n))
	return int32(min(i, wire.MaxListLimit)), nil
}

func isPositiveInteger(s string) bool {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tooDeep reports whether the JSON text b nests objects and arrays more
// than max levels deep. It runs before decoding so that the decoder never
// sees absurd nesting; it does not validate (the decoder does).
func tooDeep(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// Skip to the closing quote: one not preceded by an odd
			// number of backslashes.
			for {
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return false
				}
				i += 1 + j
				n := 0
				for k := i - 1; b[k] == '\\'; k-- {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > max {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// firstUnknown returns the smallest key of m for which known is false
// (the smallest, so the error does not depend on map order).
func firstUnknown(m map[string]any, known func(string) bool) (key string, found bool) {
	for k := range m {
		if !known(k) && (!found || k < key) {
			key, found = k, true
		}
	}
	return key, found
}

func malformed(err error) *Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON: unexpected end of input")
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON: %v", err)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// quoteName quotes a caller-supplied name for an error message, cut to a
// readable length.
func quoteName(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
