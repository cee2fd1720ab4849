package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// condItem is the item the condition tests evaluate against: one
// attribute of every type, nested documents, numbers DynamoDB compares
// exactly, strings whose UTF-8 and UTF-16 orders differ.
const condItem = `{"id":"c","n":5,"big":12345678901234567890,"dcm":0.1,
	"d38":0.12345678901234567890123456789012345678,
	"s":"hello","u":"é𝄞","e":"","w":"～","emoji":"😀","up":"B",
	"b":{"$B":"aGkgdGhlcmU="},"b127":{"$B":"fw=="},"t":true,"f":false,"nul":null,
	"l":[2,"dog",7,[3,4],{"k":"v"}],"m":{"x":1,"y":{"z":[10,20]}},"two":2,"five":5,
	"ss":{"$SS":["a","b"]},"ns":{"$NS":[1,2,3]},"bs":{"$BS":["AQ==","Ag=="]},"and":1}`

// condValues are the expression attribute values the cases may use; each
// case names those it uses (DynamoDB refuses unused ones).
var condValues = map[string]string{
	":five": `5`, ":fivef": `5.0`, ":six": `6`, ":one": `1`, ":two": `2`, ":twof": `2.0`, ":three": `3`, ":zero": `0`, ":eight": `8`, ":nine": `9`,
	":s5": `"5"`, ":s6": `"6"`, ":hello": `"hello"`, ":he": `"he"`, ":ell": `"ell"`, ":dog": `"dog"`, ":a": `"a"`, ":x": `"x"`, ":B": `"B"`,
	":big1": `12345678901234567891`, ":big0": `12345678901234567890`, ":bigf": `12345678901234567890.0`,
	":d39": `0.12345678901234567890123456789012345679`, ":tenth": `0.10`,
	":l": `[1,2]`, ":l34": `[3,4]`, ":mkv": `{"k":"v"}`, ":t": `true`, ":null": `null`,
	":tN": `"N"`, ":tS": `"S"`, ":tSS": `"SS"`, ":tNS": `"NS"`, ":tBS": `"BS"`, ":tB": `"B"`, ":tBOOL": `"BOOL"`, ":tNULL": `"NULL"`,
	":tL": `"L"`, ":tM": `"M"`, ":tdog": `"DOG"`,
	":hi": `{"$B":"aGk="}`, ":here": `{"$B":"aGVyZQ=="}`, ":b128": `{"$B":"gA=="}`, ":b126": `{"$B":"fg=="}`,
	":emoji": `"😀"`, ":ss": `{"$SS":["b","a"]}`, ":ns": `{"$NS":["3","2.0","1"]}`,
}

type condCase struct {
	expr    string
	names   map[string]string
	want    bool
	wantErr string // a ValidationException containing this
}

// evalCondition parses expr as a ConditionExpression with the
// condValues it names and names, and evaluates it against item.
func evalCondition(t *testing.T, item map[string]types.AttributeValue, tt condCase) (bool, error) {
	t.Helper()
	var js []string
	for k, v := range condValues {
		if strings.Contains(tt.expr+" ", k+" ") || strings.Contains(tt.expr, k+",") || strings.Contains(tt.expr, k+")") {
			js = append(js, fmt.Sprintf("%q:%s", k, v))
		}
	}
	var values map[string]types.AttributeValue
	if len(js) > 0 {
		values = fixture(t, "{"+strings.Join(js, ",")+"}")
	}
	ph, err := newPlaceholders(tt.names, values, true)
	if err != nil {
		return false, err
	}
	c, err := parseCondition(labelCondition, tt.expr, ph)
	if err != nil {
		return false, err
	}
	if err := ph.checkUnused(); err != nil {
		return false, err
	}
	return c.eval(item), nil
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	item := fixture(t, condItem)
	for _, tt := range cases {
		got, err := evalCondition(t, item, tt)
		switch {
		case tt.wantErr != "":
			if !isValidation(err) || !strings.Contains(message(err), tt.wantErr) {
				t.Errorf("%s: %v, %v; want a ValidationException with %q", tt.expr, got, err, tt.wantErr)
			} else if !strings.HasPrefix(message(err), "Invalid ConditionExpression: ") && !strings.Contains(message(err), "ExpressionAttribute") {
				t.Errorf("%s: message %q does not name the ConditionExpression", tt.expr, message(err))
			}
		case err != nil:
			t.Errorf("%s: %v", tt.expr, err)
		case got != tt.want:
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// Expectations are DynamoDB's, as docs/engine.md#conditions cites them.

func TestConditionComparisons(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{expr: "n = :five", want: true},
		{expr: "n = :fivef", want: true}, // numbers compare as numbers
		{expr: "n = :s5"},                // different types are never equal
		{expr: "n <> :s5", want: true},
		{expr: "n <> :five"},
		{expr: "n = five", want: true},
		{expr: ":five = n", want: true},
		{expr: ":five = :fivef", want: true},
		{expr: "nope = :five"},
		{expr: "nope <> :five", want: true}, // a nope attribute is not equal to anything
		{expr: "NOT nope = :five", want: true},
		{expr: "nope = zz"},
		{expr: "nope <> zz", want: true},
		{expr: "n < :six", want: true},
		{expr: "n <= :five", want: true},
		{expr: "n > :five"},
		{expr: "n >= :five", want: true},
		{expr: "n < :s6"}, // different types: false, not an error
		{expr: "nope < :six"},
		{expr: ":six > nope"},
		{expr: "l < :six"}, // a stored list: false
		{expr: "NOT l < :six", want: true},
		{expr: "n < :l", wantErr: "Incorrect operand type for operator or function; operator or function: <, operand type: L"},
		{expr: ":l < n", wantErr: "operand type: L"},
		{expr: "n >= :t", wantErr: "operand type: BOOL"},
		{expr: "n > :null", wantErr: "operand type: NULL"},
		{expr: "l = :l"},
		{expr: "l[3] = :l34", want: true},
		{expr: "l[4] = :mkv", want: true},
		{expr: "m.y.z[1] > m.x", want: true},
		{expr: "t = :t", want: true},
		{expr: "nul = :null", want: true},
		{expr: "ss = :ss", want: true}, // sets compare as sets
		{expr: "ns = :ns", want: true},
		// Exact numbers: 20 and 38 significant digits.
		{expr: "big = :big1"},
		{expr: "big < :big1", want: true},
		{expr: "big > :big1"},
		{expr: "big = :bigf", want: true},
		{expr: "big <> :big0"},
		{expr: "d38 < :d39", want: true},
		{expr: "d38 = :d39"},
		{expr: "dcm = :tenth", want: true},
		// Strings by UTF-8 bytes: "～" (EF BD 9E) sorts before "😀" (F0 9F
		// 98 80), the other way round in UTF-16; "B" (42) before "hello".
		{expr: "w < :emoji", want: true},
		{expr: "emoji > w", want: true},
		{expr: "up < :hello", want: true},
		{expr: "s < :B"},
		// Binary by unsigned bytes: 0x7f < 0x80.
		{expr: "b127 < :b128", want: true},
		{expr: "b127 > :b126", want: true},
		{expr: "b127 BETWEEN :b126 AND :b128", want: true},
		// Paths through the wrong type, past the end: nothing, so false.
		{expr: "m[0] = :one"},
		{expr: "s.x = :one"},
		{expr: "l[9] = :one"},
		{expr: "l[0].x = :one"},
		{expr: "NOT l[9] = :one", want: true},
		{expr: "#a = :one", names: map[string]string{"#a": "and"}, want: true},
		{expr: "#m.#x = :one", names: map[string]string{"#m": "m", "#x": "x"}, want: true},
	})
}

func TestConditionBetweenIn(t *testing.T) {
	t.Parallel()
	in100 := make([]string, 100)
	for i := range in100 {
		in100[i] = ":five"
	}
	runCondCases(t, []condCase{
		{expr: "n BETWEEN :one AND :five", want: true},
		{expr: "n BETWEEN :five AND :five", want: true},
		{expr: "n BETWEEN :six AND :nine"},
		{expr: "n between :one and :six", want: true},
		{expr: "n BETWEEN two AND five", want: true},
		{expr: "n BETWEEN five AND two"}, // bounds from the item: false, not an error
		{expr: "n BETWEEN :s5 AND :s6"},
		{expr: "s BETWEEN :dog AND :x", want: true},
		{expr: "nope BETWEEN :one AND :six"},
		{expr: "n BETWEEN :six AND :one", wantErr: "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"},
		{expr: "n BETWEEN :one AND :dog", wantErr: "The BETWEEN operator requires same data type for lower and upper bounds"},
		{expr: "n BETWEEN :l AND :l", wantErr: "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: L"},
		{expr: "n BETWEEN two AND :dog"},
		{expr: "n BETWEEN :one AND :six AND s = :hello", want: true}, // BETWEEN binds its AND first
		{expr: "n IN (:one, :five)", want: true},
		{expr: "n IN (:one, :two)"},
		{expr: "n IN (:dog, :fivef)", want: true}, // operands of any types
		{expr: "l[3] IN (:l34)", want: true},
		{expr: "nope IN (:one)"},
		{expr: "NOT nope IN (:one)", want: true},
		{expr: "n IN (five)", want: true},
		{expr: "n IN ()", wantErr: "Syntax error"},
		{expr: "n IN :five", wantErr: "Syntax error"},
		{expr: "n IN (" + strings.Join(in100, ",") + ")", want: true},
		{expr: "n IN (" + strings.Join(in100, ",") + ",:five)", wantErr: "The IN operator is provided with too many operands; number of operands: 101"},
	})
}

func TestConditionFunctions(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{expr: "attribute_exists(n)", want: true},
		{expr: "attribute_exists (n)", want: true},
		{expr: "attribute_exists(nope)"},
		{expr: "attribute_not_exists(nope)", want: true},
		{expr: "NOT attribute_exists(nope)", want: true},
		{expr: "attribute_exists(m.y.z[1])", want: true},
		{expr: "attribute_exists(m.y.z[2])"},
		{expr: "attribute_exists(m[0])"},
		{expr: "attribute_exists(s.x)"},
		{expr: "attribute_not_exists(s.x)", want: true},
		{expr: "attribute_exists(nul)", want: true},
		{expr: "attribute_exists(:five)", wantErr: "Operator or function requires a document path; operator or function: attribute_exists"},
		{expr: "attribute_exists(n, s)", wantErr: "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"},
		{expr: "attribute_type(n, :tN)", want: true},
		{expr: "attribute_type(n, :tS)"},
		{expr: "attribute_type(s, :tS)", want: true},
		{expr: "attribute_type(b, :tB)", want: true},
		{expr: "attribute_type(t, :tBOOL)", want: true},
		{expr: "attribute_type(nul, :tNULL)", want: true},
		{expr: "attribute_type(l, :tL)", want: true},
		{expr: "attribute_type(m, :tM)", want: true},
		{expr: "attribute_type(ss, :tSS)", want: true},
		{expr: "attribute_type(ns, :tNS)", want: true},
		{expr: "attribute_type(bs, :tBS)", want: true},
		{expr: "attribute_type(nope, :tN)"},
		{expr: "NOT attribute_type(nope, :tN)", want: true},
		{expr: "attribute_type(:five, :tN)", want: true},
		{expr: "attribute_type(n, :tdog)", wantErr: "Invalid attribute type name found; type: DOG"},
		{expr: "attribute_type(n, s)", wantErr: "Incorrect operand type for operator or function; operator or function: attribute_type"},
		{expr: "attribute_type(n, :five)", wantErr: "operator or function: attribute_type, operand type: N"},
		{expr: "begins_with(s, :he)", want: true},
		{expr: "begins_with(s, :dog)"},
		{expr: "begins_with(b, :hi)", want: true},
		{expr: "begins_with(b, :he)"}, // binary and string: different types
		{expr: "begins_with(l, :dog)"},
		{expr: "begins_with(n, :s5)"},
		{expr: "begins_with(nope, :he)"},
		{expr: "begins_with(s, s)", want: true},
		{expr: "begins_with(:hello, :he)", want: true},
		{expr: "begins_with(s, :five)", wantErr: "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{expr: "begins_with(s)", wantErr: "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{expr: "contains(s, :ell)", want: true},
		{expr: "contains(s, :dog)"},
		{expr: "contains(ss, :a)", want: true},
		{expr: "contains(ss, :x)"},
		{expr: "contains(ss, :one)"},
		{expr: "contains(ns, :twof)", want: true}, // set elements compare as numbers
		{expr: "contains(ns, :s5)"},
		{expr: "contains(bs, :b128)"},
		{expr: "contains(b, :here)", want: true},
		{expr: "contains(b, :hello)"},
		{expr: "contains(l, :dog)", want: true}, // a list holds elements of any type
		{expr: "contains(l, :two)", want: true},
		{expr: "contains(l, :l34)", want: true},
		{expr: "contains(l, :mkv)", want: true},
		{expr: "contains(l, :three)"},
		{expr: "contains(m, :x)"},
		{expr: "contains(n, :five)"},
		{expr: "contains(nope, :a)"},
		{expr: "NOT contains(nope, :a)", want: true},
		{expr: "contains(s, s)", wantErr: "must be distinct"},
		{expr: "ATTRIBUTE_EXISTS(n)", wantErr: "Invalid function name; function: ATTRIBUTE_EXISTS"},
		{expr: "dog(n) = :five", wantErr: "Invalid function name; function: dog"},
		{expr: "if_not_exists(n, :five) = :five", wantErr: "The function is not allowed to be used this way in an expression; function: if_not_exists"},
		{expr: "list_append(l, l) = :five", wantErr: "not allowed"},
		{expr: "attribute_exists(n) = :five", wantErr: "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{expr: "attribute_exists(n) < :five", wantErr: "not allowed"},
	})
}

func TestConditionSize(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{expr: "size(s) = :five", want: true},
		{expr: "size(u) = :three", want: true}, // UTF-16 code units: é is 1, 𝄞 is 2
		{expr: "size(e) = :zero", want: true},
		{expr: "size(b) = :eight", want: true},
		{expr: "size(ss) = :two", want: true},
		{expr: "size(ns) = :three", want: true},
		{expr: "size(bs) = :two", want: true},
		{expr: "size(l) = :five", want: true},
		{expr: "size(m) = :two", want: true},
		{expr: "size(m.y.z) = :two", want: true},
		{expr: "size(s) = five", want: true},
		{expr: "size(s) > :two", want: true},
		{expr: "size(s) BETWEEN :one AND :six", want: true},
		{expr: "size(s) IN (:one, :five)", want: true},
		{expr: "size(n) = :one"}, // a number has no size: false
		{expr: "NOT size(n) = :one", want: true},
		{expr: "size(t) = :one"},
		{expr: "size(nul) = :one"},
		{expr: "size(nope) = :zero"},
		{expr: "size(nope) <> :zero", want: true},
		{expr: "size(s) = :s5"},
		{expr: "size(:hello) = :five", want: true},
		{expr: "size(:five) = :one", wantErr: "Incorrect operand type for operator or function; operator or function: size, operand type: N"},
		{expr: "size(size(s)) = :one", wantErr: "operator or function: size, operand type: N"},
		{expr: "size(s)", wantErr: "The function is not allowed to be used this way in an expression; function: size"},
		{expr: "size(s, s) = :two", wantErr: "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"},
	})
}

func TestConditionLogic(t *testing.T) {
	t.Parallel()
	runCondCases(t, []condCase{
		{expr: "n = :five AND s = :hello", want: true},
		{expr: "n = :five aNd s = :dog"},
		{expr: "n = :six OR s = :hello", want: true},
		{expr: "n = :six oR s = :dog"},
		{expr: "NOT n = :six", want: true},
		{expr: "nOt n = :five"},
		{expr: "NOT NOT NOT NOT n = :five", want: true},
		// AND before OR; NOT before AND; parentheses first.
		{expr: "n = :five OR n = :six AND s = :dog", want: true},
		{expr: "(n = :five OR n = :six) AND s = :dog"},
		{expr: "NOT n = :five AND s = :dog"},
		{expr: "NOT (n = :five AND s = :dog)", want: true},
		{expr: "n = :six AND s = :dog OR n = :five", want: true},
		{expr: "(n = :five)", want: true},
		{expr: "((n = :five) AND s = :hello)", want: true},
		{expr: "(n < :six OR n > :six) AND (s = :hello AND (n = :five OR n = :six))", want: true},
		{expr: "((n = :five))", wantErr: "The expression has redundant parentheses"},
		{expr: "NOT ((n = :five))", wantErr: "redundant parentheses"},
	})
}

func TestConditionRefusals(t *testing.T) {
	t.Parallel()
	ors := func(k int) string {
		parts := make([]string, k)
		for i := range parts {
			parts[i] = "n = :five"
		}
		return strings.Join(parts, " OR ")
	}
	runCondCases(t, []condCase{
		{expr: "", wantErr: "The expression can not be empty;"},
		{expr: " \t", wantErr: "The expression can not be empty;"},
		{expr: "n", wantErr: "Syntax error; token: \"<EOF>\""},
		{expr: ":five", wantErr: "Syntax error"},
		{expr: "NOT n", wantErr: "Syntax error"},
		{expr: "n = = :five", wantErr: "Syntax error; token: \"=\""},
		{expr: "n = :five)", wantErr: "Syntax error"},
		{expr: "(n = :five", wantErr: "Syntax error"},
		{expr: "n = :five AND", wantErr: "Syntax error"},
		{expr: "n == :five", wantErr: "Syntax error"},
		{expr: "n != :five", wantErr: "Syntax error"},
		{expr: "n = :five s = :hello", wantErr: "Syntax error"},
		{expr: "(n) = :five", wantErr: "Syntax error"},
		{expr: "n BETWEEN :one", wantErr: "Syntax error"},
		{expr: "_n = :five", wantErr: "Syntax error"},
		{expr: "1n = :five", wantErr: "Syntax error"},
		{expr: "n[-1] = :five", wantErr: "Syntax error"},
		{expr: "n = \"x\"", wantErr: "Syntax error"},
		{expr: "n = ☃", wantErr: "Syntax error; token: \"☃\""},
		{expr: "name = :five", wantErr: "Attribute name is a reserved keyword; reserved keyword: name"},
		{expr: "m.Size = :five", wantErr: "reserved keyword: Size"},
		{expr: "#n = :five", names: map[string]string{"#n": "name"}},
		{expr: "#x = :five", wantErr: "An expression attribute name used in the document path is not defined; attribute name: #x"},
		{expr: "n = :nope", wantErr: "An expression attribute value used in expression is not defined; attribute value: :nope"},
		{expr: "n = :five", names: map[string]string{"#x": "x"}, wantErr: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"},
		{expr: "a" + strings.Repeat(".b", 32) + " = :five", wantErr: "The document path has too many nesting levels; nesting levels: 33"},
		{expr: "a" + strings.Repeat(".b", 31) + " = :five"},
		{expr: ors(150), want: true}, // 299 operators
		{expr: ors(151), wantErr: "The expression contains too many operators; operator count: 301"},
		{expr: "n = :five" + strings.Repeat(" ", maxExprBytes-9), want: true},
		{expr: "n = :five" + strings.Repeat(" ", maxExprBytes-8), wantErr: "Expression size has exceeded the maximum allowed size"},
	})
}

// TestConditionOnMissingItem: a condition on a key without an item sees
// an item without attributes.
func TestConditionOnMissingItem(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	ctx := context.Background()
	update := func(cond string, values string) error {
		_, err := e.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(testTable), Key: keyMap("new"),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: fixture(t, values)})
		return err
	}
	if err := update("attribute_exists(id)", ""); !isConditionFailed(err) {
		t.Errorf("attribute_exists on a nope item: %v", err)
	}
	if err := update("id = :id", `{":id":"new"}`); !isConditionFailed(err) {
		t.Errorf("id = :id on a nope item: %v", err)
	}
	if e.stored(t, "new") != "" {
		t.Fatal("a failed condition created the item")
	}
	// The idioms for "create unless it exists": <> and attribute_not_exists.
	if err := update("id <> :id", `{":id":"new"}`); err != nil {
		t.Errorf("id <> :id on a nope item: %v", err)
	}
	if e.stored(t, "new") != `{"id":"new"}` {
		t.Fatalf("the update did not create the item: %s", e.stored(t, "new"))
	}
	if err := update("id <> :id", `{":id":"new"}`); !isConditionFailed(err) {
		t.Errorf("id <> :id on the existing item: %v", err)
	}
	if err := update("attribute_not_exists(id)", ""); !isConditionFailed(err) {
		t.Errorf("attribute_not_exists(id) on the existing item: %v", err)
	}
}
