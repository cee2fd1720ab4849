package minidynengine

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	mtypes "github.com/truora/minidyn/types"

	"github.com/ddbops/ddbops/internal/wire"
)

// maxItemBytes is DynamoDB's item size limit.
const maxItemBytes = wire.MaxItemBytes

// avType is the DynamoDB type of a stored value, in the order in which
// fromItem reads minidyn's fields.
type avType uint8

const (
	typeNone avType = iota
	typeS
	typeN
	typeB
	typeBOOL
	typeNULL
	typeM
	typeL
	typeSS
	typeNS
	typeBS
)

func typeOf(v *mtypes.Item) avType {
	switch {
	case v == nil:
		return typeNone
	case v.S != nil:
		return typeS
	case v.N != nil:
		return typeN
	case v.B != nil:
		return typeB
	case v.BOOL != nil:
		return typeBOOL
	case v.NULL != nil:
		return typeNULL
	case v.M != nil:
		return typeM
	case v.L != nil:
		return typeL
	case v.SS != nil:
		return typeSS
	case v.NS != nil:
		return typeNS
	case v.BS != nil:
		return typeBS
	}
	return typeNone
}

// typeNames are the names DynamoDB's update messages use for the types.
var typeNames = [...]string{typeNone: "NONE", typeS: "STRING", typeN: "NUMBER", typeB: "BINARY", typeBOOL: "BOOLEAN",
	typeNULL: "NULL", typeM: "MAP", typeL: "LIST", typeSS: "STRING_SET", typeNS: "NUMBER_SET", typeBS: "BINARY_SET"}

func (t avType) String() string { return typeNames[t] }

func isMap(v *mtypes.Item) bool  { return typeOf(v) == typeM }
func isList(v *mtypes.Item) bool { return typeOf(v) == typeL }
func isSet(t avType) bool        { return t == typeSS || t == typeNS || t == typeBS }

// itemSize is DynamoDB's size of an item, computed exactly as the
// handler computes it before a create (handler.itemSize, on the SDK's
// types): for each attribute the bytes of its name plus the size of its
// value; 3 bytes for a list or map plus 1 per element (and the key's bytes
// for a map); a number is 1 byte plus 1 per two significant digits.
// TestItemSizeAgreesWithHandler checks that both agree.
func itemSize(item map[string]*mtypes.Item) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v *mtypes.Item) int {
	switch typeOf(v) {
	case typeS:
		return len(*v.S)
	case typeN:
		return numberSize(*v.N)
	case typeB:
		return len(v.B)
	case typeBOOL, typeNULL:
		return 1
	case typeL:
		n := 3
		for _, e := range v.L {
			n += 1 + valueSize(e)
		}
		return n
	case typeM:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case typeSS:
		n := 0
		for _, s := range v.SS {
			if s != nil {
				n += len(*s)
			}
		}
		return n
	case typeNS:
		n := 0
		for _, s := range v.NS {
			if s != nil {
				n += numberSize(*s)
			}
		}
		return n
	case typeBS:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	}
	return 0
}

// numberSize is 1 byte per two significant digits (leading and trailing
// zeros trimmed) plus 1.
func numberSize(s string) int {
	first, last, pos := -1, -1, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = pos
			}
			last = pos
		}
		pos++
	}
	sig := 0
	if first >= 0 {
		sig = last - first + 1
	}
	return (sig+1)/2 + 1
}

// canonicalizeItem validates the numbers and sets of item as DynamoDB
// does and rewrites the numbers not in canonical spelling, in place (item
// is the engine's own copy). It allocates only for numbers it rewrites.
func canonicalizeItem(item map[string]*mtypes.Item) error {
	for _, v := range item {
		if err := canonicalizeValue(v, true); err != nil {
			return err
		}
	}
	return nil
}

// canonicalizeValue rewrites the numbers of v in canonical spelling. With
// strict it also refuses, with DynamoDB's messages, what DynamoDB
// refuses: a number out of range or precision, an empty set; without, it
// leaves such values as they are (items journaled by an older version).
func canonicalizeValue(v *mtypes.Item, strict bool) error {
	canon := func(p *string) (*string, error) {
		c, err := canonicalNumber(*p)
		switch {
		case err == nil && c != *p:
			return aws.String(c), nil // allocating only for a rewritten number
		case err != nil && strict:
			return nil, err
		}
		return p, nil
	}
	switch t := typeOf(v); t {
	case typeN:
		c, err := canon(v.N)
		if err != nil {
			return err
		}
		v.N = c
	case typeSS, typeNS, typeBS:
		if strict && len(v.SS)+len(v.NS)+len(v.BS) == 0 {
			return &valueError{"One or more parameter values were invalid: An " + emptySetNames[t] + " set  may not be empty"}
		}
		for i, s := range v.NS {
			if s == nil {
				continue
			}
			c, err := canon(s)
			if err != nil {
				return err
			}
			v.NS[i] = c
		}
	case typeL:
		for _, e := range v.L {
			if err := canonicalizeValue(e, strict); err != nil {
				return err
			}
		}
	case typeM:
		for _, e := range v.M {
			if err := canonicalizeValue(e, strict); err != nil {
				return err
			}
		}
	}
	return nil
}

// emptySetNames are DynamoDB's words in "An string set  may not be empty".
var emptySetNames = map[avType]string{typeSS: "string", typeNS: "number", typeBS: "binary"}
