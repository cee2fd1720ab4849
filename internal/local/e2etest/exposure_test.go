package e2etest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoteUnauthenticatedRefused: --auth none on an address other
// machines can reach refuses to start (exit 2, one line saying why,
// nothing touched) unless --allow-remote-unauthenticated is given, and
// then it warns.
func TestRemoteUnauthenticatedRefused(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		dir := filepath.Join(t.TempDir(), "data")
		s := launch(t, spec{args: []string{"--auth", "none", "--addr", addr, "--data-dir", dir}, text: true})
		code := s.exit(t)
		lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
		if code != 2 || !strings.Contains(lines[0], "--auth none on "+addr+" would serve anyone who can reach this machine without authentication") {
			t.Errorf("--addr %s --auth none: exit %d, stderr:\n%s", addr, code, s.stderr)
		}
		if len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "Run 'ddbops local --help'") {
			t.Errorf("--addr %s --auth none: more than the error line:\n%s", addr, s.stderr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("--addr %s --auth none: the data dir was created (%v)", addr, err)
		}
	}
	s := start(t, spec{args: []string{"--auth", "none", "--addr", "0.0.0.0:0", "--allow-remote-unauthenticated"}})
	if n := strings.Count(s.stderr.String(), "warning: "); n != 1 || !strings.Contains(s.stderr.String(), "can read and write the table, without authentication") {
		t.Errorf("--allow-remote-unauthenticated: %d warnings:\n%s", n, s.stderr)
	}
	if a := s.ping(t); !pong(a) {
		t.Errorf("ping: %s", a)
	}
}

// TestRemoteAuthenticatedWarns: apikey and iam on a non-loopback address
// start and warn once that the traffic is plain HTTP; the Host rule, a
// loopback bind's, does not apply there.
func TestRemoteAuthenticatedWarns(t *testing.T) {
	t.Parallel()
	const key = "remote-test-key-0123456789"
	s := start(t, spec{args: []string{"--auth", "apikey", "--api-key", key, "--addr", "0.0.0.0:0"}})
	if n := strings.Count(s.stderr.String(), "warning: "); n != 1 || !strings.Contains(s.stderr.String(), "over plain HTTP") {
		t.Errorf("apikey on 0.0.0.0: %d warnings:\n%s", n, s.stderr)
	}
	if a := s.ping(t, "X-Api-Key: "+key, "Host: ddbops.lan:"+s.port); !pong(a) {
		t.Errorf("ping with a LAN Host on a 0.0.0.0 bind: %s", a)
	}
	// The Origin rule holds on every bind.
	if a := s.ping(t, "X-Api-Key: "+key, "Origin: http://evil.example"); a.status != 403 {
		t.Errorf("foreign Origin on a 0.0.0.0 bind: %s", a)
	}

	iam := start(t, spec{args: []string{"--auth", "iam", "--addr", "0.0.0.0:0"}, env: iamEnv})
	if n := strings.Count(iam.stderr.String(), "warning: "); n != 1 || !strings.Contains(iam.stderr.String(), "over plain HTTP") {
		t.Errorf("iam on 0.0.0.0: %d warnings:\n%s", n, iam.stderr)
	}

	// localhost is loopback: no warning, and the Host rule applies.
	lo := start(t, spec{args: []string{"--auth", "none", "--addr", "localhost:0"}})
	if strings.Contains(lo.stderr.String(), "warning: ") {
		t.Errorf("localhost: a warning:\n%s", lo.stderr)
	}
	if a := lo.ping(t, "Host: evil.example"); a.status != 403 {
		t.Errorf("foreign Host on a localhost bind: %s", a)
	}
}
