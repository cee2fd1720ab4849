// Package minidynengine is the journal-era embedded DynamoDB, kept only until
// the local stack is wired to internal/local/engine over the bbolt store: one table of
// minidyn's core with DynamoDB's own expression, number and item semantics
// on top. It implements handler.DynamoDB and knows no HTTP and no disk.
package minidynengine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/ddbops/ddbops/internal/wire"
	"github.com/truora/minidyn/core"
	"github.com/truora/minidyn/interpreter"
	mtypes "github.com/truora/minidyn/types"
)

// DB is the embedded DynamoDB: a table of minidyn's core (the
// engine behind both of minidyn's clients and its DynamoDB-compatible HTTP
// server: key schema, expression interpreter, conditions, validation),
// driven the way minidyn's server-side client drives it, with the SDK's
// input, output, AttributeValue and error types on the outside
// (*types.ConditionalCheckFailedException, *types.ResourceNotFoundException,
// smithy.APIError "ValidationException", as the SDK reports them).
//
// Why not the SDK client over minidyn's HTTP server: most of each call
// would go to JSON and the SDK's middleware stack (docs/benchmarks.md);
// the differential tests in internal/local/engine_test.go run both paths
// (and moto) side by side. Why not minidyn's clients as they are: their
// tables are private, and minidyn re-sorts every key on each insert, so
// loading N items one by one costs O(N² log N); Load inserts them in one
// pass instead.
//
// Where minidyn (v0.8.2) differs from DynamoDB in ways the handler can
// see, this engine answers as DynamoDB does:
//   - PutItem returns Attributes only for ReturnValues ALL_OLD (minidyn
//     returns the new item every time);
//   - Scan reports ScannedCount (minidyn leaves it 0);
//   - every #name and :value an expression uses must be defined, and
//     every one defined must be used (minidyn accepts undefined :values);
//   - UpdateExpression and ProjectionExpression are evaluated here
//     (update.go, projection.go): minidyn computes every number of an
//     updated item in float64 (and rewrites the untouched ones), ignores
//     REMOVE of a top-level attribute, lets an update grow an item past
//     400 KB, and pads projected list elements with NULLs;
//   - numbers are stored and returned in DynamoDB's canonical spelling
//     (number.go: 1e3 is 1000, 1.50 is 1.5, -0 is 0) and refused out of
//     DynamoDB's range and precision.
//
// Conditions and filters remain minidyn's; they compare numbers as
// float64, so two numbers that differ beyond ~15 significant digits
// compare equal there.
type DB struct {
	mu    sync.Mutex // a core.Table is not safe for concurrent use
	name  string
	table *core.Table
}

// New returns an engine without a table: CreateTable makes the one it
// serves.
func New() *DB { return &DB{} }

// CreateTable creates the table: key id (S), on-demand.
func (e *DB) CreateTable(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.table != nil {
		return &ddbtypes.ResourceInUseException{Message: aws.String("Cannot create preexisting table")}
	}
	t := core.NewTable(name)
	t.SetAttributeDefinition([]*mtypes.AttributeDefinition{{AttributeName: aws.String(wire.KeyAttribute), AttributeType: aws.String("S")}})
	t.BillingMode = aws.String(string(ddbtypes.BillingModePayPerRequest))
	t.NativeInterpreter = *interpreter.NewNativeInterpreter()
	t.LangInterpreter = interpreter.Language{}
	if err := t.CreatePrimaryIndex(&mtypes.CreateTableInput{KeySchema: []*mtypes.KeySchemaElement{{AttributeName: wire.KeyAttribute, KeyType: "HASH"}}}); err != nil {
		return mapKnownError(err)
	}
	e.name, e.table = name, t
	return nil
}

// Load inserts items (already validated when they were journaled) in one
// pass, sorting the keys once. Numbers are served in canonical spelling
// even if an older version journaled them as written.
func (e *DB) Load(items []map[string]ddbtypes.AttributeValue) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.table
	keys := make([]string, 0, len(t.SortedKeys)+len(items))
	keys = append(keys, t.SortedKeys...)
	for i, it := range items {
		item := toItemMap(it)
		for _, v := range item {
			_ = canonicalizeValue(v, false) // never fails when not strict
		}
		key, err := t.KeySchema.GetKey(t.AttributesDef, item)
		if err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
		if _, dup := t.Data[key]; !dup {
			keys = append(keys, key)
		}
		t.Data[key] = item
	}
	sort.Strings(keys)
	t.SortedKeys = keys
	return nil
}

func (e *DB) getTable(name *string) (*core.Table, error) {
	if e.table == nil || aws.ToString(name) != e.name {
		return nil, &ddbtypes.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
	}
	return e.table, nil
}

func validationError(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: msg, Fault: smithy.FaultClient}
}

// mapKnownError turns minidyn's errors into the SDK's, as minidyn's
// clients do.
func mapKnownError(err error) error {
	var me mtypes.Error
	if err == nil || !errors.As(err, &me) {
		return err
	}
	switch me.Code() {
	case "ConditionalCheckFailedException":
		ccf := &ddbtypes.ConditionalCheckFailedException{Message: aws.String(me.Message())}
		var cerr *mtypes.ConditionalCheckFailedException
		if errors.As(err, &cerr) && len(cerr.Item) > 0 {
			ccf.Item = fromItemMap(cerr.Item)
		}
		return ccf
	case "ResourceNotFoundException":
		return &ddbtypes.ResourceNotFoundException{Message: aws.String(me.Message())}
	}
	return &smithy.GenericAPIError{Code: me.Code(), Message: me.Message()}
}

// guard runs f, a call into minidyn, and turns a panic into an internal
// error: minidyn's interpreter panics on some expressions DynamoDB
// evaluates, such as a list index past the end of a list in a condition
// or a filter (tags[7] = :v). Every guarded call panics, if at all,
// before it changes the table, so the table stays as it was.
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			msg := "the embedded engine cannot evaluate this expression"
			if re, ok := p.(runtime.Error); ok {
				msg += ": " + re.Error() // Go's own wording, no item data
			}
			err = &smithy.GenericAPIError{Code: "InternalServerError", Message: msg, Fault: smithy.FaultServer}
		}
	}()
	return f()
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// expressionValues converts a request's ExpressionAttributeValues for the
// engine, validated as DynamoDB validates them, with numbers in canonical
// spelling.
func expressionValues(in map[string]ddbtypes.AttributeValue) (map[string]*mtypes.Item, error) {
	if len(in) == 0 {
		return nil, nil
	}
	vals := toItemMap(in)
	for k, v := range vals {
		if err := canonicalizeValue(v, true); err != nil {
			return nil, validationError("ExpressionAttributeValues contains invalid value: " + err.Error() + " for key " + k)
		}
	}
	if err := mtypes.ValidateItemMap(vals); err != nil {
		return nil, validationError(err.Error())
	}
	return vals, nil
}

// tableKey validates a request's Key and returns it with its key string.
func tableKey(t *core.Table, k map[string]ddbtypes.AttributeValue) (map[string]*mtypes.Item, string, error) {
	keyMap := toItemMap(k)
	if err := mtypes.ValidateItemMap(keyMap); err != nil {
		return nil, "", validationError(err.Error())
	}
	if err := t.ValidatePrimaryKeyMap(keyMap); err != nil {
		return nil, "", validationError(err.Error())
	}
	key, err := t.KeySchema.GetKey(t.AttributesDef, keyMap)
	if err != nil {
		return nil, "", validationError(err.Error())
	}
	return keyMap, key, nil
}

func (e *DB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	switch in.ReturnValues {
	case "", ddbtypes.ReturnValueNone, ddbtypes.ReturnValueAllOld:
	default:
		return nil, validationError("Return values set to invalid value")
	}
	if err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues, expr{"ConditionExpression", in.ConditionExpression}); err != nil {
		return nil, err
	}
	vals, err := expressionValues(in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	item := toItemMap(in.Item)
	if err := canonicalizeItem(item); err != nil {
		return nil, validationError(err.Error())
	}
	if itemSize(item) > maxItemBytes {
		return nil, validationError("Item size has exceeded the maximum allowed size")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	var old map[string]ddbtypes.AttributeValue
	key, kerr := t.KeySchema.GetKey(t.AttributesDef, item)
	if kerr == nil && in.ReturnValues == ddbtypes.ReturnValueAllOld {
		old = fromItemMap(t.Data[key])
	}
	// minidyn re-sorts all keys whenever Put adds one (O(n log n) per new
	// item). Placing the key first, with an empty
	// item standing for "absent" (what minidyn evaluates conditions on
	// for a missing key), makes Put see an existing key; undone if Put
	// fails.
	placed := false
	if _, exists := t.Data[key]; kerr == nil && !exists {
		i := sort.SearchStrings(t.SortedKeys, key)
		t.SortedKeys = slices.Insert(t.SortedKeys, i, key)
		t.Data[key] = map[string]*mtypes.Item{}
		placed = true
	}
	err = guard(func() error {
		_, err := t.Put(&mtypes.PutItemInput{
			TableName:                 in.TableName,
			ConditionExpression:       in.ConditionExpression,
			ExpressionAttributeNames:  in.ExpressionAttributeNames,
			ExpressionAttributeValues: vals,
			Item:                      item,
			ReturnValues:              strPtr(string(in.ReturnValues)),
		})
		return err
	})
	if err != nil {
		if placed {
			delete(t.Data, key)
			if i := sort.SearchStrings(t.SortedKeys, key); i < len(t.SortedKeys) && t.SortedKeys[i] == key {
				t.SortedKeys = slices.Delete(t.SortedKeys, i, i+1)
			}
		}
		return nil, mapKnownError(err)
	}
	return &dynamodb.PutItemOutput{Attributes: old}, nil
}

func (e *DB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	var pr *projection
	if in.ProjectionExpression != nil {
		var err error
		if pr, err = parseProjection(*in.ProjectionExpression, in.ExpressionAttributeNames); err != nil {
			return nil, err
		}
	}
	if in.ProjectionExpression != nil || in.ExpressionAttributeNames != nil {
		if err := checkPlaceholders[ddbtypes.AttributeValue](in.ExpressionAttributeNames, nil, expr{"ProjectionExpression", in.ProjectionExpression}); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	_, key, err := tableKey(t, in.Key)
	if err != nil {
		return nil, err
	}
	stored := t.Data[key]
	switch {
	case stored == nil:
		return &dynamodb.GetItemOutput{}, nil
	case pr != nil:
		// An item whose projection is empty is still found: Item {}.
		return &dynamodb.GetItemOutput{Item: fromItemMapFound(pr.apply(stored))}, nil
	}
	return &dynamodb.GetItemOutput{Item: fromItemMap(stored)}, nil
}

// UpdateItem evaluates the update itself (see update.go) and leaves the
// condition to minidyn's interpreter, on the stored item.
func (e *DB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	switch in.ReturnValues {
	case "", ddbtypes.ReturnValueNone, ddbtypes.ReturnValueAllOld, ddbtypes.ReturnValueUpdatedOld, ddbtypes.ReturnValueAllNew, ddbtypes.ReturnValueUpdatedNew:
	default:
		return nil, validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, UPDATED_NEW, ALL_NEW]", in.ReturnValues))
	}
	vals, err := expressionValues(in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	// As in DynamoDB, a syntax error is reported before unused names or
	// values.
	u := &update{writes: true} // no UpdateExpression: the item is only created
	if in.UpdateExpression != nil {
		if u, err = parseUpdate(*in.UpdateExpression, in.ExpressionAttributeNames, vals); err != nil {
			return nil, err
		}
	}
	if err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		expr{"UpdateExpression", in.UpdateExpression}, expr{"ConditionExpression", in.ConditionExpression}); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	keyMap, key, err := tableKey(t, in.Key)
	if err != nil {
		return nil, err
	}
	old := t.Data[key]
	if in.ConditionExpression != nil {
		item := old
		if item == nil {
			item = map[string]*mtypes.Item{} // conditions see a missing item as one without attributes
		}
		var matched bool
		err := guard(func() (err error) {
			matched, err = t.InterpreterMatch(interpreter.MatchInput{
				TableName:      t.Name,
				Expression:     *in.ConditionExpression,
				ExpressionType: interpreter.ExpressionTypeConditional,
				Item:           item,
				Aliases:        in.ExpressionAttributeNames,
				Attributes:     vals,
			})
			if err != nil {
				return validationError(err.Error())
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !matched {
			ccf := &ddbtypes.ConditionalCheckFailedException{Message: aws.String(core.ErrConditionalRequestFailed.Error())}
			if in.ReturnValuesOnConditionCheckFailure == ddbtypes.ReturnValuesOnConditionCheckFailureAllOld {
				ccf.Item = fromItemMap(old)
			}
			return nil, ccf
		}
	}
	updated, write, err := u.apply(old, keyMap)
	if err != nil {
		return nil, err
	}
	if write {
		if itemSize(updated) > maxItemBytes {
			return nil, errItemTooLarge
		}
		if old == nil {
			i := sort.SearchStrings(t.SortedKeys, key)
			t.SortedKeys = slices.Insert(t.SortedKeys, i, key)
		}
		t.Data[key] = updated
	}
	var attrs map[string]*mtypes.Item
	switch in.ReturnValues {
	case ddbtypes.ReturnValueAllOld:
		attrs = old
	case ddbtypes.ReturnValueAllNew:
		attrs = updated
	case ddbtypes.ReturnValueUpdatedOld:
		if old != nil {
			attrs = u.changedPaths().apply(old)
		}
	case ddbtypes.ReturnValueUpdatedNew:
		if updated != nil {
			attrs = u.changedPaths().apply(updated)
		}
	}
	return &dynamodb.UpdateItemOutput{Attributes: fromItemMap(attrs)}, nil
}

func (e *DB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues, expr{"ConditionExpression", in.ConditionExpression}); err != nil {
		return nil, err
	}
	vals, err := expressionValues(in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	var names map[string]*string
	if len(in.ExpressionAttributeNames) > 0 {
		names = make(map[string]*string, len(in.ExpressionAttributeNames))
		for k, v := range in.ExpressionAttributeNames {
			names[k] = aws.String(v)
		}
	}
	var old map[string]*mtypes.Item
	err = guard(func() (err error) {
		old, err = t.Delete(&mtypes.DeleteItemInput{
			TableName:                 in.TableName,
			ConditionExpression:       in.ConditionExpression,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: vals,
			Key:                       toItemMap(in.Key),
		})
		return err
	})
	if err != nil {
		return nil, mapKnownError(err)
	}
	if in.ReturnValues == ddbtypes.ReturnValueAllOld {
		return &dynamodb.DeleteItemOutput{Attributes: fromItemMap(old)}, nil
	}
	return &dynamodb.DeleteItemOutput{}, nil
}

// Scan leaves the filter and the pages to minidyn and projects the items
// itself.
func (e *DB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	var pr *projection
	if in.ProjectionExpression != nil {
		var err error
		if pr, err = parseProjection(*in.ProjectionExpression, in.ExpressionAttributeNames); err != nil {
			return nil, err
		}
	}
	if err := checkPlaceholders(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		expr{"ProjectionExpression", in.ProjectionExpression}, expr{"FilterExpression", in.FilterExpression}); err != nil {
		return nil, err
	}
	vals, err := expressionValues(in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	q := core.QueryInput{
		ExpressionAttributeValues: vals,
		Aliases:                   in.ExpressionAttributeNames,
		ExclusiveStartKey:         toItemMap(in.ExclusiveStartKey),
		FilterExpression:          aws.ToString(in.FilterExpression),
		Limit:                     int64(aws.ToInt32(in.Limit)),
		Scan:                      true,
		ScanIndexForward:          true,
	}
	var items []map[string]*mtypes.Item
	var last map[string]*mtypes.Item
	if err := guard(func() (err error) { items, last, err = t.SearchData(q); return err }); err != nil {
		return nil, mapKnownError(err)
	}
	out := &dynamodb.ScanOutput{
		Items:            make([]map[string]ddbtypes.AttributeValue, len(items)),
		Count:            int32(len(items)),
		ScannedCount:     int32(len(items)),
		LastEvaluatedKey: fromItemMap(last),
	}
	for i, it := range items {
		if pr != nil {
			out.Items[i] = fromItemMapFound(pr.apply(it))
		} else {
			out.Items[i] = fromItemMap(it)
		}
	}
	if q.FilterExpression != "" {
		// ScannedCount counts the items read before the filter: the same
		// page without the filter (minidyn applies Limit before the
		// filter, as DynamoDB does, so both pages cover the same keys).
		var all []map[string]*mtypes.Item
		if err := guard(func() (err error) {
			all, _, err = t.SearchData(core.QueryInput{ExclusiveStartKey: q.ExclusiveStartKey, Limit: q.Limit, Scan: true, ScanIndexForward: true})
			return err
		}); err != nil {
			return nil, mapKnownError(err)
		}
		out.ScannedCount = int32(len(all))
	}
	return out, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// toItem converts an SDK AttributeValue to minidyn's. Values are copied:
// the engine keeps what it is given.
func toItem(av ddbtypes.AttributeValue) *mtypes.Item {
	switch v := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		s := v.Value
		return &mtypes.Item{S: &s}
	case *ddbtypes.AttributeValueMemberN:
		n := v.Value
		return &mtypes.Item{N: &n}
	case *ddbtypes.AttributeValueMemberB:
		b := bytes.Clone(v.Value)
		if b == nil {
			b = []byte{}
		}
		return &mtypes.Item{B: b}
	case *ddbtypes.AttributeValueMemberBOOL:
		b := v.Value
		return &mtypes.Item{BOOL: &b}
	case *ddbtypes.AttributeValueMemberNULL:
		b := v.Value
		return &mtypes.Item{NULL: &b}
	case *ddbtypes.AttributeValueMemberM:
		m := toItemMap(v.Value)
		if m == nil {
			m = map[string]*mtypes.Item{}
		}
		return &mtypes.Item{M: m}
	case *ddbtypes.AttributeValueMemberL:
		l := make([]*mtypes.Item, len(v.Value))
		for i, e := range v.Value {
			l[i] = toItem(e)
		}
		return &mtypes.Item{L: l}
	case *ddbtypes.AttributeValueMemberSS:
		return &mtypes.Item{SS: stringPtrs(v.Value)}
	case *ddbtypes.AttributeValueMemberNS:
		return &mtypes.Item{NS: stringPtrs(v.Value)}
	case *ddbtypes.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = bytes.Clone(b)
		}
		return &mtypes.Item{BS: bs}
	}
	return &mtypes.Item{} // nil or unknown: minidyn rejects it as DynamoDB would
}

func stringPtrs(ss []string) []*string {
	out := make([]*string, len(ss))
	vals := make([]string, len(ss))
	copy(vals, ss)
	for i := range vals {
		out[i] = &vals[i]
	}
	return out
}

func toItemMap(m map[string]ddbtypes.AttributeValue) map[string]*mtypes.Item {
	if m == nil {
		return nil
	}
	out := make(map[string]*mtypes.Item, len(m))
	for k, v := range m {
		out[k] = toItem(v)
	}
	return out
}

// fromItem converts back, copying.
func fromItem(w *mtypes.Item) ddbtypes.AttributeValue {
	switch {
	case w == nil:
		return &ddbtypes.AttributeValueMemberNULL{Value: true}
	case w.S != nil:
		return &ddbtypes.AttributeValueMemberS{Value: *w.S}
	case w.N != nil:
		return &ddbtypes.AttributeValueMemberN{Value: *w.N}
	case w.B != nil:
		return &ddbtypes.AttributeValueMemberB{Value: bytes.Clone(w.B)}
	case w.BOOL != nil:
		return &ddbtypes.AttributeValueMemberBOOL{Value: *w.BOOL}
	case w.NULL != nil:
		return &ddbtypes.AttributeValueMemberNULL{Value: *w.NULL}
	case w.M != nil:
		m := fromItemMap(w.M)
		if m == nil {
			m = map[string]ddbtypes.AttributeValue{}
		}
		return &ddbtypes.AttributeValueMemberM{Value: m}
	case w.L != nil:
		l := make([]ddbtypes.AttributeValue, len(w.L))
		for i, e := range w.L {
			l[i] = fromItem(e)
		}
		return &ddbtypes.AttributeValueMemberL{Value: l}
	case w.SS != nil:
		return &ddbtypes.AttributeValueMemberSS{Value: derefs(w.SS)}
	case w.NS != nil:
		return &ddbtypes.AttributeValueMemberNS{Value: derefs(w.NS)}
	case w.BS != nil:
		bs := make([][]byte, len(w.BS))
		for i, b := range w.BS {
			bs[i] = bytes.Clone(b)
		}
		return &ddbtypes.AttributeValueMemberBS{Value: bs}
	}
	return &ddbtypes.AttributeValueMemberNULL{Value: true}
}

func derefs(ps []*string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// fromItemMapFound converts a found item's projection, which may be
// empty: DynamoDB answers Item {} for an item that exists but holds none
// of the projected paths.
func fromItemMapFound(m map[string]*mtypes.Item) map[string]ddbtypes.AttributeValue {
	if len(m) == 0 {
		return map[string]ddbtypes.AttributeValue{}
	}
	return fromItemMap(m)
}

// fromItemMap converts a whole item; an empty map means "no item" (an
// item always has its key), as the SDK reports it.
func fromItemMap(m map[string]*mtypes.Item) map[string]ddbtypes.AttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, v := range m {
		out[k] = fromItem(v)
	}
	return out
}
