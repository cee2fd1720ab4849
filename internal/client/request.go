package client

import (
	"bytes"
	"encoding/json"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
)

// Input is one operation as `ddbops call` takes it from the command line.
type Input struct {
	Op string // "" with Raw
	// Raw is a complete tutorial-format body (--raw), sent as is.
	Raw       []byte
	ID        string
	Name      *string  // --name, nil when not given
	Attrs     []string // HTTPie-style NAME=STRING / NAME:=JSON
	Item      []byte   // create's --item JSON object, nil when not given
	Overwrite bool
	Remove    []string
	Limit     int
	LimitSet  bool
}

// Request is a built request: the operation and its body.
type Request struct {
	Op   string
	Body []byte
	ID   string // the item's id, for messages of create and delete
}

// Build turns in into the tutorial-format request for table. Every error
// is a usage error: nothing was sent.
func Build(in Input, table string) (*Request, error) {
	if in.Raw != nil {
		body := bytes.TrimSpace(in.Raw)
		if !json.Valid(body) {
			return nil, cmdutil.UsageErrorf("--raw: not valid JSON")
		}
		return &Request{Op: wire.OperationOf(body), Body: body}, nil
	}
	attrs, err := ParseAttributes(in.Attrs)
	if err != nil {
		return nil, cmdutil.UsageErrorf("%s: %v", in.Op, err)
	}
	if in.Name != nil {
		if _, dup := attrs.Get("name"); dup {
			return nil, cmdutil.UsageErrorf("%s: name given twice (--name and name=...)", in.Op)
		}
	}
	req := &Request{Op: in.Op, ID: in.ID}
	wrap := func(body []byte, err error) (*Request, error) {
		if err != nil {
			return nil, cmdutil.UsageErrorf("%s: %v", in.Op, err)
		}
		req.Body = body
		return req, nil
	}
	needID := func() error {
		if in.ID == "" {
			return cmdutil.UsageErrorf("%s: --id is required", in.Op)
		}
		return nil
	}
	switch in.Op {
	case wire.OpCreate:
		item, id, err := createItem(in, attrs)
		if err != nil {
			return nil, err
		}
		req.ID = id
		return wrap(wire.CreateBody(table, item, in.Overwrite))
	case wire.OpRead:
		if err := needID(); err != nil {
			return nil, err
		}
		return wrap(wire.ReadBody(table, in.ID))
	case wire.OpDelete:
		if err := needID(); err != nil {
			return nil, err
		}
		return wrap(wire.DeleteBody(table, in.ID))
	case wire.OpUpdate:
		if err := needID(); err != nil {
			return nil, err
		}
		set := wire.Object{}
		if in.Name != nil {
			set = append(set, wire.Member{Name: "name", Value: wire.String(*in.Name)})
		}
		set = append(set, attrs...)
		return wrap(wire.UpdateBody(table, wire.UpdateInput{ID: in.ID, Set: set, Remove: in.Remove}))
	case wire.OpList:
		if in.LimitSet && in.Limit <= 0 {
			return nil, cmdutil.UsageErrorf("list: --limit must be a positive integer")
		}
		return wrap(wire.ListBody(table, wire.ListInput{Limit: in.Limit}))
	case wire.OpEcho:
		return wrap(wire.EchoBody(attrs))
	case wire.OpPing:
		req.Body = wire.PingBody()
		return req, nil
	}
	return nil, cmdutil.UsageErrorf("unknown operation %q", in.Op)
}

// createItem assembles the item of create from --item, --id, --name and
// the attributes.
func createItem(in Input, attrs wire.Object) (wire.Object, string, error) {
	var base wire.Object
	if in.Item != nil {
		var err error
		if base, err = wire.ParseObject(in.Item); err != nil {
			return nil, "", cmdutil.UsageErrorf("create: --item: %v", err)
		}
	}
	item, id, err := Item(base, in.ID, in.Name, attrs)
	if err != nil {
		return nil, "", cmdutil.UsageErrorf("create: %v", err)
	}
	return item, id, nil
}
