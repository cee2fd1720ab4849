package handler

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/itemsize"
	"github.com/ddbops/ddbops/internal/wire"
)

// ReservedIDName is the expression attribute name the handler adds to
// update and delete conditions (attribute_exists(#ddbops_id)) so that they
// never create an item and a missing id is a 404. Callers may not use it.
const ReservedIDName = "#ddbops_id"

// existsCondition is the condition update and delete always carry.
const existsCondition = "attribute_exists(" + ReservedIDName + ")"

func (h *Handler) run(ctx context.Context, req *Request, id string) ([]byte, error) {
	p := &req.Params
	switch req.Op {
	case OpEcho:
		if req.Payload == nil {
			return []byte("null"), nil
		}
		return req.Payload, nil
	case OpPing:
		return []byte(`"pong"`), nil
	case OpCreate:
		return h.create(ctx, p, id)
	case OpRead:
		return h.read(ctx, p, id)
	case OpUpdate:
		return h.update(ctx, p, id)
	case OpDelete:
		return h.delete(ctx, p, id)
	case OpList:
		return h.list(ctx, p, id)
	}
	return nil, errors.New("handler: operation without an implementation")
}

func (h *Handler) create(ctx context.Context, p *Params, id string) ([]byte, error) {
	if n := itemsize.Of(p.Item); n > wire.MaxItemBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"create: item is %d bytes, larger than DynamoDB's %d KB limit", n, wire.MaxItemBytes/1024)
	}
	_, err := h.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &h.cfg.TableName,
		Item:                      p.Item,
		ConditionExpression:       p.ConditionExpression,
		ExpressionAttributeNames:  p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	if err != nil {
		return nil, err
	}
	// create asks for no return values (ReturnValues NONE), so DynamoDB
	// sends no Attributes; minidyn sends the new item regardless, which
	// must not leak into the local stack's responses.
	return attributesBody(nil, id), nil
}

func (h *Handler) read(ctx context.Context, p *Params, id string) ([]byte, error) {
	out, err := h.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &h.cfg.TableName,
		Key:                      p.Key,
		ProjectionExpression:     p.ProjectionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames,
		ConsistentRead:           p.ConsistentRead,
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, errNotFound
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"Item":`...)
	b = appendAttrMap(b, out.Item)
	b = append(b, ',')
	b = appendMetadata(b, id)
	return append(b, '}'), nil
}

func (h *Handler) update(ctx context.Context, p *Params, id string) ([]byte, error) {
	names, cond := withExists(p.ExpressionAttributeNames, p.ConditionExpression)
	out, err := h.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &h.cfg.TableName,
		Key:                                 p.Key,
		UpdateExpression:                    p.UpdateExpression,
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           p.ExpressionAttributeValues,
		ReturnValues:                        p.ReturnValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return nil, h.conditionOutcome(ctx, p.Key, err)
	}
	return attributesBody(out.Attributes, id), nil
}

func (h *Handler) delete(ctx context.Context, p *Params, id string) ([]byte, error) {
	names, cond := withExists(p.ExpressionAttributeNames, p.ConditionExpression)
	out, err := h.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           &h.cfg.TableName,
		Key:                                 p.Key,
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           p.ExpressionAttributeValues,
		ReturnValues:                        p.ReturnValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return nil, h.conditionOutcome(ctx, p.Key, err)
	}
	return attributesBody(out.Attributes, id), nil
}

func (h *Handler) list(ctx context.Context, p *Params, id string) ([]byte, error) {
	limit := p.Limit
	out, err := h.db.Scan(ctx, &dynamodb.ScanInput{
		TableName:                 &h.cfg.TableName,
		Limit:                     &limit,
		ExclusiveStartKey:         p.ExclusiveStartKey,
		FilterExpression:          p.FilterExpression,
		ProjectionExpression:      p.ProjectionExpression,
		ExpressionAttributeNames:  p.ExpressionAttributeNames,
		ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256+64*len(out.Items))
	b = append(b, `{"Items":[`...)
	for i, it := range out.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendAttrMap(b, it)
	}
	b = append(b, `],"Count":`...)
	b = strconv.AppendInt(b, int64(out.Count), 10)
	b = append(b, `,"ScannedCount":`...)
	b = strconv.AppendInt(b, int64(out.ScannedCount), 10)
	if len(out.LastEvaluatedKey) > 0 {
		b = append(b, `,"LastEvaluatedKey":`...)
		b = appendAttrMap(b, out.LastEvaluatedKey)
	}
	b = append(b, ',')
	b = appendMetadata(b, id)
	return append(b, '}'), nil
}

// withExists adds attribute_exists(#ddbops_id) to the caller's condition.
// The caller's condition is parenthesised so that its own AND/OR cannot
// bind to ours. names belongs to this request, so it is extended in place.
func withExists(names map[string]string, cond *string) (map[string]string, string) {
	if names == nil {
		names = make(map[string]string, 1)
	}
	names[ReservedIDName] = wire.KeyAttribute
	if cond == nil {
		return names, existsCondition
	}
	c := strings.TrimSpace(*cond)
	if !enclosed(c) {
		c = "(" + c + ")"
	}
	// DynamoDB refuses redundant parentheses: a condition the caller
	// already enclosed in one pair is not wrapped in another.
	return names, existsCondition + " AND " + c
}

// enclosed reports whether s is one parenthesized expression: its first
// '(' is closed by its last byte. Expressions hold no string literals
// (values are placeholders), so counting parentheses is exact.
func enclosed(s string) bool {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i == len(s)-1
			}
		}
	}
	return false
}

// conditionOutcome turns a failed update/delete condition into errNotFound
// (no item with this key) or errConditionFailed (the caller's condition was
// false). ReturnValuesOnConditionCheckFailure=ALL_OLD makes DynamoDB send
// the item when it exists; a backend that ignores it gets one consistent
// read of the key instead.
func (h *Handler) conditionOutcome(ctx context.Context, key map[string]types.AttributeValue, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return err
	}
	if len(ccf.Item) > 0 {
		return errConditionFailed
	}
	consistent := true
	proj := ReservedIDName
	out, gerr := h.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &h.cfg.TableName,
		Key:                      key,
		ConsistentRead:           &consistent,
		ProjectionExpression:     &proj,
		ExpressionAttributeNames: map[string]string{ReservedIDName: wire.KeyAttribute},
	})
	if gerr != nil {
		return gerr
	}
	if out.Item == nil {
		return errNotFound
	}
	return errConditionFailed
}

// attributesBody is the success body of create, update and delete:
// {"Attributes":{...},"ResponseMetadata":{...}}, Attributes only when
// DynamoDB returned some.
func attributesBody(attrs map[string]types.AttributeValue, id string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	if len(attrs) > 0 {
		b = append(b, `"Attributes":`...)
		b = appendAttrMap(b, attrs)
		b = append(b, ',')
	}
	b = appendMetadata(b, id)
	return append(b, '}')
}

func appendMetadata(b []byte, id string) []byte {
	b = append(b, `"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":`...)
	b = appendString(b, id)
	return append(b, '}')
}
