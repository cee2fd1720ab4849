package pkgzip

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// ReadDeployment reads a deployment package made elsewhere (setup, deploy
// and status --handler-zip) and checks that it is a zip with an entry
// named bootstrap, the provided.al2023 entry point. Its errors read
// "<path>: <why>".
func ReadDeployment(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip file", path)
	}
	for _, f := range zr.File {
		if f.Name == EntryName {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: no %s entry (the provided.al2023 runtime runs ./%s)", path, EntryName, EntryName)
}

// Replaceable returns the file to write for out (a symlink is written
// through), or an error with a hint when out holds something that is not
// a previous handler zip: a build must never destroy a user's file.
func Replaceable(out string) (string, error) {
	if target, err := filepath.EvalSymlinks(out); err == nil {
		out = target
	}
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	hint := "choose another --out, or move the file away"
	if fi.IsDir() {
		return "", cmdutil.WithHint(fmt.Errorf("package: --out %s is a directory", out), "name the zip file, e.g. --out "+filepath.Join(out, "bootstrap.zip"))
	}
	if !fi.Mode().IsRegular() {
		return "", cmdutil.WithHint(fmt.Errorf("package: refusing to overwrite %s: not a regular file", out), hint)
	}
	f, err := os.Open(out)
	if err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	defer f.Close()
	if err := Verify(f, fi.Size()); err != nil {
		return "", cmdutil.WithHint(fmt.Errorf("package: refusing to overwrite %s: %w", out, err), hint)
	}
	return out, nil
}

// WriteZip replaces path, which Replaceable accepted, with zip: readers
// see the old zip or the new one, never a partial file. Replaceable is
// checked again, since a build takes a while.
func WriteZip(path string, zip []byte) error {
	if _, err := Replaceable(path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("package: write %s: %w", path, err)
	}
	if err := cmdutil.WriteFile(path, zip, 0o644); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	return nil
}
