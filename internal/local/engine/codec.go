package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/itemsize"
)

// The stored form of an item (docs/engine.md#encoding):
//
//	item  = version:byte(1) count:uvarint { name value }   names in ascending byte order
//	name  = len:uvarint bytes
//	value = tag:byte payload
//	  S 's', N 'n', B 'b'     len:uvarint bytes   (N: the canonical decimal text)
//	  BOOL 't' (true) / 'f' (false), NULL '0'   no payload
//	  L 'l'                   count:uvarint { value }
//	  M 'm'                   count:uvarint { name value }   keys in ascending byte order
//	  SS 'S', NS 'N', BS 'B'  count:uvarint { len:uvarint bytes }   in stored order
//
// It is compact (no field names, no base64, varint lengths), deterministic
// (the same item always encodes to the same bytes) and self-delimiting, so
// a truncated or damaged value is an error, never a wrong item.
const formatVersion = 1

const (
	tagS     = 's'
	tagN     = 'n'
	tagB     = 'b'
	tagTrue  = 't'
	tagFalse = 'f'
	tagNULL  = '0'
	tagL     = 'l'
	tagM     = 'm'
	tagSS    = 'S'
	tagNS    = 'N'
	tagBS    = 'B'
)

// EncodeItem returns the stored form of item, whose values must already
// be valid (as the engine validates them before storing): it refuses a
// value it cannot encode (nil, an unknown member type) rather than
// guessing.
func EncodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	return appendItem(make([]byte, 0, 16+itemsize.Of(item)+2*len(item)), item)
}

func appendItem(b []byte, item map[string]types.AttributeValue) ([]byte, error) {
	b = append(b, formatVersion)
	return appendMap(b, item, 1)
}

func appendMap(b []byte, m map[string]types.AttributeValue, level int) ([]byte, error) {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	var err error
	for _, k := range keys {
		b = appendBytes(b, k)
		if b, err = appendValue(b, m[k], level); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errEncode = errors.New("engine: cannot encode an attribute value that is nil or of an unknown type")

func appendValue(b []byte, v types.AttributeValue, level int) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		b = appendBytes(append(b, tagS), x.Value)
	case *types.AttributeValueMemberN:
		b = appendBytes(append(b, tagN), x.Value)
	case *types.AttributeValueMemberB:
		b = appendBytes(append(b, tagB), x.Value)
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			b = append(b, tagTrue)
		} else {
			b = append(b, tagFalse)
		}
	case *types.AttributeValueMemberNULL:
		b = append(b, tagNULL)
	case *types.AttributeValueMemberL:
		if level >= maxDepth {
			return nil, validation(msgNesting)
		}
		b = binary.AppendUvarint(append(b, tagL), uint64(len(x.Value)))
		for _, e := range x.Value {
			if b, err = appendValue(b, e, level+1); err != nil {
				return nil, err
			}
		}
	case *types.AttributeValueMemberM:
		if level >= maxDepth {
			return nil, validation(msgNesting)
		}
		if b, err = appendMap(append(b, tagM), x.Value, level+1); err != nil {
			return nil, err
		}
	case *types.AttributeValueMemberSS:
		b = binary.AppendUvarint(append(b, tagSS), uint64(len(x.Value)))
		for _, s := range x.Value {
			b = appendBytes(b, s)
		}
	case *types.AttributeValueMemberNS:
		b = binary.AppendUvarint(append(b, tagNS), uint64(len(x.Value)))
		for _, s := range x.Value {
			b = appendBytes(b, s)
		}
	case *types.AttributeValueMemberBS:
		b = binary.AppendUvarint(append(b, tagBS), uint64(len(x.Value)))
		for _, s := range x.Value {
			b = appendBytes(b, s)
		}
	default:
		return nil, errEncode
	}
	return b, nil
}

// CorruptError is a stored value DecodeItem cannot read.
type CorruptError struct {
	Offset int    // where in the value reading failed
	Reason string // what was wrong there
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("decode item: damaged value at byte %d: %s", e.Offset, e.Reason)
}

// DecodeItem reads an item EncodeItem wrote. It never keeps b: every
// string of the item shares one copy of b's bytes, so decoding costs one
// allocation for all of them.
func DecodeItem(b []byte) (map[string]types.AttributeValue, error) {
	d := decoder{s: string(b)}
	if len(d.s) == 0 || d.s[0] != formatVersion {
		return nil, d.fail("unknown format version")
	}
	d.i = 1
	m, err := d.readMap(1)
	if err != nil {
		return nil, err
	}
	if d.i != len(d.s) {
		return nil, d.fail("trailing bytes")
	}
	return m, nil
}

type decoder struct {
	s string
	i int
}

func (d *decoder) fail(reason string) error { return &CorruptError{Offset: d.i, Reason: reason} }

func (d *decoder) uvarint() (int, error) {
	var x uint64
	var shift uint
	for n := 0; ; n++ {
		if d.i >= len(d.s) || n == binary.MaxVarintLen64 {
			return 0, d.fail("bad length")
		}
		c := d.s[d.i]
		d.i++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
	}
	// Every element takes at least one byte: a count or length beyond the
	// remaining bytes is damage, and refusing it early bounds allocations.
	if x > uint64(len(d.s)-d.i) {
		return 0, d.fail("length past the end")
	}
	return int(x), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	s := d.s[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *decoder) readMap(level int) (map[string]types.AttributeValue, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	m := make(map[string]types.AttributeValue, n)
	prev := ""
	for j := range n {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if j > 0 && k <= prev {
			return nil, d.fail("names out of order")
		}
		prev = k
		v, err := d.readValue(level)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (d *decoder) readValue(level int) (types.AttributeValue, error) {
	if d.i >= len(d.s) {
		return nil, d.fail("missing value")
	}
	tag := d.s[d.i]
	d.i++
	switch tag {
	case tagS, tagN, tagB:
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagS:
			return &types.AttributeValueMemberS{Value: s}, nil
		case tagN:
			return &types.AttributeValueMemberN{Value: storedNumber(s)}, nil
		}
		return &types.AttributeValueMemberB{Value: []byte(s)}, nil
	case tagTrue, tagFalse:
		return &types.AttributeValueMemberBOOL{Value: tag == tagTrue}, nil
	case tagNULL:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case tagL:
		if level >= maxDepth {
			return nil, d.fail("nested too deeply")
		}
		n, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		l := make([]types.AttributeValue, n)
		for j := range l {
			if l[j], err = d.readValue(level + 1); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case tagM:
		if level >= maxDepth {
			return nil, d.fail("nested too deeply")
		}
		m, err := d.readMap(level + 1)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case tagSS, tagNS, tagBS:
		n, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if tag == tagBS {
			bs := make([][]byte, n)
			for j := range bs {
				s, err := d.str()
				if err != nil {
					return nil, err
				}
				bs[j] = []byte(s)
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		}
		ss := make([]string, n)
		for j := range ss {
			if ss[j], err = d.str(); err != nil {
				return nil, err
			}
		}
		if tag == tagSS {
			return &types.AttributeValueMemberSS{Value: ss}, nil
		}
		for j, n := range ss {
			ss[j] = storedNumber(n)
		}
		return &types.AttributeValueMemberNS{Value: ss}, nil
	}
	return nil, d.fail(fmt.Sprintf("unknown type tag %q", tag))
}

// storedNumber serves a stored number in canonical spelling. The engine
// only stores canonical numbers, but a store may hold items written
// before it did (imported from an older data dir); a number DynamoDB
// would refuse is served as stored rather than dropped.
func storedNumber(s string) string {
	if isCanonical(s) {
		return s
	}
	if c, err := canonicalNumber(s); err == nil {
		return c
	}
	return s
}
