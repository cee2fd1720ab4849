package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/truora/minidyn/core"
	"github.com/truora/minidyn/interpreter"
	mtypes "github.com/truora/minidyn/types"
)

// minidynEngine is the embedded DynamoDB: a table of minidyn's core (the
// engine behind both of minidyn's clients and its DynamoDB-compatible HTTP
// server: key schema, expression interpreter, conditions, validation),
// driven the way minidyn's server-side client drives it, with the SDK's
// input, output, AttributeValue and error types on the outside
// (*types.ConditionalCheckFailedException, *types.ResourceNotFoundException,
// smithy.APIError "ValidationException", as the SDK reports them).
//
// Why not the SDK client over minidyn's HTTP server: that path spent
// ~85 µs and ~290 allocations per GetItem on JSON and the SDK's middleware
// stack, ~95% of the call; the differential tests in engine_test.go run
// both paths (and moto) side by side. Why not minidyn's clients as they
// are: their tables are private, and minidyn re-sorts every key on each
// insert, so loading N items one by one costs O(N² log N) (10 000 items
// took 5 s); load inserts them in one pass instead.
//
// Where minidyn (v0.8.2) differs from DynamoDB in ways the handler can
// see, this engine answers as DynamoDB does:
//   - PutItem returns Attributes only for ReturnValues ALL_OLD (minidyn
//     returns the new item every time);
//   - Scan reports ScannedCount (minidyn leaves it 0);
//   - UpdateItem's REMOVE of a top-level attribute takes effect (minidyn
//     evaluates it but keeps the attribute).
type minidynEngine struct {
	mu    sync.Mutex // a core.Table is not safe for concurrent use
	name  string
	table *core.Table
}

func newEmbeddedEngine() *minidynEngine { return &minidynEngine{} }

// createTable creates the table: key id (S), on-demand.
func (e *minidynEngine) createTable(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.table != nil {
		return &ddbtypes.ResourceInUseException{Message: aws.String("Cannot create preexisting table")}
	}
	t := core.NewTable(name)
	t.SetAttributeDefinition([]*mtypes.AttributeDefinition{{AttributeName: aws.String(keyAttr), AttributeType: aws.String("S")}})
	t.BillingMode = aws.String(string(ddbtypes.BillingModePayPerRequest))
	t.NativeInterpreter = *interpreter.NewNativeInterpreter()
	t.LangInterpreter = interpreter.Language{}
	if err := t.CreatePrimaryIndex(&mtypes.CreateTableInput{KeySchema: []*mtypes.KeySchemaElement{{AttributeName: keyAttr, KeyType: "HASH"}}}); err != nil {
		return mapKnownError(err)
	}
	e.name, e.table = name, t
	return nil
}

// load inserts items (already validated when they were journaled) in one
// pass, sorting the keys once.
func (e *minidynEngine) load(items []map[string]ddbtypes.AttributeValue) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.table
	keys := make([]string, 0, len(t.SortedKeys)+len(items))
	keys = append(keys, t.SortedKeys...)
	for i, it := range items {
		item := toItemMap(it)
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

func (e *minidynEngine) getTable(name *string) (*core.Table, error) {
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

var (
	exprNameSyntax  = regexp.MustCompile(`^#[A-Za-z0-9_]+$`)
	exprValueSyntax = regexp.MustCompile(`^:[A-Za-z0-9_]+$`)
)

// validateExpressionAttributes rejects unused or malformed placeholder
// names and values, with DynamoDB's (and minidyn's) messages.
func validateExpressionAttributes(names map[string]string, values map[string]ddbtypes.AttributeValue, exprs ...string) error {
	all := strings.TrimSpace(strings.Join(exprs, " "))
	if all == "" && len(names) == 0 && len(values) == 0 {
		return nil
	}
	check := func(keys []string, syntax *regexp.Regexp, unused, onlyWith, invalid string) error {
		var missing []string
		for _, k := range keys {
			if !strings.Contains(all, k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			if all == "" {
				return validationError(onlyWith)
			}
			sort.Strings(missing)
			return validationError(fmt.Sprintf("%s: keys: {%s}", unused, strings.Join(missing, ", ")))
		}
		for _, k := range keys {
			if !syntax.MatchString(k) {
				return validationError(fmt.Sprintf("%s: Syntax error; key: %s", invalid, k))
			}
		}
		return nil
	}
	nameKeys := slices.Collect(mapsKeys(names))
	if err := check(nameKeys, exprNameSyntax, "Value provided in ExpressionAttributeNames unused in expressions",
		"ExpressionAttributeNames can only be specified when using expressions", "ExpressionAttributeNames contains invalid key"); err != nil {
		return err
	}
	valueKeys := slices.Collect(mapsKeys(values))
	return check(valueKeys, exprValueSyntax, "Value provided in ExpressionAttributeValues unused in expressions",
		"ExpressionAttributeValues can only be specified when using expressions", "ExpressionAttributeValues contains invalid key")
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (e *minidynEngine) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch in.ReturnValues {
	case "", ddbtypes.ReturnValueNone, ddbtypes.ReturnValueAllOld:
	default:
		return nil, validationError("Return values set to invalid value")
	}
	if err := validateExpressionAttributes(in.ExpressionAttributeNames, in.ExpressionAttributeValues, aws.ToString(in.ConditionExpression)); err != nil {
		return nil, err
	}
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	item := toItemMap(in.Item)
	var old map[string]ddbtypes.AttributeValue
	key, kerr := t.KeySchema.GetKey(t.AttributesDef, item)
	if kerr == nil && in.ReturnValues == ddbtypes.ReturnValueAllOld {
		old = fromItemMap(t.Data[key])
	}
	// minidyn re-sorts all keys whenever Put adds one (O(n log n) per new
	// item: ~1 ms at 100 000 items). Placing the key first, with an empty
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
	_, err = t.Put(&mtypes.PutItemInput{
		TableName:                 in.TableName,
		ConditionExpression:       in.ConditionExpression,
		ExpressionAttributeNames:  in.ExpressionAttributeNames,
		ExpressionAttributeValues: toItemMap(in.ExpressionAttributeValues),
		Item:                      item,
		ReturnValues:              strPtr(string(in.ReturnValues)),
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

func (e *minidynEngine) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := validateExpressionAttributes(in.ExpressionAttributeNames, nil, aws.ToString(in.ProjectionExpression)); err != nil {
		return nil, err
	}
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	keyMap := toItemMap(in.Key)
	if verr := mtypes.ValidateItemMap(keyMap); verr != nil {
		return nil, validationError(verr.Error())
	}
	if kerr := t.ValidatePrimaryKeyMap(keyMap); kerr != nil {
		return nil, validationError(kerr.Error())
	}
	key, err := t.KeySchema.GetKey(t.AttributesDef, keyMap)
	if err != nil {
		return nil, validationError(err.Error())
	}
	stored := t.Data[key]
	if p := aws.ToString(in.ProjectionExpression); p != "" && stored != nil {
		projected, err := t.LangInterpreter.Project(interpreter.ProjectInput{Expression: p, Item: stored, Aliases: in.ExpressionAttributeNames})
		if err != nil {
			return nil, validationError(err.Error())
		}
		stored = projected
	}
	return &dynamodb.GetItemOutput{Item: fromItemMap(stored)}, nil
}

func (e *minidynEngine) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := validateExpressionAttributes(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		aws.ToString(in.UpdateExpression), aws.ToString(in.ConditionExpression)); err != nil {
		return nil, err
	}
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	// minidyn evaluates REMOVE of a top-level attribute but never deletes
	// it from the stored item (nested paths are fine): done here, under
	// the same lock as its update.
	removed := topLevelRemovals(aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames)
	if slices.Contains(removed, keyAttr) {
		return nil, validationError("Cannot update attribute " + keyAttr + ". This attribute is part of the key")
	}
	key := toItemMap(in.Key)
	// The stored item is updated in place: keep the old values now.
	before := map[string]*mtypes.Item{}
	if len(removed) > 0 {
		if k, err := t.KeySchema.GetKey(t.AttributesDef, key); err == nil {
			for _, name := range removed {
				if v, ok := t.Data[k][name]; ok {
					before[name] = v
				}
			}
		}
	}
	attrs, err := t.Update(&mtypes.UpdateItemInput{
		TableName:                           in.TableName,
		ConditionExpression:                 in.ConditionExpression,
		ExpressionAttributeNames:            in.ExpressionAttributeNames,
		ExpressionAttributeValues:           toItemMap(in.ExpressionAttributeValues),
		Key:                                 key,
		UpdateExpression:                    aws.ToString(in.UpdateExpression),
		ReturnValues:                        strPtr(string(in.ReturnValues)),
		ReturnValuesOnConditionCheckFailure: strPtr(string(in.ReturnValuesOnConditionCheckFailure)),
	})
	if err != nil {
		if errors.Is(err, interpreter.ErrSyntaxError) {
			return nil, validationError(err.Error())
		}
		return nil, mapKnownError(err)
	}
	out := fromItemMap(attrs)
	if len(removed) > 0 {
		if k, err := t.KeySchema.GetKey(t.AttributesDef, key); err == nil {
			if stored := t.Data[k]; stored != nil {
				for _, name := range removed {
					delete(stored, name)
				}
			}
		}
		switch in.ReturnValues {
		case ddbtypes.ReturnValueAllNew, ddbtypes.ReturnValueUpdatedNew:
			for _, name := range removed {
				delete(out, name)
			}
		case ddbtypes.ReturnValueUpdatedOld:
			for _, name := range removed {
				if v, ok := before[name]; ok && v != nil {
					if out == nil {
						out = map[string]ddbtypes.AttributeValue{}
					}
					out[name] = fromItem(v)
				}
			}
		}
		if len(out) == 0 {
			out = nil
		}
	}
	return &dynamodb.UpdateItemOutput{Attributes: out}, nil
}

func (e *minidynEngine) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := validateExpressionAttributes(in.ExpressionAttributeNames, in.ExpressionAttributeValues, aws.ToString(in.ConditionExpression)); err != nil {
		return nil, err
	}
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
	old, err := t.Delete(&mtypes.DeleteItemInput{
		TableName:                 in.TableName,
		ConditionExpression:       in.ConditionExpression,
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: toItemMap(in.ExpressionAttributeValues),
		Key:                       toItemMap(in.Key),
	})
	if err != nil {
		return nil, mapKnownError(err)
	}
	if in.ReturnValues == ddbtypes.ReturnValueAllOld {
		return &dynamodb.DeleteItemOutput{Attributes: fromItemMap(old)}, nil
	}
	return &dynamodb.DeleteItemOutput{}, nil
}

func (e *minidynEngine) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := validateExpressionAttributes(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		aws.ToString(in.ProjectionExpression), aws.ToString(in.FilterExpression)); err != nil {
		return nil, err
	}
	t, err := e.getTable(in.TableName)
	if err != nil {
		return nil, err
	}
	q := core.QueryInput{
		ExpressionAttributeValues: toItemMap(in.ExpressionAttributeValues),
		Aliases:                   in.ExpressionAttributeNames,
		ExclusiveStartKey:         toItemMap(in.ExclusiveStartKey),
		FilterExpression:          aws.ToString(in.FilterExpression),
		ProjectionExpression:      aws.ToString(in.ProjectionExpression),
		Limit:                     int64(aws.ToInt32(in.Limit)),
		Scan:                      true,
		ScanIndexForward:          true,
	}
	items, last, err := t.SearchData(q)
	if err != nil {
		return nil, mapKnownError(err)
	}
	out := &dynamodb.ScanOutput{
		Items:            make([]map[string]ddbtypes.AttributeValue, len(items)),
		Count:            int32(len(items)),
		ScannedCount:     int32(len(items)),
		LastEvaluatedKey: fromItemMap(last),
	}
	for i, it := range items {
		out.Items[i] = fromItemMap(it)
	}
	if q.FilterExpression != "" {
		// ScannedCount counts the items read before the filter: the same
		// page without the filter (minidyn applies Limit before the
		// filter, as DynamoDB does, so both pages cover the same keys).
		all, _, err := t.SearchData(core.QueryInput{ExclusiveStartKey: q.ExclusiveStartKey, Limit: q.Limit, Scan: true, ScanIndexForward: true})
		if err != nil {
			return nil, mapKnownError(err)
		}
		out.ScannedCount = int32(len(all))
	}
	return out, nil
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
