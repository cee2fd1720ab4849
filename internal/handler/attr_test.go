package handler

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

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
