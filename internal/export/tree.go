package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Obj is a JSON object (a YAML mapping) whose keys keep the order they were
// set in, so that every export is byte-for-byte reproducible and reads in
// the order a person would write it.
type Obj struct {
	keys []string
	vals []any
}

// obj builds an Obj from key, value pairs.
func obj(kv ...any) *Obj {
	if len(kv)%2 != 0 {
		panic("export: obj needs key, value pairs") // programming error
	}
	o := &Obj{}
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Set sets key to v, in place if key exists, else at the end.
func (o *Obj) Set(key string, v any) *Obj {
	for i, k := range o.keys {
		if k == key {
			o.vals[i] = v
			return o
		}
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
	return o
}

// Get returns the value of key.
func (o *Obj) Get(key string) (any, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i], true
		}
	}
	return nil, false
}

// Keys returns the keys in order.
func (o *Obj) Keys() []string { return append([]string(nil), o.keys...) }

// Len is the number of keys.
func (o *Obj) Len() int { return len(o.keys) }

// MarshalJSON writes the members in order.
func (o *Obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshalJSON(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalJSON(o.vals[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// CloudFormation intrinsic functions. In YAML they are written in their
// short form (!Ref, !Sub, !GetAtt), in JSON in their long form.
type (
	ref    string // {"Ref": logical id or parameter}
	sub    string // {"Fn::Sub": template}
	getAtt struct{ resource, attribute string }
)

func (r ref) MarshalJSON() ([]byte, error) { return marshalJSON(obj("Ref", string(r))) }
func (s sub) MarshalJSON() ([]byte, error) { return marshalJSON(obj("Fn::Sub", string(s))) }
func (g getAtt) MarshalJSON() ([]byte, error) {
	return marshalJSON(obj("Fn::GetAtt", []any{g.resource, g.attribute}))
}

// subOrString is s as a !Sub when it holds a ${...} placeholder, else the
// plain string (cfn-lint warns about a !Sub without variables).
func subOrString(s string) any {
	if strings.Contains(s, "${") {
		return sub(s)
	}
	return s
}

func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// renderJSON is v as indented JSON with a final newline.
func renderJSON(v any) ([]byte, error) {
	compact, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// renderYAML is v as a YAML document, headed by comment.
func renderYAML(v any, comment string) ([]byte, error) {
	n, err := yamlNode(v)
	if err != nil {
		return nil, err
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment, Content: []*yaml.Node{n}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func yamlNode(v any) (*yaml.Node, error) {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch t := v.(type) {
	case *Obj:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i, k := range t.keys {
			vn, err := yamlNode(t.vals[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			n.Content = append(n.Content, scalar("!!str", k), vn)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range t {
			en, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, en)
		}
		return n, nil
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range t {
			n.Content = append(n.Content, scalar("!!str", e))
		}
		return n, nil
	case string:
		return scalar("!!str", t), nil
	case ref:
		return scalar("!Ref", string(t)), nil
	case sub:
		return scalar("!Sub", string(t)), nil
	case getAtt:
		return scalar("!GetAtt", t.resource+"."+t.attribute), nil
	case bool:
		return scalar("", strconv.FormatBool(t)), nil
	case int:
		return scalar("", strconv.Itoa(t)), nil
	case int32:
		return scalar("", strconv.FormatInt(int64(t), 10)), nil
	case float64:
		return scalar("", strconv.FormatFloat(t, 'f', -1, 64)), nil
	case nil:
		return scalar("!!null", "null"), nil
	}
	return nil, fmt.Errorf("export: no YAML form for %T", v)
}

// orderedJSON decodes a JSON document into Obj / []any / string / float64
// / bool / nil, keeping the order of object members.
func orderedJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	return v, nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &Obj{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.Set(kt.(string), v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		return t.Float64()
	}
	return tok, nil
}

// mapStrings applies f to every string of a tree, rebuilding it.
func mapStrings(v any, f func(string) any) any {
	switch t := v.(type) {
	case *Obj:
		o := &Obj{}
		for i, k := range t.keys {
			o.Set(k, mapStrings(t.vals[i], f))
		}
		return o
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = mapStrings(e, f)
		}
		return l
	case string:
		return f(t)
	}
	return v
}
