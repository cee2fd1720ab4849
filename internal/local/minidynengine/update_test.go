package minidynengine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// updateCase is one UpdateItem on item "u" of a fresh table holding item
// (none when ""), with what DynamoDB leaves stored and answers. Unless a
// case says otherwise, the expectations are DynamoDB's as scylladb's
// test/alternator/test_update_expression.py and test_returnvalues.py
// check them against DynamoDB.
type updateCase struct {
	name    string
	item    string // the stored item without its id, "" for none
	expr    string
	names   map[string]string
	values  string // plain JSON object
	cond    string
	ret     ddbtypes.ReturnValue
	want    string // the stored item after, without its id; "" for none
	attrs   string // the Attributes answered ("" for none)
	wantErr string // an error containing this; nothing is changed
}

func withID(t testing.TB, js string) string {
	t.Helper()
	if js == "" {
		return ""
	}
	m := doc(t, js)
	m[wire.KeyAttribute] = &ddbtypes.AttributeValueMemberS{Value: "u"}
	return plain(m)
}

func (tt updateCase) run(t *testing.T) {
	t.Helper()
	e := testEngine(t)
	if tt.item != "" {
		e.mustPut(t, withID(t, tt.item))
	}
	before := e.stored(t, "u")
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(testTable),
		Key:                       idKey("u"),
		UpdateExpression:          optString(tt.expr),
		ConditionExpression:       optString(tt.cond),
		ExpressionAttributeNames:  tt.names,
		ExpressionAttributeValues: doc(t, tt.values),
		ReturnValues:              tt.ret,
	}
	out, err := e.UpdateItem(context.Background(), in)
	if tt.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v; want an error with %q", tt.name, err, tt.wantErr)
		}
		if after := e.stored(t, "u"); after != before {
			t.Errorf("%s: the failed update changed the item: %s → %s", tt.name, before, after)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", tt.name, err)
		return
	}
	if got, want := e.stored(t, "u"), withID(t, tt.want); got != want {
		t.Errorf("%s: stored %s, want %s", tt.name, got, want)
	}
	if got, want := plain(out.Attributes), canon(t, tt.attrs); got != want {
		t.Errorf("%s: Attributes %s, want %s", tt.name, got, want)
	}
	if len(e.table.SortedKeys) != len(e.table.Data) {
		t.Errorf("%s: %d sorted keys for %d items", tt.name, len(e.table.SortedKeys), len(e.table.Data))
	}
}

func runUpdateCases(t *testing.T, cases []updateCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

func TestUpdateSet(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "new item", expr: "SET b = :v", values: `{":v":4}`, want: `{"b":4}`},
		{name: "several", expr: "SET x = :v, y = :v", values: `{":v":4}`, want: `{"x":4,"y":4}`},
		{name: "merge", item: `{"a":"hi"}`, expr: "SET b = :v", values: `{":v":"hello"}`, want: `{"a":"hi","b":"hello"}`},
		{name: "copy", item: `{"a":"hello"}`, expr: "SET b = a", want: `{"a":"hello","b":"hello"}`},
		{name: "copy missing", item: `{"a":"hello"}`, expr: "SET c = z", wantErr: "The provided expression refers to an attribute that does not exist in the item"},
		{name: "copy missing of missing item", expr: "SET c = z", wantErr: "does not exist in the item"},
		{name: "operands read the old item", item: `{"a":1}`, expr: "SET x = :v, y = x", values: `{":v":4}`, wantErr: "does not exist in the item"},
		{name: "self", item: `{"a":"hello"}`, expr: "SET a = a", want: `{"a":"hello"}`},
		{name: "names both sides", item: `{"a":"hello"}`, expr: "SET #one = #two", names: map[string]string{"#one": "c", "#two": "a"}, want: `{"a":"hello","c":"hello"}`},
		{name: "dot in a name is literal", expr: "SET #a = :v", names: map[string]string{"#a": "a.b"}, values: `{":v":3}`, want: `{"a.b":3}`},
		{name: "case of SET", item: `{"b":1}`, expr: "sEt b = :v", values: `{":v":5}`, want: `{"b":5}`},
		{name: "whitespace", expr: "  set   b=:v  ", values: `{":v":5}`, want: `{"b":5}`},
		{name: "empty values", expr: "SET d = :l, e = :m, f = :s", values: `{":l":[],":m":{},":s":""}`, want: `{"d":[],"e":{},"f":""}`},
		{name: "nested", item: `{"a":{"b":3,"c":4},"d":5}`, expr: "SET a.c = :v", values: `{":v":7}`, want: `{"a":{"b":3,"c":7},"d":5}`},
		{name: "nested new key", item: `{"a":{"b":3}}`, expr: "SET a.d = :v", values: `{":v":3}`, want: `{"a":{"b":3,"d":3}}`},
		{name: "nested other type", item: `{"a":{"b":3,"c":{"one":1}}}`, expr: "SET a.c = :v", values: `{":v":7}`, want: `{"a":{"b":3,"c":7}}`},
		{name: "list element", item: `{"a":["one","two","three"]}`, expr: "SET a[1] = :v", values: `{":v":"hello"}`, want: `{"a":["one","hello","three"]}`},
		{name: "deep", item: `{"a":{"b":3,"c":["hi",{"x":{"y":[3,5,7]}}]}}`, expr: "SET a.c[1].#name.y[1] = :v",
			names: map[string]string{"#name": "x"}, values: `{":v":9}`, want: `{"a":{"b":3,"c":["hi",{"x":{"y":[3,9,7]}}]}}`},
		{name: "deep read", item: `{"a":{"b":3,"c":{"x":7,"y":8}},"d":5}`, expr: "SET z = a.c.x", want: `{"a":{"b":3,"c":{"x":7,"y":8}},"d":5,"z":7}`},
		{name: "past the end appends", item: `{"a":["one","two","three"]}`, expr: "SET a[7] = :v", values: `{":v":"hello"}`, want: `{"a":["one","two","three","hello"]}`},
		{name: "past the end in index order", item: `{"a":["one"]}`, expr: "SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4",
			values: `{":a1":"a1",":a2":"a2",":a3":"a3",":a4":"a4"}`, want: `{"a":["one","a3","a2","a4","a1"]}`},
		{name: "several nested", item: `{"a":{"x":3,"y":4,"c":{"y":3}},"b":{"x":1,"y":2}}`, expr: "SET a.b = :v1, a.c.d = :v2, b.x = :v3 REMOVE a.x, b.y",
			values: `{":v1":10,":v2":"dog",":v3":17}`, want: `{"a":{"y":4,"b":10,"c":{"y":3,"d":"dog"}},"b":{"x":17}}`},
		{name: "bad path: scalar parent", item: `{"a":"hello","b":["hi"]}`, expr: "SET a.c = :v", values: `{":v":7}`, wantErr: "The document path provided in the update expression is invalid for update"},
		{name: "bad path: list parent", item: `{"a":"hello","b":["hi"]}`, expr: "SET b.c = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "bad path: missing parent", item: `{"a":"hello"}`, expr: "SET c.c = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "bad path: missing item", expr: "SET c.c = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "bad path: index of a scalar", item: `{"a":"hello"}`, expr: "SET a[0] = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "bad path: index of missing", item: `{"a":"hello"}`, expr: "SET b[0] = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "bad path: past the end, nested", item: `{"a":[1]}`, expr: "SET a[5].b = :v", values: `{":v":7}`, wantErr: "document path"},
		{name: "empty set value", expr: "SET a = :v", values: `{":v":{"$SS":[]}}`, wantErr: "may not be empty"},
	})
}

func TestUpdateArithmetic(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "values", expr: "SET b = :a + :b", values: `{":a":4,":b":3}`, want: `{"b":7}`},
		{name: "minus", expr: "SET b = :a - :b", values: `{":a":5,":b":2}`, want: `{"b":3}`},
		{name: "read modify write", item: `{"a":2}`, expr: "SET a = a + :v", values: `{":v":3}`, want: `{"a":5}`},
		{name: "value first", item: `{"a":5}`, expr: "SET a = :v + a", values: `{":v":4}`, want: `{"a":9}`},
		{name: "two attributes", item: `{"a":9,"b":10}`, expr: "SET a = b + a", want: `{"a":19,"b":10}`},
		{name: "names", item: `{"n":2}`, expr: "SET #nn = :seven - #n", names: map[string]string{"#nn": "nn", "#n": "n"},
			values: `{":seven":7}`, want: `{"n":2,"nn":5}`},
		// Exact decimal arithmetic, not float64 (minidyn's 12345678901234567000
		// and 0.30000000000000004).
		{name: "big integer", item: `{"big":12345678901234567890}`, expr: "SET big = big + :one", values: `{":one":1}`,
			ret: ddbtypes.ReturnValueUpdatedNew, want: `{"big":12345678901234567891}`, attrs: `{"big":12345678901234567891}`},
		{name: "decimal", item: `{"t":0.1}`, expr: "SET t = t + :v", values: `{":v":0.2}`, want: `{"t":0.3}`},
		{name: "23 digits", expr: "SET b = :a + :b", values: `{":a":1,":b":10000000000000000000000}`, want: `{"b":10000000000000000000001}`},
		{name: "canonical result", item: `{"a":1.25}`, expr: "SET a = a - :v", values: `{":v":0.25}`, want: `{"a":1}`},
		{name: "negative zero", expr: "SET a = :v - :v", values: `{":v":0.5}`, want: `{"a":0}`},
		{name: "like ADD", expr: "SET a = if_not_exists(a, :zero) + :v", values: `{":zero":0,":v":7}`, want: `{"a":7}`},
		{name: "like ADD, existing", item: `{"a":49}`, expr: "SET a = if_not_exists(a, :zero) + :v", values: `{":zero":0,":v":3}`, want: `{"a":52}`},
		// Untouched numbers keep every digit.
		{name: "other numbers untouched", item: `{"big":12345678901234567890,"pi":3.14159265358979323846,"l":[0.1,99999999999999999999]}`,
			expr: "SET s = :s", values: `{":s":"x"}`, want: `{"big":12345678901234567890,"pi":3.14159265358979323846,"l":[0.1,99999999999999999999],"s":"x"}`},
		{name: "missing operand", item: `{"a":1}`, expr: "SET b = b + :v", values: `{":v":7}`, wantErr: "does not exist in the item"},
		{name: "missing operand, missing item", expr: "SET b = b + :v", values: `{":v":7}`, wantErr: "does not exist in the item"},
		{name: "string value", expr: "SET b = :a + :b", values: `{":a":"dog",":b":3}`, wantErr: "Incorrect operand type for operator or function; operator or function: +, operand type: STRING"},
		{name: "list values", expr: "SET b = :a + :b", values: `{":a":["a"],":b":["1"]}`, wantErr: "Incorrect operand type"},
		{name: "string attribute", item: `{"s":"x"}`, expr: "SET b = s + :v", values: `{":v":3}`, wantErr: "An operand in the update expression has an incorrect data type"},
		{name: "three operands", expr: "SET b = :a + :b + :c", values: `{":a":4,":b":3,":c":2}`, wantErr: "Syntax error"},
		{name: "inside a function", expr: "SET c = if_not_exists(c, :a+:b)", values: `{":a":5,":b":4}`, wantErr: "Syntax error"},
		{name: "overflow", expr: "SET b = :a + :b", values: `{":a":9e125,":b":9e125}`, wantErr: msgNumberOverflow},
		{name: "more than 38 digits", expr: "SET b = :a - :b", values: `{":a":1e50,":b":1}`, wantErr: msgNumberOverflow},
		{name: "value out of range", expr: "SET b = :a", values: `{":a":1e126}`, wantErr: "ExpressionAttributeValues contains invalid value: " + msgNumberOverflow + " for key :a"},
		{name: "value too precise", expr: "SET b = :a", values: `{":a":3.14159265358979323846264338327950288419}`, wantErr: msgNumberPrecision},
		{name: "values stored canonical", expr: "SET a = :a, b = :b, c = :c", values: `{":a":1e3,":b":1.50,":c":-0}`, want: `{"a":1000,"b":1.5,"c":0}`},
	})
}

func TestUpdateFunctions(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "list_append values", expr: "SET a = list_append(:a, :b)", values: `{":a":[4,"hello"],":b":["hi",7]}`, want: `{"a":[4,"hello","hi",7]}`},
		{name: "list_append path first", item: `{"a":["hi",2]}`, expr: "SET a = list_append(a, :v)", values: `{":v":[4,"hello"]}`, want: `{"a":["hi",2,4,"hello"]}`},
		{name: "list_append path second", item: `{"a":["hi"]}`, expr: "SET a = list_append(:v, a)", values: `{":v":["dog"]}`, want: `{"a":["dog","hi"]}`},
		{name: "list_append two paths", item: `{"a":[1],"b":[2]}`, expr: "SET c = list_append(a, b)", want: `{"a":[1],"b":[2],"c":[1,2]}`},
		{name: "list_append empty", item: `{"b":[]}`, expr: "SET a = list_append(b, :v)", values: `{":v":["x"]}`, want: `{"a":["x"],"b":[]}`},
		{name: "list_append if_not_exists", expr: "SET a = list_append(if_not_exists(a, :e), :v)", values: `{":e":["a"],":v":["b"]}`, want: `{"a":["a","b"]}`},
		{name: "list_append missing", item: `{"a":2}`, expr: "SET a = list_append(b, :v)", values: `{":v":[1]}`, wantErr: "does not exist in the item"},
		{name: "list_append of a string", item: `{"b":"hello"}`, expr: "SET a = list_append(b, :v)", values: `{":v":[1]}`, wantErr: "incorrect data type"},
		{name: "list_append of a map", item: `{"b":{"a":3}}`, expr: "SET a = list_append(:v, b)", values: `{":v":[1]}`, wantErr: "incorrect data type"},
		{name: "list_append of a string value", expr: "SET a = list_append(:a, :b)", values: `{":a":[4],":b":"hi"}`, wantErr: "operator or function: list_append, operand type: STRING"},
		{name: "list_append one argument", expr: "SET a = list_append(:a)", values: `{":a":["a"]}`, wantErr: "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"},
		{name: "list_append three arguments", expr: "SET a = list_append(:a, :a, :a)", values: `{":a":["a"]}`, wantErr: "number of operands: 3"},
		{name: "list_append nested", expr: "SET a = list_append(list_append(:a, :b), :c)", values: `{":a":["a"],":b":["1"],":c":["hi"]}`,
			wantErr: "The function is not allowed to be used this way in an expression; function: list_append"},
		{name: "function names are case-sensitive", expr: "SET a = LIST_APPEND(:a, :b)", values: `{":a":[1],":b":[2]}`, wantErr: "Invalid function name; function: LIST_APPEND"},
		{name: "unknown function", expr: "SET a = f123_hi(b, c, d)", wantErr: "Invalid function name; function: f123_hi"},
		{name: "function name with underscore first", expr: "SET a = _f(b, c)", wantErr: "Syntax error"},
		{name: "if_not_exists missing", expr: "SET a = if_not_exists(a, :v)", values: `{":v":2}`, want: `{"a":2}`},
		{name: "if_not_exists present", item: `{"a":2}`, expr: "SET a = if_not_exists(a, :v)", values: `{":v":3}`, want: `{"a":2}`},
		{name: "if_not_exists other attribute", item: `{"a":2}`, expr: "SET b = if_not_exists(a, :v)", values: `{":v":6}`, want: `{"a":2,"b":2}`},
		{name: "if_not_exists nested", item: `{"a":3}`, expr: "SET x = if_not_exists(b, if_not_exists(a, :v))", values: `{":v":4}`, want: `{"a":3,"x":3}`},
		{name: "if_not_exists plus", item: `{"b":2}`, expr: "SET b = if_not_exists(b, :a)+:b", values: `{":a":7,":b":3}`, want: `{"b":5}`},
		{name: "if_not_exists of a value", expr: "SET b = if_not_exists(:a, :b)", values: `{":a":6,":b":3}`, wantErr: "Operator or function requires a document path; operator or function: if_not_exists"},
		{name: "if_not_exists of a function", item: `{"a":1}`, expr: "SET b = if_not_exists(if_not_exists(a, :a), :b)", values: `{":a":6,":b":3}`, wantErr: "requires a document path"},
		{name: "if_not_exists of nonsense", expr: "SET b = if_not_exists(non@sense, :v)", values: `{":v":6}`, wantErr: "Syntax error"},
	})
}

func TestUpdateRemoveAddDelete(t *testing.T) {
	t.Parallel()
	runUpdateCases(t, []updateCase{
		{name: "remove", item: `{"a":"hello","b":"hi"}`, expr: "REMOVE a", want: `{"b":"hi"}`},
		{name: "remove several", item: `{"a":1,"b":2,"c":3}`, expr: "REMOVE a, c", want: `{"b":2}`},
		{name: "remove and set", item: `{"a":1}`, expr: "REMOVE a SET b = :v", values: `{":v":3}`, want: `{"b":3}`},
		{name: "remove reads first", item: `{"a":"hello"}`, expr: "REMOVE a SET b = a", want: `{"b":"hello"}`},
		{name: "remove nested", item: `{"a":{"b":3,"c":["hi",{"x":{"y":[3,5,7]},"q":2}]}}`, expr: "REMOVE a.c[1].x.y[1], a.c[1].q",
			want: `{"a":{"b":3,"c":["hi",{"x":{"y":[3,7]}}]}}`},
		{name: "remove list elements by their old index", item: `{"a":[2,3,4,5,6,7]}`, expr: "REMOVE a[1] SET a[3] = :v", values: `{":v":17}`, want: `{"a":[2,4,17,6,7]}`},
		{name: "remove list elements, order irrelevant", item: `{"a":[2,3,4,5,6,7]}`, expr: "SET a[3] = :v REMOVE a[1]", values: `{":v":17}`, want: `{"a":[2,4,17,6,7]}`},
		{name: "remove two list elements", item: `{"a":[0,1,2,3]}`, expr: "REMOVE a[2], a[0]", want: `{"a":[1,3]}`},
		{name: "remove leaves an empty map", item: `{"a":{"b":1}}`, expr: "REMOVE a.b", want: `{"a":{}}`},
		{name: "remove leaves an empty list", item: `{"a":[1]}`, expr: "REMOVE a[0]", want: `{"a":[]}`},
		{name: "remove past the end", item: `{"a":[4,5,6]}`, expr: "REMOVE a[17]", want: `{"a":[4,5,6]}`},
		{name: "remove missing leaves", item: `{"a":{"x":3},"b":["hi"]}`, expr: "REMOVE a.y, b[7], c", want: `{"a":{"x":3},"b":["hi"]}`},
		{name: "remove from missing item", expr: "REMOVE x.y, z", want: ``},
		{name: "remove index from missing item", expr: "REMOVE x[0]", want: ``},
		{name: "remove through a scalar", item: `{"a":"hello"}`, expr: "REMOVE a.c", wantErr: "document path"},
		{name: "remove through a missing attribute", item: `{"a":"hello"}`, expr: "REMOVE c.c", wantErr: "document path"},
		{name: "remove index of a scalar", item: `{"a":"hello"}`, expr: "REMOVE a[0]", wantErr: "document path"},
		{name: "add number", item: `{"a":3,"b":"hi"}`, expr: "ADD a :v", values: `{":v":4}`, want: `{"a":7,"b":"hi"}`},
		{name: "add number exactly", item: `{"a":0.1}`, expr: "ADD a :v", values: `{":v":0.2}`, want: `{"a":0.3}`},
		{name: "add new number", item: `{"a":"hello"}`, expr: "ADD b :v", values: `{":v":7}`, want: `{"a":"hello","b":7}`},
		{name: "add creates the item", expr: "ADD b :v", values: `{":v":8}`, want: `{"b":8}`},
		{name: "add canonical", expr: "ADD b :v", values: `{":v":8.0}`, want: `{"b":8}`},
		{name: "add a string", item: `{"a":3}`, expr: "ADD a :v", values: `{":v":"hello"}`, wantErr: "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{name: "add to a string", item: `{"b":"hi"}`, expr: "ADD b :v", values: `{":v":1}`, wantErr: "incorrect data type"},
		{name: "add a list", item: `{"a":[1,2]}`, expr: "ADD a :v", values: `{":v":[3,4]}`, wantErr: "operand type: LIST"},
		{name: "add a set to a list", item: `{"a":[1,2]}`, expr: "ADD a :v", values: `{":v":{"$NS":[3,4]}}`, wantErr: "incorrect data type"},
		{name: "add to a set", item: `{"a":{"$SS":["dog","cat","mouse"]}}`, expr: "ADD a :v", values: `{":v":{"$SS":["pig"]}}`, want: `{"a":{"$SS":["dog","cat","mouse","pig"]}}`},
		{name: "add to a set without duplicates", item: `{"a":{"$SS":["beaver","lynx","coati"]}}`, expr: "ADD a :v",
			values: `{":v":{"$SS":["coati","beaver","badger"]}}`, want: `{"a":{"$SS":["beaver","lynx","coati","badger"]}}`},
		{name: "add to a number set, numerically", item: `{"ns":{"$NS":[1,2,3]}}`, expr: "ADD ns :v", values: `{":v":{"$NS":["1.0","2.00","4"]}}`,
			want: `{"ns":{"$NS":[1,2,3,4]}}`},
		{name: "add a new set", item: `{"a":"hello"}`, expr: "ADD b :v", values: `{":v":{"$SS":["dog"]}}`, want: `{"a":"hello","b":{"$SS":["dog"]}}`},
		{name: "add an empty set", expr: "ADD b :v", values: `{":v":{"$NS":[]}}`, wantErr: "An number set  may not be empty"},
		{name: "add a set of another type", item: `{"a":{"$SS":["x"]}}`, expr: "ADD a :v", values: `{":v":{"$NS":[1]}}`, wantErr: "incorrect data type"},
		{name: "delete", item: `{"a":{"$SS":["dog","cat","mouse"]},"b":"hi"}`, expr: "DELETE a :v", values: `{":v":{"$SS":["cat","mouse"]}}`, want: `{"a":{"$SS":["dog"]},"b":"hi"}`},
		{name: "delete absent element", item: `{"a":{"$SS":["dog"]}}`, expr: "DELETE a :v", values: `{":v":{"$SS":["pig"]}}`, want: `{"a":{"$SS":["dog"]}}`},
		{name: "delete the last element", item: `{"a":{"$SS":["dog"]},"b":"hi"}`, expr: "DELETE a :v", values: `{":v":{"$SS":["dog"]}}`, want: `{"b":"hi"}`},
		{name: "delete from missing", item: `{"b":"hi"}`, expr: "DELETE a :v", values: `{":v":{"$SS":["dog"]}}`, want: `{"b":"hi"}`},
		{name: "delete numerically", item: `{"ns":{"$NS":["10.0",20,30]}}`, expr: "DELETE ns :v", values: `{":v":{"$NS":[10,"2e1"]}}`, want: `{"ns":{"$NS":[30]}}`},
		{name: "delete binary", item: `{"bs":{"$BS":["AQ==","Ag=="]}}`, expr: "DELETE bs :v", values: `{":v":{"$BS":["AQ=="]}}`, want: `{"bs":{"$BS":["Ag=="]}}`},
		{name: "delete a string", item: `{"a":{"$SS":["dog"]}}`, expr: "DELETE a :v", values: `{":v":"hello"}`, wantErr: "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING"},
		{name: "delete an empty set", item: `{"a":{"$SS":["dog"]}}`, expr: "DELETE a :v", values: `{":v":{"$SS":[]}}`, wantErr: "may not be empty"},
		{name: "delete from a string", item: `{"a":"dog"}`, expr: "DELETE a :v", values: `{":v":{"$SS":["dog"]}}`, wantErr: "incorrect data type"},
		{name: "delete from missing item", expr: "DELETE a :v", values: `{":v":{"$SS":["dog"]}}`, want: ``},
		{name: "add path, not value", item: `{"a":1,"b":2}`, expr: "ADD a b", wantErr: "Syntax error"},
	})
}

func TestUpdateRefusals(t *testing.T) {
	t.Parallel()
	cases := []updateCase{
		{name: "empty", expr: " ", wantErr: "Invalid UpdateExpression: The expression can not be empty;"},
		{name: "unknown clause", expr: "HELLO b = :v", values: `{":v":4}`, wantErr: "Syntax error"},
		{name: "set twice", expr: "SET a = :v SET b = :v", values: `{":v":1}`, wantErr: `The "SET" section can only be used once in an update expression;`},
		{name: "set twice around remove", item: `{"a":1}`, expr: "SET a = :v REMOVE a SET b = :v", values: `{":v":1}`, wantErr: "can only be used once"},
		{name: "set and remove the same", item: `{"a":"hello"}`, expr: "REMOVE a SET a = :v", values: `{":v":"hi"}`,
			wantErr: "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{name: "set the same twice", expr: "SET a = :v1, a = :v2", values: `{":v1":"yo",":v2":"he"}`, wantErr: "overlap"},
		{name: "same after names", expr: "SET #a1 = :v1, #a2 = :v2", names: map[string]string{"#a1": "a", "#a2": "a"}, values: `{":v1":"yo",":v2":"he"}`, wantErr: "overlap"},
		{name: "conflict", expr: "SET a.b = :v1, a[1] = :v2", values: `{":v1":2,":v2":"x"}`,
			wantErr: "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"},
		{name: "conflict deeper", expr: "SET a.b.c = :v1, a.b[2] = :v2", values: `{":v1":2,":v2":"x"}`, wantErr: "conflict"},
		{name: "key SET", expr: "SET id = :v", values: `{":v":"x"}`, wantErr: "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key"},
		{name: "key REMOVE", item: `{"a":1}`, expr: "REMOVE id", wantErr: "part of the key"},
		{name: "key ADD", expr: "ADD #k :v", names: map[string]string{"#k": "id"}, values: `{":v":1}`, wantErr: "part of the key"},
		{name: "key nested", expr: "SET id.x = :v", values: `{":v":1}`, wantErr: "part of the key"},
		{name: "reserved word", expr: "SET name = :v", values: `{":v":"x"}`, wantErr: "Attribute name is a reserved keyword; reserved keyword: name"},
		{name: "name starting with _", expr: "SET _123 = :v", values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "name starting with a digit", expr: "SET 123a = :v", values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "digits", expr: "SET 123 = :v", values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "minus in a name", expr: "SET hi-there = :v", values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "dollar in a name", expr: "SET hi$there = :v", values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "quoted name", expr: `SET "hithere" = :v`, values: `{":v":3}`, wantErr: "Syntax error"},
		{name: "lone #", expr: "SET # = :v", names: map[string]string{"#a": "x"}, values: `{":v":7}`, wantErr: "Syntax error"},
		{name: "lone :", expr: "SET a = :", values: `{":a":7}`, wantErr: "Syntax error"},
		{name: "value on the left", expr: "SET :a = :b", values: `{":a":1,":b":2}`, wantErr: "Syntax error"},
		{name: "value as an index", item: `{"a":["one"]}`, expr: "SET a[:x] = :v", values: `{":v":"hello",":x":1}`, wantErr: "Syntax error"},
		{name: "name as an index", item: `{"a":["one"]}`, expr: "SET a[#x] = :v", names: map[string]string{"#x": "x"}, values: `{":v":"hello"}`, wantErr: "Syntax error"},
		{name: "trailing comma", expr: "SET a = :v,", values: `{":v":1}`, wantErr: "Syntax error"},
		{name: "undefined value", item: `{"a":1}`, expr: "SET a = :missing",
			wantErr: "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :missing"},
		{name: "undefined name", expr: "SET #name = :v", names: map[string]string{"#wrong": "x"}, values: `{":v":4}`, wantErr: "attribute name: #name"},
		{name: "unused value", expr: "SET a = :v", values: `{":v":3,":w":4}`, wantErr: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"},
		{name: "unused name", expr: "SET #a = :v", names: map[string]string{"#a": "hello", "#b": "hi"}, values: `{":v":3}`,
			wantErr: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"},
		{name: "failed condition", item: `{"a":1}`, expr: "SET a = :v", cond: "a = :old", values: `{":v":2,":old":5}`, wantErr: "conditional request failed"},
		{name: "invalid condition", item: `{"a":1}`, expr: "SET a = :v", cond: "a = = :v", values: `{":v":2}`, wantErr: "Syntax error"},
	}
	// Every dotted or indexed path overlapping another.
	for _, expr := range []string{"SET a = :val1, a.b = :val2", "SET a.b = :val1, a = :val2", "SET a.b = :val1, a.b = :val2",
		"SET a.b = :val1, a.b.c = :val2", "SET a.b.c = :val1, a.b = :val2", "SET a.b.c = :val1, a.b.c = :val2",
		"SET a.b = :val1, a.b.c.d.e = :val2", "SET a.b.c.d.e = :val1, a.b = :val2", "SET a = :val1, a[1] = :val2",
		"SET a[1] = :val1, a = :val2", "SET a[1] = :val1, a[1] = :val2", "SET a[1][1] = :val1, a[1] = :val2",
		"SET a[1] = :val1, a[1][1] = :val2", "SET a[1][1] = :val1, a[1][1] = :val2", "SET a[1][1][1][1] = :val1, a[1][1] = :val2",
		"SET a[1][1] = :val1, a[1][1][1][1] = :val2", "SET a[1][1][1][1] = :val1, a[1][1][1][1] = :val2"} {
		cases = append(cases, updateCase{name: expr, expr: expr, values: `{":val1":2,":val2":"there"}`, wantErr: "overlap"})
	}
	runUpdateCases(t, cases)
}

// TestUpdateReturnValues: UPDATED_OLD and UPDATED_NEW hold only the
// updated paths (nested as in the item), ALL_OLD and ALL_NEW the whole
// item (scylladb's test_returnvalues.py, checked against DynamoDB).
func TestUpdateReturnValues(t *testing.T) {
	t.Parallel()
	const (
		old = ddbtypes.ReturnValueUpdatedOld
		new = ddbtypes.ReturnValueUpdatedNew
	)
	nested := `{"a":{"b":"dog","c":[1,2,3]},"d":"cat"}`
	runUpdateCases(t, []updateCase{
		{name: "none", item: `{"a":"hi","b":"dog"}`, expr: "SET b = :v", values: `{":v":"cat"}`, ret: ddbtypes.ReturnValueNone, want: `{"a":"hi","b":"cat"}`},
		{name: "all old", item: `{"a":"hi","b":"dog"}`, expr: "SET b = :v", values: `{":v":"cat"}`, ret: ddbtypes.ReturnValueAllOld,
			want: `{"a":"hi","b":"cat"}`, attrs: withID(t, `{"a":"hi","b":"dog"}`)},
		{name: "all old of a new item", expr: "SET b = :v", values: `{":v":"cat"}`, ret: ddbtypes.ReturnValueAllOld, want: `{"b":"cat"}`},
		{name: "updated old", item: `{"a":"hi","b":"dog"}`, expr: "SET b = :v, c = :w", values: `{":v":"cat",":w":"hello"}`, ret: old,
			want: `{"a":"hi","b":"cat","c":"hello"}`, attrs: `{"b":"dog"}`},
		{name: "updated old, same value", item: `{"b":"cat"}`, expr: "SET b = :v", values: `{":v":"cat"}`, ret: old, want: `{"b":"cat"}`, attrs: `{"b":"cat"}`},
		{name: "updated old, removed", item: `{"b":"cat"}`, expr: "REMOVE b", ret: old, want: `{}`, attrs: `{"b":"cat"}`},
		{name: "updated old, new attribute", item: `{"a":1}`, expr: "SET b = :v", values: `{":v":"cat"}`, ret: old, want: `{"a":1,"b":"cat"}`},
		{name: "updated old, one new", item: `{"b":"cat"}`, expr: "SET b = :v, d = :w", values: `{":v":"dog",":w":"lion"}`, ret: old,
			want: `{"b":"dog","d":"lion"}`, attrs: `{"b":"cat"}`},
		{name: "updated new", item: `{"a":"hi","b":"dog"}`, expr: "SET b = :v, c = :w", values: `{":v":"cat",":w":"hello"}`, ret: new,
			want: `{"a":"hi","b":"cat","c":"hello"}`, attrs: `{"b":"cat","c":"hello"}`},
		{name: "updated new, removed", item: `{"a":"hi","b":"dog"}`, expr: "REMOVE b", ret: new, want: `{"a":"hi"}`},
		{name: "updated new, set and remove", item: `{"a":"hi","b":"dog","c":1}`, expr: "SET a = :v, b = :w REMOVE c", values: `{":v":"dog",":w":"tiger"}`, ret: new,
			want: `{"a":"dog","b":"tiger"}`, attrs: `{"a":"dog","b":"tiger"}`},
		{name: "updated new, arithmetic", item: `{"a":1}`, expr: "SET a = a + :v", values: `{":v":1}`, ret: new, want: `{"a":2}`, attrs: `{"a":2}`},
		{name: "updated new of a new item", expr: "SET a = :v", values: `{":v":1}`, ret: new, want: `{"a":1}`, attrs: `{"a":1}`},
		{name: "all new", item: `{"a":"hi","b":"dog"}`, expr: "REMOVE b", ret: ddbtypes.ReturnValueAllNew, want: `{"a":"hi"}`, attrs: withID(t, `{"a":"hi"}`)},
		{name: "all new of a new item", expr: "SET b = :v", values: `{":v":"cat"}`, ret: ddbtypes.ReturnValueAllNew, want: `{"b":"cat"}`, attrs: withID(t, `{"b":"cat"}`)},
		{name: "all new, remove from missing item", expr: "REMOVE b", ret: ddbtypes.ReturnValueAllNew, want: ``},
		{name: "all new, no expression", item: `{"a":"hi"}`, ret: ddbtypes.ReturnValueAllNew, want: `{"a":"hi"}`, attrs: withID(t, `{"a":"hi"}`)},
		{name: "no expression creates", ret: ddbtypes.ReturnValueAllNew, want: `{}`, attrs: withID(t, `{}`)},
		{name: "nested all old", item: nested, expr: "SET a.b = :v", values: `{":v":"hi"}`, ret: ddbtypes.ReturnValueAllOld,
			want: `{"a":{"b":"hi","c":[1,2,3]},"d":"cat"}`, attrs: withID(t, nested)},
		{name: "nested old", item: nested, expr: "SET a.b = :v", values: `{":v":"yo"}`, ret: old, want: `{"a":{"b":"yo","c":[1,2,3]},"d":"cat"}`, attrs: `{"a":{"b":"dog"}}`},
		{name: "nested old, index", item: nested, expr: "SET a.c[1] = :v", values: `{":v":7}`, ret: old, want: `{"a":{"b":"dog","c":[1,7,3]},"d":"cat"}`, attrs: `{"a":{"c":[2]}}`},
		{name: "nested old, two", item: nested, expr: "SET a.c[1] = :v, a.b = :w", values: `{":v":8,":w":"x"}`, ret: old,
			want: `{"a":{"b":"x","c":[1,8,3]},"d":"cat"}`, attrs: `{"a":{"b":"dog","c":[2]}}`},
		{name: "nested new", item: nested, expr: "SET a.c[1] = :v, a.b = :w", values: `{":v":3,":w":"x"}`, ret: new,
			want: `{"a":{"b":"x","c":[1,3,3]},"d":"cat"}`, attrs: `{"a":{"b":"x","c":[3]}}`},
		{name: "nested old, remove past the end", item: `{"a":{"c":[1,3,3]}}`, expr: "REMOVE a.c[1], a.c[3]", ret: old, want: `{"a":{"c":[1,3]}}`, attrs: `{"a":{"c":[3]}}`},
		{name: "nested old, new key", item: nested, expr: "SET a.x1 = :v", values: `{":v":8}`, ret: old, want: `{"a":{"b":"dog","c":[1,2,3],"x1":8},"d":"cat"}`},
		{name: "nested new, new key", item: nested, expr: "SET a.x2 = :v", values: `{":v":8}`, ret: new, want: `{"a":{"b":"dog","c":[1,2,3],"x2":8},"d":"cat"}`, attrs: `{"a":{"x2":8}}`},
		{name: "nested new, appended", item: nested, expr: "SET a.c[100] = :v", values: `{":v":70}`, ret: new, want: `{"a":{"b":"dog","c":[1,2,3,70]},"d":"cat"}`},
		{name: "nested new, removed element", item: `{"a":{"c":[1,3,70]}}`, expr: "REMOVE a.c[1]", ret: new, want: `{"a":{"c":[1,70]}}`, attrs: `{"a":{"c":[70]}}`},
		{name: "condition fails, ALL_OLD", item: `{"s":"cat"}`, expr: "SET s = :v", cond: "s = :o", values: `{":v":"cow",":o":"rat"}`,
			ret: ddbtypes.ReturnValueAllOld, wantErr: "conditional request failed"},
		{name: "invalid ReturnValues", item: `{"a":1}`, expr: "SET a = :v", values: `{":v":1}`, ret: "none", wantErr: "returnValues"},
	})
}

// TestUpdateConditionFailureItem: with ReturnValuesOnConditionCheckFailure
// ALL_OLD a failed condition carries the item, if there is one.
func TestUpdateConditionFailureItem(t *testing.T) {
	t.Parallel()
	e := testEngine(t)
	upd := func(id string) error {
		_, err := e.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: aws.String(testTable), Key: idKey(id), UpdateExpression: aws.String("SET s = :v"),
			ConditionExpression:                 aws.String("s = :o"),
			ExpressionAttributeValues:           doc(t, `{":v":"cow",":o":"rat"}`),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	}
	var ccf *ddbtypes.ConditionalCheckFailedException
	if err := upd("u"); !errors.As(err, &ccf) || ccf.Item != nil {
		t.Fatalf("missing item: %v %v", err, ccf)
	}
	if e.stored(t, "u") != "" {
		t.Fatal("a failed conditional update created the item")
	}
	e.mustPut(t, `{"id":"u","s":"cat"}`)
	if err := upd("u"); !errors.As(err, &ccf) || plain(ccf.Item) != `{"id":"u","s":"cat"}` {
		t.Fatalf("existing item: %v %s", err, plain(ccf.Item))
	}
}

// TestUpdateItemSize: an update growing the item past 400 KB is refused
// with DynamoDB's message and changes nothing; one reaching exactly the
// limit is applied.
func TestUpdateItemSize(t *testing.T) {
	t.Parallel()
	e := testEngine(t)
	big := strings.Repeat("g", 300*1024)
	e.mustPut(t, fmt.Sprintf(`{"id":"grow","blob":%q,"n":12345678901234567890}`, big))
	before := e.stored(t, "grow")
	grow := func(id string, n int) error {
		_, err := e.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: aws.String(testTable), Key: idKey(id), UpdateExpression: aws.String("SET more = :m"),
			ExpressionAttributeValues: doc(t, fmt.Sprintf(`{":m":%q}`, strings.Repeat("z", n))),
		})
		return err
	}
	err := grow("grow", 120*1024)
	if apiMessage(err) != "Item size to update has exceeded the maximum allowed size" || !isValidation(err) {
		t.Fatalf("growing past 400 KB: %v", err)
	}
	if after := e.stored(t, "grow"); after != before {
		t.Fatal("the refused update changed the item")
	}
	// id "grow" (2+4) + blob (4 + 300 KB) + n (1 + 11) + more (4 + x) = 400 KB.
	exact := maxItemBytes - (2 + 4) - (4 + 300*1024) - (1 + 11) - 4
	if err := grow("grow", exact); err != nil {
		t.Fatalf("growing to exactly 400 KB: %v", err)
	}
	if err := grow("grow", exact+1); err == nil {
		t.Fatal("growing to 400 KB + 1 byte was accepted")
	}
	// A new item over the limit is not created.
	if err := grow("new", maxItemBytes); err == nil || e.stored(t, "new") != "" {
		t.Fatalf("an oversized new item: %v", err)
	}
}
