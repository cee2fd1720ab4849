package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Operations of the wire contract (DESIGN §5).
const (
	OpCreate = "create"
	OpRead   = "read"
	OpUpdate = "update"
	OpDelete = "delete"
	OpList   = "list"
	OpEcho   = "echo"
	OpPing   = "ping"
)

// Operations lists every operation in the order the docs present them.
var Operations = []string{OpCreate, OpRead, OpUpdate, OpDelete, OpList, OpEcho, OpPing}

// KeyAttribute is the table's partition key (a string).
const KeyAttribute = "id"

// NotExistsCondition makes create refuse to replace an existing item.
const NotExistsCondition = "attribute_not_exists(id)"

// request is the tutorial's body: {"operation", "tableName", "payload"}.
type request struct {
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

func encode(r request) ([]byte, error) {
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
	return encode(request{Operation: OpCreate, TableName: table, Payload: p})
}

// ReadBody is the read request for id.
func ReadBody(table, id string) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return encode(request{Operation: OpRead, TableName: table, Payload: keyPayload{Key: key(id)}})
}

// DeleteBody is the delete request for id (the handler answers 404 when
// there is no such item).
func DeleteBody(table, id string) ([]byte, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return encode(request{Operation: OpDelete, TableName: table, Payload: keyPayload{Key: key(id)}})
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
	return encode(request{Operation: OpUpdate, TableName: table, Payload: updatePayload{
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
	return encode(request{Operation: OpList, TableName: table, Payload: listPayload(in)})
}

// EchoBody is the echo request: the handler answers payload unchanged. Echo
// touches no table, so no tableName is sent (as in the tutorial's test
// event).
func EchoBody(payload Object) ([]byte, error) {
	if payload == nil {
		payload = Object{}
	}
	return encode(request{Operation: OpEcho, Payload: payload})
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

// Metadata is the ResponseMetadata of the five DynamoDB operations.
type Metadata struct {
	HTTPStatusCode int    `json:"HTTPStatusCode"`
	RequestID      string `json:"RequestId"`
}

// ItemOutput is the answer of create, read, update and delete. Item (read)
// and Attributes (update: the item after the change) stay raw JSON so
// attribute order and number literals survive.
type ItemOutput struct {
	Item             json.RawMessage `json:"Item,omitempty"`
	Attributes       json.RawMessage `json:"Attributes,omitempty"`
	ResponseMetadata Metadata        `json:"ResponseMetadata"`
	// Response is the HTTP answer as received.
	Response *Response `json:"-"`
}

// ListOutput is one page of list, or all pages combined by ListAll.
type ListOutput struct {
	Items            []json.RawMessage `json:"Items"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey json.RawMessage   `json:"LastEvaluatedKey,omitempty"`
	// Pages is how many requests ListAll made (not part of the API's answer).
	Pages int `json:"-"`
	// Response is the HTTP answer of the (last) page.
	Response *Response `json:"-"`
}

func decodeOK(op string, resp *Response, v any) error {
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return fmt.Errorf("%s: decode response (HTTP %d): %w", op, resp.StatusCode, err)
	}
	return nil
}

func (c *Client) item(ctx context.Context, op string, body []byte) (*ItemOutput, error) {
	resp, err := c.Do(ctx, op, body)
	if err != nil {
		return nil, err
	}
	out := &ItemOutput{Response: resp}
	if err := decodeOK(op, resp, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Create writes item (see CreateBody). A create of an existing id without
// overwrite fails with an *APIError that matches ErrConflict.
func (c *Client) Create(ctx context.Context, item Object, overwrite bool) (*ItemOutput, error) {
	body, err := CreateBody(c.target.TableName, item, overwrite)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, OpCreate, body)
}

// Read returns the item id. A missing item is an error matching
// ErrNotFound, also from a backend that answers 200 without an Item (the
// tutorial's original Python function does).
func (c *Client) Read(ctx context.Context, id string) (*ItemOutput, error) {
	body, err := ReadBody(c.target.TableName, id)
	if err != nil {
		return nil, err
	}
	out, err := c.item(ctx, OpRead, body)
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 || string(out.Item) == "null" {
		return nil, fmt.Errorf("%s: %w", OpRead, &APIError{StatusCode: 404, Code: "NotFound", Message: "no item with this id", RequestID: out.ResponseMetadata.RequestID})
	}
	return out, nil
}

// Update changes an existing item (see UpdateBody); Attributes of the
// output is the item after the change.
func (c *Client) Update(ctx context.Context, in UpdateInput) (*ItemOutput, error) {
	body, err := UpdateBody(c.target.TableName, in)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, OpUpdate, body)
}

// Delete removes the item id.
func (c *Client) Delete(ctx context.Context, id string) (*ItemOutput, error) {
	body, err := DeleteBody(c.target.TableName, id)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, OpDelete, body)
}

// List returns one page of the table.
func (c *Client) List(ctx context.Context, in ListInput) (*ListOutput, error) {
	body, err := ListBody(c.target.TableName, in)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, OpList, body)
	if err != nil {
		return nil, err
	}
	out := &ListOutput{Response: resp, Pages: 1}
	if err := decodeOK(OpList, resp, out); err != nil {
		return nil, err
	}
	if out.Items == nil {
		out.Items = []json.RawMessage{}
	}
	return out, nil
}

// ListAll follows LastEvaluatedKey from in until the last page and returns
// every item in one output (Count and ScannedCount summed, no
// LastEvaluatedKey).
func (c *Client) ListAll(ctx context.Context, in ListInput) (*ListOutput, error) {
	all := &ListOutput{Items: []json.RawMessage{}}
	var prev json.RawMessage
	for {
		page, err := c.List(ctx, in)
		if err != nil {
			if all.Pages > 0 {
				return nil, fmt.Errorf("page %d: %w", all.Pages+1, err)
			}
			return nil, err
		}
		all.Pages++
		all.Items = append(all.Items, page.Items...)
		all.Count += page.Count
		all.ScannedCount += page.ScannedCount
		all.Response = page.Response
		lek := page.LastEvaluatedKey
		if len(lek) == 0 || string(lek) == "null" {
			return all, nil
		}
		if prev != nil && bytes.Equal(compact(prev), compact(lek)) {
			return nil, fmt.Errorf("list: page %d repeated the previous LastEvaluatedKey; stopping", all.Pages)
		}
		prev = lek
		in.ExclusiveStartKey = lek
	}
}

// Echo sends payload and returns the answer (the payload itself).
func (c *Client) Echo(ctx context.Context, payload Object) (json.RawMessage, error) {
	body, err := EchoBody(payload)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, OpEcho, body)
	if err != nil {
		return nil, err
	}
	if !json.Valid(resp.Body) {
		return nil, fmt.Errorf("echo: response (HTTP %d) is not JSON", resp.StatusCode)
	}
	return resp.Body, nil
}

// Ping sends ping and returns the answer ("pong").
func (c *Client) Ping(ctx context.Context) (string, error) {
	resp, err := c.Do(ctx, OpPing, PingBody())
	if err != nil {
		return "", err
	}
	var s string
	if err := decodeOK(OpPing, resp, &s); err != nil {
		return "", err
	}
	return s, nil
}

// Raw sends a complete tutorial-format body as is. It is retried only when
// its "operation" is idempotent.
func (c *Client) Raw(ctx context.Context, body []byte) (*Response, error) {
	op := OperationOf(body)
	label := op
	if label == "" {
		label = "request"
	}
	resp, err := c.Do(ctx, label, body)
	return resp, err
}
