package local

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	mserver "github.com/truora/minidyn/server"
)

// minidynEngine is the embedded DynamoDB: minidyn's server-side client
// (the engine behind its DynamoDB-compatible HTTP server) called
// in-process, with the SDK's input, output, AttributeValue and error types
// on the outside.
//
// Why not the SDK client over minidyn's HTTP handler: that path spent
// ~85 µs and ~290 allocations per GetItem on encoding JSON and running
// the SDK's middleware stack, ~95% of the call. This adapter runs the very
// same engine code (same expression interpreter, same validation, the
// same SDK error types: *types.ConditionalCheckFailedException,
// *types.ResourceNotFoundException, smithy.APIError "ValidationException")
// and only replaces the JSON round trip with a struct conversion. The
// differential test in minidyn_test.go runs both paths side by side.
//
// Where minidyn differs from DynamoDB in ways the handler can see, this
// adapter answers as DynamoDB does:
//   - PutItem returns Attributes only for ReturnValues ALL_OLD (minidyn
//     returns the new item every time);
//   - Scan reports ScannedCount (minidyn leaves it 0);
//   - UpdateItem's REMOVE of a top-level attribute takes effect (minidyn
//     evaluates it but keeps the attribute).
//
// minidyn's other in-process client (aws-v2/client) was not used: it
// checks a DeleteItem condition against the whole table first (a sorted
// scan per conditional delete, and the handler's deletes are all
// conditional) and returns an empty map for a missing item.
type minidynEngine struct {
	c *mserver.Client
}

func newEmbeddedEngine() *minidynEngine { return &minidynEngine{c: mserver.NewClient()} }

// createTable creates table with key id (S), on-demand.
func (e *minidynEngine) createTable(ctx context.Context, table string) error {
	_, err := e.c.CreateTable(ctx, &mserver.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(keyAttr), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(keyAttr), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	return err
}

func validationError(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: msg, Fault: smithy.FaultClient}
}

func (e *minidynEngine) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	var old map[string]types.AttributeValue
	switch in.ReturnValues {
	case "", types.ReturnValueNone:
	case types.ReturnValueAllOld:
		// Not atomic with the put on its own; journaledDB serializes
		// writes, which makes it so.
		out, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: keyOnly(in.Item)})
		if err != nil {
			return nil, err
		}
		old = out.Item
	default:
		return nil, validationError("Return values set to invalid value")
	}
	_, err := e.c.PutItem(ctx, &mserver.PutItemInput{
		TableName:                           in.TableName,
		Item:                                toWireMap(in.Item),
		ConditionExpression:                 in.ConditionExpression,
		ExpressionAttributeNames:            in.ExpressionAttributeNames,
		ExpressionAttributeValues:           toWireMap(in.ExpressionAttributeValues),
		ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure,
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemOutput{Attributes: old}, nil
}

func keyOnly(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if v, ok := item[keyAttr]; ok {
		return map[string]types.AttributeValue{keyAttr: v}
	}
	return nil
}

func (e *minidynEngine) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := e.c.GetItem(ctx, &mserver.GetItemInput{
		TableName:                in.TableName,
		Key:                      toWireMap(in.Key),
		ConsistentRead:           in.ConsistentRead,
		ExpressionAttributeNames: in.ExpressionAttributeNames,
		ProjectionExpression:     in.ProjectionExpression,
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{Item: fromWireMap(out.Item)}, nil
}

func (e *minidynEngine) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	// minidyn (v0.8.2) evaluates REMOVE of a top-level attribute but never
	// deletes it from the stored item; nested paths are fine. The
	// attributes are removed here after its update, which is atomic
	// because journaledDB serializes writes.
	removed := topLevelRemovals(aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames)
	for _, name := range removed {
		if name == keyAttr {
			return nil, validationError("Cannot update attribute " + keyAttr + ". This attribute is part of the key")
		}
	}
	var before map[string]types.AttributeValue
	if len(removed) > 0 && in.ReturnValues == types.ReturnValueUpdatedOld {
		out, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: in.Key})
		if err != nil {
			return nil, err
		}
		before = out.Item
	}
	out, err := e.c.UpdateItem(ctx, &mserver.UpdateItemInput{
		TableName:                           in.TableName,
		Key:                                 toWireMap(in.Key),
		UpdateExpression:                    in.UpdateExpression,
		ConditionExpression:                 in.ConditionExpression,
		ExpressionAttributeNames:            in.ExpressionAttributeNames,
		ExpressionAttributeValues:           toWireMap(in.ExpressionAttributeValues),
		ReturnValues:                        in.ReturnValues,
		ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure,
	})
	if err != nil {
		return nil, err
	}
	attrs := fromWireMap(out.Attributes)
	if len(removed) > 0 {
		cur, err := e.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: in.Key})
		if err != nil {
			return nil, err
		}
		changed := false
		for _, name := range removed {
			if _, ok := cur.Item[name]; ok {
				delete(cur.Item, name)
				changed = true
			}
		}
		if changed {
			if _, err := e.c.PutItem(ctx, &mserver.PutItemInput{TableName: in.TableName, Item: toWireMap(cur.Item)}); err != nil {
				return nil, err
			}
		}
		switch in.ReturnValues {
		case types.ReturnValueAllNew, types.ReturnValueUpdatedNew:
			for _, name := range removed {
				delete(attrs, name)
			}
		case types.ReturnValueUpdatedOld:
			for _, name := range removed {
				if v, ok := before[name]; ok {
					if attrs == nil {
						attrs = map[string]types.AttributeValue{}
					}
					attrs[name] = v
				}
			}
		}
		if len(attrs) == 0 {
			attrs = nil
		}
	}
	return &dynamodb.UpdateItemOutput{Attributes: attrs}, nil
}

// topLevelRemovals returns the top-level attribute names (placeholders
// resolved) that the REMOVE clause of an update expression names.
// Nested paths (a.b, a[0]) are left out: minidyn handles those.
func topLevelRemovals(expr string, names map[string]string) []string {
	clause := removeClause(expr)
	if clause == "" {
		return nil
	}
	var out []string
	for _, p := range splitTop(clause, ',') {
		p = strings.TrimSpace(p)
		if p == "" || strings.ContainsAny(p, ".[] ") {
			continue
		}
		if p[0] == '#' {
			n, ok := names[p]
			if !ok {
				continue // minidyn reports the missing placeholder
			}
			p = n
		}
		out = append(out, p)
	}
	return out
}

// removeClause returns the text of the REMOVE clause of expr ("" if
// none). Clauses start with SET, REMOVE, ADD or DELETE (any case) as
// whole words outside parentheses.
func removeClause(expr string) string {
	type kw struct{ pos, end int }
	var kws []kw
	var names []string
	depth := 0
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && isWordStart(c) && (i == 0 || isSpace(expr[i-1])):
			j := i
			for j < len(expr) && !isSpace(expr[j]) && expr[j] != '(' && expr[j] != ',' {
				j++
			}
			word := strings.ToUpper(expr[i:j])
			switch word {
			case "SET", "REMOVE", "ADD", "DELETE":
				if j == len(expr) || isSpace(expr[j]) {
					kws = append(kws, kw{i, j})
					names = append(names, word)
				}
			}
			i = j - 1
		}
	}
	for k, w := range names {
		if w != "REMOVE" {
			continue
		}
		end := len(expr)
		if k+1 < len(kws) {
			end = kws[k+1].pos
		}
		return expr[kws[k].end:end]
	}
	return ""
}

func isSpace(c byte) bool     { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isWordStart(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// splitTop splits s at sep outside parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func (e *minidynEngine) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := e.c.DeleteItem(ctx, &mserver.DeleteItemInput{
		TableName:                           in.TableName,
		Key:                                 toWireMap(in.Key),
		ConditionExpression:                 in.ConditionExpression,
		ExpressionAttributeNames:            in.ExpressionAttributeNames,
		ExpressionAttributeValues:           toWireMap(in.ExpressionAttributeValues),
		ReturnValues:                        in.ReturnValues,
		ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure,
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.DeleteItemOutput{Attributes: fromWireMap(out.Attributes)}, nil
}

func (e *minidynEngine) Scan(ctx context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	sin := &mserver.ScanInput{
		TableName:                 in.TableName,
		ExclusiveStartKey:         toWireMap(in.ExclusiveStartKey),
		ExpressionAttributeNames:  in.ExpressionAttributeNames,
		ExpressionAttributeValues: toWireMap(in.ExpressionAttributeValues),
		FilterExpression:          in.FilterExpression,
		Limit:                     in.Limit,
		ProjectionExpression:      in.ProjectionExpression,
		ConsistentRead:            in.ConsistentRead,
	}
	out, err := e.c.Scan(ctx, sin)
	if err != nil {
		return nil, err
	}
	res := &dynamodb.ScanOutput{
		Items:            make([]map[string]types.AttributeValue, len(out.Items)),
		Count:            out.Count,
		ScannedCount:     out.Count,
		LastEvaluatedKey: fromWireMap(out.LastEvaluatedKey),
	}
	for i, it := range out.Items {
		res.Items[i] = fromWireMap(it)
	}
	if in.FilterExpression != nil && *in.FilterExpression != "" {
		// ScannedCount counts the items read before the filter: the same
		// page without the filter (minidyn applies Limit before the
		// filter, as DynamoDB does, so the pages cover the same keys).
		all, err := e.c.Scan(ctx, &mserver.ScanInput{
			TableName:         in.TableName,
			ExclusiveStartKey: sin.ExclusiveStartKey,
			Limit:             in.Limit,
			ConsistentRead:    in.ConsistentRead,
		})
		if err != nil {
			return nil, fmt.Errorf("count scanned items: %w", err)
		}
		res.ScannedCount = all.Count
	}
	return res, nil
}

// toWire converts an SDK AttributeValue to minidyn's wire struct. Values
// are copied: the engine keeps what it is given.
func toWire(av types.AttributeValue) *mserver.AttributeValue {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		s := v.Value
		return &mserver.AttributeValue{S: &s}
	case *types.AttributeValueMemberN:
		n := v.Value
		return &mserver.AttributeValue{N: &n}
	case *types.AttributeValueMemberB:
		b := bytes.Clone(v.Value)
		if b == nil {
			b = []byte{}
		}
		return &mserver.AttributeValue{B: b}
	case *types.AttributeValueMemberBOOL:
		b := v.Value
		return &mserver.AttributeValue{BOOL: &b}
	case *types.AttributeValueMemberNULL:
		b := v.Value
		return &mserver.AttributeValue{NULL: &b}
	case *types.AttributeValueMemberM:
		m := toWireMap(v.Value)
		if m == nil {
			m = map[string]*mserver.AttributeValue{}
		}
		return &mserver.AttributeValue{M: m}
	case *types.AttributeValueMemberL:
		l := make([]*mserver.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = toWire(e)
		}
		return &mserver.AttributeValue{L: l}
	case *types.AttributeValueMemberSS:
		return &mserver.AttributeValue{SS: stringPtrs(v.Value)}
	case *types.AttributeValueMemberNS:
		return &mserver.AttributeValue{NS: stringPtrs(v.Value)}
	case *types.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = bytes.Clone(b)
		}
		return &mserver.AttributeValue{BS: bs}
	}
	return &mserver.AttributeValue{} // nil or unknown: minidyn rejects it as DynamoDB would
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

func toWireMap(m map[string]types.AttributeValue) map[string]*mserver.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]*mserver.AttributeValue, len(m))
	for k, v := range m {
		out[k] = toWire(v)
	}
	return out
}

// fromWire converts back; an empty map means "no item" (an item always
// has its key), as the SDK reports it.
func fromWire(w *mserver.AttributeValue) types.AttributeValue {
	switch {
	case w == nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case w.S != nil:
		return &types.AttributeValueMemberS{Value: *w.S}
	case w.N != nil:
		return &types.AttributeValueMemberN{Value: *w.N}
	case w.B != nil:
		return &types.AttributeValueMemberB{Value: bytes.Clone(w.B)}
	case w.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *w.BOOL}
	case w.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: *w.NULL}
	case w.M != nil:
		m := fromWireMap(w.M)
		if m == nil {
			m = map[string]types.AttributeValue{}
		}
		return &types.AttributeValueMemberM{Value: m}
	case w.L != nil:
		l := make([]types.AttributeValue, len(w.L))
		for i, e := range w.L {
			l[i] = fromWire(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case w.SS != nil:
		return &types.AttributeValueMemberSS{Value: derefs(w.SS)}
	case w.NS != nil:
		return &types.AttributeValueMemberNS{Value: derefs(w.NS)}
	case w.BS != nil:
		bs := make([][]byte, len(w.BS))
		for i, b := range w.BS {
			bs[i] = bytes.Clone(b)
		}
		return &types.AttributeValueMemberBS{Value: bs}
	}
	return &types.AttributeValueMemberNULL{Value: true}
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

func fromWireMap(m map[string]*mserver.AttributeValue) map[string]types.AttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = fromWire(v)
	}
	return out
}
