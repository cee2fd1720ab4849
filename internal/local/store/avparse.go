package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// parseItem decodes one item in typed DynamoDB JSON. It is a small
// dedicated parser (replay decodes every item of the data dir at start;
// encoding/json took ~60% of a 10 000-item start) and a strict one: any
// JSON whitespace and escape is accepted, but an unknown type key, two
// types in one value, invalid UTF-8 or trailing data is an error, so that
// nothing loads that the journal could not have written.
func parseItem(b []byte) (map[string]types.AttributeValue, error) {
	p := &avParser{b: b}
	item, err := p.item()
	if err == nil {
		p.ws()
		if p.i != len(p.b) {
			err = p.errorf("trailing data after item")
		}
	}
	if err != nil {
		return nil, err
	}
	return item, nil
}

type avParser struct {
	b []byte
	i int
}

func (p *avParser) errorf(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s", p.i, fmt.Sprintf(format, a...))
}

func (p *avParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *avParser) expect(c byte) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != c {
		return p.errorf("want %q", c)
	}
	p.i++
	return nil
}

// peek reports whether the next token is c, consuming it if so.
func (p *avParser) peek(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// members parses '{' (key ':' value (',' key ':' value)*)? '}', calling
// fn for each key with the parser positioned at its value.
func (p *avParser) members(fn func(key string) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek('}') {
		return nil
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
		if p.peek('}') {
			return nil
		}
		if err := p.expect(','); err != nil {
			return err
		}
	}
}

// elements parses '[' (value (',' value)*)? ']'.
func (p *avParser) elements(fn func() error) error {
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek(']') {
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		if p.peek(']') {
			return nil
		}
		if err := p.expect(','); err != nil {
			return err
		}
	}
}

func (p *avParser) item() (map[string]types.AttributeValue, error) {
	item := map[string]types.AttributeValue{}
	err := p.members(func(name string) error {
		if _, dup := item[name]; dup {
			return p.errorf("attribute %q twice", name)
		}
		av, err := p.value()
		if err != nil {
			return fmt.Errorf("attribute %q: %w", name, err)
		}
		item[name] = av
		return nil
	})
	return item, err
}

func (p *avParser) value() (types.AttributeValue, error) {
	var out types.AttributeValue
	err := p.members(func(typ string) error {
		if out != nil {
			return p.errorf("more than one type in a value")
		}
		var err error
		switch typ {
		case "S":
			var s string
			s, err = p.valueStr()
			out = &types.AttributeValueMemberS{Value: s}
		case "N":
			var s string
			s, err = p.valueStr()
			out = &types.AttributeValueMemberN{Value: s}
		case "B":
			var b []byte
			b, err = p.bin()
			out = &types.AttributeValueMemberB{Value: b}
		case "BOOL", "NULL":
			var v bool
			v, err = p.boolean()
			if typ == "BOOL" {
				out = &types.AttributeValueMemberBOOL{Value: v}
			} else {
				out = &types.AttributeValueMemberNULL{Value: v}
			}
		case "M":
			var m map[string]types.AttributeValue
			m, err = p.item()
			out = &types.AttributeValueMemberM{Value: m}
		case "L":
			l := []types.AttributeValue{}
			err = p.elements(func() error {
				v, err := p.value()
				l = append(l, v)
				return err
			})
			out = &types.AttributeValueMemberL{Value: l}
		case "SS", "NS":
			ss := []string{}
			err = p.elements(func() error {
				s, err := p.valueStr()
				ss = append(ss, s)
				return err
			})
			if typ == "SS" {
				out = &types.AttributeValueMemberSS{Value: ss}
			} else {
				out = &types.AttributeValueMemberNS{Value: ss}
			}
		case "BS":
			bs := [][]byte{}
			err = p.elements(func() error {
				b, err := p.bin()
				bs = append(bs, b)
				return err
			})
			out = &types.AttributeValueMemberBS{Value: bs}
		default:
			return p.errorf("unknown type %q (want S, N, B, BOOL, NULL, M, L, SS, NS or BS)", typ)
		}
		return err
	})
	if err == nil && out == nil {
		err = p.errorf("value without a type")
	}
	return out, err
}

func (p *avParser) valueStr() (string, error) {
	p.ws()
	return p.str()
}

func (p *avParser) bin() ([]byte, error) {
	s, err := p.valueStr()
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, p.errorf("bad base64: %v", err)
	}
	return b, nil
}

func (p *avParser) boolean() (bool, error) {
	p.ws()
	switch {
	case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
		p.i += 4
		return true, nil
	case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
		p.i += 5
		return false, nil
	}
	return false, p.errorf("want true or false")
}

// str parses a JSON string at p.i.
func (p *avParser) str() (string, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", p.errorf("want a string")
	}
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			raw := p.b[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return "", p.errorf("string is not valid UTF-8")
			}
			return string(raw), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errorf("control character in string")
		}
		p.i++
	}
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return "", p.errorf("string is not valid UTF-8")
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			break
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					p.i += 2
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
				if r == utf8.RuneError {
					return "", p.errorf("invalid surrogate pair")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
	return "", errors.New("unterminated string")
}

func (p *avParser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("bad \\u escape")
	}
	p.i += 4
	return rune(v), nil
}
