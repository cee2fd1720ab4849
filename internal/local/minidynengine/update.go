package minidynengine

import (
	"bytes"
	"slices"
	"strings"

	"github.com/ddbops/ddbops/internal/wire"
	mtypes "github.com/truora/minidyn/types"
)

// The engine evaluates UpdateExpression itself, with DynamoDB's semantics
// (the rules and messages of DynamoDB's developer guide, "Update
// expressions", as scylladb's test/alternator/test_update_expression.py
// and test_returnvalues.py check them against DynamoDB), because
// minidyn v0.8.2 cannot be used for it: its interpreter turns every
// number of the item into a float64 and back on each update (so
// 12345678901234567890 becomes 12345678901234567000 even when the update
// does not touch it, and 0.1 + 0.2 is 0.30000000000000004), never
// deletes a top-level attribute that REMOVE names, and does not enforce
// the item size limit. Conditions are still minidyn's (see UpdateItem).
//
// Semantics, in short:
//   - SET path = operand [+|- operand]; operand = path | :value |
//     if_not_exists(path, operand) | list_append(operand, operand).
//     Every operand reads the item as it was before the update.
//     Arithmetic is exact decimal arithmetic (addNumbers).
//   - REMOVE path: a missing attribute or list element is no error; list
//     indexes refer to the list before the update; removing from an item
//     that does not exist does nothing.
//   - ADD path :value: a number is added (a missing attribute counts as
//     0), a set is merged. DELETE path :set removes elements; an emptied
//     set is removed.
//   - SET of a list index past the end appends, in index order.
//   - A path through a missing or mistyped parent is refused ("The
//     document path provided in the update expression is invalid for
//     update"); a SET operand reading a missing attribute too.
//   - Each clause once; no two actions on overlapping paths; never the
//     key attribute.

type actionKind uint8

const (
	actSet actionKind = iota
	actRemove
	actAdd
	actDelete
)

var clauseNames = [...]string{actSet: "SET", actRemove: "REMOVE", actAdd: "ADD", actDelete: "DELETE"}

type operandKind uint8

const (
	opPath operandKind = iota
	opValue
	opCall
)

// operand is a SET operand or a function argument.
type operand struct {
	kind  operandKind
	path  path         // opPath
	name  string       // opValue: the :placeholder; opCall: the function
	value *mtypes.Item // opValue
	args  []*operand   // opCall
}

type action struct {
	kind actionKind
	path path
	// SET: left [op right]; op is 0, '+' or '-'.
	left, right *operand
	op          byte
	// ADD, DELETE: the value.
	value *mtypes.Item
}

// update is a parsed UpdateExpression.
type update struct {
	actions []action
	writes  bool // SET or ADD: the update creates an item that does not exist
}

const (
	fnIfNotExists = "if_not_exists"
	fnListAppend  = "list_append"
)

// parseUpdate parses and statically checks an UpdateExpression: syntax,
// names and values, reserved words, functions and their arguments, the
// types of :value operands, overlapping paths and the key attribute.
func parseUpdate(s string, names map[string]string, values map[string]*mtypes.Item) (*update, error) {
	p := newParser("UpdateExpression", s, names)
	if strings.TrimSpace(s) == "" {
		return nil, p.errorf("The expression can not be empty;")
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
			a, err := p.parseAction(kind, values)
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
	paths := make([]path, len(u.actions))
	for i, a := range u.actions {
		if a.path[0].name == wire.KeyAttribute && !a.path[0].isIndex() {
			return nil, validationError("One or more parameter values were invalid: Cannot update attribute " + wire.KeyAttribute + ". This attribute is part of the key")
		}
		paths[i] = a.path
		u.writes = u.writes || a.kind == actSet || a.kind == actAdd
	}
	if err := p.checkOverlaps(paths); err != nil {
		return nil, err
	}
	return u, nil
}

func clauseKind(t token) (actionKind, bool) {
	if t.kind != tokWord {
		return 0, false
	}
	for k, name := range clauseNames {
		if strings.EqualFold(t.text, name) {
			return actionKind(k), true
		}
	}
	return 0, false
}

func (p *parser) parseAction(kind actionKind, values map[string]*mtypes.Item) (action, error) {
	pa, err := p.parsePath()
	if err != nil {
		return action{}, err
	}
	a := action{kind: kind, path: pa}
	switch kind {
	case actSet:
		if p.tok.kind != tokEq {
			return action{}, p.syntaxError()
		}
		p.advance()
		if a.left, err = p.parseOperand(values, ""); err != nil {
			return action{}, err
		}
		if p.tok.kind == tokPlus || p.tok.kind == tokMinus {
			a.op = p.advance().text[0]
			if a.right, err = p.parseOperand(values, ""); err != nil {
				return action{}, err
			}
			for _, o := range []*operand{a.left, a.right} {
				if o.kind == opValue && typeOf(o.value) != typeN {
					return action{}, p.errorf("Incorrect operand type for operator or function; operator or function: %c, operand type: %s", a.op, typeOf(o.value))
				}
			}
		}
	case actAdd, actDelete:
		if p.tok.kind != tokValue {
			return action{}, p.syntaxError()
		}
		v, err := p.value(values)
		if err != nil {
			return action{}, err
		}
		t := typeOf(v)
		if !isSet(t) && (kind == actDelete || t != typeN) {
			return action{}, p.errorf("Incorrect operand type for operator or function; operator: %s, operand type: %s", clauseNames[kind], t)
		}
		a.value = v
	}
	return a, nil
}

// value reads a :placeholder token.
func (p *parser) value(values map[string]*mtypes.Item) (*mtypes.Item, error) {
	v, ok := values[p.tok.text]
	if !ok {
		return nil, p.errorf("An expression attribute value used in expression is not defined; attribute value: %s", p.tok.text)
	}
	p.advance()
	return v, nil
}

// parseOperand reads a path, a :value or a function call; in is the
// function whose argument it is ("" for none).
func (p *parser) parseOperand(values map[string]*mtypes.Item, in string) (*operand, error) {
	switch p.tok.kind {
	case tokValue:
		name := p.tok.text
		v, err := p.value(values)
		if err != nil {
			return nil, err
		}
		return &operand{kind: opValue, name: name, value: v}, nil
	case tokWord:
		if look := p.lex; look.next().kind == tokLParen {
			return p.parseCall(values, in)
		}
	}
	pa, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &operand{kind: opPath, path: pa}, nil
}

func (p *parser) parseCall(values map[string]*mtypes.Item, in string) (*operand, error) {
	fn := p.advance().text
	p.advance() // (
	var args []*operand
	for {
		a, err := p.parseOperand(values, fn)
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
	default:
		return nil, p.errorf("Invalid function name; function: %s", fn)
	}
	if len(args) != 2 {
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))
	}
	switch fn {
	case fnIfNotExists:
		if args[0].kind != opPath {
			return nil, p.errorf("Operator or function requires a document path; operator or function: %s", fn)
		}
	case fnListAppend:
		if in == fnListAppend {
			return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", fn)
		}
		for _, a := range args {
			if a.kind == opValue && typeOf(a.value) != typeL {
				return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, typeOf(a.value))
			}
		}
	}
	return &operand{kind: opCall, name: fn, args: args}, nil
}

var (
	errDocumentPath = validationError("The document path provided in the update expression is invalid for update")
	errMissingAttr  = validationError("The provided expression refers to an attribute that does not exist in the item")
	errOperandType  = validationError("An operand in the update expression has an incorrect data type")
	errItemTooLarge = validationError("Item size to update has exceeded the maximum allowed size")
)

// valueAt returns the value at pa in item, or nil.
func valueAt(item map[string]*mtypes.Item, pa path) *mtypes.Item {
	v := item[pa[0].name]
	for _, e := range pa[1:] {
		switch {
		case v == nil:
			return nil
		case e.isIndex():
			if !isList(v) || e.index >= len(v.L) {
				return nil
			}
			v = v.L[e.index]
		default:
			if !isMap(v) {
				return nil
			}
			v = v.M[e.name]
		}
	}
	return v
}

// eval computes an operand against the item before the update.
func (o *operand) eval(item map[string]*mtypes.Item) (*mtypes.Item, error) {
	switch o.kind {
	case opValue:
		return o.value, nil
	case opPath:
		v := valueAt(item, o.path)
		if v == nil {
			return nil, errMissingAttr
		}
		return v, nil
	}
	if o.name == fnIfNotExists {
		if v := valueAt(item, o.args[0].path); v != nil {
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
	if !isList(a) || !isList(b) {
		return nil, errOperandType
	}
	l := make([]*mtypes.Item, 0, len(a.L)+len(b.L))
	return &mtypes.Item{L: append(append(l, a.L...), b.L...)}, nil
}

// setValue computes the value a SET action assigns.
func (a *action) setValue(item map[string]*mtypes.Item) (*mtypes.Item, error) {
	left, err := a.left.eval(item)
	if err != nil || a.op == 0 {
		return left, err
	}
	right, err := a.right.eval(item)
	if err != nil {
		return nil, err
	}
	if typeOf(left) != typeN || typeOf(right) != typeN {
		return nil, errOperandType
	}
	sum, err := addNumbers(*left.N, *right.N, a.op == '-')
	if err != nil {
		return nil, validationError(err.Error())
	}
	return &mtypes.Item{N: &sum}, nil
}

// opNode is the tree of the update's paths, with what each leaf does.
type opNode struct {
	act   *action
	value *mtypes.Item // the value a SET assigns
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

// apply computes the item after the update. old is the stored item (nil
// when there is none) and key the request's key. It returns the new item
// and whether anything is to be written (an update of a missing item with
// only REMOVE or DELETE writes nothing). old is not modified: the new
// item shares the values the update does not change.
func (u *update) apply(old, key map[string]*mtypes.Item) (map[string]*mtypes.Item, bool, error) {
	exists := old != nil
	if !exists && !u.writes {
		return nil, false, nil
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
			v, err := a.setValue(base)
			if err != nil {
				return nil, false, err
			}
			n.value = v
		}
	}
	out := make(map[string]*mtypes.Item, len(base)+len(root.keys))
	for k, v := range base {
		out[k] = v
	}
	for k, c := range root.keys {
		v, err := c.applyTo(base[k])
		if err != nil {
			return nil, false, err
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out, true, nil
}

// applyTo returns what becomes of old (nil: absent) under n; nil means
// absent.
func (n *opNode) applyTo(old *mtypes.Item) (*mtypes.Item, error) {
	if a := n.act; a != nil {
		switch a.kind {
		case actSet:
			return n.value, nil
		case actRemove:
			return nil, nil
		case actAdd:
			return addTo(old, a.value)
		default:
			return deleteFrom(old, a.value)
		}
	}
	if n.keys != nil {
		if !isMap(old) {
			return nil, errDocumentPath
		}
		m := make(map[string]*mtypes.Item, len(old.M)+len(n.keys))
		for k, v := range old.M {
			m[k] = v
		}
		for k, c := range n.keys {
			v, err := c.applyTo(old.M[k])
			if err != nil {
				return nil, err
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return &mtypes.Item{M: m}, nil
	}
	if !isList(old) {
		return nil, errDocumentPath
	}
	l := make([]*mtypes.Item, 0, len(old.L)+len(n.order))
	for i, v := range old.L {
		c := n.idx[i]
		if c == nil {
			l = append(l, v)
			continue
		}
		v, err := c.applyTo(v)
		if err != nil {
			return nil, err
		}
		if v != nil {
			l = append(l, v)
		}
	}
	// Indexes past the end: SET appends, in index order.
	for _, i := range n.order {
		if i < len(old.L) {
			continue
		}
		v, err := n.idx[i].applyTo(nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			l = append(l, v)
		}
	}
	return &mtypes.Item{L: l}, nil
}

// addTo is ADD: a number added to a number (a missing one counts as 0),
// or a set merged into a set of the same type.
func addTo(old, v *mtypes.Item) (*mtypes.Item, error) {
	if old == nil {
		return v, nil
	}
	switch t := typeOf(v); {
	case t != typeOf(old):
		return nil, errOperandType
	case t == typeN:
		sum, err := addNumbers(*old.N, *v.N, false)
		if err != nil {
			return nil, validationError(err.Error())
		}
		return &mtypes.Item{N: &sum}, nil
	case t == typeBS:
		bs := slices.Clone(old.BS)
		for _, b := range v.BS {
			if !slices.ContainsFunc(bs, func(x []byte) bool { return bytes.Equal(x, b) }) {
				bs = append(bs, b)
			}
		}
		return &mtypes.Item{BS: bs}, nil
	default:
		ss := slices.Clone(setStrings(old))
		for _, s := range setStrings(v) {
			if !slices.ContainsFunc(ss, func(x *string) bool { return *x == *s }) {
				ss = append(ss, s)
			}
		}
		if t == typeSS {
			return &mtypes.Item{SS: ss}, nil
		}
		return &mtypes.Item{NS: ss}, nil
	}
}

// deleteFrom is DELETE: the elements of v removed from the set old; an
// emptied set is removed.
func deleteFrom(old, v *mtypes.Item) (*mtypes.Item, error) {
	if old == nil {
		return nil, nil
	}
	t := typeOf(v)
	if t != typeOf(old) {
		return nil, errOperandType
	}
	if t == typeBS {
		bs := slices.DeleteFunc(slices.Clone(old.BS), func(x []byte) bool {
			return slices.ContainsFunc(v.BS, func(b []byte) bool { return bytes.Equal(x, b) })
		})
		if len(bs) == 0 {
			return nil, nil
		}
		return &mtypes.Item{BS: bs}, nil
	}
	ss := slices.DeleteFunc(slices.Clone(setStrings(old)), func(x *string) bool {
		return slices.ContainsFunc(setStrings(v), func(s *string) bool { return *x == *s })
	})
	switch {
	case len(ss) == 0:
		return nil, nil
	case t == typeSS:
		return &mtypes.Item{SS: ss}, nil
	default:
		return &mtypes.Item{NS: ss}, nil
	}
}

func setStrings(v *mtypes.Item) []*string {
	if v.SS != nil {
		return v.SS
	}
	return v.NS
}

// changedPaths is the projection of the paths the update names: applied
// to the old or the new item it gives UPDATED_OLD or UPDATED_NEW, as in
// DynamoDB (only what the paths reach: SET a.b returns {a: {b}}).
func (u *update) changedPaths() *projection {
	pr := &projection{}
	for _, a := range u.actions {
		n := &pr.root
		for _, e := range a.path {
			n = n.child(e)
		}
		n.leaf = true
	}
	return pr
}
