package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ddbops/ddbops/internal/wire"
)

// ParseAttributes parses HTTPie-style attribute arguments, in order:
//
//	name=Bob          a string ("Bob"); everything after the first '=' is the value
//	age:=42           raw JSON (a number, kept digit for digit)
//	tags:='["a","b"]' raw JSON (an array; the shell removes the quotes)
//	a\=b=c            a backslash escapes '=' or ':' in a name
//
// Names must be non-empty and unique.
func ParseAttributes(args []string) (wire.Object, error) {
	obj := wire.Object{}
	for _, arg := range args {
		name, value, err := ParseAttribute(arg)
		if err != nil {
			return nil, err
		}
		if _, dup := obj.Get(name); dup {
			return nil, fmt.Errorf("attribute %q: given twice", name)
		}
		obj = append(obj, wire.Member{Name: name, Value: value})
	}
	return obj, nil
}

// ParseAttribute parses one NAME=STRING or NAME:=JSON argument. Errors name
// the attribute but never repeat its value.
func ParseAttribute(arg string) (string, json.RawMessage, error) {
	var name strings.Builder
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case c == '\\' && i+1 < len(arg) && (arg[i+1] == '=' || arg[i+1] == ':' || arg[i+1] == '\\'):
			name.WriteByte(arg[i+1])
			i++
		case c == ':' && i+1 < len(arg) && arg[i+1] == '=':
			n := name.String()
			if n == "" {
				return "", nil, errors.New("attribute: empty name before ':='")
			}
			raw := []byte(arg[i+2:])
			if !json.Valid(raw) {
				return "", nil, fmt.Errorf("attribute %s: the value after ':=' is not valid JSON (quote strings, or use %s=VALUE for a string)", n, n)
			}
			return n, wire.Compact(raw), nil
		case c == '=':
			n := name.String()
			if n == "" {
				return "", nil, errors.New("attribute: empty name before '='")
			}
			return n, wire.String(arg[i+1:]), nil
		default:
			name.WriteByte(c)
		}
	}
	return "", nil, fmt.Errorf("attribute %q: want NAME=STRING or NAME:=JSON", shorten(arg))
}

// shorten keeps error lines short when an argument is long.
func shorten(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// Item assembles the item of a create from the sources `ddbops call
// create` takes: base (from --item) in its order, then id (--id, "" for
// none), name (--name, nil when not given) and attrs, which add to or
// replace base's members. The id comes first when base holds none. It
// returns the item and its id; errors name the flags.
func Item(base wire.Object, id string, name *string, attrs wire.Object) (wire.Object, string, error) {
	item := slices.Clone(base)
	if id != "" {
		if _, dup := attrs.Get(wire.KeyAttribute); dup {
			return nil, "", errors.New("id given twice (--id and id=...)")
		}
		if got, ok := item.Get(wire.KeyAttribute); ok {
			var s string
			if json.Unmarshal(got, &s) != nil || s != id {
				return nil, "", errors.New("--id and the id in --item disagree")
			}
		} else {
			item = append(wire.Object{{Name: wire.KeyAttribute, Value: wire.String(id)}}, item...)
		}
	}
	if name != nil {
		item.Set("name", wire.String(*name))
	}
	for _, m := range attrs {
		item.Set(m.Name, m.Value)
	}
	raw, ok := item.Get(wire.KeyAttribute)
	if !ok {
		return nil, "", errors.New("--id is required (or an id in --item)")
	}
	if json.Unmarshal(raw, &id) != nil {
		return nil, "", errors.New("id must be a string")
	}
	return item, id, nil
}
