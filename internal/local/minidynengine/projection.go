package minidynengine

import (
	"slices"
	"strings"

	mtypes "github.com/truora/minidyn/types"
)

// projection is a parsed ProjectionExpression: the tree of the document
// paths it names. Applied to an item it keeps, as DynamoDB does, only what
// the paths reach, nested as in the item: "a.b[2].y, a.c" of
// {a: {b: [1, 2, {x, y}], c, d}} is {a: {b: [{y}], c}}. Selected list
// elements are compacted in index order (tags[2], tags[0] gives
// [tags[0], tags[2]]); paths that reach nothing are left out; NULL values
// are values like any other.
type projection struct{ root projNode }

type projNode struct {
	leaf bool
	keys map[string]*projNode // map keys (or, at the root, attributes)
	idx  map[int]*projNode    // list indexes
	// order is idx's keys, ascending.
	order []int
}

// parseProjection parses s with DynamoDB's rules and messages: paths
// separated by commas, no reserved word as a bare name, no path twice or
// inside another (a, a.b) and no element used both as a map and as a list
// (a.b, a[1]).
func parseProjection(s string, names map[string]string) (*projection, error) {
	p := newParser("ProjectionExpression", s, names)
	if strings.TrimSpace(s) == "" {
		return nil, p.errorf("The expression can not be empty;")
	}
	var paths []path
	for {
		pa, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		paths = append(paths, pa)
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
	for _, pa := range paths {
		n := &pr.root
		for _, e := range pa {
			n = n.child(e)
		}
		n.leaf = true
	}
	return pr, nil
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
// reaches anything. Values are shared with item, which the engine never
// modifies in place.
func (pr *projection) apply(item map[string]*mtypes.Item) map[string]*mtypes.Item {
	out := make(map[string]*mtypes.Item, len(pr.root.keys))
	for k, c := range pr.root.keys {
		if v, ok := item[k]; ok {
			if r := c.project(v); r != nil {
				out[k] = r
			}
		}
	}
	return out
}

// project returns the part of v that n selects, or nil for nothing.
func (n *projNode) project(v *mtypes.Item) *mtypes.Item {
	switch {
	case v == nil:
		return nil
	case n.leaf:
		return v
	case n.keys != nil:
		if v.M == nil || !isMap(v) {
			return nil
		}
		out := map[string]*mtypes.Item{}
		for k, c := range n.keys {
			if e, ok := v.M[k]; ok {
				if r := c.project(e); r != nil {
					out[k] = r
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &mtypes.Item{M: out}
	default:
		if v.L == nil || !isList(v) {
			return nil
		}
		var out []*mtypes.Item
		for _, i := range n.order {
			if i >= len(v.L) {
				break
			}
			if r := n.idx[i].project(v.L[i]); r != nil {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return &mtypes.Item{L: out}
	}
}
