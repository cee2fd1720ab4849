package handler

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Plain JSON (as decoded with UseNumber) to DynamoDB attribute values.
// Numbers stay the exact literal the caller sent, so 12345678901234567890
// and 0.1 reach DynamoDB unchanged.

func toAttr(v any) types.AttributeValue {
	switch v := v.(type) {
	case string:
		return &types.AttributeValueMemberS{Value: v}
	case json.Number:
		return &types.AttributeValueMemberN{Value: string(v)}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			l[i] = toAttr(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		return &types.AttributeValueMemberM{Value: toAttrMap(v)}
	}
	// The decoder produces only the types above; anything else is a bug,
	// turned into a 500 by the recover at the boundary.
	panic(fmt.Sprintf("handler: unexpected decoded JSON type %T", v))
}

func toAttrMap(m map[string]any) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = toAttr(v)
	}
	return out
}

// DynamoDB attribute values to plain JSON. Map keys are written in sorted
// order so that responses are deterministic.

func appendAttr(b []byte, av types.AttributeValue) []byte {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return appendString(b, v.Value)
	case *types.AttributeValueMemberN:
		return appendNumber(b, v.Value)
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *types.AttributeValueMemberNULL:
		return append(b, "null"...)
	case *types.AttributeValueMemberL:
		return appendArray(b, v.Value, appendAttr)
	case *types.AttributeValueMemberM:
		return appendAttrMap(b, v.Value)
	case *types.AttributeValueMemberB:
		return appendBase64(b, v.Value)
	case *types.AttributeValueMemberSS:
		return appendArray(b, v.Value, appendString)
	case *types.AttributeValueMemberNS:
		return appendArray(b, v.Value, appendNumber)
	case *types.AttributeValueMemberBS:
		return appendArray(b, v.Value, appendBase64)
	}
	// nil or a member type added to the SDK later: no plain-JSON form.
	return append(b, "null"...)
}

// appendArray writes s as a JSON array, each element with elem.
func appendArray[T any](b []byte, s []T, elem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, e := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, e)
	}
	return append(b, ']')
}

func appendAttrMap(b []byte, m map[string]types.AttributeValue) []byte {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendAttr(b, m[k])
	}
	return append(b, '}')
}

func appendBase64(b, data []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}

// appendNumber writes a DynamoDB number as a JSON number literal. A store
// may hold a number spelled in a way JSON does not allow (e.g. "+1" or
// ".5" written by another client to an emulator); it is written as a JSON
// string then, so the output is always valid JSON.
func appendNumber(b []byte, n string) []byte {
	if isJSONNumber(n) {
		return append(b, n...)
	}
	return appendString(b, n)
}

// isJSONNumber reports whether s is a number literal in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i, _ = skipDigits(s, i)
	default:
		return false
	}
	var ok bool
	if i < len(s) && s[i] == '.' {
		if i, ok = skipDigits(s, i+1); !ok {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i, ok = skipDigits(s, i); !ok {
			return false
		}
	}
	return i == len(s)
}

// skipDigits returns the index past the decimal digits that start at
// s[i], and whether there is at least one.
func skipDigits(s string, i int) (int, bool) {
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i, i > start
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (as encoding/json does); U+2028 and U+2029 are escaped so the output is
// also valid JavaScript. HTML characters are not escaped: this is an API
// body, never embedded in HTML.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
