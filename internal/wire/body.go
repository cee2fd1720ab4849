package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Request is the tutorial's body: {"operation", "tableName", "payload"}.
type Request struct {
	Operation string `json:"operation"`
	TableName string `json:"tableName,omitempty"`
	Payload   any    `json:"payload,omitempty"`
}

type keyPayload struct {
	Key Object `json:"Key"`
}

type createPayload struct {
	Item                Object `json:"Item"`
	ConditionExpression string `json:"ConditionExpression,omitempty"`
}

type updatePayload struct {
	Key                       Object `json:"Key"`
	UpdateExpression          string `json:"UpdateExpression"`
	ExpressionAttributeNames  Object `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues Object `json:"ExpressionAttributeValues,omitempty"`
	ReturnValues              string `json:"ReturnValues"`
}

type listPayload struct {
	Limit             int             `json:"Limit,omitempty"`
	ExclusiveStartKey json.RawMessage `json:"ExclusiveStartKey,omitempty"`
}

// Encode returns r as compact JSON without HTML escaping.
func Encode(r Request) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode %s request: %w", r.Operation, err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func key(id string) Object { return Object{{Name: KeyAttribute, Value: String(id)}} }

func checkID(id string) error {
	if id == "" {
		return errors.New("id: must not be empty")
	}
	return nil
}

// CreateBody is the create request for item, which must hold a non-empty
// string id. Unless overwrite, the item is written only if no item has its
// id (a repeated create answers 409 instead of replacing data).
func CreateBody(table string, item Object, overwrite bool) ([]byte, error) {
	raw, ok := item.Get(KeyAttribute)
	if !ok {
		return nil, errors.New("item: no id attribute")
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, errors.New("item: id must be a string")
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	p := createPayload{Item: item}
	if !overwrite {
		p.ConditionExpression = NotExistsCondition
	}
	return Encode(Request{Operation: OpCreate, TableName: table, Payload: p})
}

// ReadBody is the read request for id.
func ReadBody(table, id string) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return Encode(Request{Operation: OpRead, TableName: table, Payload: keyPayload{Key: key(id)}})
}

// DeleteBody is the delete request for id (the handler answers 404 when
// there is no such item).
func DeleteBody(table, id string) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return Encode(Request{Operation: OpDelete, TableName: table, Payload: keyPayload{Key: key(id)}})
}

// UpdateInput changes attributes of an existing item.
type UpdateInput struct {
	ID     string
	Set    Object   // attributes to set, in order
	Remove []string // attributes to remove
}

// UpdateBody is the update request for in: one SET clause for in.Set and
// one REMOVE clause for in.Remove, every name and value behind a
// placeholder (#n0, :v0, ...) so reserved words such as "name" work. It asks
// for the item as it is after the update (ReturnValues ALL_NEW). The handler
// adds attribute_exists(id), so an update never creates an item.
func UpdateBody(table string, in UpdateInput) ([]byte, error) {
	if err := checkID(in.ID); err != nil {
		return nil, err
	}
	if len(in.Set) == 0 && len(in.Remove) == 0 {
		return nil, errors.New("update: nothing to change (give attributes to set or --remove)")
	}
	seen := map[string]bool{}
	var names, values Object
	var set, remove []string
	for _, m := range in.Set {
		if err := checkUpdatable(m.Name, seen); err != nil {
			return nil, err
		}
		n, v := fmt.Sprintf("#n%d", len(names)), fmt.Sprintf(":v%d", len(values))
		names = append(names, Member{Name: n, Value: String(m.Name)})
		values = append(values, Member{Name: v, Value: m.Value})
		set = append(set, n+" = "+v)
	}
	for _, name := range in.Remove {
		if err := checkUpdatable(name, seen); err != nil {
			return nil, err
		}
		n := fmt.Sprintf("#n%d", len(names))
		names = append(names, Member{Name: n, Value: String(name)})
		remove = append(remove, n)
	}
	var expr bytes.Buffer
	if len(set) > 0 {
		expr.WriteString("SET ")
		expr.WriteString(join(set))
	}
	if len(remove) > 0 {
		if expr.Len() > 0 {
			expr.WriteByte(' ')
		}
		expr.WriteString("REMOVE ")
		expr.WriteString(join(remove))
	}
	return Encode(Request{Operation: OpUpdate, TableName: table, Payload: updatePayload{
		Key:                       key(in.ID),
		UpdateExpression:          expr.String(),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              "ALL_NEW",
	}})
}

func checkUpdatable(name string, seen map[string]bool) error {
	switch {
	case name == "":
		return errors.New("update: empty attribute name")
	case name == KeyAttribute:
		return errors.New("update: id is the key and cannot be changed or removed")
	case seen[name]:
		return fmt.Errorf("update: attribute %q given twice", name)
	}
	seen[name] = true
	return nil
}

func join(parts []string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// ListInput selects one page of a scan.
type ListInput struct {
	// Limit is the page size (0 = the handler's default; it caps it at 100).
	Limit int
	// ExclusiveStartKey continues after a previous page's LastEvaluatedKey.
	ExclusiveStartKey json.RawMessage
}

// ListBody is the list request for one page.
func ListBody(table string, in ListInput) ([]byte, error) {
	if in.Limit < 0 {
		return nil, errors.New("limit: must be a positive integer")
	}
	return Encode(Request{Operation: OpList, TableName: table, Payload: listPayload(in)})
}

// EchoBody is the echo request: the handler answers payload unchanged. Echo
// touches no table, so no tableName is sent (as in the tutorial's test
// event).
func EchoBody(payload Object) ([]byte, error) {
	if payload == nil {
		payload = Object{}
	}
	return Encode(Request{Operation: OpEcho, Payload: payload})
}

// PingBody is the ping request: {"operation":"ping"}.
func PingBody() []byte { return []byte(`{"operation":"ping"}`) }

// OperationOf returns the "operation" of a tutorial-format body ("" when
// the body is not an object naming one), which decides retries for Raw.
func OperationOf(body []byte) string {
	var r struct {
		Operation string `json:"operation"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.Operation
}
