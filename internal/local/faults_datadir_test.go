package local

// The data dir's rules, with the real `ddbops local` binary: a data dir
// others can write to is refused, no file in it is opened through a
// symbolic link, its files are git-ignored whatever the data dir is
// without editing the user's .gitignore, and the process's own memory
// does not grow with the data.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/store"
	"github.com/ddbops/ddbops/internal/testenv"
)

// TestFaultDataDirPermissions: a data dir writable by group or others is
// refused with the chmod that fixes it, and nothing in it is touched.
func TestFaultDataDirPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	for _, mode := range []os.FileMode{0o770, 0o707, 0o777} {
		dir := populated(t, bin)
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		before := dirFiles(t, dir)
		code, stderr := runFailing(t, localArgs(bin, dir))
		checkOneLineError(t, code, stderr, fmt.Sprintf("writable by group or others (mode %04o)", mode), "chmod 700 "+dir)
		if after := dirFiles(t, dir); !mapsEqualExcept(before, after) {
			t.Errorf("mode %04o: the refused start changed the data dir", mode)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		p := startLocal(t, localArgs(bin, dir))
		if got := len(scan(t, p.doc.URL)); got != 5 {
			t.Errorf("after chmod 700: %d items, want 5", got)
		}
		stopProc(t, p)
		t.Logf("mode %04o: %s", mode, strings.SplitN(stderr, "\n", 2)[0])
	}
}

// TestFaultDataDirSymlinks: a data dir file that is a symbolic link is a
// clear error at start, and the link's target is neither read nor
// written.
func TestFaultDataDirSymlinks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	for _, name := range []string{store.DBFile, store.WitnessFile, store.LockFile, apiKeyFile} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := populated(t, bin)
			argv := localArgs(bin, dir)
			if name == apiKeyFile {
				if err := os.WriteFile(filepath.Join(dir, apiKeyFile), []byte("ddbops-local-0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				for i, a := range argv {
					if a == "none" {
						argv[i] = "apikey"
					}
				}
			}
			// The target: a copy of the file, elsewhere.
			target := filepath.Join(t.TempDir(), "target")
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			code, stderr := runFailing(t, argv)
			checkOneLineError(t, code, stderr, filepath.Join(dir, name)+" is a symbolic link", "never opened through links")
			if now, _ := os.ReadFile(target); !bytes.Equal(now, b) {
				t.Errorf("the link's target was written")
			}
			t.Logf("%s: %s", name, strings.SplitN(stderr, "\n", 2)[0])
		})
	}
}

// TestFaultGitIgnore: the data files are git-ignored whatever the data
// dir is, as `git status` sees it while a server runs, and a .gitignore
// of the user's is never edited.
func TestFaultGitIgnore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	for _, tt := range []struct {
		name      string
		dataDir   string // relative to the repository's root, the working directory
		gitignore string // the user's, "" for none
		want      string // git status --porcelain --untracked-files=all
	}{
		{"default data dir", ".ddbops/local", "", ""},
		{"default data dir next to the user's .gitignore", ".ddbops/local", "node_modules/\n", "?? .gitignore\n?? main.go\n"},
		{"--data-dir . with the user's .gitignore", ".", "node_modules/\n", "?? .gitignore\n?? main.go\n"},
		{"--data-dir . without a .gitignore", ".", "", "?? main.go\n"},
		{"--data-dir src, a directory of the user's", "src", "", "?? main.go\n?? src/app.go\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := t.TempDir()
			git := gitIn(t, repo)
			git("init", "-q")
			if tt.name != "default data dir" {
				os.WriteFile(filepath.Join(repo, "main.go"), []byte("package main\n"), 0o644)
			}
			if tt.gitignore != "" {
				os.WriteFile(filepath.Join(repo, ".gitignore"), []byte(tt.gitignore), 0o644)
			}
			if tt.dataDir == "src" {
				os.Mkdir(filepath.Join(repo, "src"), 0o700)
				os.WriteFile(filepath.Join(repo, "src", "app.go"), []byte("package src\n"), 0o644)
			}
			if tt.dataDir == "." {
				os.Chmod(repo, 0o700)
			}
			argv := []string{bin, "local", "--addr", "127.0.0.1:0", "--data-dir", tt.dataDir, "--auth", "apikey", "-o", "json"}
			p := startProcIn(t, repo, argv)
			p.waitReady(t)
			if status, b, err := call(p.doc.URL, tutorialCreate); err != nil || status != 403 {
				t.Fatalf("create without the key: %d %s %v", status, b, err)
			}
			if got := git("status", "--porcelain", "--untracked-files=all"); got != tt.want {
				t.Errorf("git status while serving:\n%s\nwant:\n%s", got, tt.want)
			}
			stopProc(t, p)
			if got := git("status", "--porcelain", "--untracked-files=all"); got != tt.want {
				t.Errorf("git status after stopping:\n%s\nwant:\n%s", got, tt.want)
			}
			if tt.gitignore != "" {
				if b, _ := os.ReadFile(filepath.Join(repo, ".gitignore")); string(b) != tt.gitignore {
					t.Errorf("the user's .gitignore was edited: %q", b)
				}
			}
			if tt.dataDir != ".ddbops/local" {
				if _, err := os.Lstat(filepath.Join(repo, tt.dataDir, ".gitignore")); tt.gitignore == "" && err == nil {
					t.Errorf("a .gitignore was written into a directory of the user's")
				}
				b, _ := os.ReadFile(filepath.Join(repo, ".git", "info", "exclude"))
				t.Logf("%s: .git/info/exclude ends with:\n%s", tt.name, b[bytes.LastIndex(b, []byte("# written by ddbops")):])
			}
			// A second start adds nothing.
			before, _ := os.ReadFile(filepath.Join(repo, ".git", "info", "exclude"))
			p = startProcIn(t, repo, argv)
			p.waitReady(t)
			stopProc(t, p)
			if after, _ := os.ReadFile(filepath.Join(repo, ".git", "info", "exclude")); !bytes.Equal(before, after) {
				t.Errorf("a second start changed .git/info/exclude")
			}
		})
	}
}

// rssAnon is the process's own resident memory (RssAnon of
// /proc/PID/status: the mapped database's pages are RssFile, the kernel's
// to drop).
func rssAnon(t *testing.T, pid int) int64 {
	t.Helper()
	anon, _, err := testenv.ProcMemory(pid)
	if errors.Is(err, testenv.ErrNoProcMemory) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return anon
}

// TestFaultMemoryIndependentOfData: a server on 100 MB of data, once its
// background check has read the whole file, holds about the memory of
// one on an empty data dir; reads and a full listing after that cost
// memory per request, which the log shows.
func TestFaultMemoryIndependentOfData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary; skipped with -short")
	}
	t.Parallel()
	bin := ddbopsBinary(t)
	big := t.TempDir()
	st, err := store.Open(big, store.Options{Table: testTable})
	if err != nil {
		t.Fatal(err)
	}
	const items, size = 400, 250 << 10
	_, err = st.Import("test", func(put func(k, v []byte) error) error {
		pad := strings.Repeat("m", size)
		for i := range items {
			id := fmt.Sprintf("item-%04d", i)
			v, err := engine.EncodeItem(map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberS{Value: id}, "pad": &types.AttributeValueMemberS{Value: pad}})
			if err != nil {
				return err
			}
			if err := put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || st.Close() != nil {
		t.Fatal(err)
	}
	measure := func(dir string) int64 {
		p := startLocal(t, localArgs(bin, dir))
		// A write waits for the background check of a large file.
		if status, b, err := call(p.doc.URL, tutorialCreate); err != nil || status != 200 {
			t.Fatalf("create: %d %s %v", status, b, err)
		}
		rss := rssAnon(t, p.doc.PID)
		for i := range 20 {
			body := fmt.Sprintf(`{"operation":"read","payload":{"Key":{"id":"item-%04d"}}}`, i*items/20)
			if status, b, err := call(p.doc.URL, body); err != nil || (status != 200 && p.doc.Items > 0) {
				t.Fatalf("read: %d %.100s %v", status, b, err)
			}
		}
		t.Logf("RssAnon after 20 reads of a 250 KiB item: %d MiB", rssAnon(t, p.doc.PID)>>20)
		// Listing reads every page once more (each answer holds up to 1 MB,
		// whose garbage the server's GOGC=400 lets pile up for a while:
		// memory per request, not per item stored).
		if n := len(scan(t, p.doc.URL)); n != p.doc.Items+1 {
			t.Fatalf("listed %d items, the ready document says %d (+1 created)", n, p.doc.Items)
		}
		t.Logf("RssAnon after listing everything: %d MiB", rssAnon(t, p.doc.PID)>>20)
		stopProc(t, p)
		return rss
	}
	empty, full := measure(t.TempDir()), measure(big)
	t.Logf("RssAnon: %d MiB on an empty data dir, %d MiB on %d MiB of data, once the check has read it all", empty>>20, full>>20, items*size>>20)
	if full > empty+10<<20 {
		t.Errorf("RssAnon grew by %d MiB with %d MiB of data", (full-empty)>>20, items*size>>20)
	}
}
