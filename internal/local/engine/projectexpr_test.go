package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr is one expression of a request, named as DynamoDB names it.
type expr struct {
	label string
	text  *string
}

// checkPlaceholders runs the placeholder checks of a request with names,
// values (each the number 1) and exprs, parsing each expression as its
// label says, as the operations do.
func checkPlaceholders(names map[string]string, values map[string]int, exprs ...expr) error {
	var vals map[string]types.AttributeValue
	if values != nil {
		vals = map[string]types.AttributeValue{}
		for k := range values {
			vals[k] = &types.AttributeValueMemberN{Value: "1"}
		}
	}
	present := false
	for _, e := range exprs {
		present = present || e.text != nil
	}
	ph, err := newPlaceholders(names, vals, present)
	if err != nil {
		return err
	}
	for _, e := range exprs {
		if e.text == nil {
			continue
		}
		switch e.label {
		case labelUpdate:
			_, err = parseUpdate(*e.text, ph, KeyAttribute)
		case labelProjection:
			_, err = parseProjection(*e.text, ph)
		default:
			_, err = parseCondition(e.label, *e.text, ph)
		}
		if err != nil {
			return err
		}
	}
	return ph.checkUnused()
}

func TestCheckPlaceholders(t *testing.T) {
	t.Parallel()
	n := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	v := func(keys ...string) map[string]int {
		m := map[string]int{}
		for _, k := range keys {
			m[k] = 1
		}
		return m
	}
	upd := func(s string) expr { return expr{"UpdateExpression", opt(s)} }
	cond := func(s string) expr { return expr{"ConditionExpression", opt(s)} }
	tests := []struct {
		name    string
		names   map[string]string
		values  map[string]int
		exprs   []expr
		wantErr string
	}{
		{name: "nothing", exprs: []expr{upd(""), cond("")}},
		{name: "no placeholders", exprs: []expr{upd("SET a = b")}},
		{name: "all used", names: n("#a", "x", "#b", "y"), values: v(":v", ":w"), exprs: []expr{upd("SET #a = :v"), cond("#b = :w")}},
		{name: "used twice", values: v(":v"), exprs: []expr{upd("SET a = :v, b = :v")}},
		{name: "undefined value", exprs: []expr{upd("SET a = :missing")},
			wantErr: "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :missing"},
		{name: "undefined value in condition", values: v(":v"), exprs: []expr{upd("SET a = :v"), cond("b = :w")},
			wantErr: "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"},
		{name: "undefined name", values: v(":v"), exprs: []expr{upd("SET #a = :v")},
			wantErr: "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #a"},
		{name: "prefix is not use", values: v(":a", ":ab"), exprs: []expr{upd("SET x = :ab")},
			wantErr: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a}"},
		{name: "unused values sorted", values: v(":v", ":z", ":b"), exprs: []expr{upd("SET x = :v")},
			wantErr: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b, :z}"},
		{name: "unused name", names: n("#n", "name"), exprs: []expr{expr{"ProjectionExpression", opt("id")}},
			wantErr: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}"},
		{name: "empty values", values: map[string]int{}, exprs: []expr{upd("SET a = b")}, wantErr: "ExpressionAttributeValues must not be empty"},
		{name: "empty names", names: map[string]string{}, exprs: []expr{upd("SET a = b")}, wantErr: "ExpressionAttributeNames must not be empty"},
		{name: "values without expressions", values: v(":v"), exprs: []expr{upd(""), cond("")},
			wantErr: "ExpressionAttributeValues can only be specified when using expressions"},
		{name: "names without expressions", names: n("#a", "a"), exprs: []expr{upd("")},
			wantErr: "ExpressionAttributeNames can only be specified when using expressions"},
		{name: "invalid name key", names: n("a", "x"), exprs: []expr{upd("SET a = b")}, wantErr: "ExpressionAttributeNames contains invalid key"},
		{name: "invalid value key", values: v(":a-b"), exprs: []expr{upd("SET a = b")}, wantErr: "ExpressionAttributeValues contains invalid key"},
	}
	for _, tt := range tests {
		err := checkPlaceholders(tt.names, tt.values, tt.exprs...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		case err != nil && !isValidation(err):
			t.Errorf("%s: %T is not a ValidationException", tt.name, err)
		}
	}
}

// TestProjection: GetItem with a ProjectionExpression returns what
// DynamoDB returns (cases from scylladb's
// test/alternator/test_projection_expression.py, checked there against
// DynamoDB).
func TestProjection(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	e.put(t, `{"id":"p","a":{"b":[2,4,{"x":"hi","y":"yo"}],"c":5},"b":"hello","n":null,"tags":["a","b","c","d"],
		"big":12345678901234567890,"m":[[1,2],[3,4]],"a.b":"dotted","e":[]}`)
	tests := []struct {
		proj    string
		names   map[string]string
		want    string // "" with wantErr
		wantErr string
	}{
		{proj: "a", want: `{"a":{"b":[2,4,{"x":"hi","y":"yo"}],"c":5}}`},
		{proj: "a.b", want: `{"a":{"b":[2,4,{"x":"hi","y":"yo"}]}}`},
		{proj: "a.b[0]", want: `{"a":{"b":[2]}}`},
		{proj: "a.b[2]", want: `{"a":{"b":[{"x":"hi","y":"yo"}]}}`},
		{proj: "a.b[2].y", want: `{"a":{"b":[{"y":"yo"}]}}`},
		// Nothing reached: an empty item, not a missing one.
		{proj: "x", want: `{}`},
		{proj: "a.b[3]", want: `{}`},
		{proj: "a.x", want: `{}`},
		{proj: "a.x.y", want: `{}`},
		{proj: "a.b[3].x", want: `{}`},
		{proj: "a.b.x", want: `{}`},
		{proj: "a[0]", want: `{}`},
		{proj: "a.b[0].x", want: `{}`},
		{proj: "a.b[0][0]", want: `{}`},
		{proj: "tags[99]", want: `{}`},
		{proj: "e[0]", want: `{}`},
		{proj: "a.b[0],a.b[1]", want: `{"a":{"b":[2,4]}}`},
		{proj: "a.b[0],a.c", want: `{"a":{"b":[2],"c":5}}`},
		{proj: "a.c,b", want: `{"a":{"c":5},"b":"hello"}`},
		{proj: "a.x, a.b[0], x, a.b[3].x", want: `{"a":{"b":[2]}}`},
		// Selected elements, compacted, in index order.
		{proj: "tags[1]", want: `{"tags":["b"]}`},
		{proj: "tags[3], tags[1]", want: `{"tags":["b","d"]}`},
		{proj: "tags[2], tags[0], tags[9]", want: `{"tags":["a","c"]}`},
		{proj: "m[1][0], m[0][1]", want: `{"m":[[2],[3]]}`},
		// NULL is a value like any other; numbers keep every digit.
		{proj: "n, big", want: `{"big":12345678901234567890,"n":null}`},
		{proj: " a  ,   b  ", want: `{"a":{"b":[2,4,{"x":"hi","y":"yo"}],"c":5},"b":"hello"}`},
		{proj: "#a.#b", names: map[string]string{"#a": "a", "#b": "c"}, want: `{"a":{"c":5}}`},
		{proj: "#d", names: map[string]string{"#d": "a.b"}, want: `{"a.b":"dotted"}`},
		{proj: "a" + strings.Repeat(".b", 31), want: `{}`},
		// Refused as DynamoDB refuses them.
		{proj: "a, a", wantErr: "overlap"},
		{proj: "a.b[0],a.b[0]", wantErr: "overlap"},
		{proj: "a,a.b[0]", wantErr: "overlap"},
		{proj: "a.b, a.b.c", wantErr: "overlap"},
		{proj: "a.b.d.e, a.b", wantErr: "overlap"},
		{proj: "#a, a", names: map[string]string{"#a": "a"}, wantErr: "overlap"},
		{proj: "a.b, a[1]", wantErr: "conflict"},
		{proj: "a.b.c, a.b[1]", wantErr: "conflict"},
		{proj: "a,", wantErr: "Syntax error"},
		{proj: ",a", wantErr: "Syntax error"},
		{proj: "a,,b", wantErr: "Syntax error"},
		{proj: "a[-1]", wantErr: "Syntax error"},
		{proj: "a[]", wantErr: "Syntax error"},
		{proj: "a[:v]", wantErr: "Syntax error"},
		{proj: "a b", wantErr: "Syntax error"},
		{proj: "a[99999999999999]", wantErr: "List index is not within the allowable range; index: [99999999999999]"},
		{proj: "name", wantErr: "Attribute name is a reserved keyword; reserved keyword: name"},
		{proj: "a" + strings.Repeat(".b", 32), wantErr: "The document path has too many nesting levels; nesting levels: 33"},
		{proj: "  ", wantErr: "The expression can not be empty"},
		{proj: "#x", wantErr: "An expression attribute name used in the document path is not defined; attribute name: #x"},
	}
	for _, tt := range tests {
		out, err := e.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: keyMap("p"),
			ProjectionExpression: aws.String(tt.proj), ExpressionAttributeNames: tt.names})
		if tt.wantErr != "" {
			if msg := message(err); !strings.HasPrefix(msg, "Invalid ProjectionExpression: ") ||
				!strings.Contains(msg, tt.wantErr) || !isValidation(err) {
				t.Errorf("%q: %v; want ValidationException %q", tt.proj, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.proj, err)
			continue
		}
		if got := show(out.Item); got != sorted(t, tt.want) {
			t.Errorf("%q: %s, want %s", tt.proj, got, sorted(t, tt.want))
		}
	}
	// A missing item stays missing, whatever the projection.
	out, err := e.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: keyMap("nope"), ProjectionExpression: aws.String("x")})
	if err != nil || out.Item != nil {
		t.Errorf("missing item with a projection: %v, %v", out.Item, err)
	}
}

// TestScanProjection: Scan projects every item the same way, keeps an
// item the projection reaches nothing of as {}, and still pages by key.
func TestScanProjection(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	e.put(t, `{"id":"1","tags":["a","b","c"],"n":1}`)
	e.put(t, `{"id":"2","tags":["x"],"n":2}`)
	e.put(t, `{"id":"3","n":3}`)
	scan := func(in *dynamodb.ScanInput) *dynamodb.ScanOutput {
		t.Helper()
		in.TableName = aws.String(testTable)
		out, err := e.Scan(context.Background(), in)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		return out
	}
	out := scan(&dynamodb.ScanInput{ProjectionExpression: aws.String("tags[2], tags[0]")})
	var got []string
	for _, it := range out.Items {
		got = append(got, show(it))
	}
	if want := `{"tags":["a","c"]}|{"tags":["x"]}|{}`; strings.Join(got, "|") != want {
		t.Errorf("projected scan: %s, want %s", strings.Join(got, "|"), want)
	}
	// A page whose last item has no projected attribute still ends with
	// that item's key.
	page := scan(&dynamodb.ScanInput{ProjectionExpression: aws.String("tags"), Limit: aws.Int32(1),
		FilterExpression: aws.String("n >= :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "1"}}})
	if len(page.Items) != 1 || show(page.LastEvaluatedKey) != `{"id":"1"}` || page.ScannedCount != 1 {
		t.Errorf("page: %+v %s", page.Items, show(page.LastEvaluatedKey))
	}
}
