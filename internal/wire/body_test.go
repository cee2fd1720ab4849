package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// The tutorial's bodies, byte for byte, where a typed operation produces
// one; every other op's body is pinned here too, so a change to the wire
// format is a deliberate edit of this table.
func TestBodiesGolden(t *testing.T) {
	t.Parallel()
	const table = "lambda-apigateway"
	bob := Object{{"id", String("1")}, {"name", String("Bob")}}
	tests := []struct {
		name  string
		build func() ([]byte, error)
		want  string
	}{
		{"create tutorial (overwrite)", func() ([]byte, error) { return CreateBody(table, bob, true) },
			`{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}`},
		{"create conditional", func() ([]byte, error) { return CreateBody(table, bob, false) },
			`{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"},"ConditionExpression":"attribute_not_exists(id)"}}`},
		{"create keeps number literals and order", func() ([]byte, error) {
			return CreateBody(table, Object{{"id", String("7")}, {"big", json.RawMessage(`12345678901234567890.123456789`)}, {"a", json.RawMessage(`[1,{"b":null}]`)}}, false)
		}, `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"7","big":12345678901234567890.123456789,"a":[1,{"b":null}]},"ConditionExpression":"attribute_not_exists(id)"}}`},
		{"create no html escaping", func() ([]byte, error) {
			return CreateBody(table, Object{{"id", String("<&>")}, {"q", String(`a"b\c`)}}, true)
		}, `{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"<&>","q":"a\"b\\c"}}}`},
		{"read tutorial", func() ([]byte, error) { return ReadBody(table, "1") },
			`{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`},
		{"delete", func() ([]byte, error) { return DeleteBody(table, "1") },
			`{"operation":"delete","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}`},
		{"update set and remove", func() ([]byte, error) {
			return UpdateBody(table, UpdateInput{ID: "1", Set: Object{{"name", String("Alice")}, {"age", json.RawMessage(`42`)}}, Remove: []string{"nick", "size"}})
		}, `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"SET #n0 = :v0, #n1 = :v1 REMOVE #n2, #n3","ExpressionAttributeNames":{"#n0":"name","#n1":"age","#n2":"nick","#n3":"size"},"ExpressionAttributeValues":{":v0":"Alice",":v1":42},"ReturnValues":"ALL_NEW"}}`},
		{"update remove only has no values", func() ([]byte, error) {
			return UpdateBody(table, UpdateInput{ID: "1", Remove: []string{"name"}})
		}, `{"operation":"update","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"},"UpdateExpression":"REMOVE #n0","ExpressionAttributeNames":{"#n0":"name"},"ReturnValues":"ALL_NEW"}}`},
		{"list tutorial", func() ([]byte, error) { return ListBody(table, ListInput{}) },
			`{"operation":"list","tableName":"lambda-apigateway","payload":{}}`},
		{"list page", func() ([]byte, error) {
			return ListBody(table, ListInput{Limit: 2, ExclusiveStartKey: json.RawMessage(`{"id":"2"}`)})
		}, `{"operation":"list","tableName":"lambda-apigateway","payload":{"Limit":2,"ExclusiveStartKey":{"id":"2"}}}`},
		{"list without table", func() ([]byte, error) { return ListBody("", ListInput{Limit: 5}) },
			`{"operation":"list","payload":{"Limit":5}}`},
		{"echo tutorial test event", func() ([]byte, error) {
			return EchoBody(Object{{"somekey1", String("somevalue1")}, {"somekey2", String("somevalue2")}})
		}, `{"operation":"echo","payload":{"somekey1":"somevalue1","somekey2":"somevalue2"}}`},
		{"echo empty", func() ([]byte, error) { return EchoBody(nil) }, `{"operation":"echo","payload":{}}`},
		{"ping", func() ([]byte, error) { return PingBody(), nil }, `{"operation":"ping"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("body is not valid JSON")
			}
		})
	}
}

func TestBodiesRejectBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func() ([]byte, error)
		want  string
	}{
		{"create without id", func() ([]byte, error) { return CreateBody("t", Object{{"name", String("x")}}, false) }, "no id"},
		{"create numeric id", func() ([]byte, error) { return CreateBody("t", Object{{"id", json.RawMessage(`1`)}}, false) }, "id must be a string"},
		{"create empty id", func() ([]byte, error) { return CreateBody("t", Object{{"id", String("")}}, false) }, "must not be empty"},
		{"read empty id", func() ([]byte, error) { return ReadBody("t", "") }, "must not be empty"},
		{"delete empty id", func() ([]byte, error) { return DeleteBody("t", "") }, "must not be empty"},
		{"update nothing", func() ([]byte, error) { return UpdateBody("t", UpdateInput{ID: "1"}) }, "nothing to change"},
		{"update id", func() ([]byte, error) {
			return UpdateBody("t", UpdateInput{ID: "1", Set: Object{{"id", String("2")}}})
		}, "id is the key"},
		{"remove id", func() ([]byte, error) { return UpdateBody("t", UpdateInput{ID: "1", Remove: []string{"id"}}) }, "id is the key"},
		{"set and remove same", func() ([]byte, error) {
			return UpdateBody("t", UpdateInput{ID: "1", Set: Object{{"a", String("x")}}, Remove: []string{"a"}})
		}, "given twice"},
		{"remove empty name", func() ([]byte, error) { return UpdateBody("t", UpdateInput{ID: "1", Remove: []string{""}}) }, "empty attribute name"},
		{"negative limit", func() ([]byte, error) { return ListBody("t", ListInput{Limit: -1}) }, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.build()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{in: `{"z":1,"id":"1","a":{"x": [1, 2]}}`, want: `{"z":1,"id":"1","a":{"x":[1,2]}}`},
		{in: " {} \n", want: `{}`},
		{in: `{"n":1.0e+2}`, want: `{"n":1.0e+2}`},
		{in: `[1]`, wantErr: "want a JSON object"},
		{in: `"x"`, wantErr: "want a JSON object"},
		{in: `{"a":1,"a":2}`, wantErr: "duplicate"},
		{in: `{"a":1} {}`, wantErr: "data after"},
		{in: `{"a":}`, wantErr: "invalid JSON"},
		{in: `{"a":1`, wantErr: "invalid JSON"},
		{in: ``, wantErr: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			obj, err := ParseObject([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(obj)
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestObjectSetReplacesInPlace(t *testing.T) {
	t.Parallel()
	o := Object{{"a", String("1")}, {"b", String("2")}}
	o.Set("a", String("x"))
	o.Set("c", json.RawMessage(`3`))
	got, _ := json.Marshal(o)
	if want := `{"a":"x","b":"2","c":3}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestOperationOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"operation":"read","payload":{}}`: "read",
		`{"payload":{}}`:                    "",
		`[1]`:                               "",
		`not json`:                          "",
		`{"operation":7}`:                   "",
	} {
		if got := OperationOf([]byte(in)); got != want {
			t.Errorf("OperationOf(%s) = %q, want %q", in, got, want)
		}
	}
}
