package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local/engine"
	"github.com/ddbops/ddbops/internal/local/gateway"
	"github.com/ddbops/ddbops/internal/local/legacy"
	"github.com/ddbops/ddbops/internal/local/store"
)

// Files of a data dir the wiring owns (the store owns the others).
const (
	apiKeyFile    = "api-key"     // generated API key (0600)
	serverFile    = "server.json" // ServerInfo of the `ddbops local` serving the dir
	gitignoreFile = ".gitignore"
)

// checkDataDir refuses a data dir that others could write to: whoever can
// create files in it can replace the database or plant a link (which the
// store refuses to follow anyway).
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open data dir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("open data dir %s: not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("open data dir %s: it is writable by group or others (mode %04o), so another user could replace its files: run chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// loadOrCreateAPIKey reads <dir>/api-key, or generates a key and saves it
// there (0600) so that restarts and `call --local` keep using it. It
// reports whether the key was generated now. The caller holds the data
// dir's lock, so no other ddbops writes the file meanwhile.
func loadOrCreateAPIKey(dir string) (string, bool, error) {
	path := filepath.Join(dir, apiKeyFile)
	b, err := store.ReadFile(path)
	if err == nil {
		k := strings.TrimSpace(string(b))
		if err := gateway.ValidAPIKey(k); err != nil {
			return "", false, fmt.Errorf("api key file %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read api key: %w", err)
	}
	k := gateway.GenerateAPIKey()
	if err := cmdutil.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("save api key: %w", err)
	}
	return k, true, nil
}

// writeServerInfo replaces path with info, atomically: Discover reads
// either the old file or the new one.
func writeServerInfo(path string, info ServerInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if err := cmdutil.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write server info: %w", err)
	}
	return nil
}

// ---- upgrade from the journal format ----

// upgraded is what upgrade did.
type upgraded struct {
	legacy.Result
	imported int
}

// upgrade imports a data dir of the journal format (snapshot + journal)
// into st, once (docs/local-storage.md#upgrade): the old files are read
// and checked first (a damaged one changes nothing), then renamed
// (<name>.pre-bbolt), imported in one transaction that also records that
// the import happened, and removed. A crash before the commit resumes from
// the renamed files; one after it only removes them.
func upgrade(dir, table string, st *store.Store, logw io.Writer) (upgraded, error) {
	var up upgraded
	orig, renamed, err := legacy.Files(dir)
	if err != nil || len(orig)+len(renamed) == 0 {
		return up, err
	}
	if st.Imported() != "" {
		if len(orig) > 0 {
			return up, fmt.Errorf("it holds both %s, imported from the journal format, and journal-format files written since (%s): move those away (%s is in force)",
				store.DBFile, strings.Join(orig, ", "), store.DBFile)
		}
		return up, removeAll(dir, renamed)
	}
	if st.Count() > 0 || (len(orig) > 0 && len(renamed) > 0) {
		return up, fmt.Errorf("it holds both %s with %d items and journal-format files (%s): move one of them away",
			store.DBFile, st.Count(), strings.Join(append(orig, renamed...), ", "))
	}
	res, err := legacy.Read(dir, table, len(renamed) > 0, func(p string) (io.ReadCloser, error) { return store.OpenFile(p, os.O_RDONLY, 0) })
	if err != nil {
		return up, err
	}
	up.Result = res
	if len(orig) > 0 {
		for _, n := range orig {
			if err := os.Rename(filepath.Join(dir, n), filepath.Join(dir, n+legacy.RenamedSuffix)); err != nil {
				return up, fmt.Errorf("import the journal format: %w", err)
			}
			renamed = append(renamed, n+legacy.RenamedSuffix)
		}
		if err := syncDir(dir); err != nil {
			return up, err
		}
	}
	marker := fmt.Sprintf("journal format: %d items from %d snapshot and %d journal records", len(res.Items), res.SnapshotRecords, res.JournalRecords)
	n, err := st.Import(marker, func(put func(key, value []byte) error) error {
		for _, it := range res.Items {
			v, err := engine.EncodeItem(it.Item)
			if err != nil {
				return fmt.Errorf("import the journal format: an item: %w", err)
			}
			if err := put([]byte(it.Key), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return up, err
	}
	up.imported = n
	if res.Torn != "" && logw != nil {
		fmt.Fprintf(logw, "warning: %s\n", res.Torn)
	}
	if err := removeAll(dir, renamed); err != nil {
		return up, err
	}
	if logw != nil {
		fmt.Fprintf(logw, "ddbops local: data dir %s: imported %d items from the journal format into %s; the old snapshot and journal are removed\n", dir, n, store.DBFile)
	}
	return up, nil
}

func removeAll(dir string, names []string) error {
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s after the import: %w", n, err)
		}
	}
	return syncDir(dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// ---- git ----

// dataFilePatterns are the files ddbops keeps in a data dir, as gitignore
// patterns relative to it.
var dataFilePatterns = []string{
	store.DBFile, store.WitnessFile, store.LockFile, apiKeyFile, serverFile,
	"." + apiKeyFile + ".tmp-*", "." + serverFile + ".tmp-*", // cmdutil.WriteFile's temp files
	legacy.SnapshotFile + legacy.RenamedSuffix, legacy.JournalFile + legacy.RenamedSuffix,
}

const gitignoreMark = "# written by ddbops"

// ignoreDataFiles keeps the data files (the database and the API key among
// them) out of git whatever the data dir is (docs/local-storage.md#git),
// without ever editing a .gitignore of the user's:
//   - a data dir that holds nothing but ddbops's files, and no
//     .gitignore, gets one of its own listing them (and itself); one that
//     ddbops wrote before is brought up to date;
//   - a data dir with a .gitignore of the user's, or with files of the
//     user's (--data-dir . in a project), gets its data files listed in
//     the enclosing repository's .git/info/exclude (git's own place for
//     local, uncommitted ignore rules), once; outside a repository there
//     is nothing to do.
//
// It never fails Open: a warning says what could not be written.
func ignoreDataFiles(dir string, logw io.Writer) {
	warn := func(err error) {
		if logw != nil && err != nil {
			fmt.Fprintf(logw, "warning: data dir %s: could not keep its files out of git: %v\n", dir, err)
		}
	}
	path := filepath.Join(dir, gitignoreFile)
	own := ownGitignore()
	b, err := store.ReadFile(path)
	switch {
	case err == nil && bytes.HasPrefix(b, []byte(gitignoreMark)):
		if !bytes.Equal(b, own) {
			warn(cmdutil.WriteFile(path, own, 0o644))
		}
		return
	case err == nil:
		warn(excludeInRepo(dir))
		return
	case !errors.Is(err, fs.ErrNotExist):
		warn(err)
		return
	}
	onlyOurs, err := holdsOnlyDataFiles(dir)
	if err != nil {
		warn(err)
		return
	}
	if onlyOurs {
		warn(cmdutil.WriteFile(path, own, 0o644))
		return
	}
	warn(excludeInRepo(dir))
}

func ownGitignore() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: the local stack's data and API key, never commit them\n/%s\n", gitignoreMark, gitignoreFile)
	for _, p := range dataFilePatterns {
		fmt.Fprintf(&b, "/%s\n", p)
	}
	return b.Bytes()
}

// holdsOnlyDataFiles reports whether every entry of dir is one ddbops
// keeps there (a data dir ddbops created).
func holdsOnlyDataFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		ours := e.Name() == legacy.SnapshotFile || e.Name() == legacy.JournalFile
		for _, p := range dataFilePatterns {
			if ok, _ := filepath.Match(p, e.Name()); ok {
				ours = true
			}
		}
		if !ours {
			return false, nil
		}
	}
	return true, nil
}

// excludeInRepo lists dir's data files in the info/exclude of the git
// repository whose work tree holds dir, unless they are listed already.
func excludeInRepo(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return err
	}
	root, gitDir, err := findRepo(abs)
	if err != nil || root == "" {
		return err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return err
	}
	prefix := "/"
	if rel != "." {
		prefix += escapeGlob(filepath.ToSlash(rel)) + "/"
	}
	header := fmt.Sprintf("%s: the local stack's data in %s, never commit it", gitignoreMark, prefix)
	exclude := filepath.Join(gitDir, "info", "exclude")
	old, err := store.ReadFile(exclude)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if bytes.Contains(old, []byte(header+"\n")) {
		return nil
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString(header + "\n")
	for _, p := range dataFilePatterns {
		b.WriteString(prefix + p + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(exclude), 0o755); err != nil {
		return err
	}
	return cmdutil.WriteFile(exclude, b.Bytes(), 0o644)
}

// findRepo returns the work tree root holding dir and its git dir (the
// common one, for a linked work tree: git reads info/exclude there), or
// "" when dir is in no repository.
func findRepo(dir string) (root, gitDir string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		fi, err := os.Lstat(p)
		switch {
		case err == nil && fi.IsDir():
			return d, p, nil
		case err == nil && fi.Mode().IsRegular():
			// A linked work tree or a submodule: "gitdir: <path>".
			b, err := os.ReadFile(p)
			if err != nil {
				return "", "", err
			}
			g, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
			if !ok {
				return "", "", fmt.Errorf("%s: not a gitdir file", p)
			}
			if !filepath.IsAbs(g) {
				g = filepath.Join(d, g)
			}
			if c, err := os.ReadFile(filepath.Join(g, "commondir")); err == nil {
				cd := strings.TrimSpace(string(c))
				if !filepath.IsAbs(cd) {
					cd = filepath.Join(g, cd)
				}
				g = cd
			}
			return d, filepath.Clean(g), nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", "", err
		}
		if filepath.Dir(d) == d {
			return "", "", nil
		}
	}
}

// escapeGlob quotes the characters gitignore patterns give a meaning.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\*?[!# `, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
