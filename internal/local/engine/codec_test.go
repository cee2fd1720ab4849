package engine

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"id":"a"}`,
		`{"id":"a","s":"żółw ☃","e":"","n":12345678901234567890,"z":0,"neg":-0.5,"t":true,"f":false,"nul":null}`,
		`{"id":"a","l":[1,"two",[3,[4]],{"k":null}],"m":{"a":{"b":{"c":[]}},"ü":{}},"el":[],"em":{}}`,
		`{"id":"a","b":{"$B":"AAECAwT/"},"eb":{"$B":""},"ss":{"$SS":["z","a"]},"ns":{"$NS":["3","-1.5"]},"bs":{"$BS":["AQ==","Ag=="]}}`,
		`{"id":"` + strings.Repeat("k", maxKeyBytes) + `","big":"` + strings.Repeat("x", 1000) + `"}`,
	} {
		item := fixture(t, js)
		b, err := EncodeItem(item)
		if err != nil {
			t.Fatalf("%.60s: %v", js, err)
		}
		again, err := EncodeItem(item)
		if err != nil || !bytes.Equal(b, again) {
			t.Errorf("%.60s: two encodings differ", js)
		}
		got, err := DecodeItem(b)
		if err != nil {
			t.Fatalf("%.60s: decode: %v", js, err)
		}
		if show(got) != show(item) {
			t.Errorf("round trip\n got %s\nwant %s", show(got), show(item))
		}
		// Decoding keeps nothing of the input.
		clear(b)
		if show(got) != show(item) {
			t.Errorf("%.60s: the decoded item shares the input's bytes", js)
		}
	}
}

// TestCodecCompact: the encoding of the tutorial's item is a few bytes
// more than its data.
func TestCodecCompact(t *testing.T) {
	t.Parallel()
	b, err := EncodeItem(fixture(t, `{"id":"1","name":"Bob"}`))
	if err != nil {
		t.Fatal(err)
	}
	// version, count, 2×(name len, name, tag, value len, value)
	if want := 1 + 1 + (1 + 2 + 1 + 1 + 1) + (1 + 4 + 1 + 1 + 3); len(b) != want {
		t.Errorf("%d bytes (%q), want %d", len(b), b, want)
	}
}

// TestCodecDamage: every truncation and every single-byte change of a
// stored value is either an error (a *CorruptError) or another valid
// item; never a panic.
func TestCodecDamage(t *testing.T) {
	t.Parallel()
	item := fixture(t, `{"id":"a","l":[1,"two",{"k":null}],"m":{"x":{"$SS":["a","b"]}},"b":{"$B":"AQI="},"t":true}`)
	b, err := EncodeItem(item)
	if err != nil {
		t.Fatal(err)
	}
	check := func(d []byte) {
		if _, err := DecodeItem(d); err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "decode item: damaged value at byte ") {
				t.Errorf("%q: %v is not a CorruptError", d, err)
			}
		}
	}
	for i := range b {
		check(b[:i])
		for _, x := range []byte{0, 1, 0x7f, 0x80, 0xff, 'l', 'm', 'S'} {
			d := bytes.Clone(b)
			d[i] = x
			check(d)
		}
	}
	check(append(bytes.Clone(b), 0))
	if _, err := DecodeItem(nil); err == nil {
		t.Error("an empty value decoded")
	}
}

func TestCodecRefuses(t *testing.T) {
	t.Parallel()
	if _, err := EncodeItem(map[string]types.AttributeValue{"id": nil}); err == nil {
		t.Error("a nil value was encoded")
	}
	deep := types.AttributeValue(&types.AttributeValueMemberS{Value: "x"})
	for range maxDepth {
		deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep}}
	}
	if _, err := EncodeItem(map[string]types.AttributeValue{"d": deep}); !isValidation(err) || message(err) != msgNesting {
		t.Errorf("33 levels: %v", err)
	}
}
