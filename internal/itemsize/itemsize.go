// Package itemsize computes DynamoDB's size of an item, the measure of its
// 400 KB item limit, once for both sides that enforce it: the handler
// before a create and the local engine on every write and Scan page.
package itemsize

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// Of is DynamoDB's size of an item: for each attribute, the UTF-8 bytes of
// its name plus the size of its value (docs/engine.md#item-size, after
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
func Of(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + Value(v)
	}
	return n
}

// Value is the size of one attribute value; 0 for nil or a member type
// the SDK may add later.
func Value(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return Number(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3 // 3 bytes for the list, 1 per element
		for _, e := range v.Value {
			n += 1 + Value(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + Value(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		return totalLen(v.Value)
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += Number(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		return totalLen(v.Value)
	}
	return 0
}

// totalLen is the size of a string or binary set: its elements' bytes.
func totalLen[T string | []byte](set []T) int {
	n := 0
	for _, e := range set {
		n += len(e)
	}
	return n
}

// Number is DynamoDB's size of a number: 1 byte per two significant
// digits (leading and trailing zeros trimmed) plus 1. It reads the digits
// of the mantissa whatever the spelling ("+1", ".5", "1E3"), so it needs no
// valid number.
func Number(s string) int {
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
