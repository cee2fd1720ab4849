package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeDB is an in-memory table keyed by the string attribute id. It
// understands only the expressions the handler itself produces plus
// "attribute_not_exists(id)" and simple "SET a = :v, ..." updates; anything
// else is an error, so a test never passes by the fake ignoring an
// expression. Func fields replace an operation entirely.
type fakeDB struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue

	// Recorded inputs, for assertions on what the handler sent.
	puts    []*dynamodb.PutItemInput
	gets    []*dynamodb.GetItemInput
	updates []*dynamodb.UpdateItemInput
	deletes []*dynamodb.DeleteItemInput
	scans   []*dynamodb.ScanInput

	putFn    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	getFn    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	updateFn func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	deleteFn func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)
	scanFn   func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error)
}

var _ DynamoDB = (*fakeDB)(nil)

func newFakeDB(items ...map[string]types.AttributeValue) *fakeDB {
	f := &fakeDB{items: map[string]map[string]types.AttributeValue{}}
	for _, it := range items {
		f.items[it["id"].(*types.AttributeValueMemberS).Value] = it
	}
	return f
}

func keyID(key map[string]types.AttributeValue) (string, error) {
	s, ok := key["id"].(*types.AttributeValueMemberS)
	if !ok || len(key) != 1 {
		return "", fmt.Errorf("fake: bad key %v", key)
	}
	return s.Value, nil
}

func ccf(item map[string]types.AttributeValue) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: item}
}

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, in)
	if f.putFn != nil {
		return f.putFn(in)
	}
	id, err := keyID(map[string]types.AttributeValue{"id": in.Item["id"]})
	if err != nil {
		return nil, err
	}
	switch c := aws.ToString(in.ConditionExpression); c {
	case "":
	case "attribute_not_exists(id)":
		if _, ok := f.items[id]; ok {
			return nil, ccf(nil)
		}
	default:
		return nil, fmt.Errorf("fake: unsupported condition %q", c)
	}
	f.items[id] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in)
	if f.getFn != nil {
		return f.getFn(in)
	}
	id, err := keyID(in.Key)
	if err != nil {
		return nil, err
	}
	it, ok := f.items[id]
	if !ok {
		return &dynamodb.GetItemOutput{}, nil
	}
	switch p := aws.ToString(in.ProjectionExpression); p {
	case "":
		return &dynamodb.GetItemOutput{Item: it}, nil
	case ReservedIDName:
		return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"id": it["id"]}}, nil
	default:
		return nil, fmt.Errorf("fake: unsupported projection %q", p)
	}
}

// existsPrefix checks the condition the handler must put on every update
// and delete, and returns the caller's part, if any.
func existsPrefix(cond *string, names map[string]string) (string, error) {
	c := aws.ToString(cond)
	if names[ReservedIDName] != "id" {
		return "", fmt.Errorf("fake: %s not bound to id in %v", ReservedIDName, names)
	}
	if c == existsCondition {
		return "", nil
	}
	rest, ok := strings.CutPrefix(c, existsCondition+" AND (")
	if !ok || !strings.HasSuffix(rest, ")") {
		return "", fmt.Errorf("fake: condition %q lacks %s", c, existsCondition)
	}
	return strings.TrimSuffix(rest, ")"), nil
}

var setClause = regexp.MustCompile(`^\s*(#?\w+)\s*=\s*(:\w+)\s*$`)

func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, in)
	if f.updateFn != nil {
		return f.updateFn(in)
	}
	callerCond, err := existsPrefix(in.ConditionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	id, err := keyID(in.Key)
	if err != nil {
		return nil, err
	}
	old, ok := f.items[id]
	if !ok {
		return nil, ccf(nil)
	}
	if callerCond != "" {
		return nil, fmt.Errorf("fake: unsupported condition %q", callerCond)
	}
	updated := maps.Clone(old)
	if ue := aws.ToString(in.UpdateExpression); ue != "" {
		set, ok := strings.CutPrefix(ue, "SET ")
		if !ok {
			return nil, fmt.Errorf("fake: unsupported update %q", ue)
		}
		for _, clause := range strings.Split(set, ",") {
			m := setClause.FindStringSubmatch(clause)
			if m == nil {
				return nil, fmt.Errorf("fake: unsupported update %q", ue)
			}
			name := m[1]
			if strings.HasPrefix(name, "#") {
				name = in.ExpressionAttributeNames[name]
			}
			v, ok := in.ExpressionAttributeValues[m[2]]
			if !ok {
				return nil, fmt.Errorf("fake: undefined value %s", m[2])
			}
			updated[name] = v
		}
	}
	f.items[id] = updated
	switch in.ReturnValues {
	case types.ReturnValueAllNew:
		return &dynamodb.UpdateItemOutput{Attributes: updated}, nil
	case types.ReturnValueAllOld:
		return &dynamodb.UpdateItemOutput{Attributes: old}, nil
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, in)
	if f.deleteFn != nil {
		return f.deleteFn(in)
	}
	callerCond, err := existsPrefix(in.ConditionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	id, err := keyID(in.Key)
	if err != nil {
		return nil, err
	}
	old, ok := f.items[id]
	if !ok {
		return nil, ccf(nil)
	}
	if callerCond != "" {
		return nil, fmt.Errorf("fake: unsupported condition %q", callerCond)
	}
	delete(f.items, id)
	if in.ReturnValues == types.ReturnValueAllOld {
		return &dynamodb.DeleteItemOutput{Attributes: old}, nil
	}
	return &dynamodb.DeleteItemOutput{}, nil
}

func (f *fakeDB) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans = append(f.scans, in)
	if f.scanFn != nil {
		return f.scanFn(in)
	}
	if in.FilterExpression != nil || in.ProjectionExpression != nil {
		return nil, errors.New("fake: scan expressions are not supported")
	}
	ids := slices.SortedFunc(maps.Keys(f.items), cmp.Compare[string])
	if in.ExclusiveStartKey != nil {
		start, err := keyID(in.ExclusiveStartKey)
		if err != nil {
			return nil, err
		}
		i, _ := slices.BinarySearch(ids, start)
		for i < len(ids) && ids[i] <= start {
			i++
		}
		ids = ids[i:]
	}
	limit := len(ids)
	if in.Limit != nil {
		limit = min(limit, int(*in.Limit))
	}
	out := &dynamodb.ScanOutput{}
	for _, id := range ids[:limit] {
		out.Items = append(out.Items, f.items[id])
	}
	out.Count, out.ScannedCount = int32(limit), int32(limit)
	if limit < len(ids) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: ids[limit-1]}}
	}
	return out, nil
}
