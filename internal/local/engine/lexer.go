package engine

// tokKind is the kind of a token of DynamoDB's expression languages
// (conditions and filters, updates, projections share one lexical syntax).
type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokWord             // a name, keyword or function: a letter, then letters, digits, _
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
	tokNe               // <>
	tokLt               // <
	tokLe               // <=
	tokGt               // >
	tokGe               // >=
	tokPlus             // +
	tokMinus            // -
	tokIllegal          // anything else
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lexer splits an expression into tokens. It never allocates: token texts
// are substrings of the expression.
type lexer struct {
	s   string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

func (l *lexer) next() token {
	for l.pos < len(l.s) && isSpace(l.s[l.pos]) {
		l.pos++
	}
	start := l.pos
	if start == len(l.s) {
		return token{kind: tokEOF, text: "<EOF>", pos: start}
	}
	c := l.s[start]
	l.pos++
	one := func(k tokKind) token { return token{k, l.s[start:l.pos], start} }
	switch c {
	case '.':
		return one(tokDot)
	case '[':
		return one(tokLBracket)
	case ']':
		return one(tokRBracket)
	case ',':
		return one(tokComma)
	case '(':
		return one(tokLParen)
	case ')':
		return one(tokRParen)
	case '=':
		return one(tokEq)
	case '+':
		return one(tokPlus)
	case '-':
		return one(tokMinus)
	case '<':
		if l.pos < len(l.s) && (l.s[l.pos] == '>' || l.s[l.pos] == '=') {
			l.pos++
			if l.s[l.pos-1] == '>' {
				return one(tokNe)
			}
			return one(tokLe)
		}
		return one(tokLt)
	case '>':
		if l.pos < len(l.s) && l.s[l.pos] == '=' {
			l.pos++
			return one(tokGe)
		}
		return one(tokGt)
	case '#', ':':
		for l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			l.pos++
		}
		switch {
		case l.pos == start+1:
			return one(tokIllegal)
		case c == '#':
			return one(tokName)
		}
		return one(tokValue)
	}
	switch {
	case isLetter(c):
		for l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			l.pos++
		}
		return one(tokWord)
	case isDigit(c):
		for l.pos < len(l.s) && isDigit(l.s[l.pos]) {
			l.pos++
		}
		if l.pos < len(l.s) && isNameChar(l.s[l.pos]) {
			// "123a": no token of DynamoDB's starts like this.
			l.pos++
			return one(tokIllegal)
		}
		return one(tokNumber)
	}
	// One whole UTF-8 character, so that messages quote it intact.
	for l.pos < len(l.s) && l.s[l.pos]&0xC0 == 0x80 {
		l.pos++
	}
	return one(tokIllegal)
}
