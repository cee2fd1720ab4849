package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Config is a stack's desired configuration: the user-settable fields of
// its Spec (those tagged `config:"key"`), by config key, as JSON values. It
// is recorded in the state file under "desired" by setup (every key) and
// deploy (the function's), so that a value the user set once stays set
// (docs/provisioning.md#desired-state).
type Config map[string]json.RawMessage

// configFields maps each config key to the index of its Spec field.
var configFields = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[Spec]()
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("config"); k != "" {
			m[k] = i
		}
	}
	return m
}()

// ConfigKeys are the config keys of the desired configuration, sorted.
func ConfigKeys() []string {
	keys := make([]string, 0, len(configFields))
	for k := range configFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Config returns s's desired configuration.
func (s Spec) Config() Config {
	v := reflect.ValueOf(s)
	c := Config{}
	for k, i := range configFields {
		b, err := json.Marshal(v.Field(i).Interface())
		if err != nil {
			panic(fmt.Sprintf("provision: config %s: %v", k, err)) // plain Go values: a programming error
		}
		c[k] = b
	}
	return c
}

// Only is c restricted to keys.
func (c Config) Only(keys ...string) Config {
	out := Config{}
	for _, k := range keys {
		if v, ok := c[k]; ok {
			out[k] = v
		}
	}
	return out
}

// String renders the value of key for people: 256, arm64, a,b.
func (c Config) String(key string) string {
	raw, ok := c[key]
	if !ok {
		return "(unset)"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		if len(parts) == 0 {
			return "(none)"
		}
		return strings.Join(parts, ",")
	case nil:
		return "(none)"
	}
	return string(raw)
}

// Changes lists the keys whose value differs from c (Have) to to (Want),
// sorted by key.
func (c Config) Changes(to Config) []Diff {
	var ds []Diff
	for _, k := range ConfigKeys() {
		a, b := c[k], to[k]
		// No list and an empty one (null, []) read the same: no change.
		if _, ok := to[k]; !ok || bytes.Equal(compactJSON(a), compactJSON(b)) || c.String(k) == to.String(k) {
			continue
		}
		ds = append(ds, Diff{Field: k, Have: c.String(k), Want: to.String(k)})
	}
	return ds
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// apply sets the field of every key of c for which take(key) holds. A
// value that does not decode into its field (a state file edited by hand)
// is an error naming the key.
func (s *Spec) apply(c Config, take func(string) bool) error {
	v := reflect.ValueOf(s).Elem()
	for _, k := range ConfigKeys() {
		raw, ok := c[k]
		if !ok || !take(k) {
			continue
		}
		f := v.Field(configFields[k])
		nv := reflect.New(f.Type())
		if err := json.Unmarshal(raw, nv.Interface()); err != nil {
			return fmt.Errorf("desired %s %s: %v", k, raw, err)
		}
		f.Set(nv.Elem())
	}
	return nil
}

// legacyConfig is the desired configuration a state file written before
// "desired" existed implies: what setup or deploy last applied.
func (st *State) legacyConfig() Config {
	c := Config{}
	put := func(k string, v any, set bool) {
		if set {
			c[k], _ = json.Marshal(v)
		}
	}
	put("memory", st.Memory, st.Memory > 0)
	put("timeout", st.Timeout, st.Timeout > 0)
	put("arch", st.Architecture, st.Architecture != "")
	put("auth", st.Auth, st.Auth != "")
	put("cors", st.CORSOrigins, st.CORSOrigins != nil)
	return c
}

// RecordedConfig is the desired configuration st records for stack (nil
// when st is nil or records another stack): "desired", completed for older
// files by what setup or deploy last applied.
func (st *State) RecordedConfig(stack string) Config {
	if st == nil || (st.Stack != "" && st.Stack != stack) {
		return nil
	}
	c := st.legacyConfig()
	for k, v := range st.Desired {
		c[k] = v
	}
	return c
}

// DesiredSpec is the one rule of what a stack should be, shared by setup,
// deploy, status and export (docs/provisioning.md#desired-state): for each
// user-settable setting, a value the user gave explicitly (explicit(key):
// a flag, the environment or a config file) wins; else the value the stack
// recorded (st, see RecordedConfig); else base's, which is the embedded
// default. base holds the resolved configuration (explicit values and
// defaults); explicit nil means nothing was given explicitly.
func DesiredSpec(base Spec, explicit func(key string) bool, st *State) (Spec, error) {
	rec := st.RecordedConfig(base.Stack)
	spec := base
	err := spec.apply(rec, func(k string) bool { return explicit == nil || !explicit(k) })
	return spec, err
}
