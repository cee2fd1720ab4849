package engine

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Expression labels, as DynamoDB names the parameters in its messages.
const (
	labelCondition  = "ConditionExpression"
	labelFilter     = "FilterExpression"
	labelUpdate     = "UpdateExpression"
	labelProjection = "ProjectionExpression"
)

// maxExprBytes is the longest expression DynamoDB accepts (4 KB).
const maxExprBytes = 4096

// maxPlaceholderBytes bounds an expression attribute name or value,
// its '#' or ':' included.
const maxPlaceholderBytes = 255

// placeholders are a request's ExpressionAttributeNames and
// ExpressionAttributeValues (values validated, numbers canonical) and
// which of them its expressions use: DynamoDB refuses a request whose
// expressions use a placeholder it does not define or that defines one
// none of them uses.
type placeholders struct {
	names      map[string]string
	values     map[string]types.AttributeValue
	usedNames  []string
	usedValues []string
}

// newPlaceholders validates names and values before any expression is
// parsed; exprs tells whether the request has any expression at all.
func newPlaceholders(names map[string]string, values map[string]types.AttributeValue, exprs bool) (*placeholders, error) {
	switch {
	case names != nil && len(names) == 0:
		return nil, validation("ExpressionAttributeNames must not be empty")
	case values != nil && len(values) == 0:
		return nil, validation("ExpressionAttributeValues must not be empty")
	case !exprs && names != nil:
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	case !exprs && values != nil:
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions")
	}
	ph := &placeholders{names: names, values: values}
	for k := range names {
		if !isPlaceholder(k, '#') {
			return nil, validationf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", clipText(k))
		}
	}
	copied := false
	for k, v := range values {
		if !isPlaceholder(k, ':') {
			return nil, validationf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", clipText(k))
		}
		c, err := canonicalValue(v, 1)
		if err != nil {
			return nil, validationf("ExpressionAttributeValues contains invalid value: %s for key %s", apiMessage(err), k)
		}
		if c != v {
			// The request's map is the caller's: canonical numbers go
			// into a copy.
			if !copied {
				ph.values, copied = maps.Clone(values), true
			}
			ph.values[k] = c
		}
	}
	return ph, nil
}

func isPlaceholder(k string, prefix byte) bool {
	if len(k) < 2 || len(k) > maxPlaceholderBytes || k[0] != prefix {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isNameChar(k[i]) {
			return false
		}
	}
	return true
}

// checkUnused refuses names and values no expression used, after every
// expression of the request was parsed.
func (ph *placeholders) checkUnused() error {
	if len(ph.usedNames) < len(ph.names) {
		return validationf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unusedKeys(ph.names, ph.usedNames))
	}
	if len(ph.usedValues) < len(ph.values) {
		return validationf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unusedKeys(ph.values, ph.usedValues))
	}
	return nil
}

func unusedKeys[V any](defined map[string]V, used []string) string {
	var out []string
	for k := range defined {
		if !slices.Contains(used, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func markUsed(used *[]string, k string) {
	if !slices.Contains(*used, k) {
		*used = append(*used, k)
	}
}

// parser is a one-token-lookahead parser over an expression, with
// DynamoDB's error wording for the parameter it parses.
type parser struct {
	label     string
	lex       lexer
	tok       token
	ph        *placeholders
	operators int // operators and functions so far, against maxOperators
}

// maxOperators is DynamoDB's limit on the operators (and, in an
// UpdateExpression, functions) of one expression.
const maxOperators = 300

// operator counts one operator or function.
func (p *parser) operator() error {
	p.operators++
	if p.operators > maxOperators {
		return p.errorf("The expression contains too many operators; operator count: %d", p.operators)
	}
	return nil
}

// newParser starts parsing s, refusing an empty or oversized expression.
func newParser(label, s string, ph *placeholders) (*parser, error) {
	p := &parser{label: label, lex: lexer{s: s}, ph: ph}
	if strings.TrimLeft(s, " \t\r\n") == "" {
		return nil, p.errorf("The expression can not be empty;")
	}
	if len(s) > maxExprBytes {
		return nil, p.errorf("Expression size has exceeded the maximum allowed size; expression size: %d", len(s))
	}
	p.tok = p.lex.next()
	return p, nil
}

func (p *parser) advance() token {
	t := p.tok
	p.tok = p.lex.next()
	return t
}

// peek returns the token after the current one.
func (p *parser) peek() token {
	l := p.lex
	return l.next()
}

func (p *parser) errorf(format string, args ...any) error {
	return validation("Invalid " + p.label + ": " + fmt.Sprintf(format, args...))
}

// syntaxError is DynamoDB's message for an unexpected token: the token and
// the text around it.
func (p *parser) syntaxError() error {
	s := p.lex.s
	from := max(0, p.tok.pos-10)
	to := min(len(s), p.tok.pos+len(p.tok.text)+10)
	if p.tok.kind == tokEOF {
		to = len(s)
	}
	for from > 0 && s[from]&0xC0 == 0x80 {
		from--
	}
	for to < len(s) && s[to]&0xC0 == 0x80 {
		to++
	}
	return p.errorf("Syntax error; token: %q, near: %q", clipText(p.tok.text), s[from:to])
}

func (p *parser) isKeyword(word string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, word)
}

// value resolves the current :placeholder token.
func (p *parser) value() (types.AttributeValue, string, error) {
	name := p.tok.text
	v, ok := p.ph.values[name]
	if !ok {
		return nil, "", p.errorf("An expression attribute value used in expression is not defined; attribute value: %s", name)
	}
	markUsed(&p.ph.usedValues, name)
	p.advance()
	return v, name, nil
}

// parseTerm reads what starts an operand, in a condition as in a SET
// value: a :value, a function call (read by call) or a path; value and
// path build the caller's operand of the first and the last.
func parseTerm[T any](p *parser, call func() (T, error), value func(types.AttributeValue) T, path func(docPath) T) (T, error) {
	switch p.tok.kind {
	case tokValue:
		v, _, err := p.value()
		if err != nil {
			var zero T
			return zero, err
		}
		return value(v), nil
	case tokWord:
		if p.peek().kind == tokLParen {
			return call()
		}
	}
	dp, err := p.parsePath()
	if err != nil {
		var zero T
		return zero, err
	}
	return path(dp), nil
}

// parseList reads item {',' item} ')', the rest of a list whose '(' has
// been read, appending the items to into.
func parseList[T any](p *parser, item func() (T, error), into []T) ([]T, error) {
	for {
		x, err := item()
		if err != nil {
			return nil, err
		}
		into = append(into, x)
		if p.tok.kind == tokRParen {
			p.advance()
			return into, nil
		}
		if p.tok.kind != tokComma {
			return nil, p.syntaxError()
		}
		p.advance()
	}
}

// pathElem is one element of a document path: an attribute or map key, or
// a list index (index >= 0).
type pathElem struct {
	name  string
	index int
}

func (e pathElem) isIndex() bool { return e.index >= 0 }

// docPath is a document path with its placeholders resolved.
type docPath []pathElem

// String renders p as DynamoDB does in its messages: [a, b, [1]].
func (p docPath) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIndex() {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// get returns the value p reaches in item, nil when it reaches nothing: a
// missing attribute or key, an index past the end, or a step through the
// wrong type (an index of a map, a key of a list or scalar).
func (p docPath) get(item map[string]types.AttributeValue) types.AttributeValue {
	v := item[p[0].name]
	for _, e := range p[1:] {
		switch x := v.(type) {
		case *types.AttributeValueMemberM:
			if e.isIndex() {
				return nil
			}
			v = x.Value[e.name]
		case *types.AttributeValueMemberL:
			if !e.isIndex() || e.index >= len(x.Value) {
				return nil
			}
			v = x.Value[e.index]
		default:
			return nil
		}
	}
	return v
}

// samePath reports whether a and b name the same element.
func samePath(a, b docPath) bool { return slices.Equal(a, b) }

// parsePath reads a document path: name ( '.' name | '[' digits ']' )*,
// where a name is a word that is not a reserved word, or a #placeholder.
func (p *parser) parsePath() (docPath, error) {
	first, err := p.parseName()
	if err != nil {
		return nil, err
	}
	out := docPath{first}
	for {
		switch p.tok.kind {
		case tokDot:
			p.advance()
			e, err := p.parseName()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		case tokLBracket:
			p.advance()
			if p.tok.kind != tokNumber {
				return nil, p.syntaxError()
			}
			n, err := strconv.ParseInt(p.tok.text, 10, 32)
			if err != nil {
				return nil, p.errorf("List index is not within the allowable range; index: [%s]", clipText(p.tok.text))
			}
			p.advance()
			if p.tok.kind != tokRBracket {
				return nil, p.syntaxError()
			}
			p.advance()
			out = append(out, pathElem{index: int(n)})
		default:
			if len(out) > maxDepth {
				return nil, p.errorf("The document path has too many nesting levels; nesting levels: %d", len(out))
			}
			return out, nil
		}
	}
}

func (p *parser) parseName() (pathElem, error) {
	switch p.tok.kind {
	case tokWord:
		if isReserved(p.tok.text) {
			return pathElem{}, p.errorf("Attribute name is a reserved keyword; reserved keyword: %s", p.tok.text)
		}
		return pathElem{name: p.advance().text, index: -1}, nil
	case tokName:
		name, ok := p.ph.names[p.tok.text]
		if !ok {
			return pathElem{}, p.errorf("An expression attribute name used in the document path is not defined; attribute name: %s", p.tok.text)
		}
		markUsed(&p.ph.usedNames, p.tok.text)
		p.advance()
		return pathElem{name: name, index: -1}, nil
	}
	return pathElem{}, p.syntaxError()
}

// checkOverlaps refuses two paths of which one contains the other (a and
// a.b, or one path twice) or that use one element both as a map and as a
// list (a.b and a[1]), with DynamoDB's messages.
func (p *parser) checkOverlaps(paths []docPath) error {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			a, b := paths[i], paths[j]
			k := 0
			for k < len(a) && k < len(b) && a[k] == b[k] {
				k++
			}
			switch {
			case k == len(a) || k == len(b):
				return p.errorf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a, b)
			case a[k].isIndex() != b[k].isIndex():
				return p.errorf("Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a, b)
			}
		}
	}
	return nil
}
