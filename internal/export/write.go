package export

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/pkgzip"
	"github.com/ddbops/ddbops/internal/provision"
)

// Overrides are desired-state values given on the export's command line.
type Overrides struct {
	Auth   string // "" = not given
	Memory int32  // 0 = not given
	Arch   string // "" = not given
}

// Desired is the desired state an export describes, by the one rule setup,
// deploy and status use (provision.DesiredSpec): a value given explicitly
// (o, or explicit(key): a flag, the environment or the config file) wins;
// else what setup recorded for this stack (st, nil when setup has not run;
// another stack's record is ignored); else base's default. envRegion stands
// in for a region neither the configuration nor the record gives (as the
// SDK would find it, without loading any configuration). It returns the
// record it used (nil when none). Invalid values are usage errors.
func Desired(base provision.Spec, explicit func(string) bool, st *provision.State, o Overrides, envRegion string) (provision.Spec, *provision.State, error) {
	if st != nil && st.Stack != "" && st.Stack != base.Stack {
		st = nil
	}
	if o.Auth != "" {
		base.Auth = o.Auth
	}
	if o.Memory != 0 {
		base.Memory = o.Memory
	}
	if o.Arch != "" {
		if !pkgzip.ValidArch(o.Arch) {
			return base, nil, cmdutil.UsageErrorf("invalid --arch %q: want %s", o.Arch, strings.Join(pkgzip.Arches(), " or "))
		}
		base.Arch = o.Arch
	}
	given := map[string]bool{"auth": o.Auth != "", "memory": o.Memory != 0, "arch": o.Arch != ""}
	spec, err := provision.DesiredSpec(base, func(k string) bool { return given[k] || (explicit != nil && explicit(k)) }, st)
	if err != nil {
		return spec, nil, cmdutil.WithHint(err, "fix the value in the state file, or remove it from its \"desired\"")
	}
	if st != nil && st.Region != "" && base.Region == "" {
		spec.Region = st.Region
	}
	if spec.Region == "" {
		spec.Region = envRegion
	}
	probe := spec
	if probe.Region == "" {
		probe.Region = "us-east-1" // only to validate the rest
	}
	if err := probe.Validate(); err != nil {
		return spec, nil, cmdutil.UsageErrorf("invalid configuration: %v", err)
	}
	return spec, st, nil
}

// Written is the -o json document of an export written to a file.
type Written struct {
	Format    string     `json:"format"`
	Path      string     `json:"path"`
	Bytes     int        `json:"bytes"`
	Stack     string     `json:"stack"`
	Auth      string     `json:"auth"`
	URL       string     `json:"url,omitempty"`
	Resources []Resource `json:"resources,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
}

// WriteFile writes data to out and returns the path written. An existing
// file is replaced only when it is a previous export of the same format:
// an export never destroys a user's file.
func WriteFile(out, format string, data []byte) (string, error) {
	path, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", format, err)
	}
	hint := "choose another --out, or move the file away"
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("export %s: %w", format, err)
	case fi.IsDir():
		return "", cmdutil.WithHint(fmt.Errorf("export %s: --out %s is a directory", format, path), "name the file to write")
	case !fi.Mode().IsRegular():
		return "", cmdutil.WithHint(fmt.Errorf("export %s: refusing to replace %s: not a regular file", format, path), hint)
	default:
		old, err := readHead(path, 64<<20)
		if err != nil {
			return "", fmt.Errorf("export %s: %w", format, err)
		}
		if !Generated(format, old) {
			return "", cmdutil.WithHint(fmt.Errorf("export %s: refusing to replace %s: not a previous ddbops %s export", format, path, format), hint)
		}
	}
	if err := cmdutil.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("export %s: %w", format, err)
	}
	return path, nil
}

// readHead reads at most max bytes of path (an export is far smaller).
func readHead(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}
