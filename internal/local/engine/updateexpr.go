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
	return parseTerm(p, func() (*setValue, error) { return p.parseSetCall(in) },
		func(v types.AttributeValue) *setValue { return &setValue{kind: valConst, value: v} },
		func(path docPath) *setValue { return &setValue{kind: valPath, path: path} })
}

func (p *parser) parseSetCall(in string) (*setValue, error) {
	if err := p.operator(); err != nil {
		return nil, err
	}
	fn := p.advance().text
	p.advance() // (
	args, err := parseList(p, func() (*setValue, error) { return p.parseSetValue(fn) }, nil)
	if err != nil {
		return nil, err
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
	la, lb, err := evalBoth[*types.AttributeValueMemberL](o.args[0], o.args[1], item)
	if err != nil {
		return nil, err
	}
	l := make([]types.AttributeValue, 0, len(la.Value)+len(lb.Value))
	return &types.AttributeValueMemberL{Value: append(append(l, la.Value...), lb.Value...)}, nil
}

// evalBoth evaluates the operands l and r, in that order, which must both
// be T: list_append's lists, + and -'s numbers.
func evalBoth[T types.AttributeValue](l, r *setValue, item map[string]types.AttributeValue) (x, y T, err error) {
	a, err := l.eval(item)
	if err != nil {
		return x, y, err
	}
	b, err := r.eval(item)
	if err != nil {
		return x, y, err
	}
	x, ok1 := a.(T)
	y, ok2 := b.(T)
	if !ok1 || !ok2 {
		return x, y, errOperandType
	}
	return x, y, nil
}

// assigned computes the value a SET action assigns.
func (a *action) assigned(item map[string]types.AttributeValue) (types.AttributeValue, error) {
	if a.op == 0 {
		return a.left.eval(item)
	}
	x, y, err := evalBoth[*types.AttributeValueMemberN](a.left, a.right, item)
	if err != nil {
		return nil, err
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
	if !e.isIndex() {
		c, _ := childIn(&n.keys, e.name)
		return c
	}
	c, created := childIn(&n.idx, e.index)
	if created {
		i, _ := slices.BinarySearch(n.order, e.index)
		n.order = slices.Insert(n.order, i, e.index)
	}
	return c
}

// childIn returns (*m)[k], creating it, and the map, when absent.
func childIn[K comparable](m *map[K]*opNode, k K) (c *opNode, created bool) {
	if *m == nil {
		*m = map[K]*opNode{}
	}
	if c = (*m)[k]; c == nil {
		c = &opNode{}
		(*m)[k] = c
		created = true
	}
	return c, created
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
	return root.applyToKeys(base)
}

// applyToKeys returns a copy of the map m with what becomes of its keys
// under n's children; m is not modified.
func (n *opNode) applyToKeys(m map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m)+len(n.keys))
	for k, v := range m {
		out[k] = v
	}
	for k, c := range n.keys {
		v, err := c.applyTo(m[k])
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
		out, err := n.applyToKeys(m.Value)
		if err != nil {
			return nil, err
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
	x, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return combineSets(old, v, false)
	}
	o, ok := old.(*types.AttributeValueMemberN)
	if !ok {
		return nil, errOperandType
	}
	sum, err := addNumbers(o.Value, x.Value, false)
	if err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberN{Value: sum}, nil
}

// deleteFrom is DELETE: the elements of v removed from the set old; an
// emptied set is removed.
func deleteFrom(old, v types.AttributeValue) (types.AttributeValue, error) {
	if old == nil {
		return nil, nil
	}
	return combineSets(old, v, true)
}

// combineSets merges the set v into old, a set of the same type, for ADD,
// or removes v's elements from old when remove, for DELETE. An emptied
// set is nil: the attribute is removed.
func combineSets(old, v types.AttributeValue, remove bool) (types.AttributeValue, error) {
	if kindOf(old) != kindOf(v) {
		return nil, errOperandType
	}
	var out types.AttributeValue
	var n int
	switch x := v.(type) {
	case *types.AttributeValueMemberSS:
		s := combine(old.(*types.AttributeValueMemberSS).Value, x.Value, remove, equalStrings)
		out, n = &types.AttributeValueMemberSS{Value: s}, len(s)
	case *types.AttributeValueMemberNS:
		s := combine(old.(*types.AttributeValueMemberNS).Value, x.Value, remove, equalNumbers)
		out, n = &types.AttributeValueMemberNS{Value: s}, len(s)
	case *types.AttributeValueMemberBS:
		s := combine(old.(*types.AttributeValueMemberBS).Value, x.Value, remove, bytes.Equal)
		out, n = &types.AttributeValueMemberBS{Value: s}, len(s)
	default:
		return nil, errOperandType
	}
	if n == 0 {
		return nil, nil
	}
	return out, nil
}

// combine is a with b's elements added or, when remove, taken out; a is
// left as it is.
func combine[T any](a, b []T, remove bool, eq func(T, T) bool) []T {
	if remove {
		return slices.DeleteFunc(slices.Clone(a), func(x T) bool {
			return slices.ContainsFunc(b, func(y T) bool { return eq(x, y) })
		})
	}
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.ContainsFunc(out, func(y T) bool { return eq(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}

func equalStrings(a, b string) bool { return a == b }

// equalNumbers compares two numbers' values, not their spellings.
func equalNumbers(a, b string) bool { return compareNumbers(a, b) == 0 }

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
