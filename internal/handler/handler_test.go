package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/ddbops/ddbops/internal/itemsize"
	"github.com/ddbops/ddbops/internal/wire"
)

const (
	testTable = "lambda-apigateway"
	testReqID = "req-1"
	meta      = `"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"req-1"}`
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func item(id, name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": s(id), "name": s(name)}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"requestId"`
}

type doCase struct {
	name   string
	body   string
	setup  func(*fakeDB)
	status int
	want   string // exact body (successes)
	code   string // error code (failures)
	msg    string // substring of the error message (failures)
	check  func(*testing.T, *fakeDB)
}

func runDoCases(t *testing.T, cases []doCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeDB(item("1", "Bob"))
			if tc.setup != nil {
				tc.setup(f)
			}
			h := New(f, Config{TableName: testTable})
			status, body := h.Do(context.Background(), []byte(tc.body), testReqID)
			if status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", status, tc.status, body)
			}
			if !json.Valid(body) {
				t.Fatalf("body is not valid JSON: %s", body)
			}
			if tc.want != "" && string(body) != tc.want {
				t.Errorf("body =\n%s\nwant\n%s", body, tc.want)
			}
			if tc.code != "" {
				var eb errorBody
				if err := json.Unmarshal(body, &eb); err != nil {
					t.Fatalf("error body: %v", err)
				}
				if eb.Error.Code != tc.code || eb.RequestID != testReqID {
					t.Errorf("error = %+v, want code %s and request id %s", eb, tc.code, testReqID)
				}
				if !strings.Contains(eb.Error.Message, tc.msg) {
					t.Errorf("message %q does not contain %q", eb.Error.Message, tc.msg)
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestDoSuccess(t *testing.T) {
	t.Parallel()
	runDoCases(t, successCases())
}

func successCases() []doCase {
	return []doCase{
		{name: "ping", body: `{"operation":"ping"}`, status: 200, want: `"pong"`},
		{name: "ping with empty payload", body: `{"operation":"ping","payload":{}}`, status: 200, want: `"pong"`},
		{name: "ping with null payload", body: `{"operation":"ping","payload":null}`, status: 200, want: `"pong"`},
		{
			name:   "echo tutorial test event",
			body:   `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`,
			status: 200, want: `{"somekey1":"somevalue1","somekey2":"somevalue2"}`,
		},
		{
			name:   "echo keeps bytes, order and number literals",
			body:   `{"payload": [1.50, 12345678901234567890, {"b":1,"a":"\u00e9"}, 1e400] ,"operation":"echo"}`,
			status: 200, want: `[1.50, 12345678901234567890, {"b":1,"a":"\u00e9"}, 1e400]`,
		},
		{name: "echo without payload", body: `{"operation":"echo"}`, status: 200, want: `null`},
		{name: "echo string payload", body: `{"operation":"echo","payload":"hi"}`, status: 200, want: `"hi"`},
		{
			name:   "create tutorial item",
			body:   `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"2","name":"Alice"}}}`,
			status: 200, want: `{` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				in := f.puts[0]
				if aws.ToString(in.TableName) != testTable || in.ConditionExpression != nil {
					t.Errorf("PutItem input = %+v", in)
				}
				if got := f.items["2"]["name"].(*types.AttributeValueMemberS).Value; got != "Alice" {
					t.Errorf("stored name = %q", got)
				}
			},
		},
		{
			name:   "create without tableName",
			body:   `{"operation":"create","payload":{"Item":{"id":"2"}}}`,
			status: 200, want: `{` + meta + `}`,
		},
		{
			name:   "create with condition",
			body:   `{"operation":"create","payload":{"Item":{"id":"2"},"ConditionExpression":"attribute_not_exists(id)"}}`,
			status: 200, want: `{` + meta + `}`,
		},
		{
			name:   "create maps every JSON type",
			body:   `{"operation":"create","payload":{"Item":{"id":"t","s":"x","n":-1.5e3,"b":true,"f":false,"z":null,"l":[1,"a",[],{}],"m":{"k":{"deep":[null]}},"e":""}}}`,
			status: 200,
			check: func(t *testing.T, f *fakeDB) {
				got := f.items["t"]
				want := map[string]types.AttributeValue{
					"id": s("t"), "s": s("x"), "n": n("-1.5e3"),
					"b": &types.AttributeValueMemberBOOL{Value: true},
					"f": &types.AttributeValueMemberBOOL{Value: false},
					"z": &types.AttributeValueMemberNULL{Value: true},
					"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("a"), &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
					"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}}}}}},
					"e": s(""),
				}
				if fmt.Sprintf("%#v", sortedDump(got)) != fmt.Sprintf("%#v", sortedDump(want)) {
					t.Errorf("item =\n%s\nwant\n%s", sortedDump(got), sortedDump(want))
				}
			},
		},
		{
			name:   "read tutorial item",
			body:   `{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`,
			status: 200, want: `{"Item":{"id":"1","name":"Bob"},` + meta + `}`,
		},
		{
			name: "read passes projection and consistency",
			body: `{"operation":"read","payload":{"Key":{"id":"1"},"ProjectionExpression":"#n","ExpressionAttributeNames":{"#n":"name"},"ConsistentRead":true}}`,
			setup: func(f *fakeDB) {
				f.getFn = func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{"name": s("Bob")}}, nil
				}
			},
			status: 200, want: `{"Item":{"name":"Bob"},` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				in := f.gets[0]
				if aws.ToString(in.ProjectionExpression) != "#n" || in.ExpressionAttributeNames["#n"] != "name" || !aws.ToBool(in.ConsistentRead) {
					t.Errorf("GetItem input = %+v", in)
				}
			},
		},
		{
			name: "read renders sets, binary and odd numbers",
			body: `{"operation":"read","payload":{"Key":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.getFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					return &dynamodb.GetItemOutput{Item: map[string]types.AttributeValue{
						"id": s("1"),
						"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b\"c"}},
						"ns": &types.AttributeValueMemberNS{Value: []string{"1", "0.1"}},
						"bs": &types.AttributeValueMemberBS{Value: [][]byte{{0, 1}, {255}}},
						"b":  &types.AttributeValueMemberB{Value: []byte("hi")},
						"n":  n("12345678901234567890"),
						"x":  n("+5"),
						"u":  s("tab\tnl\n\u2028\x01é\xff"),
					}}, nil
				}
			},
			status: 200,
			want: `{"Item":{"b":"aGk=","bs":["AAE=","/w=="],"id":"1","n":12345678901234567890,"ns":[1,0.1],` +
				`"ss":["a","b\"c"],"u":"tab\tnl\n\u2028\u0001é\ufffd","x":"+5"},` + meta + `}`,
		},
		{
			name:   "update SET returns new attributes",
			body:   `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n = :n","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Carol"},"ReturnValues":"ALL_NEW"}}`,
			status: 200, want: `{"Attributes":{"id":"1","name":"Carol"},` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				in := f.updates[0]
				if aws.ToString(in.ConditionExpression) != "attribute_exists(#ddbops_id)" ||
					in.ExpressionAttributeNames["#ddbops_id"] != "id" || in.ExpressionAttributeNames["#n"] != "name" ||
					in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
					t.Errorf("UpdateItem input = %+v", in)
				}
			},
		},
		{
			name:   "update without ReturnValues",
			body:   `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET age = :a","ExpressionAttributeValues":{":a":42}}}`,
			status: 200, want: `{` + meta + `}`,
		},
		{
			name: "update combines the caller's condition",
			body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ConditionExpression":"a = :old OR attribute_not_exists(a)","ExpressionAttributeValues":{":a":1,":old":0}}}`,
			setup: func(f *fakeDB) {
				f.updateFn = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
					return &dynamodb.UpdateItemOutput{}, nil
				}
			},
			status: 200,
			check: func(t *testing.T, f *fakeDB) {
				in := f.updates[0]
				want := "attribute_exists(#ddbops_id) AND (a = :old OR attribute_not_exists(a))"
				if got := aws.ToString(in.ConditionExpression); got != want || in.ExpressionAttributeNames["#ddbops_id"] != "id" {
					t.Errorf("condition = %q names %v, want %q", got, in.ExpressionAttributeNames, want)
				}
			},
		},
		{
			name:   "delete returns old attributes",
			body:   `{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_OLD"}}`,
			status: 200, want: `{"Attributes":{"id":"1","name":"Bob"},` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				if _, ok := f.items["1"]; ok {
					t.Error("item still stored")
				}
				if got := aws.ToString(f.deletes[0].ConditionExpression); got != "attribute_exists(#ddbops_id)" {
					t.Errorf("condition = %q", got)
				}
			},
		},
		{
			name: "delete combines the caller's condition",
			body: `{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"#s = :s","ExpressionAttributeNames":{"#s":"state"},"ExpressionAttributeValues":{":s":"done"}}}`,
			setup: func(f *fakeDB) {
				f.deleteFn = func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
					return &dynamodb.DeleteItemOutput{}, nil
				}
			},
			status: 200, want: `{` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				in := f.deletes[0]
				if got := aws.ToString(in.ConditionExpression); got != "attribute_exists(#ddbops_id) AND (#s = :s)" ||
					in.ExpressionAttributeNames["#s"] != "state" || in.ExpressionAttributeNames["#ddbops_id"] != "id" {
					t.Errorf("DeleteItem input = %+v", in)
				}
			},
		},
		{
			name:   "list tutorial",
			body:   `{"operation":"list","tableName":"lambda-apigateway","payload":{}}`,
			status: 200, want: `{"Items":[{"id":"1","name":"Bob"}],"Count":1,"ScannedCount":1,` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				if got := aws.ToInt32(f.scans[0].Limit); got != wire.MaxListLimit {
					t.Errorf("default Limit = %d, want %d", got, wire.MaxListLimit)
				}
			},
		},
		{
			name: "list without payload", body: `{"operation":"list"}`, status: 200,
			want: `{"Items":[{"id":"1","name":"Bob"}],"Count":1,"ScannedCount":1,` + meta + `}`,
		},
		{
			name: "list Limit is capped", body: `{"operation":"list","payload":{"Limit":100000000000000000000000}}`, status: 200,
			check: func(t *testing.T, f *fakeDB) {
				if got := aws.ToInt32(f.scans[0].Limit); got != wire.MaxListLimit {
					t.Errorf("Limit = %d, want %d", got, wire.MaxListLimit)
				}
			},
		},
		{
			name: "list passes expressions", status: 200,
			body: `{"operation":"list","payload":{"Limit":7,"FilterExpression":"#n = :n","ProjectionExpression":"id","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Bob"}}}`,
			setup: func(f *fakeDB) {
				f.scanFn = func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
					return &dynamodb.ScanOutput{Items: []map[string]types.AttributeValue{}, ScannedCount: 7,
						LastEvaluatedKey: map[string]types.AttributeValue{"id": s("7")}}, nil
				}
			},
			want: `{"Items":[],"Count":0,"ScannedCount":7,"LastEvaluatedKey":{"id":"7"},` + meta + `}`,
			check: func(t *testing.T, f *fakeDB) {
				in := f.scans[0]
				if aws.ToInt32(in.Limit) != 7 || aws.ToString(in.FilterExpression) != "#n = :n" || aws.ToString(in.ProjectionExpression) != "id" ||
					in.ExpressionAttributeNames["#n"] != "name" || in.ExpressionAttributeValues[":n"].(*types.AttributeValueMemberS).Value != "Bob" {
					t.Errorf("Scan input = %+v", in)
				}
			},
		},
	}
}

func sortedDump(m map[string]types.AttributeValue) string {
	var b []byte
	return string(appendAttrMap(b, m)) + fmt.Sprintf(" %d", itemsize.Of(m))
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func TestDoErrors(t *testing.T) {
	t.Parallel()
	runDoCases(t, errorCases())
}

func errorCases() []doCase {
	// The request object is level 1, so the payload may nest wire.MaxDepth-1.
	deep := strings.Repeat("[", wire.MaxDepth-1) + strings.Repeat("]", wire.MaxDepth-1)
	tooDeep := strings.Repeat("[", wire.MaxDepth) + strings.Repeat("]", wire.MaxDepth)
	big := `{"operation":"echo","payload":"` + strings.Repeat("x", wire.MaxBodyBytes) + `"}`
	bigItem := `{"operation":"create","payload":{"Item":{"id":"1","blob":"` + strings.Repeat("x", wire.MaxItemBytes) + `"}}}`
	failGet := func(f *fakeDB) {
		f.getFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return nil, errors.New("fake: GetItem must not be called")
		}
	}
	return []doCase{
		// 400: malformed requests.
		{name: "malformed JSON", body: `{"operation":`, status: 400, code: CodeBadRequest, msg: "malformed JSON"},
		{name: "invalid JSON", body: `{"operation":x}`, status: 400, code: CodeBadRequest, msg: "malformed JSON at byte"},
		{name: "empty body", body: ``, status: 400, code: CodeBadRequest, msg: "empty"},
		{name: "trailing data", body: `{"operation":"ping"} {}`, status: 400, code: CodeBadRequest, msg: "after the request object"},
		{name: "trailing garbage", body: `{"operation":"ping"} x`, status: 400, code: CodeBadRequest, msg: "malformed JSON"},
		{name: "not an object", body: `["ping"]`, status: 400, code: CodeBadRequest, msg: "must be a JSON object, not an array"},
		{name: "null body", body: `null`, status: 400, code: CodeBadRequest, msg: "must be a JSON object, not null"},
		{name: "depth at limit", body: `{"operation":"echo","payload":` + deep + `}`, status: 200, want: deep},
		{name: "depth over limit", body: `{"operation":"echo","payload":` + tooDeep + `}`, status: 400, code: CodeBadRequest, msg: "nested deeper than 64"},
		{name: "depth ignores brackets in strings", body: `{"operation":"echo","payload":"` + strings.Repeat(`[\"{`, 100) + `"}`, status: 200},
		{name: "unknown top-level key", body: `{"operation":"ping","Operation":"x","zzz":1}`, status: 400, code: CodeBadRequest, msg: `unknown key "Operation"`},
		{name: "missing operation", body: `{"payload":{}}`, status: 400, code: CodeBadRequest, msg: "operation: required"},
		{name: "null operation", body: `{"operation":null}`, status: 400, code: CodeBadRequest, msg: "operation: required"},
		{name: "operation not a string", body: `{"operation":1}`, status: 400, code: CodeBadRequest, msg: "operation: must be a string, not a number"},
		{name: "unknown operation", body: `{"operation":"scan"}`, status: 400, code: CodeBadRequest, msg: `unknown operation "scan"`},
		{name: "operation is case-sensitive", body: `{"operation":"Create"}`, status: 400, code: CodeBadRequest, msg: `unknown operation "Create"`},
		{name: "tableName not a string", body: `{"operation":"ping","tableName":5}`, status: 400, code: CodeBadRequest, msg: "tableName: must be a string"},
		{name: "payload not an object", body: `{"operation":"create","payload":[1]}`, status: 400, code: CodeBadRequest, msg: "payload: must be an object for operation create"},
		{name: "ping payload key", body: `{"operation":"ping","payload":{"x":1}}`, status: 400, code: CodeBadRequest, msg: `unknown key "x" for operation ping (accepted: none)`},
		{name: "ping payload not object", body: `{"operation":"ping","payload":3}`, status: 400, code: CodeBadRequest, msg: "payload: must be an object"},
		{name: "unknown payload key", body: `{"operation":"create","payload":{"Item":{"id":"1"},"ReturnValues":"ALL_OLD"}}`, status: 400, code: CodeBadRequest, msg: `unknown key "ReturnValues" for operation create`},
		{name: "payload key of another op", body: `{"operation":"read","payload":{"Key":{"id":"1"},"Limit":1}}`, status: 400, code: CodeBadRequest, msg: `unknown key "Limit" for operation read`},
		{name: "payload keys are case-sensitive", body: `{"operation":"read","payload":{"key":{"id":"1"}}}`, status: 400, code: CodeBadRequest, msg: `unknown key "key"`},
		{name: "unknown key name is clipped", body: `{"operation":"read","payload":{"` + strings.Repeat("k", 500) + `":1}}`, status: 400, code: CodeBadRequest, msg: `…`},
		{name: "Item missing", body: `{"operation":"create","payload":{}}`, status: 400, code: CodeBadRequest, msg: "payload.Item: required"},
		{name: "Item not object", body: `{"operation":"create","payload":{"Item":"x"}}`, status: 400, code: CodeBadRequest, msg: "payload.Item: must be an object, not a string"},
		{name: "Item without id", body: `{"operation":"create","payload":{"Item":{"name":"Bob"}}}`, status: 400, code: CodeBadRequest, msg: "payload.Item.id: required"},
		{name: "Item empty id", body: `{"operation":"create","payload":{"Item":{"id":""}}}`, status: 400, code: CodeBadRequest, msg: "payload.Item.id"},
		{name: "Item numeric id", body: `{"operation":"create","payload":{"Item":{"id":1}}}`, status: 400, code: CodeBadRequest, msg: "payload.Item.id"},
		{name: "Key missing", body: `{"operation":"read","payload":{}}`, status: 400, code: CodeBadRequest, msg: "payload.Key: required"},
		{name: "Key null", body: `{"operation":"delete","payload":{"Key":null}}`, status: 400, code: CodeBadRequest, msg: "payload.Key: required"},
		{name: "Key not object", body: `{"operation":"read","payload":{"Key":"1"}}`, status: 400, code: CodeBadRequest, msg: "payload.Key: must be an object"},
		{name: "Key extra attribute", body: `{"operation":"read","payload":{"Key":{"id":"1","name":"Bob"}}}`, status: 400, code: CodeBadRequest, msg: `unknown attribute "name"`},
		{name: "Key empty id", body: `{"operation":"update","payload":{"Key":{"id":""}}}`, status: 400, code: CodeBadRequest, msg: "payload.Key.id"},
		{name: "Key bool id", body: `{"operation":"delete","payload":{"Key":{"id":true}}}`, status: 400, code: CodeBadRequest, msg: "payload.Key.id"},
		{name: "Key without id", body: `{"operation":"read","payload":{"Key":{}}}`, status: 400, code: CodeBadRequest, msg: "payload.Key.id"},
		{name: "Limit zero", body: `{"operation":"list","payload":{"Limit":0}}`, status: 400, code: CodeBadRequest, msg: "payload.Limit: must be a positive integer"},
		{name: "Limit negative", body: `{"operation":"list","payload":{"Limit":-5}}`, status: 400, code: CodeBadRequest, msg: "payload.Limit"},
		{name: "Limit fraction", body: `{"operation":"list","payload":{"Limit":1.5}}`, status: 400, code: CodeBadRequest, msg: "payload.Limit"},
		{name: "Limit exponent", body: `{"operation":"list","payload":{"Limit":1e2}}`, status: 400, code: CodeBadRequest, msg: "payload.Limit"},
		{name: "Limit string", body: `{"operation":"list","payload":{"Limit":"5"}}`, status: 400, code: CodeBadRequest, msg: "payload.Limit"},
		{name: "ExclusiveStartKey empty", body: `{"operation":"list","payload":{"ExclusiveStartKey":{}}}`, status: 400, code: CodeBadRequest, msg: "payload.ExclusiveStartKey"},
		{name: "ExclusiveStartKey string", body: `{"operation":"list","payload":{"ExclusiveStartKey":"1"}}`, status: 400, code: CodeBadRequest, msg: "payload.ExclusiveStartKey"},
		{name: "ConsistentRead string", body: `{"operation":"read","payload":{"Key":{"id":"1"},"ConsistentRead":"yes"}}`, status: 400, code: CodeBadRequest, msg: "payload.ConsistentRead: must be a boolean"},
		{name: "ReturnValues unknown", body: `{"operation":"update","payload":{"Key":{"id":"1"},"ReturnValues":"ALL"}}`, status: 400, code: CodeBadRequest, msg: "payload.ReturnValues: must be one of NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW"},
		{name: "ReturnValues not for delete", body: `{"operation":"delete","payload":{"Key":{"id":"1"},"ReturnValues":"ALL_NEW"}}`, status: 400, code: CodeBadRequest, msg: "must be one of NONE, ALL_OLD for operation delete"},
		{name: "expression not a string", body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":["SET a = :a"]}}`, status: 400, code: CodeBadRequest, msg: "payload.UpdateExpression: must be a non-empty string"},
		{name: "expression empty", body: `{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"  "}}`, status: 400, code: CodeBadRequest, msg: "payload.ConditionExpression"},
		{name: "names not object", body: `{"operation":"read","payload":{"Key":{"id":"1"},"ExpressionAttributeNames":[]}}`, status: 400, code: CodeBadRequest, msg: "payload.ExpressionAttributeNames: must be an object"},
		{name: "names value not string", body: `{"operation":"read","payload":{"Key":{"id":"1"},"ExpressionAttributeNames":{"#b":1,"#a":2}}}`, status: 400, code: CodeBadRequest, msg: `payload.ExpressionAttributeNames["#a"]: must be a string`},
		{name: "names reserved", body: `{"operation":"update","payload":{"Key":{"id":"1"},"ExpressionAttributeNames":{"#ddbops_id":"x"}}}`, status: 400, code: CodeBadRequest, msg: "#ddbops_id is reserved"},
		{name: "values not object", body: `{"operation":"create","payload":{"Item":{"id":"1"},"ExpressionAttributeValues":1}}`, status: 400, code: CodeBadRequest, msg: "payload.ExpressionAttributeValues: must be an object"},
		{
			name: "invalid expression from DynamoDB", status: 400, code: CodeBadRequest,
			body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET SET"}}`,
			setup: func(f *fakeDB) {
				f.updateFn = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
					return nil, apiErr("ValidationException", `Invalid UpdateExpression: Syntax error; token: "SET", near: "SET SET"`+"\nsecond line")
				}
			},
			msg: `update: DynamoDB rejected the request: Invalid UpdateExpression: Syntax error; token: "SET", near: "SET SET"`,
		},

		// 403.
		{name: "other table", body: `{"operation":"read","tableName":"other","payload":{"Key":{"id":"1"}}}`, status: 403, code: CodeForbidden, msg: `only table "lambda-apigateway"`},
		{name: "empty table name", body: `{"operation":"ping","tableName":""}`, status: 403, code: CodeForbidden},

		// 404.
		{name: "read missing", body: `{"operation":"read","payload":{"Key":{"id":"nope"}}}`, status: 404, code: CodeNotFound, msg: "read: no item with this id"},
		{
			name: "update missing", body: `{"operation":"update","payload":{"Key":{"id":"nope"},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":1}}}`,
			status: 404, code: CodeNotFound, msg: "update: no item with this id",
			check: func(t *testing.T, f *fakeDB) {
				if _, ok := f.items["nope"]; ok {
					t.Error("update created the item")
				}
				if len(f.gets) != 1 || !aws.ToBool(f.gets[0].ConsistentRead) {
					t.Errorf("want one consistent GetItem to tell 404 from 409, got %+v", f.gets)
				}
			},
		},
		{name: "delete missing", body: `{"operation":"delete","payload":{"Key":{"id":"nope"}}}`, status: 404, code: CodeNotFound, msg: "delete: no item with this id"},

		// 409.
		{name: "create existing with condition", body: `{"operation":"create","payload":{"Item":{"id":"1"},"ConditionExpression":"attribute_not_exists(id)"}}`, status: 409, code: CodeConditionalCheckFailed, msg: "create: the ConditionExpression was not met"},
		{
			name: "update condition failed, item returned", status: 409, code: CodeConditionalCheckFailed,
			body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":1}}}`,
			setup: func(f *fakeDB) {
				failGet(f)
				f.updateFn = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, ccf(item("1", "Bob")) }
			},
			msg: "update: the ConditionExpression was not met",
		},
		{
			name: "update condition failed, backend without ALL_OLD", status: 409, code: CodeConditionalCheckFailed,
			body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":1}}}`,
			setup: func(f *fakeDB) {
				f.updateFn = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, ccf(nil) }
			},
		},
		{
			name: "delete condition failed, item returned", status: 409, code: CodeConditionalCheckFailed,
			body: `{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":1}}}`,
			setup: func(f *fakeDB) {
				failGet(f)
				f.deleteFn = func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) { return nil, ccf(item("1", "Bob")) }
			},
		},
		{
			name: "delete condition failed, backend without ALL_OLD", status: 409, code: CodeConditionalCheckFailed,
			body: `{"operation":"delete","payload":{"Key":{"id":"1"},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":1}}}`,
			setup: func(f *fakeDB) {
				f.deleteFn = func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) { return nil, ccf(nil) }
			},
		},

		// 413.
		{name: "body too large", body: big, status: 413, code: CodePayloadTooLarge, msg: "larger than 1048576 bytes"},
		{name: "item too large", body: bigItem, status: 413, code: CodePayloadTooLarge, msg: "create: item is 409607 bytes",
			check: func(t *testing.T, f *fakeDB) {
				if len(f.puts) != 0 {
					t.Error("oversized item was sent to DynamoDB")
				}
			}},
		{
			name: "item too large per DynamoDB", status: 413, code: CodePayloadTooLarge, msg: "update: item larger than DynamoDB's 400 KB limit",
			body: `{"operation":"update","payload":{"Key":{"id":"1"},"UpdateExpression":"SET a = :a","ExpressionAttributeValues":{":a":"x"}}}`,
			setup: func(f *fakeDB) {
				f.updateFn = func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
					return nil, apiErr("ValidationException", "Item size to update has exceeded the maximum allowed size")
				}
			},
		},

		// 429.
		{
			name: "provisioned throughput", status: 429, code: CodeThrottled, msg: "read: DynamoDB is throttling",
			body: `{"operation":"read","payload":{"Key":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.getFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					return nil, fmt.Errorf("operation error: %w", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")})
				}
			},
		},
		{
			name: "request limit", status: 429, code: CodeThrottled,
			body: `{"operation":"create","payload":{"Item":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.putFn = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
					return nil, &types.RequestLimitExceeded{Message: aws.String("account limit")}
				}
			},
		},
		{
			name: "throttling", status: 429, code: CodeThrottled,
			body: `{"operation":"list"}`,
			setup: func(f *fakeDB) {
				f.scanFn = func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
					return nil, &types.ThrottlingException{Message: aws.String("throttled")}
				}
			},
		},

		// 500: only the request id reaches the caller.
		{
			name: "table missing", status: 500, code: CodeInternalError, want: `{"error":{"code":"InternalError","message":"internal error (request id req-1)"},"requestId":"req-1"}`,
			body: `{"operation":"read","payload":{"Key":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.getFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
					return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found: Table: arn:aws:dynamodb:us-east-1:123456789012:table/x")}
				}
			},
		},
		{
			name: "network error", status: 500, code: CodeInternalError, msg: "internal error (request id req-1)",
			body: `{"operation":"delete","payload":{"Key":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.deleteFn = func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
					return nil, errors.New("dial tcp 10.0.0.1:443: connection refused")
				}
			},
		},
		{
			name: "404 lookup fails", status: 500, code: CodeInternalError,
			body:  `{"operation":"delete","payload":{"Key":{"id":"nope"}}}`,
			setup: func(f *fakeDB) { failGet(f) },
		},
		{
			name: "access denied", status: 500, code: CodeInternalError, want: `{"error":{"code":"InternalError","message":"internal error (request id req-1)"},"requestId":"req-1"}`,
			body: `{"operation":"create","payload":{"Item":{"id":"1"}}}`,
			setup: func(f *fakeDB) {
				f.putFn = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
					return nil, apiErr("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/x is not authorized")
				}
			},
		},
		{
			name: "store panics", status: 500, code: CodeInternalError, want: `{"error":{"code":"InternalError","message":"internal error (request id req-1)"},"requestId":"req-1"}`,
			body: `{"operation":"list"}`,
			setup: func(f *fakeDB) {
				f.scanFn = func(*dynamodb.ScanInput) (*dynamodb.ScanOutput, error) { panic("boom at secret place") }
			},
		},
	}
}

// Every status of the wire contract (docs/wire.md#errors) must be produced
// by at least one error case.
func TestEveryStatusCovered(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for _, tc := range errorCases() {
		seen[tc.status] = true
		// The case's code belongs to its status, as the wire says.
		if tc.status == 200 {
			continue // a case at a limit, just inside it
		}
		if want, ok := wire.ErrorStatus[tc.code]; !ok || want != tc.status {
			t.Errorf("%s: code %q with status %d; wire.ErrorStatus gives %d", tc.name, tc.code, tc.status, want)
		}
	}
	for _, want := range []int{400, 403, 404, 409, 413, 429, 500} {
		if !seen[want] {
			t.Errorf("no error case produces status %d", want)
		}
	}
}

func TestNumbersRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFakeDB()
	h := New(f, Config{TableName: testTable})
	nums := `[12345678901234567890,0.1,-0,1e-130,9.9999999999999999999999999999999999999E+125,1.50,100]`
	status, body := h.Do(context.Background(), []byte(`{"operation":"create","payload":{"Item":{"id":"n","v":`+nums+`,"m":{"x":0.30000000000000004}}}}`), "r")
	if status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	status, body = h.Do(context.Background(), []byte(`{"operation":"read","payload":{"Key":{"id":"n"}}}`), "r")
	want := `{"Item":{"id":"n","m":{"x":0.30000000000000004},"v":` + nums + `},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"r"}}`
	if status != 200 || string(body) != want {
		t.Fatalf("read = %d %s\nwant %s", status, body, want)
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	f := newFakeDB(item("a", "1"), item("b", "2"), item("c", "3"))
	h := New(f, Config{TableName: testTable})
	var got []string
	body := `{"operation":"list","payload":{"Limit":2}}`
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("pagination does not end")
		}
		status, out := h.Do(context.Background(), []byte(body), "r")
		if status != 200 {
			t.Fatalf("list: %d %s", status, out)
		}
		var resp struct {
			Items            []map[string]any
			Count            int
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Count != len(resp.Items) {
			t.Errorf("Count %d for %d items", resp.Count, len(resp.Items))
		}
		for _, it := range resp.Items {
			got = append(got, it["id"].(string))
		}
		if resp.LastEvaluatedKey == nil {
			break
		}
		body = `{"operation":"list","payload":{"Limit":2,"ExclusiveStartKey":` + string(resp.LastEvaluatedKey) + `}}`
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Errorf("ids = %v", got)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	h := New(newFakeDB(), Config{TableName: testTable})
	body := []byte(`{"operation":"read","payload":{"Key":{"id":"x"}}}`)

	lctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req"})
	if _, out := h.Do(lctx, body, ""); !bytes.Contains(out, []byte(`"requestId":"lambda-req"`)) {
		t.Errorf("Lambda context id not used: %s", out)
	}
	if _, out := h.Do(lctx, body, "given"); !bytes.Contains(out, []byte(`"requestId":"given"`)) {
		t.Errorf("explicit id not used: %s", out)
	}
	_, a := h.Do(context.Background(), body, "")
	_, b := h.Do(context.Background(), body, "")
	var ea, eb errorBody
	if json.Unmarshal(a, &ea) != nil || json.Unmarshal(b, &eb) != nil || ea.RequestID == "" || ea.RequestID == eb.RequestID {
		t.Errorf("generated ids %q and %q must be non-empty and distinct", ea.RequestID, eb.RequestID)
	}
}

func TestPanicIsLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := newFakeDB()
	f.getFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { panic("boom") }
	h := New(f, Config{TableName: testTable, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	status, _ := h.Do(context.Background(), []byte(`{"operation":"read","payload":{"Key":{"id":"x"}}}`), "rid")
	if status != 500 || !strings.Contains(logs.String(), `"requestId":"rid"`) || !strings.Contains(logs.String(), "boom") {
		t.Errorf("status %d, logs %s", status, logs.String())
	}
}

func TestInternalErrorIsLoggedWithoutItemData(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := newFakeDB()
	f.putFn = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return nil, errors.New("connection reset")
	}
	h := New(f, Config{TableName: testTable, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	status, _ := h.Do(context.Background(), []byte(`{"operation":"create","payload":{"Item":{"id":"x","secret":"hunter2"}}}`), "rid")
	if status != 500 || !strings.Contains(logs.String(), "connection reset") || strings.Contains(logs.String(), "hunter2") {
		t.Errorf("status %d, logs %s", status, logs.String())
	}
}

func proxyEvent(body string, b64 bool) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource: "/DynamoDBManager", Path: "/DynamoDBManager", HTTPMethod: "POST",
		Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "apigw-req", Stage: "prod"},
	}
}

func TestHandleProxy(t *testing.T) {
	t.Parallel()
	h := New(newFakeDB(item("1", "Bob")), Config{TableName: testTable})
	read := `{"operation":"read","payload":{"Key":{"id":"1"}}}`
	cases := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		body   string
	}{
		{"plain", proxyEvent(read, false), 200, `{"Item":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"apigw-req"}}`},
		{"base64", proxyEvent(base64.StdEncoding.EncodeToString([]byte(read)), true), 200, `{"Item":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"apigw-req"}}`},
		{"bad base64", proxyEvent("!!!", true), 400, `{"error":{"code":"BadRequest","message":"request body: isBase64Encoded is true but the body is not valid base64"},"requestId":"apigw-req"}`},
		{"base64 too large", proxyEvent(strings.Repeat("A", base64.StdEncoding.EncodedLen(wire.MaxBodyBytes)+4), true), 413, ""},
		{"empty body", proxyEvent("", false), 400, `{"error":{"code":"BadRequest","message":"request body: empty"},"requestId":"apigw-req"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := h.HandleProxy(context.Background(), &tc.req)
			if resp.StatusCode != tc.status || resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("status %d headers %v, want %d with JSON content type", resp.StatusCode, resp.Headers, tc.status)
			}
			if tc.body != "" && resp.Body != tc.body {
				t.Errorf("body = %s\nwant %s", resp.Body, tc.body)
			}
		})
	}
}

func TestInvoke(t *testing.T) {
	t.Parallel()
	h := New(newFakeDB(item("1", "Bob")), Config{TableName: testTable})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req"})
	proxy, err := json.Marshal(proxyEvent(`{"operation":"ping"}`, false))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, event, want string
	}{
		{"proxy event", string(proxy), `{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"\"pong\""}`},
		{"proxy event error", `{"httpMethod":"POST","requestContext":{"requestId":"p1"},"body":"{}"}`,
			`{"statusCode":400,"headers":{"Content-Type":"application/json"},"body":"{\"error\":{\"code\":\"BadRequest\",\"message\":\"operation: required, one of create, read, update, delete, list, echo, ping\"},\"requestId\":\"p1\"}"}`},
		{"proxy event without request id", `{"httpMethod":"POST","body":"{\"operation\":\"read\",\"payload\":{\"Key\":{\"id\":\"1\"}}}"}`,
			`{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"Item\":{\"id\":\"1\",\"name\":\"Bob\"},\"ResponseMetadata\":{\"HTTPStatusCode\":200,\"RequestId\":\"lambda-req\"}}"}`},
		{"malformed proxy event", `{"httpMethod":"POST","requestContext":{"requestId":"p2"},"body":5}`,
			`{"statusCode":400,"headers":{"Content-Type":"application/json"},"body":"{\"error\":{\"code\":\"BadRequest\",\"message\":\"event: has httpMethod or requestContext but is not a valid API Gateway proxy event\"},\"requestId\":\"p2\"}"}`},
		{"direct echo", `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`, `{"somekey1":"somevalue1","somekey2":"somevalue2"}`},
		{"direct error is the body", `{"operation":"read","payload":{"Key":{"id":"2"}}}`, `{"error":{"code":"NotFound","message":"read: no item with this id"},"requestId":"lambda-req"}`},
		{"direct with body key is not proxy", `{"operation":"ping","body":"x"}`, `{"error":{"code":"BadRequest","message":"request body: unknown key \"body\" (accepted: operation, tableName, payload)"},"requestId":"lambda-req"}`},
		{"direct not JSON", `nope`, `{"error":{"code":"BadRequest","message":"malformed JSON at byte 2: invalid character 'o' in literal null (expecting 'u')"},"requestId":"lambda-req"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := h.Invoke(ctx, []byte(tc.event))
			if err != nil {
				t.Fatalf("Invoke error: %v", err)
			}
			if string(out) != tc.want {
				t.Errorf("Invoke =\n%s\nwant\n%s", out, tc.want)
			}
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Errorf("not JSON: %v", err)
			}
		})
	}
}

func TestProxyResponseDecodes(t *testing.T) {
	t.Parallel()
	b := appendProxyResponse(nil, 404, corsHeaders{}, []byte("{\"a\":\"\u2028\\\"x\"}"))
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || resp.Body != "{\"a\":\"\u2028\\\"x\"}" || resp.Headers["Content-Type"] != "application/json" {
		t.Errorf("decoded %+v", resp)
	}
}

func TestClassifyStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err    error
		status int
	}{
		{&Error{Status: 403, Code: CodeForbidden}, 403},
		{errNotFound, http.StatusNotFound},
		{fmt.Errorf("wrapped: %w", errConditionFailed), http.StatusConflict},
		{ccf(nil), http.StatusConflict},
		{apiErr("ValidationException", "Item size has exceeded the maximum allowed size"), 413},
		{apiErr("ValidationException", "The provided key element does not match the schema"), 400},
		{&types.ThrottlingException{}, 429},
		{apiErr("ThrottlingException", "x"), 429},
		{&types.ResourceNotFoundException{}, 500},
		{context.DeadlineExceeded, 500},
		{nil, 500},
	}
	for _, tc := range cases {
		if got := classify(OpRead, tc.err, "r").Status; got != tc.status {
			t.Errorf("classify(%v) = %d, want %d", tc.err, got, tc.status)
		}
	}
}

// The caller's update/delete condition is joined to attribute_exists with
// exactly one pair of parentheses: DynamoDB refuses redundant ones, so a
// condition the caller already enclosed is not wrapped again.
func TestWithExistsParentheses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"n = :v", "attribute_exists(#ddbops_id) AND (n = :v)"},
		{"(n = :v)", "attribute_exists(#ddbops_id) AND (n = :v)"},
		{"  (n = :v) ", "attribute_exists(#ddbops_id) AND (n = :v)"},
		{"(a = :x) AND (b = :y)", "attribute_exists(#ddbops_id) AND ((a = :x) AND (b = :y))"},
		{"(attribute_exists(a))", "attribute_exists(#ddbops_id) AND (attribute_exists(a))"},
		{"attribute_exists(a)", "attribute_exists(#ddbops_id) AND (attribute_exists(a))"},
		{"(a = :x) OR b = :y", "attribute_exists(#ddbops_id) AND ((a = :x) OR b = :y)"},
	} {
		in := tc.in
		names, got := withExists(nil, &in)
		if got != tc.want {
			t.Errorf("withExists(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if names[ReservedIDName] != "id" {
			t.Errorf("withExists(%q): names %v lack %s", tc.in, names, ReservedIDName)
		}
	}
	if _, got := withExists(nil, nil); got != "attribute_exists(#ddbops_id)" {
		t.Errorf("no condition: %q", got)
	}
}
