package provision

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ddbops/ddbops/internal/testenv"
)

// vtlHarness renders the preflight template once per case with velocityjs
// (an independent Velocity implementation; moto does not serve MOCK
// integrations, so nothing else here evaluates the template) and prints
// the response overrides each render set. A missing header is both
// JavaScript null and undefined, as Velocity engines model Java's null
// either way.
const vtlHarness = `
const V = require(process.env.DDBOPS_VELOCITYJS);
const {template, cases} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  for (const missing of [null, undefined]) {
    const override = {header: {}};
    const header = {get: (k) => Object.prototype.hasOwnProperty.call(c.headers, k) ? c.headers[k] : missing};
    V.render(template, {input: {params: () => ({header})}, context: {responseOverride: override}});
    out.push(override.header['Access-Control-Allow-Origin'] || '');
  }
}
console.log(JSON.stringify(out));
`

// TestCORSTemplateEchoesOnlyAllowedOrigins evaluates the mapping template
// of named origins: the preflight of an allowed origin (either header
// spelling) gets Access-Control-Allow-Origin naming it; a foreign, look-
// alike or absent one gets none.
func TestCORSTemplateEchoesOnlyAllowedOrigins(t *testing.T) {
	testenv.SkipShort(t, "emulator")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.SkipOrFail(t, "node is not on PATH")
	}
	mod := filepath.Join(testenv.NPMPrefix(), "node_modules", "velocityjs")
	if _, err := os.Stat(filepath.Join(mod, "package.json")); err != nil {
		testenv.SkipOrFail(t, "velocityjs is not installed (npm install --prefix %s velocityjs@2)", testenv.NPMPrefix())
	}
	m, _ := CORSMethod(corsSpec("https://app.example.com", "http://localhost:5173"))
	type tcase struct {
		Headers map[string]string `json:"headers"`
		want    string
	}
	cases := []tcase{
		{map[string]string{"Origin": "https://app.example.com"}, "https://app.example.com"},
		{map[string]string{"origin": "http://localhost:5173"}, "http://localhost:5173"},
		{map[string]string{"Origin": "https://evil.example"}, ""},
		{map[string]string{"Origin": "https://app.example.com.evil.example"}, ""},
		{map[string]string{"Origin": "https://app.example.com/"}, ""},
		{map[string]string{"Origin": "HTTPS://APP.EXAMPLE.COM"}, ""},
		{map[string]string{"Origin": "null"}, ""},
		{map[string]string{"Origin": ""}, ""},
		{map[string]string{}, ""},
	}
	in, err := json.Marshal(map[string]any{"template": m.IntegrationResponseTemplates["application/json"], "cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", vtlHarness)
	cmd.Env = append(os.Environ(), "DDBOPS_VELOCITYJS="+mod)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("velocityjs: %v\n%s", err, stderr.String())
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 2*len(cases) {
		t.Fatalf("harness output %s: %v", out, err)
	}
	for i, c := range cases {
		for j, missing := range []string{"null", "undefined"} {
			if g := got[2*i+j]; g != c.want {
				t.Errorf("headers %v (missing = %s): Access-Control-Allow-Origin %q, want %q", c.Headers, missing, g, c.want)
			}
		}
	}
}
