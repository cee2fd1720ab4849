package client

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ddbops/ddbops/internal/wire"
)

// Answer is what a successful answer to a request means for people: a
// line of Text, a JSON document (an item, a payload, a raw answer), or the
// items of a list with whether another page follows.
type Answer struct {
	Text string
	JSON json.RawMessage
	List *ListOutput
	More bool
}

// Interpret decodes body, the 2xx answer to req (raw: sent with --raw,
// printed as is). A read whose answer has no Item is the function's
// NotFound: the tutorial's original function answers a missing id that way.
func Interpret(req *Request, body []byte, raw bool) (*Answer, error) {
	switch {
	case raw:
		return &Answer{JSON: body}, nil
	case req.Op == wire.OpCreate:
		return &Answer{Text: "created " + req.ID}, nil
	case req.Op == wire.OpDelete:
		return &Answer{Text: "deleted " + req.ID}, nil
	case req.Op == wire.OpRead, req.Op == wire.OpUpdate:
		var res ItemOutput
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("%s: decode response: %w", req.Op, err)
		}
		item := res.Item
		if req.Op == wire.OpUpdate {
			item = res.Attributes
		}
		switch {
		case len(item) > 0 && string(item) != "null":
			return &Answer{JSON: item}, nil
		case req.Op == wire.OpRead:
			return nil, fmt.Errorf("read: %w", &APIError{StatusCode: http.StatusNotFound, Code: CodeNotFound, Message: "no item with this id"})
		}
		return &Answer{Text: "updated " + req.ID}, nil
	case req.Op == wire.OpList:
		var res ListOutput
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("list: decode response: %w", err)
		}
		return &Answer{List: &res, More: len(res.LastEvaluatedKey) > 0 && string(res.LastEvaluatedKey) != "null"}, nil
	case req.Op == wire.OpPing:
		var s string
		if json.Unmarshal(body, &s) == nil {
			return &Answer{Text: s}, nil
		}
	}
	return &Answer{JSON: body}, nil
}
