package minidynengine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/truora/minidyn/interpreter/language"
)

// This file holds what the engine's own expression handling shares: the
// placeholder checks of every operation (DynamoDB refuses undefined and
// unused #names and :values; minidyn does not), and document paths
// (a.b[1].#c) with their tokenizer, for ProjectionExpression and
// UpdateExpression, which the engine evaluates itself (minidyn computes
// numbers in float64 and pads projected lists with NULLs).
// ConditionExpression and FilterExpression stay minidyn's.

// expr is one expression of a request, named as DynamoDB names it in its
// messages ("UpdateExpression", "ConditionExpression", ...).
type expr struct {
	label string
	text  *string
}

// checkPlaceholders validates ExpressionAttributeNames and
// ExpressionAttributeValues against the expressions of a request, as
// DynamoDB does: no empty map, no map without an expression, every #name
// and :value used is defined, every one defined is used. Nothing is
// checked (or allocated) for a request without names and values whose
// expressions use none.
func checkPlaceholders[V any](names map[string]string, values map[string]V, exprs ...expr) error {
	present := false
	for _, e := range exprs {
		if e.text != nil {
			present = true
		}
	}
	switch {
	case names != nil && len(names) == 0:
		return validationError("ExpressionAttributeNames must not be empty")
	case values != nil && len(values) == 0:
		return validationError("ExpressionAttributeValues must not be empty")
	case !present && names != nil:
		return validationError("ExpressionAttributeNames can only be specified when using expressions")
	case !present && values != nil:
		return validationError("ExpressionAttributeValues can only be specified when using expressions")
	}
	for k := range names {
		if !isPlaceholder(k, '#') {
			return validationError(fmt.Sprintf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k))
		}
	}
	for k := range values {
		if !isPlaceholder(k, ':') {
			return validationError(fmt.Sprintf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k))
		}
	}
	for _, e := range exprs {
		if e.text == nil {
			continue
		}
		s := *e.text
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '#' && c != ':' {
				continue
			}
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			if j == i+1 {
				continue // a lone # or : is the parser's syntax error
			}
			tok := s[i:j]
			if c == '#' {
				if _, ok := names[tok]; !ok {
					return validationError("Invalid " + e.label + ": An expression attribute name used in the document path is not defined; attribute name: " + tok)
				}
			} else if _, ok := values[tok]; !ok {
				return validationError("Invalid " + e.label + ": An expression attribute value used in expression is not defined; attribute value: " + tok)
			}
			i = j - 1
		}
	}
	if unused := unusedPlaceholders(names, exprs); len(unused) > 0 {
		return validationError("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + strings.Join(unused, ", ") + "}")
	}
	if unused := unusedPlaceholders(values, exprs); len(unused) > 0 {
		return validationError("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + strings.Join(unused, ", ") + "}")
	}
	return nil
}

// unusedPlaceholders returns the keys of defined that no expression uses,
// sorted.
func unusedPlaceholders[V any](defined map[string]V, exprs []expr) []string {
	var unused []string
	for k := range defined {
		used := false
		for _, e := range exprs {
			if e.text != nil && usesToken(*e.text, k) {
				used = true
				break
			}
		}
		if !used {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	return unused
}

// usesToken reports whether s holds tok as a whole placeholder (":a" is
// not used by ":ab").
func usesToken(s, tok string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		end := i + j + len(tok)
		if end == len(s) || !isNameChar(s[end]) {
			return true
		}
		i = i + j + 1
	}
}

func isPlaceholder(k string, prefix byte) bool {
	if len(k) < 2 || k[0] != prefix {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isNameChar(k[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Tokens of projection and update expressions.
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokWord             // a name, keyword or function name: a letter, then [A-Za-z0-9_]
	tokName             // #placeholder
	tokValue            // :placeholder
	tokNumber           // digits (a list index)
	tokDot              // .
	tokLBracket         // [
	tokRBracket         // ]
	tokComma            // ,
	tokLParen           // (
	tokRParen           // )
	tokEq               // =
	tokPlus             // +
	tokMinus            // -
	tokIllegal
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lexer splits an expression into tokens.
type lexer struct {
	s   string
	pos int
}

func (l *lexer) next() token {
	for l.pos < len(l.s) && isSpace(l.s[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos == len(l.s) {
		return token{kind: tokEOF, pos: start}
	}
	c := l.s[l.pos]
	l.pos++
	switch c {
	case '.':
		return token{tokDot, ".", start}
	case '[':
		return token{tokLBracket, "[", start}
	case ']':
		return token{tokRBracket, "]", start}
	case ',':
		return token{tokComma, ",", start}
	case '(':
		return token{tokLParen, "(", start}
	case ')':
		return token{tokRParen, ")", start}
	case '=':
		return token{tokEq, "=", start}
	case '+':
		return token{tokPlus, "+", start}
	case '-':
		return token{tokMinus, "-", start}
	case '#', ':':
		for l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			l.pos++
		}
		if l.pos == start+1 {
			return token{tokIllegal, l.s[start:l.pos], start}
		}
		if c == '#' {
			return token{tokName, l.s[start:l.pos], start}
		}
		return token{tokValue, l.s[start:l.pos], start}
	}
	switch {
	case isLetter(c):
		for l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			l.pos++
		}
		return token{tokWord, l.s[start:l.pos], start}
	case isDigit(c):
		for l.pos < len(l.s) && isDigit(l.s[l.pos]) {
			l.pos++
		}
		if l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			// "123a": DynamoDB's lexer has no such token.
			return token{tokIllegal, l.s[start : l.pos+1], start}
		}
		return token{tokNumber, l.s[start:l.pos], start}
	}
	return token{tokIllegal, l.s[start:l.pos], start}
}

// parser is a one-token-lookahead parser over a lexer, with DynamoDB's
// error wording for the expression it parses.
type parser struct {
	label string // "ProjectionExpression", "UpdateExpression"
	lex   lexer
	tok   token
	names map[string]string
}

func newParser(label, s string, names map[string]string) *parser {
	p := &parser{label: label, lex: lexer{s: s}, names: names}
	p.tok = p.lex.next()
	return p
}

func (p *parser) advance() token {
	t := p.tok
	p.tok = p.lex.next()
	return t
}

// syntaxError is DynamoDB's message for an unexpected token: the token and
// the text around it.
func (p *parser) syntaxError() error {
	tok := p.tok.text
	if p.tok.kind == tokEOF {
		tok = "<EOF>"
	}
	s := p.lex.s
	from := max(0, p.tok.pos-10)
	to := min(len(s), p.tok.pos+len(p.tok.text)+10)
	return p.errorf("Syntax error; token: %q, near: %q", tok, s[from:to])
}

func (p *parser) errorf(format string, args ...any) error {
	return validationError("Invalid " + p.label + ": " + fmt.Sprintf(format, args...))
}

// maxPathDepth is DynamoDB's limit on the elements of a document path.
const maxPathDepth = 32

// pathElem is one element of a document path: an attribute or map key
// (name), or a list index (index >= 0).
type pathElem struct {
	name  string
	index int
}

func (e pathElem) isIndex() bool { return e.index >= 0 }

// path is a document path with its placeholders resolved.
type path []pathElem

// String renders p as DynamoDB does in its messages: [a, b, [1]].
func (p path) String() string {
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

// parsePath reads a document path: name ( '.' name | '[' n ']' )*. A
// name is a word (not a DynamoDB reserved word) or a #placeholder.
func (p *parser) parsePath() (path, error) {
	first, err := p.parseName()
	if err != nil {
		return nil, err
	}
	out := path{first}
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
				return nil, p.errorf("List index is not within the allowable range; index: [%s]", p.tok.text)
			}
			p.advance()
			if p.tok.kind != tokRBracket {
				return nil, p.syntaxError()
			}
			p.advance()
			out = append(out, pathElem{index: int(n)})
		default:
			if len(out) > maxPathDepth {
				return nil, p.errorf("The document path has too many nesting levels; nesting levels: %d", len(out))
			}
			return out, nil
		}
	}
}

func (p *parser) parseName() (pathElem, error) {
	switch p.tok.kind {
	case tokWord:
		if language.IsReservedWord(strings.ToUpper(p.tok.text)) {
			return pathElem{}, p.errorf("Attribute name is a reserved keyword; reserved keyword: %s", p.tok.text)
		}
		return pathElem{name: p.advance().text, index: -1}, nil
	case tokName:
		name, ok := p.names[p.tok.text]
		if !ok {
			return pathElem{}, p.errorf("An expression attribute name used in the document path is not defined; attribute name: %s", p.tok.text)
		}
		p.advance()
		return pathElem{name: name, index: -1}, nil
	}
	return pathElem{}, p.syntaxError()
}

// checkOverlaps refuses two paths where one contains the other (a and
// a.b, or the same path twice) or that use the same element as a map and
// as a list (a.b and a[1]), with DynamoDB's messages.
func (p *parser) checkOverlaps(paths []path) error {
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
