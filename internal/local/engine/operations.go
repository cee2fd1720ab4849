package engine

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/itemsize"
)

// The five operations, with DynamoDB's validation order: parameters,
// placeholders and expressions (syntax, then unused placeholders), then
// key and item, then the stored item (docs/engine.md#operations).

// unsupported refuses a parameter the engine does not implement rather
// than ignoring it: the handler never sends one.
func unsupported(name string) error {
	return validationf("The embedded engine does not support the %s parameter", name)
}

func checkCommon(rcc types.ReturnConsumedCapacity, ricm types.ReturnItemCollectionMetrics) error {
	if rcc != "" && rcc != types.ReturnConsumedCapacityNone {
		return unsupported("ReturnConsumedCapacity")
	}
	if ricm != "" && ricm != types.ReturnItemCollectionMetricsNone {
		return unsupported("ReturnItemCollectionMetrics")
	}
	return nil
}

func checkReturnValues(rv types.ReturnValue, allowed ...types.ReturnValue) error {
	if rv == "" {
		return nil
	}
	for _, a := range allowed {
		if rv == a {
			return nil
		}
	}
	if len(allowed) == 2 {
		return validation("Return values set to invalid value")
	}
	return validationf("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", clipText(string(rv)))
}

func checkOnFailure(rv types.ReturnValuesOnConditionCheckFailure) (allOld bool, err error) {
	switch rv {
	case "", types.ReturnValuesOnConditionCheckFailureNone:
		return false, nil
	case types.ReturnValuesOnConditionCheckFailureAllOld:
		return true, nil
	}
	return false, validationf("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", clipText(string(rv)))
}

// parseLastCondition parses s when present and then refuses unused
// placeholders: every caller parses its condition or filter after its
// other expressions, so this is where all of them have been seen.
func parseLastCondition(label string, s *string, ph *placeholders) (*cond, error) {
	var c *cond
	if s != nil {
		var err error
		if c, err = parseCondition(label, *s, ph); err != nil {
			return nil, err
		}
	}
	if err := ph.checkUnused(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeStored decodes a stored value (nil for none).
func decodeStored(b []byte) (map[string]types.AttributeValue, error) {
	if b == nil {
		return nil, nil
	}
	return DecodeItem(b)
}

// failed is the error of a condition that is false for item.
func failed(item map[string]types.AttributeValue, allOld bool) error {
	if allOld {
		return conditionFailed(item)
	}
	return conditionFailed(nil)
}

// writeRequest holds the parameters PutItem, UpdateItem and DeleteItem
// share, so that one function checks them in DynamoDB's order.
type writeRequest struct {
	table               *string
	attributeUpdates    bool // UpdateItem's legacy AttributeUpdates is set
	expected            bool // the legacy Expected is set
	conditionalOperator types.ConditionalOperator
	consumedCapacity    types.ReturnConsumedCapacity
	collectionMetrics   types.ReturnItemCollectionMetrics
	returnValues        types.ReturnValue
	onFailure           types.ReturnValuesOnConditionCheckFailure
	names               map[string]string
	values              map[string]types.AttributeValue
	condition           *string
}

// checkWrite checks r's parameters up to its placeholders. otherExpr says
// whether an expression besides the condition is present; allowed lists
// the ReturnValues the operation accepts. allOld is whether a failed
// condition returns the stored item.
func (e *Engine) checkWrite(r *writeRequest, otherExpr bool, allowed ...types.ReturnValue) (ph *placeholders, allOld bool, err error) {
	if err := e.checkTable(r.table); err != nil {
		return nil, false, err
	}
	switch {
	case r.attributeUpdates:
		return nil, false, unsupported("AttributeUpdates")
	case r.expected:
		return nil, false, unsupported("Expected")
	case r.conditionalOperator != "":
		return nil, false, unsupported("ConditionalOperator")
	}
	if err := checkCommon(r.consumedCapacity, r.collectionMetrics); err != nil {
		return nil, false, err
	}
	if err := checkReturnValues(r.returnValues, allowed...); err != nil {
		return nil, false, err
	}
	if allOld, err = checkOnFailure(r.onFailure); err != nil {
		return nil, false, err
	}
	if ph, err = newPlaceholders(r.names, r.values, otherExpr || r.condition != nil); err != nil {
		return nil, false, err
	}
	return ph, allOld, nil
}

// replaceIf is the write of PutItem and DeleteItem: it replaces the item
// stored under id with enc (nil deletes it) when c (if any) holds for the
// stored item, and returns the stored item when returnOld.
func (e *Engine) replaceIf(ctx context.Context, id string, enc []byte, c *cond, allOld, returnOld bool) (map[string]types.AttributeValue, error) {
	var old map[string]types.AttributeValue
	err := e.st.Update(ctx, []byte(id), func(b []byte) ([]byte, error) {
		old = nil
		if c == nil && !returnOld {
			return enc, nil
		}
		var err error
		if old, err = decodeStored(b); err != nil {
			return nil, err
		}
		if c != nil && !c.eval(old) {
			return nil, failed(old, allOld)
		}
		return enc, nil
	})
	if err != nil || !returnOld {
		return nil, err
	}
	return old, nil
}

// PutItem stores an item, replacing any item with its key, when the
// condition (if any) holds for the item it replaces.
func (e *Engine) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	ph, allOld, err := e.checkWrite(&writeRequest{
		table:               in.TableName,
		expected:            in.Expected != nil,
		conditionalOperator: in.ConditionalOperator,
		consumedCapacity:    in.ReturnConsumedCapacity,
		collectionMetrics:   in.ReturnItemCollectionMetrics,
		returnValues:        in.ReturnValues,
		onFailure:           in.ReturnValuesOnConditionCheckFailure,
		names:               in.ExpressionAttributeNames,
		values:              in.ExpressionAttributeValues,
		condition:           in.ConditionExpression,
	}, false, types.ReturnValueNone, types.ReturnValueAllOld)
	if err != nil {
		return nil, err
	}
	c, err := parseLastCondition(labelCondition, in.ConditionExpression, ph)
	if err != nil {
		return nil, err
	}
	item, err := canonicalItem(in.Item)
	if err != nil {
		return nil, err
	}
	id, err := itemKey(item)
	if err != nil {
		return nil, err
	}
	if itemsize.Of(item) > maxItemBytes {
		return nil, validation("Item size has exceeded the maximum allowed size")
	}
	enc, err := EncodeItem(item)
	if err != nil {
		return nil, err
	}
	old, err := e.replaceIf(ctx, id, enc, c, allOld, in.ReturnValues == types.ReturnValueAllOld)
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemOutput{Attributes: old}, nil
}

// GetItem reads an item, projected when asked. Every read is strongly
// consistent, so ConsistentRead changes nothing.
func (e *Engine) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := e.checkTable(in.TableName); err != nil {
		return nil, err
	}
	if in.AttributesToGet != nil {
		return nil, unsupported("AttributesToGet")
	}
	if err := checkCommon(in.ReturnConsumedCapacity, ""); err != nil {
		return nil, err
	}
	ph, err := newPlaceholders(in.ExpressionAttributeNames, nil, in.ProjectionExpression != nil)
	if err != nil {
		return nil, err
	}
	var pr *projection
	if in.ProjectionExpression != nil {
		if pr, err = parseProjection(*in.ProjectionExpression, ph); err != nil {
			return nil, err
		}
		if err := ph.checkUnused(); err != nil {
			return nil, err
		}
	}
	id, err := requestKey(in.Key)
	if err != nil {
		return nil, err
	}
	b, err := e.st.Get(ctx, []byte(id))
	if err != nil || b == nil {
		return &dynamodb.GetItemOutput{}, err
	}
	item, err := DecodeItem(b)
	if err != nil {
		return nil, err
	}
	if pr != nil {
		// An item the projection reaches nothing of is still found: {}.
		item = pr.apply(item)
	}
	return &dynamodb.GetItemOutput{Item: item}, nil
}

// UpdateItem applies an UpdateExpression to an item (creating it when
// the expression sets something), when the condition (if any) holds.
func (e *Engine) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	ph, allOld, err := e.checkWrite(&writeRequest{
		table:               in.TableName,
		attributeUpdates:    in.AttributeUpdates != nil,
		expected:            in.Expected != nil,
		conditionalOperator: in.ConditionalOperator,
		consumedCapacity:    in.ReturnConsumedCapacity,
		collectionMetrics:   in.ReturnItemCollectionMetrics,
		returnValues:        in.ReturnValues,
		onFailure:           in.ReturnValuesOnConditionCheckFailure,
		names:               in.ExpressionAttributeNames,
		values:              in.ExpressionAttributeValues,
		condition:           in.ConditionExpression,
	}, in.UpdateExpression != nil, types.ReturnValueNone, types.ReturnValueAllOld,
		types.ReturnValueUpdatedOld, types.ReturnValueAllNew, types.ReturnValueUpdatedNew)
	if err != nil {
		return nil, err
	}
	u := &update{creates: true} // no UpdateExpression: the item is only created
	if in.UpdateExpression != nil {
		if u, err = parseUpdate(*in.UpdateExpression, ph, KeyAttribute); err != nil {
			return nil, err
		}
	}
	c, err := parseLastCondition(labelCondition, in.ConditionExpression, ph)
	if err != nil {
		return nil, err
	}
	id, err := requestKey(in.Key)
	if err != nil {
		return nil, err
	}
	key := keyItem(id)
	var attrs map[string]types.AttributeValue
	err = e.st.Update(ctx, []byte(id), func(b []byte) ([]byte, error) {
		attrs = nil
		old, err := decodeStored(b)
		if err != nil {
			return nil, err
		}
		if c != nil && !c.eval(old) {
			return nil, failed(old, allOld)
		}
		updated, err := u.apply(old, key)
		if err != nil || updated == nil {
			return nil, err // nil, nil: nothing to write for a missing item
		}
		if itemsize.Of(updated) > maxItemBytes {
			return nil, errItemTooLarge
		}
		enc, err := EncodeItem(updated)
		if err != nil {
			return nil, err
		}
		attrs = returned(in.ReturnValues, u, old, updated)
		return enc, nil
	})
	if err != nil {
		return nil, err
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	return &dynamodb.UpdateItemOutput{Attributes: attrs}, nil
}

// returned is what UpdateItem answers for ReturnValues.
func returned(rv types.ReturnValue, u *update, old, updated map[string]types.AttributeValue) map[string]types.AttributeValue {
	switch rv {
	case types.ReturnValueAllOld:
		return old
	case types.ReturnValueAllNew:
		return updated
	case types.ReturnValueUpdatedOld:
		if old != nil {
			return u.updatedPaths().apply(old)
		}
	case types.ReturnValueUpdatedNew:
		return u.updatedPaths().apply(updated)
	}
	return nil
}

// DeleteItem deletes an item when the condition (if any) holds. Deleting
// an item that does not exist is no error.
func (e *Engine) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	ph, allOld, err := e.checkWrite(&writeRequest{
		table:               in.TableName,
		expected:            in.Expected != nil,
		conditionalOperator: in.ConditionalOperator,
		consumedCapacity:    in.ReturnConsumedCapacity,
		collectionMetrics:   in.ReturnItemCollectionMetrics,
		returnValues:        in.ReturnValues,
		onFailure:           in.ReturnValuesOnConditionCheckFailure,
		names:               in.ExpressionAttributeNames,
		values:              in.ExpressionAttributeValues,
		condition:           in.ConditionExpression,
	}, false, types.ReturnValueNone, types.ReturnValueAllOld)
	if err != nil {
		return nil, err
	}
	c, err := parseLastCondition(labelCondition, in.ConditionExpression, ph)
	if err != nil {
		return nil, err
	}
	id, err := requestKey(in.Key)
	if err != nil {
		return nil, err
	}
	old, err := e.replaceIf(ctx, id, nil, c, allOld, in.ReturnValues == types.ReturnValueAllOld)
	if err != nil {
		return nil, err
	}
	return &dynamodb.DeleteItemOutput{Attributes: old}, nil
}

// maxPageBytes is the most data one Scan reads (1 MB).
const maxPageBytes = 1 << 20

// Scan reads one page of items in ascending key byte order, after
// ExclusiveStartKey (which need not exist any more): up to Limit items
// are read (ScannedCount), then filtered (Count). LastEvaluatedKey is the
// last key read when the page stopped at Limit or at 1 MB.
func (e *Engine) Scan(ctx context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if err := e.checkTable(in.TableName); err != nil {
		return nil, err
	}
	switch {
	case in.AttributesToGet != nil:
		return nil, unsupported("AttributesToGet")
	case in.ScanFilter != nil:
		return nil, unsupported("ScanFilter")
	case in.ConditionalOperator != "":
		return nil, unsupported("ConditionalOperator")
	case in.IndexName != nil:
		return nil, unsupported("IndexName")
	case in.Segment != nil || in.TotalSegments != nil:
		return nil, unsupported("Segment")
	case in.Select != "" && in.Select != types.SelectAllAttributes:
		return nil, unsupported("Select")
	}
	if err := checkCommon(in.ReturnConsumedCapacity, ""); err != nil {
		return nil, err
	}
	limit := -1
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, validationf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	ph, err := newPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		in.FilterExpression != nil || in.ProjectionExpression != nil)
	if err != nil {
		return nil, err
	}
	var pr *projection
	if in.ProjectionExpression != nil {
		if pr, err = parseProjection(*in.ProjectionExpression, ph); err != nil {
			return nil, err
		}
	}
	filter, err := parseLastCondition(labelFilter, in.FilterExpression, ph)
	if err != nil {
		return nil, err
	}
	var after []byte
	if in.ExclusiveStartKey != nil {
		id, err := startKey(in.ExclusiveStartKey)
		if err != nil {
			return nil, err
		}
		after = []byte(id)
	}
	out := &dynamodb.ScanOutput{Items: []map[string]types.AttributeValue{}}
	scanned, bytes := 0, 0
	var last string
	stopped := false
	err = e.st.Scan(ctx, after, func(key, value []byte) (bool, error) {
		item, err := DecodeItem(value)
		if err != nil {
			return false, fmt.Errorf("scan: %w", err)
		}
		scanned++
		bytes += itemsize.Of(item)
		if filter == nil || filter.eval(item) {
			if pr != nil {
				item = pr.apply(item)
			}
			out.Items = append(out.Items, item)
		}
		if scanned == limit || bytes >= maxPageBytes {
			last, stopped = string(key), true
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out.Count, out.ScannedCount = int32(len(out.Items)), int32(scanned)
	if stopped {
		out.LastEvaluatedKey = keyItem(last)
	}
	return out, nil
}
