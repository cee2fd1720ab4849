// Package configs holds ddbops' embedded defaults: ddbops.yaml (every
// setting's default value) and any other data tables the binary ships with.
package configs

import "embed"

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
