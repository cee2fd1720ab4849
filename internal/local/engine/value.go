package engine

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// kind is the DynamoDB data type of an attribute value.
type kind uint8

const (
	kindNone kind = iota // nil or a member type this engine does not know
	kindS
	kindN
	kindB
	kindBOOL
	kindNULL
	kindM
	kindL
	kindSS
	kindNS
	kindBS
)

func kindOf(v types.AttributeValue) kind {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return kindS
	case *types.AttributeValueMemberN:
		return kindN
	case *types.AttributeValueMemberB:
		return kindB
	case *types.AttributeValueMemberBOOL:
		return kindBOOL
	case *types.AttributeValueMemberNULL:
		return kindNULL
	case *types.AttributeValueMemberM:
		return kindM
	case *types.AttributeValueMemberL:
		return kindL
	case *types.AttributeValueMemberSS:
		return kindSS
	case *types.AttributeValueMemberNS:
		return kindNS
	case *types.AttributeValueMemberBS:
		return kindBS
	}
	return kindNone
}

// shortNames are the type descriptors of the wire format, which
// attribute_type takes and condition messages use.
var shortNames = [...]string{kindNone: "NONE", kindS: "S", kindN: "N", kindB: "B", kindBOOL: "BOOL", kindNULL: "NULL",
	kindM: "M", kindL: "L", kindSS: "SS", kindNS: "NS", kindBS: "BS"}

// longNames are the names update expression messages use.
var longNames = [...]string{kindNone: "NONE", kindS: "STRING", kindN: "NUMBER", kindB: "BINARY", kindBOOL: "BOOLEAN",
	kindNULL: "NULL", kindM: "MAP", kindL: "LIST", kindSS: "STRING_SET", kindNS: "NUMBER_SET", kindBS: "BINARY_SET"}

func (k kind) String() string { return shortNames[k] }

func (k kind) isSet() bool { return k == kindSS || k == kindNS || k == kindBS }

// ordered reports whether values of k compare with < <= > >= BETWEEN.
func (k kind) ordered() bool { return k == kindS || k == kindN || k == kindB }

// kindByName is attribute_type's type argument.
func kindByName(s string) (kind, bool) {
	for k := kindS; k <= kindBS; k++ {
		if shortNames[k] == s {
			return k, true
		}
	}
	return kindNone, false
}

// equal is DynamoDB's = : same type and same value; sets compare as sets
// (numbers numerically), lists element by element, maps key by key.
func equal(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && compareNumbers(x.Value, y.Value) == 0
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(x.Value, y.Value, equal)
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for k, v := range x.Value {
			w, found := y.Value[k]
			if !found || !equal(v, w) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value, func(p, q string) bool { return p == q })
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value, func(p, q string) bool { return compareNumbers(p, q) == 0 })
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		return ok && sameSet(x.Value, y.Value, bytes.Equal)
	}
	return false
}

// sameSet compares two sets without duplicates.
func sameSet[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

// compare orders two values of one ordered type (numbers numerically,
// strings by their UTF-8 bytes, binary by unsigned bytes); ok is false for
// other or different types.
func compare(a, b types.AttributeValue) (c int, ok bool) {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		if y, same := b.(*types.AttributeValueMemberS); same {
			return strings.Compare(x.Value, y.Value), true
		}
	case *types.AttributeValueMemberN:
		if y, same := b.(*types.AttributeValueMemberN); same {
			return compareNumbers(x.Value, y.Value), true
		}
	case *types.AttributeValueMemberB:
		if y, same := b.(*types.AttributeValueMemberB); same {
			return bytes.Compare(x.Value, y.Value), true
		}
	}
	return 0, false
}

// sizeOf is the size() function: a string's length in UTF-16 code units,
// a binary's bytes, a set's, list's or map's elements; ok is false for
// the other types (docs/engine.md#size).
func sizeOf(v types.AttributeValue) (n int, ok bool) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return utf16Len(x.Value), true
	case *types.AttributeValueMemberB:
		return len(x.Value), true
	case *types.AttributeValueMemberSS:
		return len(x.Value), true
	case *types.AttributeValueMemberNS:
		return len(x.Value), true
	case *types.AttributeValueMemberBS:
		return len(x.Value), true
	case *types.AttributeValueMemberL:
		return len(x.Value), true
	case *types.AttributeValueMemberM:
		return len(x.Value), true
	}
	return 0, false
}

func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		n += utf16.RuneLen(r)
		i += w
	}
	return n
}

// beginsWith is begins_with: a string prefix of a string, a byte prefix of
// a binary; false for anything else.
func beginsWith(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(x.Value, y.Value)
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.HasPrefix(x.Value, y.Value)
	}
	return false
}

// contains is the contains function: a substring of a string, a byte
// sequence of a binary, an element of a set of its element type, an
// element (of any type) of a list; false for anything else.
func contains(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && strings.Contains(x.Value, y.Value)
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Contains(x.Value, y.Value)
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && slices.Contains(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && slices.ContainsFunc(x.Value, func(n string) bool { return compareNumbers(n, y.Value) == 0 })
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && slices.ContainsFunc(x.Value, func(e []byte) bool { return bytes.Equal(e, y.Value) })
	case *types.AttributeValueMemberL:
		return slices.ContainsFunc(x.Value, func(e types.AttributeValue) bool { return equal(e, b) })
	}
	return false
}

// maxItemBytes is DynamoDB's item size limit.
const maxItemBytes = 400 * 1024

// maxDepth is DynamoDB's nesting limit: an attribute and 31 levels of
// lists and maps below it (docs/engine.md#nesting).
const maxDepth = 32

// maxNameBytes bounds an attribute name (or map key): 1 to 65535 bytes.
const maxNameBytes = 65535

const msgNesting = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"

// canonicalValue validates v as DynamoDB validates an attribute value
// (numbers, sets, NULL, nesting, map keys) and returns it with its numbers
// in canonical spelling: v itself, without allocating, when nothing needs
// rewriting. level is v's nesting level (1 for an attribute).
func canonicalValue(v types.AttributeValue, level int) (types.AttributeValue, error) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberB, *types.AttributeValueMemberBOOL:
		return v, nil
	case *types.AttributeValueMemberNULL:
		if !x.Value {
			return nil, validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
		return v, nil
	case *types.AttributeValueMemberN:
		c, err := canonicalNumber(x.Value)
		if err != nil {
			return nil, err
		}
		if c == x.Value {
			return v, nil
		}
		return &types.AttributeValueMemberN{Value: c}, nil
	case *types.AttributeValueMemberL:
		if level >= maxDepth {
			return nil, validation(msgNesting)
		}
		var out []types.AttributeValue
		for i, e := range x.Value {
			c, err := canonicalValue(e, level+1)
			if err != nil {
				return nil, err
			}
			if c != e && out == nil {
				out = slices.Clone(x.Value)
			}
			if out != nil {
				out[i] = c
			}
		}
		if out == nil {
			if x.Value == nil {
				return &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, nil
			}
			return v, nil
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case *types.AttributeValueMemberM:
		if level >= maxDepth {
			return nil, validation(msgNesting)
		}
		var out map[string]types.AttributeValue
		for k, e := range x.Value {
			if err := checkName(k); err != nil {
				return nil, err
			}
			c, err := canonicalValue(e, level+1)
			if err != nil {
				return nil, err
			}
			if c != e {
				if out == nil {
					out = make(map[string]types.AttributeValue, len(x.Value))
					for k2, e2 := range x.Value {
						out[k2] = e2
					}
				}
				out[k] = c
			}
		}
		if out == nil {
			if x.Value == nil {
				return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}, nil
			}
			return v, nil
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	case *types.AttributeValueMemberSS:
		if len(x.Value) == 0 {
			return nil, validation("One or more parameter values were invalid: An string set  may not be empty")
		}
		if hasDuplicate(x.Value, equalStrings) {
			return nil, errDuplicates
		}
		return v, nil
	case *types.AttributeValueMemberBS:
		if len(x.Value) == 0 {
			return nil, validation("One or more parameter values were invalid: An binary set  may not be empty")
		}
		if hasDuplicate(x.Value, bytes.Equal) {
			return nil, errDuplicates
		}
		return v, nil
	case *types.AttributeValueMemberNS:
		if len(x.Value) == 0 {
			return nil, validation("One or more parameter values were invalid: An number set  may not be empty")
		}
		var out []string
		for i, n := range x.Value {
			c, err := canonicalNumber(n)
			if err != nil {
				return nil, err
			}
			if c != n && out == nil {
				out = slices.Clone(x.Value)
			}
			if out != nil {
				out[i] = c
			}
		}
		if hasDuplicate(x.Value, equalNumbers) {
			return nil, errDuplicates
		}
		if out == nil {
			return v, nil
		}
		return &types.AttributeValueMemberNS{Value: out}, nil
	}
	return nil, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
}

var errDuplicates = validation("One or more parameter values were invalid: Input collection contains duplicates")

func hasDuplicate[T any](s []T, eq func(T, T) bool) bool {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if eq(s[i], s[j]) {
				return true
			}
		}
	}
	return false
}

// checkName refuses an attribute name or map key DynamoDB refuses.
func checkName(k string) error {
	switch {
	case k == "":
		return validation("One or more parameter values were invalid: An attribute name may not be empty")
	case len(k) > maxNameBytes:
		return validation("One or more parameter values were invalid: Attribute name is too long; attribute name size limit is 65535 bytes")
	}
	return nil
}

// canonicalItem validates an item's attributes and returns it with
// canonical numbers (item itself when nothing needs rewriting).
func canonicalItem(item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	var out map[string]types.AttributeValue
	for k, v := range item {
		if err := checkName(k); err != nil {
			return nil, err
		}
		c, err := canonicalValue(v, 1)
		if err != nil {
			return nil, err
		}
		if c != v {
			if out == nil {
				out = make(map[string]types.AttributeValue, len(item))
				for k2, v2 := range item {
					out[k2] = v2
				}
			}
			out[k] = c
		}
	}
	if out == nil {
		return item, nil
	}
	return out, nil
}
