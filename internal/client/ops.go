package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/ddbops/ddbops/internal/wire"
)

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

// Create writes item (see wire.CreateBody). A create of an existing id without
// overwrite fails with an *APIError that matches ErrConflict.
func (c *Client) Create(ctx context.Context, item wire.Object, overwrite bool) (*ItemOutput, error) {
	body, err := wire.CreateBody(c.target.TableName, item, overwrite)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, wire.OpCreate, body)
}

// Read returns the item id. A missing item is an error matching
// ErrNotFound, also from a backend that answers 200 without an Item (the
// tutorial's original Python function does).
func (c *Client) Read(ctx context.Context, id string) (*ItemOutput, error) {
	body, err := wire.ReadBody(c.target.TableName, id)
	if err != nil {
		return nil, err
	}
	out, err := c.item(ctx, wire.OpRead, body)
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 || string(out.Item) == "null" {
		return nil, fmt.Errorf("%s: %w", wire.OpRead, &APIError{StatusCode: 404, Code: "NotFound", Message: "no item with this id", RequestID: out.ResponseMetadata.RequestID})
	}
	return out, nil
}

// Update changes an existing item (see wire.UpdateBody); Attributes of the
// output is the item after the change.
func (c *Client) Update(ctx context.Context, in wire.UpdateInput) (*ItemOutput, error) {
	body, err := wire.UpdateBody(c.target.TableName, in)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, wire.OpUpdate, body)
}

// Delete removes the item id.
func (c *Client) Delete(ctx context.Context, id string) (*ItemOutput, error) {
	body, err := wire.DeleteBody(c.target.TableName, id)
	if err != nil {
		return nil, err
	}
	return c.item(ctx, wire.OpDelete, body)
}

// List returns one page of the table.
func (c *Client) List(ctx context.Context, in wire.ListInput) (*ListOutput, error) {
	body, err := wire.ListBody(c.target.TableName, in)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, wire.OpList, body)
	if err != nil {
		return nil, err
	}
	out := &ListOutput{Response: resp, Pages: 1}
	if err := decodeOK(wire.OpList, resp, out); err != nil {
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
func (c *Client) ListAll(ctx context.Context, in wire.ListInput) (*ListOutput, error) {
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
		if prev != nil && bytes.Equal(wire.Compact(prev), wire.Compact(lek)) {
			return nil, fmt.Errorf("list: page %d repeated the previous LastEvaluatedKey; stopping", all.Pages)
		}
		prev = lek
		in.ExclusiveStartKey = lek
	}
}

// Echo sends payload and returns the answer (the payload itself).
func (c *Client) Echo(ctx context.Context, payload wire.Object) (json.RawMessage, error) {
	body, err := wire.EchoBody(payload)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, wire.OpEcho, body)
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
	resp, err := c.Do(ctx, wire.OpPing, wire.PingBody())
	if err != nil {
		return "", err
	}
	var s string
	if err := decodeOK(wire.OpPing, resp, &s); err != nil {
		return "", err
	}
	return s, nil
}

// Raw sends a complete tutorial-format body as is. It is retried only when
// its "operation" is idempotent.
func (c *Client) Raw(ctx context.Context, body []byte) (*Response, error) {
	op := wire.OperationOf(body)
	label := op
	if label == "" {
		label = "request"
	}
	resp, err := c.Do(ctx, label, body)
	return resp, err
}
