package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// defaultSpec is the stack the embedded defaults describe, with auth.
func defaultSpec(auth string) provision.Spec {
	return provision.Spec{
		Stack: "ddbops", Region: "eu-west-1",
		Table: "lambda-apigateway", Function: "LambdaFunctionOverHttps", Role: "lambda-apigateway-role",
		Policy: "lambda-apigateway-dynamodb-policy", API: "DynamoDBOperations", Resource: "DynamoDBManager", Stage: "prod",
		Memory: 128, Timeout: 10, Arch: "arm64", Auth: auth,
		ThrottleRate: 100, ThrottleBurst: 200, LogRetention: 14,
	}
}

// otherSpec changes every name and setting the template depends on.
func otherSpec(auth string) provision.Spec {
	return provision.Spec{
		Stack: "demo", Region: "cn-north-1",
		Table: "items.v2", Function: "fn-demo", Role: "role+demo", Policy: "policy@demo", API: "Demo API",
		Resource: "Items", Stage: "v1",
		Memory: 1024, Timeout: 30, Arch: "x86_64", Auth: auth,
		ThrottleRate: 12.5, ThrottleBurst: 7, LogRetention: 0,
	}
}

// corsSpec is otherSpec with browser origins allowed (setup --cors): named
// ones, or any ("*") when star.
func corsSpec(auth string, star bool) provision.Spec {
	s := otherSpec(auth)
	s.CORSOrigins = []string{"http://localhost:5173", "https://app.example.com"}
	if star {
		s.CORSOrigins = []string{"*"}
	}
	return s
}

// tool returns the path of a command-line tool the test needs, or skips
// (fails when emulators are required, as .ci/run requires them).
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not running %s", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.SkipOrFail(t, "%s is not on PATH (%s)", name, install)
	}
	return p
}

// writeTemp writes data to name in a fresh temporary directory.
func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonSchemaOf converts the OpenAPI 3.0 schema objects of doc into JSON
// Schema (draft 7): nullable becomes a "null" type, discriminator (a hint
// for tools, not a constraint) is dropped. $refs keep pointing at
// #/components/schemas/..., as the converted resource keeps that layout.
func jsonSchemaOf(t *testing.T, doc []byte) *jsonschema.Compiler {
	t.Helper()
	var d struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	converted := map[string]any{}
	for name, s := range d.Components.Schemas {
		converted[name] = convertSchema(s)
	}
	b, err := json.Marshal(map[string]any{"components": map[string]any{"schemas": converted}})
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("openapi.json", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return c
}

func convertSchema(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			switch k {
			case "nullable", "discriminator", "example":
				continue
			case "properties":
				props := map[string]any{}
				for pk, pv := range e.(map[string]any) {
					props[pk] = convertSchema(pv)
				}
				out[k] = props
			default:
				out[k] = convertSchema(e)
			}
		}
		if t["nullable"] == true {
			if typ, ok := t["type"].(string); ok {
				out["type"] = []any{typ, "null"}
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = convertSchema(e)
		}
		return out
	}
	return v
}

// compileSchema compiles one schema of the converted document.
func compileSchema(t *testing.T, c *jsonschema.Compiler, name string) *jsonschema.Schema {
	t.Helper()
	s, err := c.Compile("openapi.json#/components/schemas/" + name)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// validates reports whether body (JSON) validates against s.
func validates(t *testing.T, s *jsonschema.Schema, body []byte) (bool, error) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // as the validator wants numbers
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("not JSON: %w", err)
	}
	err := s.Validate(v)
	return err == nil, err
}

// mustOpenAPI renders the OpenAPI document for spec.
func mustOpenAPI(t *testing.T, a API) []byte {
	t.Helper()
	d, err := OpenAPI(a)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authModes are the auth modes every export is tested in.
var authModes = wire.AuthModes

// short shortens a body for a test message.
func short(b []byte) string {
	s := string(b)
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}
