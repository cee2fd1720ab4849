package engine

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A ConditionExpression or FilterExpression, parsed with DynamoDB's
// grammar and precedence (comparators, IN, BETWEEN, functions,
// parentheses, NOT, AND, OR: docs/engine.md#conditions), statically
// checked as DynamoDB checks it before reading the item, then evaluated
// against an item. Evaluation never fails: a comparison or function over a
// missing path, a path through the wrong type, an index past the end, or
// operands of different types is false.

type condKind uint8

const (
	condOr condKind = iota
	condAnd
	condNot
	condCompare // args[0] op args[1]
	condBetween // args[0] BETWEEN args[1] AND args[2]
	condIn      // args[0] IN (args[1:])
	condFunc    // fn(args...)
)

type cond struct {
	kind  condKind
	op    tokKind // condCompare: the comparator
	fn    string  // condFunc
	args  []*operand
	sub   [2]*cond // condOr, condAnd: both; condNot: sub[0]
	paren bool     // written in parentheses
}

type operandKind uint8

const (
	opPath  operandKind = iota // a document path
	opValue                    // an expression attribute value
	opSize                     // size(arg)
)

type operand struct {
	kind  operandKind
	path  docPath              // opPath
	value types.AttributeValue // opValue
	arg   *operand             // opSize
}

// isConst reports whether o's value is known before reading the item.
func (o *operand) isConst() bool { return o.kind == opValue || o.kind == opSize && o.arg.isConst() }

// constKind is the type of a constant operand.
func (o *operand) constKind() kind {
	if o.kind == opSize {
		return kindN
	}
	return kindOf(o.value)
}

// eval returns o's value for item, nil when it has none (a path that
// reaches nothing, the size of a value without one).
func (o *operand) eval(item map[string]types.AttributeValue) types.AttributeValue {
	switch o.kind {
	case opPath:
		return o.path.get(item)
	case opValue:
		return o.value
	}
	v := o.arg.eval(item)
	if v == nil {
		return nil
	}
	n, ok := sizeOf(v)
	if !ok {
		return nil
	}
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

// Functions of condition expressions. Their names are case-sensitive.
const (
	fnAttributeExists    = "attribute_exists"
	fnAttributeNotExists = "attribute_not_exists"
	fnAttributeType      = "attribute_type"
	fnBeginsWith         = "begins_with"
	fnContains           = "contains"
	fnSize               = "size"
	fnIfNotExists        = "if_not_exists"
	fnListAppend         = "list_append"
)

// condArity is the number of operands of each condition function.
var condArity = map[string]int{fnAttributeExists: 1, fnAttributeNotExists: 1, fnAttributeType: 2, fnBeginsWith: 2, fnContains: 2}

// maxInOperands is the most values an IN list takes.
const maxInOperands = 100

// condParser parses one condition expression. Its operators are the
// comparators, BETWEEN, IN, AND, OR and NOT (DynamoDB does not count the
// functions of a condition).
type condParser struct{ *parser }

// parseCondition parses and statically checks a ConditionExpression or
// FilterExpression (label).
func parseCondition(label, s string, ph *placeholders) (*cond, error) {
	p, err := newParser(label, s, ph)
	if err != nil {
		return nil, err
	}
	cp := &condParser{parser: p}
	c, err := cp.parseOr()
	if err != nil {
		return nil, err
	}
	if cp.tok.kind != tokEOF {
		return nil, cp.syntaxError()
	}
	return c, nil
}

func (p *condParser) parseOr() (*cond, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		if err := p.operator(); err != nil {
			return nil, err
		}
		p.advance()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &cond{kind: condOr, sub: [2]*cond{left, right}}
	}
	return left, nil
}

func (p *condParser) parseAnd() (*cond, error) {
	left, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		if err := p.operator(); err != nil {
			return nil, err
		}
		p.advance()
		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		left = &cond{kind: condAnd, sub: [2]*cond{left, right}}
	}
	return left, nil
}

func (p *condParser) parseNot() (*cond, error) {
	if !p.isKeyword("NOT") {
		return p.parsePrimary()
	}
	if err := p.operator(); err != nil {
		return nil, err
	}
	p.advance()
	c, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &cond{kind: condNot, sub: [2]*cond{c}}, nil
}

func (p *condParser) parsePrimary() (*cond, error) {
	if p.tok.kind == tokLParen {
		p.advance()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.syntaxError()
		}
		if c.paren {
			return nil, p.errorf("The expression has redundant parentheses;")
		}
		p.advance()
		c.paren = true
		return c, nil
	}
	if p.tok.kind == tokWord && p.peek().kind == tokLParen {
		if _, ok := condArity[p.tok.text]; ok {
			return p.parseFunction()
		}
	}
	left, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	switch {
	case isComparator(p.tok.kind):
		if err := p.operator(); err != nil {
			return nil, err
		}
		op := p.advance().kind
		right, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		c := &cond{kind: condCompare, op: op, args: []*operand{left, right}}
		if op != tokEq && op != tokNe {
			for _, o := range c.args {
				if err := p.requireOrdered(o, comparatorText(op)); err != nil {
					return nil, err
				}
			}
		}
		return c, nil
	case p.isKeyword("BETWEEN"):
		if err := p.operator(); err != nil {
			return nil, err
		}
		p.advance()
		lo, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, p.syntaxError()
		}
		p.advance()
		hi, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		return p.checkBetween(&cond{kind: condBetween, args: []*operand{left, lo, hi}})
	case p.isKeyword("IN"):
		if err := p.operator(); err != nil {
			return nil, err
		}
		p.advance()
		if p.tok.kind != tokLParen {
			return nil, p.syntaxError()
		}
		p.advance()
		args, err := parseList(p.parser, p.parseOperand, []*operand{left})
		if err != nil {
			return nil, err
		}
		c := &cond{kind: condIn, args: args}
		if n := len(c.args) - 1; n > maxInOperands {
			return nil, p.errorf("The IN operator is provided with too many operands; number of operands: %d", n)
		}
		return c, nil
	}
	return nil, p.syntaxError()
}

func isComparator(k tokKind) bool { return k >= tokEq && k <= tokGe }

func comparatorText(k tokKind) string {
	return [...]string{tokEq: "=", tokNe: "<>", tokLt: "<", tokLe: "<=", tokGt: ">", tokGe: ">="}[k]
}

// requireOrdered refuses a constant operand that no ordering comparison
// can take (a list, a map, a set, a boolean, NULL): DynamoDB rejects it
// before reading the item, where a stored value of such a type only makes
// the comparison false.
func (p *condParser) requireOrdered(o *operand, op string) error {
	if o.isConst() && !o.constKind().ordered() {
		return p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", op, o.constKind())
	}
	return nil
}

// checkBetween applies DynamoDB's static checks of BETWEEN: ordered
// constant operands and, when both bounds are constants, bounds of one
// type in ascending order.
func (p *condParser) checkBetween(c *cond) (*cond, error) {
	for _, o := range c.args {
		if err := p.requireOrdered(o, "BETWEEN"); err != nil {
			return nil, err
		}
	}
	lo, hi := c.args[1], c.args[2]
	if lo.kind == opValue && hi.kind == opValue {
		order, ok := compare(lo.value, hi.value)
		if !ok {
			return nil, p.errorf("The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand type: %s, upper bound operand type: %s", lo.constKind(), hi.constKind())
		}
		if order > 0 {
			return nil, p.errorf("The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
		}
	}
	return c, nil
}

// parseFunction parses a boolean function call used as a condition.
func (p *condParser) parseFunction() (*cond, error) {
	fn := p.advance().text
	args, err := p.parseArgs()
	if err != nil {
		return nil, err
	}
	if n := condArity[fn]; len(args) != n {
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))
	}
	c := &cond{kind: condFunc, fn: fn, args: args}
	switch fn {
	case fnAttributeExists, fnAttributeNotExists:
		if args[0].kind != opPath {
			return nil, p.errorf("Operator or function requires a document path; operator or function: %s", fn)
		}
	case fnAttributeType:
		t := args[1]
		if t.kind != opValue {
			return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, "PATH")
		}
		s, ok := t.value.(*types.AttributeValueMemberS)
		if !ok {
			return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, t.constKind())
		}
		if _, ok := kindByName(s.Value); !ok {
			return nil, p.errorf("Invalid attribute type name found; type: %s, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }", clipText(s.Value))
		}
	case fnBeginsWith:
		for _, o := range args {
			if o.isConst() {
				if k := o.constKind(); k != kindS && k != kindB {
					return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, k)
				}
			}
		}
	case fnContains:
		if args[0].kind == opPath && args[1].kind == opPath && samePath(args[0].path, args[1].path) {
			return nil, p.errorf("The first and second operand of the function contains must be distinct; operand: %s", args[0].path)
		}
	}
	if isComparator(p.tok.kind) || p.isKeyword("BETWEEN") || p.isKeyword("IN") {
		return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", fn)
	}
	return c, nil
}

// parseArgs reads '(' operand {',' operand} ')'.
func (p *condParser) parseArgs() ([]*operand, error) {
	p.advance() // (
	return parseList(p.parser, p.parseOperand, nil)
}

// parseOperand reads a path, a :value or size(operand).
func (p *condParser) parseOperand() (*operand, error) {
	return parseTerm(p.parser, p.parseValueFunction,
		func(v types.AttributeValue) *operand { return &operand{kind: opValue, value: v} },
		func(path docPath) *operand { return &operand{kind: opPath, path: path} })
}

// parseValueFunction parses a function call where a value is expected:
// size() is the only such function of condition expressions.
func (p *condParser) parseValueFunction() (*operand, error) {
	fn := p.advance().text
	args, err := p.parseArgs()
	if err != nil {
		return nil, err
	}
	switch _, boolean := condArity[fn]; {
	case boolean, fn == fnIfNotExists, fn == fnListAppend:
		return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", fn)
	case fn != fnSize:
		return nil, p.errorf("Invalid function name; function: %s", clipText(fn))
	case len(args) != 1:
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))
	}
	a := args[0]
	if a.kind == opSize {
		return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, kindN)
	}
	if a.kind == opValue {
		if _, ok := sizeOf(a.value); !ok {
			return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, a.constKind())
		}
	}
	o := &operand{kind: opSize, arg: a}
	if !isComparator(p.tok.kind) && !p.isKeyword("BETWEEN") && !p.isKeyword("IN") && p.tok.kind != tokComma && p.tok.kind != tokRParen {
		return nil, p.errorf("The function is not allowed to be used this way in an expression; function: %s", fn)
	}
	return o, nil
}

// eval evaluates c against item (nil or empty for an item that does not
// exist).
func (c *cond) eval(item map[string]types.AttributeValue) bool {
	switch c.kind {
	case condOr:
		return c.sub[0].eval(item) || c.sub[1].eval(item)
	case condAnd:
		return c.sub[0].eval(item) && c.sub[1].eval(item)
	case condNot:
		return !c.sub[0].eval(item)
	case condCompare:
		a, b := c.args[0].eval(item), c.args[1].eval(item)
		if c.op == tokNe {
			// A missing operand or operands of different types are not
			// equal, so <> is true for them.
			return a == nil || b == nil || !equal(a, b)
		}
		if a == nil || b == nil {
			return false
		}
		if c.op == tokEq {
			return equal(a, b)
		}
		order, ok := compare(a, b)
		if !ok {
			return false
		}
		switch c.op {
		case tokLt:
			return order < 0
		case tokLe:
			return order <= 0
		case tokGt:
			return order > 0
		}
		return order >= 0
	case condBetween:
		a, lo, hi := c.args[0].eval(item), c.args[1].eval(item), c.args[2].eval(item)
		if a == nil || lo == nil || hi == nil {
			return false
		}
		o1, ok1 := compare(lo, a)
		o2, ok2 := compare(a, hi)
		return ok1 && ok2 && o1 <= 0 && o2 <= 0
	case condIn:
		a := c.args[0].eval(item)
		if a == nil {
			return false
		}
		for _, o := range c.args[1:] {
			if v := o.eval(item); v != nil && equal(a, v) {
				return true
			}
		}
		return false
	}
	return c.evalFunc(item)
}

func (c *cond) evalFunc(item map[string]types.AttributeValue) bool {
	a := c.args[0].eval(item)
	switch c.fn {
	case fnAttributeExists:
		return a != nil
	case fnAttributeNotExists:
		return a == nil
	}
	b := c.args[1].eval(item)
	if a == nil || b == nil {
		return false
	}
	switch c.fn {
	case fnAttributeType:
		want, _ := kindByName(b.(*types.AttributeValueMemberS).Value)
		return kindOf(a) == want
	case fnBeginsWith:
		return beginsWith(a, b)
	}
	return contains(a, b)
}
