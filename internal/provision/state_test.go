package provision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveStateWritesPrivateFileAndGitignore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".ddbops")
	path := filepath.Join(dir, "state.json")
	for _, id := range []string{"api-1", "api-2"} { // create, then replace
		if err := SaveState(path, &State{Stack: "s", RestAPIID: id}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
		}
		s, err := LoadState(path)
		if err != nil || s.RestAPIID != id || s.Version != StateVersion {
			t.Fatalf("LoadState = %+v, %v; want RestAPIID %s", s, err, id)
		}
	}
	gi, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil || !strings.Contains(string(gi), "*\n") {
		t.Errorf(".gitignore = %q, %v", gi, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("state dir holds %d entries, want state.json and .gitignore only (no temp files)", len(entries))
	}
}

func TestSaveStateKeepsAUserGitignore(t *testing.T) {
	dir := t.TempDir()
	gi := filepath.Join(dir, ".gitignore")
	if err := os.WriteFile(gi, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveState(filepath.Join(dir, "state.json"), &State{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(gi); string(b) != "mine\n" {
		t.Errorf(".gitignore = %q, want the user's file untouched", b)
	}
}

func TestSaveStateErrorNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(dir, "dir")
	if err := os.Mkdir(isDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		filepath.Join(blocker, "state.json"), // its directory cannot be created
		isDir,                                // the file cannot replace a directory
	} {
		err := SaveState(path, &State{})
		if err == nil || !strings.Contains(err.Error(), path+": ") {
			t.Errorf("SaveState(%s) = %v, want an error naming the file", path, err)
		}
	}
}
