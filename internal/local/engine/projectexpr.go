package engine

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// projection is a parsed ProjectionExpression: the tree of the document
// paths it names. Applied to an item it keeps, as DynamoDB does, only what
// the paths reach, nested as in the item: "a.b[2].y, a.c" of
// {a: {b: [1, 2, {x, y}], c, d}} is {a: {b: [{y}], c}}. Selected list
// elements are compacted in index order (tags[2], tags[0] gives
// [tags[0], tags[2]]); paths that reach nothing are left out.
type projection struct{ root projNode }

type projNode struct {
	leaf  bool
	keys  map[string]*projNode // map keys (at the root: attributes)
	idx   map[int]*projNode    // list indexes
	order []int                // idx's keys, ascending
}

// parseProjection parses a ProjectionExpression: paths separated by
// commas, none twice or inside another (a, a.b), no element used both as
// a map and as a list (a.b, a[1]).
func parseProjection(s string, ph *placeholders) (*projection, error) {
	p, err := newParser(labelProjection, s, ph)
	if err != nil {
		return nil, err
	}
	var paths []docPath
	for {
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
		if p.tok.kind == tokEOF {
			break
		}
		if p.tok.kind != tokComma {
			return nil, p.syntaxError()
		}
		p.advance()
	}
	if err := p.checkOverlaps(paths); err != nil {
		return nil, err
	}
	pr := &projection{}
	for _, path := range paths {
		pr.add(path)
	}
	return pr, nil
}

func (pr *projection) add(path docPath) {
	n := &pr.root
	for _, e := range path {
		n = n.child(e)
	}
	n.leaf = true
}

func (n *projNode) child(e pathElem) *projNode {
	if e.isIndex() {
		if n.idx == nil {
			n.idx = map[int]*projNode{}
		}
		c := n.idx[e.index]
		if c == nil {
			c = &projNode{}
			n.idx[e.index] = c
			i, _ := slices.BinarySearch(n.order, e.index)
			n.order = slices.Insert(n.order, i, e.index)
		}
		return c
	}
	if n.keys == nil {
		n.keys = map[string]*projNode{}
	}
	c := n.keys[e.name]
	if c == nil {
		c = &projNode{}
		n.keys[e.name] = c
	}
	return c
}

// apply returns the projection of item: a new map, empty when no path
// reaches anything. Values are shared with item.
func (pr *projection) apply(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(pr.root.keys))
	for k, c := range pr.root.keys {
		if v, ok := item[k]; ok {
			if r := c.project(v); r != nil {
				out[k] = r
			}
		}
	}
	return out
}

// project returns the part of v that n selects, nil for nothing.
func (n *projNode) project(v types.AttributeValue) types.AttributeValue {
	if n.leaf {
		return v
	}
	switch x := v.(type) {
	case *types.AttributeValueMemberM:
		if n.keys == nil {
			return nil
		}
		out := map[string]types.AttributeValue{}
		for k, c := range n.keys {
			if e, ok := x.Value[k]; ok {
				if r := c.project(e); r != nil {
					out[k] = r
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &types.AttributeValueMemberM{Value: out}
	case *types.AttributeValueMemberL:
		if n.idx == nil {
			return nil
		}
		var out []types.AttributeValue
		for _, i := range n.order {
			if i >= len(x.Value) {
				break
			}
			if r := n.idx[i].project(x.Value[i]); r != nil {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &types.AttributeValueMemberL{Value: out}
	}
	return nil
}
