package engine

import (
	"bytes"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// An UpdateExpression, evaluated as DynamoDB evaluates it
// (docs/engine.md#updates):
//   - SET path = value [+|- value], value = path | :value |
//     if_not_exists(path, value) | list_append(value, value); every value
//     reads the item as it was before the update; arithmetic is exact;
//   - REMOVE path: a missing attribute or list element is no error; list
//     indexes refer to the list before the update;
//   - ADD path :value adds a number (a missing attribute counts as 0) or
//     merges a set; DELETE path :set removes elements, and an emptied set
//     is removed;
//   - SET of a list index past the end appends, in index order;
//   - a path through a missing or mistyped parent is refused, and so is a
//     SET value reading a missing attribute;
//   - each clause at most once, no two actions on overlapping paths, never
//     the key attribute.

type actionKind uint8

const (
	actSet actionKind = iota
	actRemove
	actAdd
	actDelete
)

var clauseNames = [...]string{actSet: "SET", actRemove: "REMOVE", actAdd: "ADD", actDelete: "DELETE"}

type valueKind uint8

const (
	valPath valueKind = iota
	valConst
	valCall
)

// setValue is a SET operand or a function argument.
type setValue struct {
	kind  valueKind
	path  docPath              // valPath
	value types.AttributeValue // valConst
	fn    string               // valCall
	args  []*setValue          // valCall
}

type action struct {
	kind actionKind
	path docPath
	// SET: left [op right], op 0, '+' or '-'.
	left, right *setValue
	op          byte
	// ADD, DELETE: the value.
	value types.AttributeValue
}

// update is a parsed UpdateExpression.
type update struct {
	actions []action
	// creates: SET or ADD, so the update creates an item that does not
	// exist (REMOVE and DELETE alone leave a missing item missing).
	creates bool
}

// parseUpdate parses and statically checks an UpdateExpression; key is
// the table's key attribute, which no action may name.
func parseUpdate(s string, ph *placeholders, key string) (*update, error) {
	p, err := newParser(labelUpdate, s, ph)
	if err != nil {
		return nil, err
	}
	u := &update{}
	var seen [len(clauseNames)]bool
	for p.tok.kind != tokEOF {
		kind, ok := clauseKind(p.tok)
		if !ok {
			return nil, p.syntaxError()
		}
		if seen[kind] {
			return nil, p.errorf("The %q section can only be used once in an update expression;", clauseNames[kind])
		}
		seen[kind] = true
		p.advance()
		for {
			a, err := p.parseAction(kind)
			if err != nil {
				return nil, err
			}
			u.actions = append(u.actions, a)
			if p.tok.kind != tokComma {
				break
			}
			p.advance()
		}
		if _, ok := clauseKind(p.tok); !ok && p.tok.kind != tokEOF {
			return nil, p.syntaxError()
		}
	}
	paths := make([]docPath, len(u.actions))
	for i, a := range u.actions {
		if a.path[0].name == key {
			return nil, validationf("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", key)
		}
		paths[i] = a.path
		u.creates = u.creates || a.kind == actSet || a.kind == actAdd
	}
	if err := p.checkOverlaps(paths); err != nil {
		return nil, err
	}
	return u, nil
}

func clauseKind(t token) (actionKind, bool) {
	if t.kind == tokWord {
		for k, name := range clauseNames {
			if strings.EqualFold(t.text, name) {
				return actionKind(k), true
			}
		}
	}
	return 0, false
}

func (p *parser) parseAction(kind actionKind) (action, error) {
	path, err := p.parsePath()
	if err != nil {
		return action{}, err
	}
	a := action{kind: kind, path: path}
	switch kind {
	case actSet:
		if p.tok.kind != tokEq {
			return action{}, p.syntaxError()
		}
		p.advance()
		if a.left, err = p.parseSetValue(""); err != nil {
			return action{}, err
		}
		if p.tok.kind == tokPlus || p.tok.kind == tokMinus {
			if err := p.operator(); err != nil {
				return action{}, err
			}
			a.op = p.advance().text[0]
			if a.right, err = p.parseSetValue(""); err != nil {
				return action{}, err
			}
			for _, o := range []*setValue{a.left, a.right} {
				if o.kind == valConst && kindOf(o.value) != kindN {
					return action{}, p.errorf("Incorrect operand type for operator or function; operator or function: %c, operand type: %s", a.op, longNames[kindOf(o.value)])
				}
			}
		}
	case actAdd, actDelete:
		if p.tok.kind != tokValue {
			return action{}, p.syntaxError()
		}
		v, _, err := p.value()
		if err != nil {
			return action{}, err
		}
		k := kindOf(v)
		if !k.isSet() && (kind == actDelete || k != kindN) {
			return action{}, p.errorf("Incorrect operand type for operator or function; operator: %s, operand type: %s", clauseNames[kind], longNames[k])
		}
		a.value = v
	}
	return a, nil
}

// parseSetValue reads a path, a :value or a function call; in is the
// function whose argument it is ("" for none).
func (p *parser) parseSetValue(in string) (*setValue, error) {
	switch p.tok.kind {
	case tokValue:
		v, _, err := p.value()
		if err != nil {
			return nil, err
		}
		return &setValue{kind: valConst, value: v}, nil
	case tokWord:
		if p.peek().kind == tokLParen {
			return p.parseSetCall(in)
		}
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &setValue{kind: valPath, path: path}, nil
}

func (p *parser) parseSetCall(in string) (*setValue, error) {
	if err := p.operator(); err != nil {
		return nil, err
	}
	fn := p.advance().text
	p.advance() // (
	var args []*setValue
	for {
		a, err := p.parseSetValue(fn)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.tok.kind == tokRParen {
			p.advance()
			break
		}
		if p.tok.kind != tokComma {
			return nil, p.syntaxError()
		}
		p.advance()
	}
	switch fn {
	case fnIfNotExists, fnListAppend:
	case fnAttributeExists, fnAttributeNotExists, fnAttributeType, fnBeginsWith, fnContains, fnSize:
		return nil, p.errorf("The function is not allowed in an update expression; function: %s", fn)
	default:
		return nil, p.errorf("Invalid function name; function: %s", clipText(fn))
	}
	if len(args) != 2 {
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))
	}
	switch fn {
	case fnIfNotExists:
		if args[0].kind != valPath {
			return nil, p.errorf("Operator or function requires a document path; operator or function: %s", fn)
		}
	case fnListAppend:
		if in == fnListAppend {
			return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", fn)
		}
		for _, a := range args {
			if a.kind == valConst && kindOf(a.value) != kindL {
				return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, longNames[kindOf(a.value)])
			}
		}
	}
	return &setValue{kind: valCall, fn: fn, args: args}, nil
}

var (
	errDocumentPath = validation("The document path provided in the update expression is invalid for update")
	errMissingAttr  = validation("The provided expression refers to an attribute that does not exist in the item")
	errOperandType  = validation("An operand in the update expression has an incorrect data type")
	errItemTooLarge = validation("Item size to update has exceeded the maximum allowed size")
)

// eval computes a SET value against the item before the update.
func (o *setValue) eval(item map[string]types.AttributeValue) (types.AttributeValue, error) {
	switch o.kind {
	case valConst:
		return o.value, nil
	case valPath:
		v := o.path.get(item)
		if v == nil {
			return nil, errMissingAttr
		}
		return v, nil
	}
	if o.fn == fnIfNotExists {
		if v := o.args[0].path.get(item); v != nil {
			return v, nil
		}
		return o.args[1].eval(item)
	}
	a, err := o.args[0].eval(item)
	if err != nil {
		return nil, err
	}
	b, err := o.args[1].eval(item)
	if err != nil {
		return nil, err
	}
	la, ok1 := a.(*types.AttributeValueMemberL)
	lb, ok2 := b.(*types.AttributeValueMemberL)
	if !ok1 || !ok2 {
		return nil, errOperandType
	}
	l := make([]types.AttributeValue, 0, len(la.Value)+len(lb.Value))
	return &types.AttributeValueMemberL{Value: append(append(l, la.Value...), lb.Value...)}, nil
}

// assigned computes the value a SET action assigns.
func (a *action) assigned(item map[string]types.AttributeValue) (types.AttributeValue, error) {
	left, err := a.left.eval(item)
	if err != nil || a.op == 0 {
		return left, err
	}
	right, err := a.right.eval(item)
	if err != nil {
		return nil, err
	}
	x, ok1 := left.(*types.AttributeValueMemberN)
	y, ok2 := right.(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return nil, errOperandType
	}
	sum, err := addNumbers(x.Value, y.Value, a.op == '-')
	if err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberN{Value: sum}, nil
}

// opNode is the tree of the update's paths, with what each leaf does.
type opNode struct {
	act   *action
	value types.AttributeValue // what a SET assigns
	keys  map[string]*opNode
	idx   map[int]*opNode
	order []int // idx's keys, ascending
}

func (n *opNode) child(e pathElem) *opNode {
	if e.isIndex() {
		if n.idx == nil {
			n.idx = map[int]*opNode{}
		}
		c := n.idx[e.index]
		if c == nil {
			c = &opNode{}
			n.idx[e.index] = c
			i, _ := slices.BinarySearch(n.order, e.index)
			n.order = slices.Insert(n.order, i, e.index)
		}
		return c
	}
	if n.keys == nil {
		n.keys = map[string]*opNode{}
	}
	c := n.keys[e.name]
	if c == nil {
		c = &opNode{}
		n.keys[e.name] = c
	}
	return c
}

// apply computes the item after the update from old (nil when there is
// none) and the request's key. It returns nil when nothing is to be
// written (REMOVE or DELETE of a missing item). old is not modified: the
// new item shares the values the update does not change.
func (u *update) apply(old, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	exists := old != nil
	if !exists && !u.creates {
		return nil, nil
	}
	base := old
	if !exists {
		base = key
	}
	var root opNode
	for i := range u.actions {
		a := &u.actions[i]
		if !exists && (a.kind == actRemove || a.kind == actDelete) {
			continue // nothing to remove from an item that does not exist
		}
		n := &root
		for _, e := range a.path {
			n = n.child(e)
		}
		n.act = a
		if a.kind == actSet {
			v, err := a.assigned(base)
			if err != nil {
				return nil, err
			}
			n.value = v
		}
	}
	out := make(map[string]types.AttributeValue, len(base)+len(root.keys))
	for k, v := range base {
		out[k] = v
	}
	for k, c := range root.keys {
		v, err := c.applyTo(base[k])
		if err != nil {
			return nil, err
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out, nil
}

// applyTo returns what becomes of old (nil: absent) under n; nil means
// absent.
func (n *opNode) applyTo(old types.AttributeValue) (types.AttributeValue, error) {
	if a := n.act; a != nil {
		switch a.kind {
		case actSet:
			return n.value, nil
		case actRemove:
			return nil, nil
		case actAdd:
			return addTo(old, a.value)
		}
		return deleteFrom(old, a.value)
	}
	if n.keys != nil {
		m, ok := old.(*types.AttributeValueMemberM)
		if !ok {
			return nil, errDocumentPath
		}
		out := make(map[string]types.AttributeValue, len(m.Value)+len(n.keys))
		for k, v := range m.Value {
			out[k] = v
		}
		for k, c := range n.keys {
			v, err := c.applyTo(m.Value[k])
			if err != nil {
				return nil, err
			}
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	}
	l, ok := old.(*types.AttributeValueMemberL)
	if !ok {
		return nil, errDocumentPath
	}
	out := make([]types.AttributeValue, 0, len(l.Value)+len(n.order))
	for i, v := range l.Value {
		c := n.idx[i]
		if c == nil {
			out = append(out, v)
			continue
		}
		v, err := c.applyTo(v)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	// Indexes past the end: SET appends, in index order.
	for _, i := range n.order {
		if i < len(l.Value) {
			continue
		}
		v, err := n.idx[i].applyTo(nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	return &types.AttributeValueMemberL{Value: out}, nil
}

// addTo is ADD: a number added to a number (a missing one counts as 0),
// or a set merged into a set of the same type.
func addTo(old, v types.AttributeValue) (types.AttributeValue, error) {
	if old == nil {
		return v, nil
	}
	switch x := v.(type) {
	case *types.AttributeValueMemberN:
		o, ok := old.(*types.AttributeValueMemberN)
		if !ok {
			return nil, errOperandType
		}
		sum, err := addNumbers(o.Value, x.Value, false)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: sum}, nil
	case *types.AttributeValueMemberSS:
		o, ok := old.(*types.AttributeValueMemberSS)
		if !ok {
			return nil, errOperandType
		}
		return &types.AttributeValueMemberSS{Value: union(o.Value, x.Value, func(a, b string) bool { return a == b })}, nil
	case *types.AttributeValueMemberNS:
		o, ok := old.(*types.AttributeValueMemberNS)
		if !ok {
			return nil, errOperandType
		}
		return &types.AttributeValueMemberNS{Value: union(o.Value, x.Value, func(a, b string) bool { return compareNumbers(a, b) == 0 })}, nil
	case *types.AttributeValueMemberBS:
		o, ok := old.(*types.AttributeValueMemberBS)
		if !ok {
			return nil, errOperandType
		}
		return &types.AttributeValueMemberBS{Value: union(o.Value, x.Value, bytes.Equal)}, nil
	}
	return nil, errOperandType
}

func union[T any](a, b []T, eq func(T, T) bool) []T {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.ContainsFunc(out, func(y T) bool { return eq(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}

func difference[T any](a, b []T, eq func(T, T) bool) []T {
	return slices.DeleteFunc(slices.Clone(a), func(x T) bool {
		return slices.ContainsFunc(b, func(y T) bool { return eq(x, y) })
	})
}

// deleteFrom is DELETE: the elements of v removed from the set old; an
// emptied set is removed.
func deleteFrom(old, v types.AttributeValue) (types.AttributeValue, error) {
	if old == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case *types.AttributeValueMemberSS:
		o, ok := old.(*types.AttributeValueMemberSS)
		if !ok {
			return nil, errOperandType
		}
		if s := difference(o.Value, x.Value, func(a, b string) bool { return a == b }); len(s) > 0 {
			return &types.AttributeValueMemberSS{Value: s}, nil
		}
		return nil, nil
	case *types.AttributeValueMemberNS:
		o, ok := old.(*types.AttributeValueMemberNS)
		if !ok {
			return nil, errOperandType
		}
		if s := difference(o.Value, x.Value, func(a, b string) bool { return compareNumbers(a, b) == 0 }); len(s) > 0 {
			return &types.AttributeValueMemberNS{Value: s}, nil
		}
		return nil, nil
	case *types.AttributeValueMemberBS:
		o, ok := old.(*types.AttributeValueMemberBS)
		if !ok {
			return nil, errOperandType
		}
		if s := difference(o.Value, x.Value, bytes.Equal); len(s) > 0 {
			return &types.AttributeValueMemberBS{Value: s}, nil
		}
		return nil, nil
	}
	return nil, errOperandType
}

// updatedPaths is the projection of the paths the update names: applied
// to the old or the new item it gives UPDATED_OLD or UPDATED_NEW (only
// what the paths reach: SET a.b returns {a: {b}}).
func (u *update) updatedPaths() *projection {
	pr := &projection{}
	for _, a := range u.actions {
		pr.add(a.path)
	}
	return pr
}
