// Package configs holds ddbops' embedded defaults: ddbops.yaml (every
// setting's default value) and any other data tables the binary ships with.
package configs

import (
	"embed"
	"fmt"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"
)

// FS holds every YAML file in this directory.
//
//go:embed *.yaml
var FS embed.FS

// Defaults returns the embedded ddbops.yaml.
func Defaults() []byte {
	b, err := FS.ReadFile("ddbops.yaml")
	if err != nil {
		panic("configs: ddbops.yaml missing from the embedded files: " + err.Error())
	}
	return b
}

var (
	parseOnce sync.Once
	defaults  map[string]string
)

// Default returns the default of config key as a flag would take it
// ("10s", "128", "true", "") and whether ddbops.yaml has the key.
func Default(key string) (string, bool) {
	parseOnce.Do(func() {
		var m map[string]any
		if err := yaml.Unmarshal(Defaults(), &m); err != nil {
			panic("configs: ddbops.yaml: " + err.Error())
		}
		defaults = make(map[string]string, len(m))
		for k, v := range m {
			defaults[k] = fmt.Sprint(v)
		}
	})
	v, ok := defaults[key]
	return v, ok
}

// Keys returns every config key, sorted.
func Keys() []string {
	Default("")
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
