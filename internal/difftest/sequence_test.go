package difftest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ddbops/ddbops/internal/handler"
)

func handlerOver(t *testing.T, target string) *handler.Handler {
	t.Helper()
	return handler.New(startTarget(t, target), handler.Config{TableName: tableName})
}

// mode is how a step's answer is compared.
type mode uint8

const (
	modeExact  mode = iota // the whole normalized body
	modePage               // a Scan page: counts and whether it has a LastEvaluatedKey
	modeStatus             // only the status (a page whose items depend on the Scan order)
	modeItems              // a Scan without its ScannedCount (which counts what emulators wrongly stored)
)

// step is one request of the sequence: the tutorial-format body and the
// status DynamoDB's documentation gives it (docs/engine.md), the exact
// normalized body the engine must answer when want is set.
type step struct {
	name   string
	body   string
	status int
	mode   mode
	want   string
}

// Statuses of the handler's wire contract.
const (
	ok       = 200
	invalid  = 400
	notFound = 404
	conflict = 409
	tooLarge = 413
)

type builder struct{ steps []step }

func (b *builder) add(name string, status int, op, payload string) *step {
	body := fmt.Sprintf(`{"operation":%q,"tableName":%q,"payload":%s}`, op, tableName, payload)
	if payload == "" {
		body = fmt.Sprintf(`{"operation":%q}`, op)
	}
	b.steps = append(b.steps, step{name: name, body: body, status: status})
	return &b.steps[len(b.steps)-1]
}

func quote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// cond probes a ConditionExpression on item c1 through an update that
// changes nothing visible (probe is always 1): 200 when it holds, 409
// when not, 400 when DynamoDB refuses it. values are extra
// ExpressionAttributeValues entries (`":v":1,":w":"x"`).
func (b *builder) cond(name string, status int, expr, values string) {
	if values != "" {
		values = "," + values
	}
	b.add(name, status, "update", fmt.Sprintf(`{"Key":{"id":"c1"},"UpdateExpression":"SET probe = :probe","ConditionExpression":%s,"ExpressionAttributeValues":{":probe":1%s}}`, quote(expr), values))
}

// filter lists the ids of the items a FilterExpression selects.
func (b *builder) filter(name string, status int, expr, names, values string) {
	extra := ""
	if names != "" {
		extra += `,"ExpressionAttributeNames":{` + names + `}`
	}
	if values != "" {
		extra += `,"ExpressionAttributeValues":{` + values + `}`
	}
	b.add(name, status, "list", fmt.Sprintf(`{"FilterExpression":%s,"ProjectionExpression":"id"%s}`, quote(expr), extra))
}

func get(id string) string { return fmt.Sprintf(`{"Key":{"id":%q}}`, id) }

// nestedJSON is a value of levels nesting levels (an attribute and
// levels-1 maps below it).
func nestedJSON(levels int) string {
	return strings.Repeat(`{"a":`, levels-1) + "1" + strings.Repeat("}", levels-1)
}

// sequence is the differential suite's requests, in order: each builds on
// the items the earlier ones left.
func sequence() []step {
	b := &builder{}

	// The tutorial and the handler's conformance run.
	b.add("tutorial-create", ok, "create", `{"Item":{"id":"1","name":"Bob"}}`)
	b.add("tutorial-read", ok, "read", get("1")).want = `{"Item":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("read-missing", notFound, "read", get("missing"))
	b.add("create-typed", ok, "create", `{"Item":{"id":"2","n":1,"tags":["a",2,true,null],"m":{"x":{"y":"z"}},"f":false}}`)
	b.add("create-exists-refused", conflict, "create", `{"Item":{"id":"2"},"ConditionExpression":"attribute_not_exists(id)"}`)
	b.add("create-needs-existing", conflict, "create", `{"Item":{"id":"0"},"ConditionExpression":"attribute_exists(id)"}`)
	b.add("create-if-absent", ok, "create", `{"Item":{"id":"00","x":1},"ConditionExpression":"attribute_not_exists(id)"}`)
	b.add("delete-00", ok, "delete", get("00"))
	b.add("update-mixed-all-new", ok, "update", `{"Key":{"id":"2"},"UpdateExpression":"SET n = n + :d, m.x.y = :z REMOVE f","ExpressionAttributeValues":{":d":41,":z":"w"},"ReturnValues":"ALL_NEW"}`).
		want = `{"Attributes":{"id":"2","m":{"x":{"y":"w"}},"n":42,"tags":["a",2,true,null]},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("update-condition-false", conflict, "update", `{"Key":{"id":"2"},"UpdateExpression":"SET n = :v","ConditionExpression":"n = :old","ExpressionAttributeValues":{":v":0,":old":41}}`)
	b.add("update-condition-true-updated-old", ok, "update", `{"Key":{"id":"2"},"UpdateExpression":"SET n = :v","ConditionExpression":"n = :old","ExpressionAttributeValues":{":v":7,":old":42},"ReturnValues":"UPDATED_OLD"}`).
		want = `{"Attributes":{"n":42},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("update-missing-id", notFound, "update", `{"Key":{"id":"nope"},"UpdateExpression":"SET n = :v","ExpressionAttributeValues":{":v":1}}`)
	b.add("create-3", ok, "create", `{"Item":{"id":"3","a":1,"b":2,"c":3,"name":"x","l":[1,2,3],"m":{"p":1,"q":2}}}`)
	b.add("remove-top-level", ok, "update", `{"Key":{"id":"3"},"UpdateExpression":"REMOVE a","ReturnValues":"ALL_NEW"}`)
	b.add("set-remove-names-updated-old", ok, "update", `{"Key":{"id":"3"},"UpdateExpression":"set b = :v remove #n, c","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":v":20},"ReturnValues":"UPDATED_OLD"}`).
		want = `{"Attributes":{"b":2,"c":3,"name":"x"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("remove-nested-if-not-exists", ok, "update", `{"Key":{"id":"3"},"UpdateExpression":"REMOVE m.p, l[0] SET b = if_not_exists(zz, :v)","ExpressionAttributeValues":{":v":5},"ReturnValues":"ALL_NEW"}`).
		want = `{"Attributes":{"b":5,"id":"3","l":[2,3],"m":{"q":2}},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("remove-key-refused", invalid, "update", `{"Key":{"id":"3"},"UpdateExpression":"REMOVE id"}`)
	b.add("read-3", ok, "read", get("3"))
	b.add("read-projection-names", ok, "read", `{"Key":{"id":"2"},"ProjectionExpression":"#t, m","ExpressionAttributeNames":{"#t":"tags"}}`)
	b.add("list-all-1", ok, "list", `{}`)
	b.add("list-limit-1", ok, "list", `{"Limit":1}`).mode = modePage
	b.add("list-projection-id", ok, "list", `{"ProjectionExpression":"id"}`)
	b.add("delete-condition-false", conflict, "delete", `{"Key":{"id":"1"},"ConditionExpression":"#n = :n","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":n":"Alice"}}`)
	b.add("delete-all-old", ok, "delete", `{"Key":{"id":"1"},"ReturnValues":"ALL_OLD"}`).
		want = `{"Attributes":{"id":"1","name":"Bob"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("delete-missing", notFound, "delete", get("1"))
	b.add("echo", ok, "echo", `{"somekey1":"somevalue1","somekey2":"somevalue2"}`)
	b.add("ping", ok, "ping", "")

	// UpdateExpression: exact arithmetic, lists, functions, refusals.
	b.add("create-x", ok, "create", `{"Item":{"id":"x","n":1,"big":12345678901234567890,"t":0.1,"tags":["a","b","c","d"],"m":{"x":{"y":[1,2,3]},"z":1},"s":"str","nul":null}}`)
	b.add("big-plus-one-decimal", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET big = big + :one, t = t + :t","ExpressionAttributeValues":{":one":1,":t":0.2},"ReturnValues":"UPDATED_NEW"}`).
		want = `{"Attributes":{"big":12345678901234567891,"t":0.3},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("set-string-all-new", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET s = :s","ExpressionAttributeValues":{":s":"y"},"ReturnValues":"ALL_NEW"}`)
	b.add("remove-list-elements", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"REMOVE tags[0], tags[2], nul SET m.x.y[1] = :v","ExpressionAttributeValues":{":v":7},"ReturnValues":"ALL_NEW"}`)
	b.add("list-append-if-not-exists", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET tags = list_append(tags, :l), c = if_not_exists(c, :z)","ExpressionAttributeValues":{":l":["e"],":z":0},"ReturnValues":"UPDATED_NEW"}`)
	b.add("add-numbers", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"ADD n :v, cnt :v","ExpressionAttributeValues":{":v":2.5},"ReturnValues":"UPDATED_NEW"}`).
		want = `{"Attributes":{"cnt":2.5,"n":3.5},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("minus-updated-old", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET n = n - :v","ExpressionAttributeValues":{":v":10},"ReturnValues":"UPDATED_OLD"}`)
	b.add("remove-missing-paths", ok, "update", `{"Key":{"id":"x"},"UpdateExpression":"REMOVE m.nope, tags[99]","ReturnValues":"ALL_NEW"}`)
	b.add("set-through-missing-parent", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET m.q.r = :v","ExpressionAttributeValues":{":v":7}}`)
	b.add("plus-missing-operand", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET q = nope + :v","ExpressionAttributeValues":{":v":7}}`)
	b.add("plus-string-operand", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET q = s + :v","ExpressionAttributeValues":{":v":7}}`)
	b.add("overlapping-paths", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET a = :v, a = :v","ExpressionAttributeValues":{":v":1}}`)
	b.add("set-clause-twice", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET a = :v SET b = :v","ExpressionAttributeValues":{":v":1}}`)
	b.add("unused-name", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET #a = :v","ExpressionAttributeNames":{"#a":"x","#b":"y"},"ExpressionAttributeValues":{":v":1}}`)
	b.add("empty-values", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{}}`)
	b.add("undefined-value", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET x = :missing"}`)
	b.add("remove-through-missing", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"REMOVE zz.y"}`)
	b.add("delete-with-string", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"DELETE tags :v","ExpressionAttributeValues":{":v":"x"}}`)
	b.add("delete-with-list", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"DELETE tags :v","ExpressionAttributeValues":{":v":["a"]}}`)
	b.add("add-list-refused", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"ADD tags :v","ExpressionAttributeValues":{":v":["z"]}}`)
	b.add("add-to-string", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"ADD s :v","ExpressionAttributeValues":{":v":1}}`)
	b.add("if-not-exists-of-value", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET v = if_not_exists(:l, :l)","ExpressionAttributeValues":{":l":[1]}}`)
	b.add("list-append-string", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET v = list_append(:l, s)","ExpressionAttributeValues":{":l":[1]}}`)
	b.add("update-key-refused", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET id = :v","ExpressionAttributeValues":{":v":"y"}}`)
	b.add("update-reserved-word", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET name = :v","ExpressionAttributeValues":{":v":"y"}}`)
	b.add("update-syntax-error", invalid, "update", `{"Key":{"id":"x"},"UpdateExpression":"SET = :v","ExpressionAttributeValues":{":v":"y"}}`)
	b.add("read-x", ok, "read", get("x"))
	b.add("read-x-projection-missing", ok, "read", `{"Key":{"id":"x"},"ProjectionExpression":"nope"}`).
		want = `{"Item":{},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("read-x-projection-paths", ok, "read", `{"Key":{"id":"x"},"ProjectionExpression":"tags[1], m.x.y[2], big"}`)
	b.add("read-x-projection-names", ok, "read", `{"Key":{"id":"x"},"ProjectionExpression":"#m.#x","ExpressionAttributeNames":{"#m":"m","#x":"x"}}`)
	b.add("read-projection-reserved", invalid, "read", `{"Key":{"id":"x"},"ProjectionExpression":"name"}`)
	b.add("read-projection-undefined-name", invalid, "read", `{"Key":{"id":"x"},"ProjectionExpression":"#nope"}`)
	b.add("read-projection-unused-name", invalid, "read", `{"Key":{"id":"x"},"ProjectionExpression":"s","ExpressionAttributeNames":{"#s":"s"}}`)
	b.add("read-projection-list-index-order", ok, "read", `{"Key":{"id":"x"},"ProjectionExpression":"tags[2], tags[0]"}`)

	// Numbers: 38 significant digits, 1E-130 to 9.99E+125, exact arithmetic.
	b.add("create-xn", ok, "create", `{"Item":{"id":"xn","d":1}}`)
	b.add("arith-38-digits", ok, "update", `{"Key":{"id":"xn"},"UpdateExpression":"SET d = :a + :b","ExpressionAttributeValues":{":a":0.1234567890123456789012345678901234567,":b":0.0000000000000000000000000000000000001},"ReturnValues":"UPDATED_NEW"}`).
		want = `{"Attributes":{"d":0.1234567890123456789012345678901234568},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.add("arith-overflow-39-digits", invalid, "update", `{"Key":{"id":"xn"},"UpdateExpression":"SET d = :a + :b","ExpressionAttributeValues":{":a":1e50,":b":1}}`)
	b.add("value-39-digits", invalid, "update", `{"Key":{"id":"xn"},"UpdateExpression":"SET d = :a","ExpressionAttributeValues":{":a":3.14159265358979323846264338327950288419}}`)
	b.add("value-out-of-range", invalid, "update", `{"Key":{"id":"xn"},"UpdateExpression":"SET d = :a","ExpressionAttributeValues":{":a":1e126}}`)
	b.add("read-xn", ok, "read", get("xn")).
		want = `{"Item":{"d":0.1234567890123456789012345678901234568,"id":"xn"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`

	// ReturnValues of update and delete.
	b.add("rv-create", ok, "create", `{"Item":{"id":"rv","a":"hi","b":"dog","n":{"c":[1,2,3]}}}`)
	for _, rv := range []string{"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"} {
		b.add("rv-update-"+strings.ToLower(rv), ok, "update", fmt.Sprintf(`{"Key":{"id":"rv"},"UpdateExpression":"SET b = :v, n.c[1] = :w","ExpressionAttributeValues":{":v":%q,":w":%q},"ReturnValues":%q}`, "cat-"+rv, rv, rv))
	}
	b.add("rv-update-invalid", invalid, "update", `{"Key":{"id":"rv"},"UpdateExpression":"SET b = :v","ExpressionAttributeValues":{":v":1},"ReturnValues":"ALL"}`)
	b.add("rv-delete-updated-new-refused", invalid, "delete", `{"Key":{"id":"rv"},"ReturnValues":"UPDATED_NEW"}`)
	b.add("rv-delete-none", ok, "delete", `{"Key":{"id":"rv"},"ReturnValues":"NONE"}`)

	// Conditions on c1: comparisons, missing paths, wrong types.
	b.add("c1-create", ok, "create", `{"Item":{"id":"c1","n":5,"two":2,"five":5,"big":12345678901234567890,"d38":0.12345678901234567890123456789012345678,
		"s":"hello","u":"é𝄞","e":"","w":"～","emoji":"😀","up":"B","t":true,"f":false,"nul":null,
		"l":[2,"dog",7,[3,4],{"k":"v"}],"m":{"x":1,"y":{"z":[10,20]}},"probe":1}}`)
	b.cond("eq-number", ok, "n = :v", `":v":5`)
	b.cond("eq-number-other-spelling", ok, "n = :v", `":v":5.0`)
	b.cond("eq-number-vs-string", conflict, "n = :v", `":v":"5"`)
	b.cond("ne-number-vs-string", ok, "n <> :v", `":v":"5"`)
	b.cond("eq-paths", ok, "n = five", "")
	b.cond("eq-missing", conflict, "nope = :v", `":v":5`)
	b.cond("ne-missing", ok, "nope <> :v", `":v":5`)
	b.cond("not-eq-missing", ok, "NOT nope = :v", `":v":5`)
	b.cond("two-missing-eq", conflict, "nope = zz", "")
	b.cond("lt-number", ok, "n < :v", `":v":6`)
	b.cond("lt-number-vs-string", conflict, "n < :v", `":v":"6"`)
	b.cond("lt-missing", conflict, "nope < :v", `":v":6`)
	b.cond("not-lt-missing", ok, "NOT nope < :v", `":v":6`)
	b.cond("lt-stored-list", conflict, "l < :v", `":v":6`)
	b.cond("lt-constant-list", invalid, "n < :v", `":v":[1,2]`)
	b.cond("ge-constant-bool", invalid, "n >= :v", `":v":true`)
	b.cond("eq-list-element", ok, "l[3] = :v", `":v":[3,4]`)
	b.cond("eq-map-element", ok, "l[4] = :v", `":v":{"k":"v"}`)
	b.cond("eq-list-whole", ok, "l = :v", `":v":[2,"dog",7,[3,4],{"k":"v"}]`)
	b.cond("nested-compare", ok, "m.y.z[1] > m.x", "")
	b.cond("index-past-end", conflict, "l[9] = :v", `":v":2`)
	b.cond("not-index-past-end", ok, "NOT l[9] = :v", `":v":2`)
	b.cond("index-of-map", conflict, "m[0] = :v", `":v":1`)
	b.cond("key-of-string", conflict, "s.x = :v", `":v":1`)
	b.cond("key-of-list-element", conflict, "l[0].x = :v", `":v":1`)
	b.cond("big-eq-neighbour", conflict, "big = :v", `":v":12345678901234567891`)
	b.cond("big-lt-neighbour", ok, "big < :v", `":v":12345678901234567891`)
	b.cond("big-gt-neighbour", conflict, "big > :v", `":v":12345678901234567891`)
	b.cond("big-eq-other-spelling", ok, "big = :v", `":v":12345678901234567890.0`)
	b.cond("d38-lt-neighbour", ok, "d38 < :v", `":v":0.12345678901234567890123456789012345679`)
	b.cond("d38-eq-neighbour", conflict, "d38 = :v", `":v":0.12345678901234567890123456789012345679`)
	b.cond("utf8-order", ok, "w < :v", `":v":"😀"`)
	b.cond("utf8-order-paths", ok, "emoji > w", "")
	b.cond("byte-order-case", ok, "up < :v", `":v":"hello"`)
	b.cond("true-eq", ok, "t = :v", `":v":true`)
	b.cond("null-eq", ok, "nul = :v", `":v":null`)

	// Precedence, NOT, parentheses.
	b.cond("and-before-or", ok, "n = :five OR n = :six AND s = :dog", `":five":5,":six":6,":dog":"dog"`)
	b.cond("parentheses-first", conflict, "(n = :five OR n = :six) AND s = :dog", `":five":5,":six":6,":dog":"dog"`)
	b.cond("not-before-and", conflict, "NOT n = :five AND s = :dog", `":five":5,":dog":"dog"`)
	b.cond("not-of-and", ok, "NOT (n = :five AND s = :dog)", `":five":5,":dog":"dog"`)
	b.cond("caller-parenthesized", ok, "(n = :five)", `":five":5`)
	b.cond("not-not", ok, "NOT NOT n = :five", `":five":5`)
	b.cond("keywords-any-case", ok, "n = :five aNd nOt s = :dog", `":five":5,":dog":"dog"`)
	b.cond("between-binds-and", ok, "n BETWEEN :one AND :six AND s = :hello", `":one":1,":six":6,":hello":"hello"`)

	// BETWEEN and IN.
	b.cond("between-true", ok, "n BETWEEN :lo AND :hi", `":lo":1,":hi":5`)
	b.cond("between-false", conflict, "n BETWEEN :lo AND :hi", `":lo":6,":hi":9`)
	b.cond("between-paths", ok, "n BETWEEN two AND five", "")
	b.cond("between-paths-reversed", conflict, "n BETWEEN five AND two", "")
	b.cond("between-reversed-constants", invalid, "n BETWEEN :lo AND :hi", `":lo":9,":hi":1`)
	b.cond("between-mixed-constants", invalid, "n BETWEEN :lo AND :hi", `":lo":1,":hi":"z"`)
	b.cond("between-other-type", conflict, "n BETWEEN :lo AND :hi", `":lo":"a",":hi":"z"`)
	b.cond("between-missing", conflict, "nope BETWEEN :lo AND :hi", `":lo":1,":hi":9`)
	b.cond("in-true", ok, "n IN (:a, :b)", `":a":1,":b":5`)
	b.cond("in-false", conflict, "n IN (:a, :b)", `":a":1,":b":2`)
	b.cond("in-mixed-types", ok, "n IN (:a, :b)", `":a":"dog",":b":5`)
	b.cond("in-missing", conflict, "nope IN (:a)", `":a":1`)
	b.cond("in-empty", invalid, "n IN ()", "")

	// Functions.
	b.cond("exists", ok, "attribute_exists(n)", "")
	b.cond("exists-missing", conflict, "attribute_exists(nope)", "")
	b.cond("not-exists-missing", ok, "attribute_not_exists(nope)", "")
	b.cond("exists-nested", ok, "attribute_exists(m.y.z[1])", "")
	b.cond("exists-past-end", conflict, "attribute_exists(m.y.z[2])", "")
	b.cond("exists-of-value", invalid, "attribute_exists(:v)", `":v":1`)
	b.cond("type-n", ok, "attribute_type(n, :t)", `":t":"N"`)
	b.cond("type-wrong", conflict, "attribute_type(n, :t)", `":t":"S"`)
	b.cond("type-list", ok, "attribute_type(l, :t)", `":t":"L"`)
	b.cond("type-null", ok, "attribute_type(nul, :t)", `":t":"NULL"`)
	b.cond("type-missing", conflict, "attribute_type(nope, :t)", `":t":"N"`)
	b.cond("type-unknown", invalid, "attribute_type(n, :t)", `":t":"DOG"`)
	b.cond("type-path-argument", invalid, "attribute_type(n, s)", "")
	b.cond("begins-with", ok, "begins_with(s, :p)", `":p":"he"`)
	b.cond("begins-with-false", conflict, "begins_with(s, :p)", `":p":"lo"`)
	b.cond("begins-with-list", conflict, "begins_with(l, :p)", `":p":"dog"`)
	b.cond("begins-with-number", conflict, "begins_with(n, :p)", `":p":"5"`)
	b.cond("begins-with-missing", conflict, "begins_with(nope, :p)", `":p":"he"`)
	b.cond("begins-with-number-operand", invalid, "begins_with(s, :p)", `":p":5`)
	b.cond("contains-substring", ok, "contains(s, :p)", `":p":"ell"`)
	b.cond("contains-list-string", ok, "contains(l, :p)", `":p":"dog"`)
	b.cond("contains-list-number", ok, "contains(l, :p)", `":p":7`)
	b.cond("contains-list-list", ok, "contains(l, :p)", `":p":[3,4]`)
	b.cond("contains-list-absent", conflict, "contains(l, :p)", `":p":3`)
	b.cond("contains-map", conflict, "contains(m, :p)", `":p":"x"`)
	b.cond("contains-number", conflict, "contains(n, :p)", `":p":5`)
	b.cond("contains-missing", conflict, "contains(nope, :p)", `":p":"x"`)
	b.cond("not-contains-missing", ok, "NOT contains(nope, :p)", `":p":"x"`)
	b.cond("size-string", ok, "size(s) = :v", `":v":5`)
	b.cond("size-string-utf16", ok, "size(u) = :v", `":v":3`)
	b.cond("size-empty-string", ok, "size(e) = :v", `":v":0`)
	b.cond("size-list", ok, "size(l) = :v", `":v":5`)
	b.cond("size-map", ok, "size(m) = :v", `":v":2`)
	b.cond("size-nested-list", ok, "size(m.y.z) = :v", `":v":2`)
	b.cond("size-number", conflict, "size(n) = :v", `":v":1`)
	b.cond("not-size-number", ok, "NOT size(n) = :v", `":v":1`)
	b.cond("size-bool", conflict, "size(t) = :v", `":v":1`)
	b.cond("size-missing", conflict, "size(nope) = :v", `":v":0`)
	b.cond("size-vs-path", ok, "size(s) = five", "")
	b.cond("size-of-number-value", invalid, "size(:v) = :w", `":v":5,":w":1`)
	b.cond("size-alone", invalid, "size(s)", "")
	b.cond("unknown-function", invalid, "dog(n) = :v", `":v":1`)
	b.cond("function-case", invalid, "ATTRIBUTE_EXISTS(n)", "")
	b.cond("function-arity", invalid, "begins_with(s)", "")
	b.cond("update-function-in-condition", invalid, "if_not_exists(n, :v) = :v", `":v":1`)

	// Syntax, reserved words, placeholders.
	b.cond("bare-path", invalid, "n", "")
	b.cond("double-equals", invalid, "n == :v", `":v":1`)
	b.cond("trailing-and", invalid, "n = :v AND", `":v":1`)
	b.cond("reserved-word", invalid, "name = :v", `":v":1`)
	b.cond("reserved-word-nested", invalid, "m.size = :v", `":v":1`)
	b.add("reserved-word-through-name", conflict, "update", `{"Key":{"id":"c1"},"UpdateExpression":"SET probe = :probe","ConditionExpression":"#n = :v","ExpressionAttributeNames":{"#n":"name"},"ExpressionAttributeValues":{":probe":1,":v":"x"}}`)
	b.cond("undefined-value-in-condition", invalid, "n = :undefined", "")
	b.cond("unused-value", invalid, "n = :v", `":v":5,":unused":1`)
	b.add("undefined-name-in-condition", invalid, "update", `{"Key":{"id":"c1"},"UpdateExpression":"SET probe = :probe","ConditionExpression":"#x = :v","ExpressionAttributeValues":{":probe":1,":v":1}}`)
	b.add("names-without-expression", invalid, "delete", `{"Key":{"id":"nope"},"ExpressionAttributeNames":{"#a":"a"}}`)
	b.add("empty-names", invalid, "list", `{"FilterExpression":"n = :v","ExpressionAttributeNames":{},"ExpressionAttributeValues":{":v":1}}`)
	b.cond("path-32-levels", conflict, "a"+strings.Repeat(".b", 31)+" = :v", `":v":1`)
	b.cond("path-33-levels", invalid, "a"+strings.Repeat(".b", 32)+" = :v", `":v":1`)
	b.add("c1-unchanged", ok, "read", `{"Key":{"id":"c1"},"ProjectionExpression":"probe, n, s"}`).
		want = `{"Item":{"n":5,"probe":1,"s":"hello"},"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`

	// Conditions of create (PutItem), which the handler passes unchanged.
	b.add("create-condition-parenthesized", ok, "create", `{"Item":{"id":"c1","n":6,"probe":1},"ConditionExpression":"(n = :v)","ExpressionAttributeValues":{":v":5}}`)
	b.add("create-condition-redundant-parentheses", invalid, "create", `{"Item":{"id":"c1"},"ConditionExpression":"((n = :v))","ExpressionAttributeValues":{":v":6}}`)
	b.add("create-condition-false", conflict, "create", `{"Item":{"id":"c1"},"ConditionExpression":"n <> :v","ExpressionAttributeValues":{":v":6}}`)
	b.add("create-condition-empty", invalid, "create", `{"Item":{"id":"c1"},"ConditionExpression":"n = :v AND (s = :v OR (nope = :v)) OR","ExpressionAttributeValues":{":v":6}}`)

	// Filters: a Scan reads every item, returns those that match.
	b.add("f-create-a", ok, "create", `{"Item":{"id":"fa","kind":"fruit","price":12345678901234567890,"name":"apple","tags":["red","sweet"]}}`)
	b.add("f-create-b", ok, "create", `{"Item":{"id":"fb","kind":"fruit","price":12345678901234567891,"name":"banana","tags":["yellow"]}}`)
	b.add("f-create-c", ok, "create", `{"Item":{"id":"fc","kind":"veg","price":0.5,"name":"carrot","tags":[]}}`)
	b.add("f-create-d", ok, "create", `{"Item":{"id":"fd","kind":"veg","price":"n/a","name":"daikon"}}`)
	b.filter("filter-eq", ok, "kind = :k", "", `":k":"fruit"`)
	b.filter("filter-big-gt", ok, "price > :p", "", `":p":12345678901234567890`)
	b.filter("filter-big-ge", ok, "price >= :p", "", `":p":12345678901234567890`)
	b.filter("filter-string-vs-number", ok, "price < :p", "", `":p":"z"`)
	b.filter("filter-not-begins-with", ok, "NOT begins_with(#n, :b)", `"#n":"name"`, `":b":"b"`)
	b.filter("filter-contains-list", ok, "contains(tags, :t)", "", `":t":"red"`)
	b.filter("filter-size-list", ok, "size(tags) = :z", "", `":z":0`)
	b.filter("filter-missing-attribute", ok, "attribute_not_exists(tags) AND kind = :k", "", `":k":"veg"`)
	b.filter("filter-or-and", ok, "kind = :v OR price < :p AND kind = :f", "", `":v":"veg",":p":1,":f":"fruit"`)
	b.filter("filter-parenthesized", ok, "(kind = :v OR price < :p) AND kind = :f", "", `":v":"veg",":p":1,":f":"fruit"`)
	b.filter("filter-in", ok, "kind IN (:a, :b)", "", `":a":"veg",":b":"meat"`)
	b.filter("filter-reserved-word", invalid, "name = :n", "", `":n":"apple"`)
	b.filter("filter-unused-value", invalid, "kind = :k", "", `":k":"veg",":x":1`)
	b.filter("filter-undefined-value", invalid, "kind = :k", "", `":x":1`)
	b.filter("filter-between-reversed", invalid, "price BETWEEN :hi AND :lo", "", `":lo":1,":hi":2`)
	b.add("filter-empty", invalid, "list", `{"FilterExpression":" "}`)

	// Scan pages: Limit counts items read before the filter.
	b.add("page-limit-2-filter", ok, "list", `{"Limit":2,"FilterExpression":"kind = :k","ExpressionAttributeValues":{":k":"nothing"}}`).mode = modePage
	b.add("page-limit-100-filter", ok, "list", `{"Limit":100,"FilterExpression":"kind = :k","ProjectionExpression":"id","ExpressionAttributeValues":{":k":"veg"}}`)
	b.add("page-start-after-deleted-key", ok, "list", `{"Limit":100,"ExclusiveStartKey":{"id":"zzz-never-stored"},"ProjectionExpression":"id"}`).mode = modeStatus
	b.add("page-start-key-number", invalid, "list", `{"ExclusiveStartKey":{"id":5}}`)
	b.add("page-start-key-extra-attribute", invalid, "list", `{"ExclusiveStartKey":{"id":"fa","kind":"fruit"}}`)
	b.add("page-start-key-other-attribute", invalid, "list", `{"ExclusiveStartKey":{"name":"fa"}}`)
	b.add("page-start-key-empty-id", invalid, "list", `{"ExclusiveStartKey":{"id":""}}`)
	b.add("page-limit-zero", invalid, "list", `{"Limit":0}`)
	for _, id := range []string{"fa", "fb", "fc", "fd"} {
		b.add("f-delete-"+id, ok, "delete", get(id))
	}

	// Keys: 1 to 2048 bytes of UTF-8.
	k2048 := strings.Repeat("k", 2048)
	b.add("key-2048-bytes", ok, "create", fmt.Sprintf(`{"Item":{"id":%q}}`, k2048))
	b.add("key-2048-bytes-read", ok, "read", get(k2048))
	b.add("key-2049-bytes", invalid, "create", fmt.Sprintf(`{"Item":{"id":%q}}`, k2048+"k"))
	b.add("key-2049-bytes-read", invalid, "read", get(k2048+"k"))
	b.add("key-2048-bytes-utf8", ok, "create", fmt.Sprintf(`{"Item":{"id":%q}}`, strings.Repeat("é", 1024)))
	b.add("key-2050-bytes-utf8", invalid, "create", fmt.Sprintf(`{"Item":{"id":%q}}`, strings.Repeat("é", 1025)))
	b.add("key-2048-delete", ok, "delete", get(k2048))
	b.add("key-2048-utf8-delete", ok, "delete", get(strings.Repeat("é", 1024)))

	// Nesting: 32 levels, not 33.
	b.add("nesting-32", ok, "create", fmt.Sprintf(`{"Item":{"id":"deep","d":%s}}`, nestedJSON(32)))
	b.add("nesting-32-read", ok, "read", `{"Key":{"id":"deep"},"ProjectionExpression":"d`+strings.Repeat(".a", 31)+`"}`)
	b.add("nesting-33", invalid, "create", fmt.Sprintf(`{"Item":{"id":"deep2","d":%s}}`, nestedJSON(33)))
	b.add("nesting-33-by-update", invalid, "update", `{"Key":{"id":"deep"},"UpdateExpression":"SET d`+strings.Repeat(".a", 31)+` = :v","ExpressionAttributeValues":{":v":{"b":1}}}`)
	b.add("nesting-delete", ok, "delete", get("deep"))

	// Item size: 400 KB.
	pad := strings.Repeat("p", 300*1024)
	b.add("size-create-300k", ok, "create", fmt.Sprintf(`{"Item":{"id":"big","pad":%q}}`, pad))
	b.add("size-update-past-400k", tooLarge, "update", fmt.Sprintf(`{"Key":{"id":"big"},"UpdateExpression":"SET more = :m","ExpressionAttributeValues":{":m":%q}}`, strings.Repeat("m", 120*1024)))
	b.add("size-update-to-400k", ok, "update", fmt.Sprintf(`{"Key":{"id":"big"},"UpdateExpression":"SET more = :m","ExpressionAttributeValues":{":m":%q}}`, strings.Repeat("m", 400*1024-(2+3)-(3+300*1024)-4)))
	b.add("size-delete", ok, "delete", get("big"))

	// The table at the end.
	// (Only the items every step left: an emulator that accepted a refused
	// create has more.)
	b.add("list-all-end", ok, "list", `{"FilterExpression":"id IN (:a, :b, :c)","ExpressionAttributeValues":{":a":"2",":b":"3",":c":"c1"}}`).
		want = `{"Count":3,"Items":[{"id":"2","m":{"x":{"y":"w"}},"n":7,"tags":["a",2,true,null]},{"b":5,"id":"3","l":[2,3],"m":{"q":2}},{"id":"c1","n":6,"probe":1}],"ResponseMetadata":{"HTTPStatusCode":200,"RequestId":"RID"}}`
	b.steps[len(b.steps)-1].mode = modeItems
	return b.steps
}

// TestSequenceStatuses: the engine's expected statuses cover every class
// of answer, so the suite cannot pass on an engine that answers one way.
func TestSequenceStatuses(t *testing.T) {
	t.Parallel()
	count := map[int]int{}
	for _, st := range sequence() {
		count[st.status]++
	}
	for _, s := range []int{ok, invalid, notFound, conflict, tooLarge} {
		if count[s] == 0 {
			t.Errorf("no step expects %d", s)
		}
	}
}
