package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
		obj = append(obj, Member{Name: name, Value: Compact(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("invalid JSON: data after the object")
	}
	return obj, nil
}

// Compact returns raw compacted, or raw itself when it is not valid JSON.
func Compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
