package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/local/gateway"
)

// Files of a data dir the wiring owns (the store owns the others).
const (
	apiKeyFile = "api-key"     // generated API key (0600)
	serverFile = "server.json" // ServerInfo of the `ddbops local` serving the dir
)

// loadOrCreateAPIKey reads <dir>/api-key, or generates a key and saves it
// there (0600) so that restarts and `call --local` keep using it. It
// reports whether the key was generated now. The caller holds the data
// dir's lock, so no other ddbops writes the file meanwhile.
func loadOrCreateAPIKey(dir string) (string, bool, error) {
	path := filepath.Join(dir, apiKeyFile)
	b, err := os.ReadFile(path)
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

// ensureGitignore keeps the data dir (which holds the API key) out of git
// by accident: it writes a .gitignore ignoring everything, once. Failing to
// write it is not an error (a read-only dir fails later with a clear one).
func ensureGitignore(dir string) {
	p := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(p); err == nil {
		return
	}
	_ = cmdutil.WriteFile(p, []byte("# written by ddbops: local data and API key, never commit\n*\n"), 0o644)
}
