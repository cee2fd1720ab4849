package itemsize

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestNumber(t *testing.T) {
	t.Parallel()
	cases := map[string]int{
		"0": 1, "-0": 1, "0.000": 1,
		"1": 2, "-7": 2, "100": 2, "1e5": 2, "0.0001": 2, "1E+125": 2,
		"12": 2, "123": 3, "1.5": 2, "1.25": 3,
		"12345678901234567890":                    11,
		"9.9999999999999999999999999999999999999": 20,
	}
	for in, want := range cases {
		if got := Number(in); got != want {
			t.Errorf("Number(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	// Sizes per DynamoDB's documented rules: names + values; lists and
	// maps 3 bytes plus 1 per element; booleans and null 1 byte.
	item := map[string]types.AttributeValue{
		"id":   s("abc"),                                                                          // 2 + 3
		"n":    n("123"),                                                                          // 1 + 3
		"ok":   &types.AttributeValueMemberBOOL{Value: true},                                      // 2 + 1
		"z":    &types.AttributeValueMemberNULL{Value: true},                                      // 1 + 1
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), n("1")}},      // 1 + 3 + (1+2) + (1+2)
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}}, // 1 + 3 + (1+1+1)
		"b":    &types.AttributeValueMemberB{Value: []byte{1, 2, 3, 4}},                           // 1 + 4
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "bc"}},                         // 2 + 3
		"é":    s(""),                                                                             // 2 + 0
		"none": &types.AttributeValueMemberL{Value: nil},                                          // 4 + 3
	}
	want := 5 + 4 + 3 + 2 + 10 + 7 + 5 + 5 + 2 + 7
	if got := Of(item); got != want {
		t.Errorf("Of = %d, want %d", got, want)
	}
}
