package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Object is a JSON object whose members keep their order, so that request
// bodies are deterministic and list attributes in the order the user gave
// them (`--id 1 --name Bob` sends {"id":"1","name":"Bob"}, as the tutorial).
type Object []Member

// Member is one name and its JSON value (compact, valid JSON).
type Member struct {
	Name  string
	Value json.RawMessage
}

// Get returns the value of name.
func (o Object) Get(name string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}

// Set replaces the value of name in place, or appends it.
func (o *Object) Set(name string, value json.RawMessage) {
	for i := range *o {
		if (*o)[i].Name == name {
			(*o)[i].Value = value
			return
		}
	}
	*o = append(*o, Member{Name: name, Value: value})
}

// MarshalJSON writes the members in order. Values are written as they
// are, so number literals keep every digit.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(String(m.Name))
		b.WriteByte(':')
		if len(m.Value) == 0 {
			return nil, fmt.Errorf("attribute %q has no value", m.Name)
		}
		b.Write(m.Value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// String returns s as a JSON string, without the HTML escaping of
// encoding/json's default (a '<' stays '<', so bodies read as typed).
func String(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// ParseObject decodes a JSON object, keeping member order. Values are
// compacted; duplicate names are an error (DynamoDB items cannot hold two).
func ParseObject(data []byte) (Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("want a JSON object")
	}
	obj := Object{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		name := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate attribute %q", name)
		}
		seen[name] = true
		obj = append(obj, Member{Name: name, Value: compact(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return obj, nil
}

func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// ParseAttributes parses HTTPie-style attribute arguments, in order:
//
//	name=Bob          a string ("Bob"); everything after the first '=' is the value
//	age:=42           raw JSON (a number, kept digit for digit)
//	tags:='["a","b"]' raw JSON (an array; the shell removes the quotes)
//	a\=b=c            a backslash escapes '=' or ':' in a name
//
// Names must be non-empty and unique.
func ParseAttributes(args []string) (Object, error) {
	obj := Object{}
	for _, arg := range args {
		name, value, err := ParseAttribute(arg)
		if err != nil {
			return nil, err
		}
		if _, dup := obj.Get(name); dup {
			return nil, fmt.Errorf("attribute %q: given twice", name)
		}
		obj = append(obj, Member{Name: name, Value: value})
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
			return n, compact(raw), nil
		case c == '=':
			n := name.String()
			if n == "" {
				return "", nil, errors.New("attribute: empty name before '='")
			}
			return n, String(arg[i+1:]), nil
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
