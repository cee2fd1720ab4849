package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The journal stores items in DynamoDB's own typed JSON (the wire format of
// the DynamoDB API: {"name":{"S":"Bob"},"n":{"N":"42"}}), so every type
// (S, N, B, BOOL, NULL, M, L, SS, NS, BS) round-trips losslessly: numbers
// stay strings with their exact digits, binaries are base64, sets keep
// their order.

const hexDigits = "0123456789abcdef"

// appendItem appends item as a typed-JSON object. Attribute names are
// written in sorted order so that equal items give equal bytes.
func appendItem(dst []byte, item map[string]types.AttributeValue) ([]byte, error) {
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, k := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendString(dst, k); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		if dst, err = appendAV(dst, item[k]); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
	}
	return append(dst, '}'), nil
}

func appendAV(dst []byte, av types.AttributeValue) ([]byte, error) {
	var err error
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		dst = append(dst, `{"S":`...)
		dst, err = appendString(dst, v.Value)
	case *types.AttributeValueMemberN:
		dst = append(dst, `{"N":`...)
		dst, err = appendString(dst, v.Value)
	case *types.AttributeValueMemberB:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Value)
		dst = append(dst, '"')
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			dst = append(dst, `{"BOOL":true`...)
		} else {
			dst = append(dst, `{"BOOL":false`...)
		}
	case *types.AttributeValueMemberNULL:
		if v.Value {
			dst = append(dst, `{"NULL":true`...)
		} else {
			dst = append(dst, `{"NULL":false`...)
		}
	case *types.AttributeValueMemberM:
		dst = append(dst, `{"M":`...)
		dst, err = appendItem(dst, v.Value)
	case *types.AttributeValueMemberL:
		dst = append(dst, `{"L":[`...)
		for i, e := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendAV(dst, e); err != nil {
				return nil, fmt.Errorf("list element %d: %w", i, err)
			}
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberSS:
		dst, err = appendStrings(dst, `{"SS":[`, v.Value)
	case *types.AttributeValueMemberNS:
		dst, err = appendStrings(dst, `{"NS":[`, v.Value)
	case *types.AttributeValueMemberBS:
		dst = append(dst, `{"BS":[`...)
		for i, b := range v.Value {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	case nil:
		return nil, errors.New("nil attribute value")
	default:
		return nil, fmt.Errorf("unsupported attribute value type %T", av)
	}
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

func appendStrings(dst []byte, open string, ss []string) ([]byte, error) {
	dst = append(dst, open...)
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendString(dst, s); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

// appendString appends s as a JSON string. Invalid UTF-8 is an error, not
// a silent U+FFFD replacement: the journal must never store something other
// than what was acknowledged.
func appendString(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("string is not valid UTF-8")
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), nil
}
