package handler

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestNumberSize(t *testing.T) {
	t.Parallel()
	cases := map[string]int{
		"0": 1, "-0": 1, "0.000": 1,
		"1": 2, "-7": 2, "100": 2, "1e5": 2, "0.0001": 2, "1E+125": 2,
		"12": 2, "123": 3, "1.5": 2, "1.25": 3,
		"12345678901234567890":                    11,
		"9.9999999999999999999999999999999999999": 20,
	}
	for in, want := range cases {
		if got := numberSize(in); got != want {
			t.Errorf("numberSize(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestItemSize(t *testing.T) {
	t.Parallel()
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
	if got := itemSize(item); got != want {
		t.Errorf("itemSize = %d, want %d", got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "plain", `q"b\s/`, "\x00\x1f\x7f", "\t\n\r\b\f", "é€😀", "\u2028\u2029", "bad\xffutf8\xc3", "<&>"} {
		checkAppendString(t, in)
	}
}

func checkAppendString(t *testing.T, in string) {
	t.Helper()
	out := appendString(nil, in)
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("appendString(%q) = %s: not a JSON string: %v", in, out, err)
	}
	want := strings.ToValidUTF8(in, "\uFFFD")
	if !utf8.ValidString(in) {
		// encoding/json replaces each invalid byte; so do we.
		var b strings.Builder
		for i := 0; i < len(in); {
			r, size := utf8.DecodeRuneInString(in[i:])
			b.WriteRune(r)
			i += size
		}
		want = b.String()
	}
	if got != want {
		t.Fatalf("appendString(%q) decodes to %q, want %q", in, got, want)
	}
}

func TestIsJSONNumber(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0", "-0", "1", "-12.5e+3", "1E-130", "12345678901234567890", "0.1"} {
		if !isJSONNumber(in) {
			t.Errorf("isJSONNumber(%q) = false", in)
		}
	}
	for _, in := range []string{"", "-", "+1", ".5", "5.", "01", "1e", "1e+", "0x10", "NaN", "Infinity", "1 ", " 1", "--1"} {
		if isJSONNumber(in) {
			t.Errorf("isJSONNumber(%q) = true", in)
		}
	}
}

// FuzzRender checks the hand-written JSON writers against encoding/json.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "0", "-1.5e3", "+1", "é\xff", "\u2028", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkAppendString(t, in)
		var num json.Number
		isNum := json.Unmarshal([]byte(in), &num) == nil && in != "" && (in[0] == '-' || (in[0] >= '0' && in[0] <= '9')) && string(num) == in
		if got := isJSONNumber(in); got != isNum {
			t.Fatalf("isJSONNumber(%q) = %v, encoding/json says %v", in, got, isNum)
		}
		if out := appendNumber(nil, in); !json.Valid(out) {
			t.Fatalf("appendNumber(%q) = %s: not JSON", in, out)
		}
	})
}
