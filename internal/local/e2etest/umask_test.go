package e2etest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddbops/ddbops/internal/testenv"
)

// TestWrittenFilesHonourUmask: the files ddbops writes for the user (the
// HTML report of bench, the zip of package) keep no permission bit the
// umask clears, and get the usual ones it leaves: 0600 under 077, 0640
// under 027, 0644 under 022.
func TestWrittenFilesHonourUmask(t *testing.T) {
	skipShort(t) // package builds the handler
	t.Parallel()
	bin := ddbops(t)
	s := start(t, spec{args: []string{"--auth", "none"}})
	for _, tt := range []struct {
		umask string
		want  fs.FileMode
	}{{"077", 0o600}, {"027", 0o640}, {"022", 0o644}} {
		dir := t.TempDir()
		report, zip := filepath.Join(dir, "report.html"), filepath.Join(dir, "bootstrap.zip")
		runs := [][]string{
			{"bench", "--url", s.doc.URL, "--auth", "none", "--op", "ping", "--rate", "20", "--duration", "500ms", "--warmup", "0", "--report", report},
			{"package", "--out", zip},
		}
		for _, args := range runs {
			// sh sets the umask and execs ddbops: the umask is the
			// process's, not this test's.
			argv := append([]string{"sh", "-c", "umask " + tt.umask + ` && exec "$@"`, "sh", bin}, args...)
			cmd := command(argv...)
			cmd.Dir = testenv.ModuleRoot(t)
			cmd.Env = baseEnv(t)
			var out testenv.SyncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := testenv.Run(t, cmd); err != nil {
				t.Fatalf("umask %s: ddbops %s: %v\n%s", tt.umask, args[0], err, out.String())
			}
		}
		for _, f := range []string{report, zip} {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != tt.want {
				t.Errorf("umask %s: %s has mode %#o, want %#o", tt.umask, filepath.Base(f), got, tt.want)
			}
		}
	}
}
