package e2etest

import (
	"strings"
	"testing"
)

// TestUserAPIKeyNeverPrinted: a key given with --api-key or
// DDBOPS_API_KEY appears nowhere in the output (ready line, ready
// document, -v, the stop), whatever the requests; a generated key is
// printed, as the way to learn it.
func TestUserAPIKeyNeverPrinted(t *testing.T) {
	t.Parallel()
	const key = "my-own-secret-key-0123456789xyz"
	for _, sp := range []spec{
		{args: []string{"--api-key", key}, global: []string{"-v"}},
		{env: []string{"DDBOPS_API_KEY=" + key}, global: []string{"-v"}},
		{args: []string{"--api-key", key}, global: []string{"-v"}, text: true},
		{env: []string{"DDBOPS_API_KEY=" + key}, text: true},
	} {
		sp.args = append(sp.args, "--auth", "apikey")
		s := start(t, sp)
		if s.doc.APIKey != "" {
			t.Errorf("%v: ready document apiKey %q", sp, s.doc.APIKey)
		}
		if a := s.ping(t, "X-Api-Key: "+key); !pong(a) {
			t.Errorf("%v: ping with the key: %s", sp, a)
		}
		if a := s.ping(t, "X-Api-Key: "+key+"x"); a.status != 403 || strings.Contains(a.body, key) {
			t.Errorf("%v: ping with a wrong key: %s", sp, a)
		}
		if code := s.stop(t); code != 0 {
			t.Errorf("%v: exit %d", sp, code)
		}
		if out := s.stdout.String() + s.stderr.String(); strings.Contains(out, key) || strings.Contains(out, key[:16]) {
			t.Errorf("%v: the key is printed:\n%s", sp, out)
		}
	}

	gen := start(t, spec{args: []string{"--auth", "apikey"}})
	if len(gen.doc.APIKey) != 40 || !strings.Contains(gen.stderr.String(), "API key "+gen.doc.APIKey+" (generated, saved to ") {
		t.Errorf("generated key: document %q, stderr:\n%s", gen.doc.APIKey, gen.stderr)
	}
}
