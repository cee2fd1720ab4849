package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// StateVersion is the schema version of the state file.
const StateVersion = 1

// State is the cache written to the stack's state file
// (.ddbops/stacks/<stack>/state.json, see StateFile) after every step. For
// resources it is never the source of truth (they are found by name and
// tag), so a lost file orphans nothing; it lets `call` and `bench` find the
// API without AWS calls, and it records the stack's desired configuration.
// It holds no secrets.
type State struct {
	Version   int    `json:"version"`
	Stack     string `json:"stack"`
	Region    string `json:"region"`
	AccountID string `json:"accountId,omitempty"`
	// EndpointURL is the --endpoint-url setup ran against, if any.
	EndpointURL string `json:"endpointUrl,omitempty"`

	// Auth is the API's authorization mode: iam, apikey or none.
	Auth      string `json:"auth,omitempty"`
	InvokeURL string `json:"invokeUrl,omitempty"`

	TableName    string `json:"tableName,omitempty"`
	TableARN     string `json:"tableArn,omitempty"`
	PolicyARN    string `json:"policyArn,omitempty"`
	RoleName     string `json:"roleName,omitempty"`
	RoleARN      string `json:"roleArn,omitempty"`
	LogGroupName string `json:"logGroupName,omitempty"`
	FunctionName string `json:"functionName,omitempty"`
	FunctionARN  string `json:"functionArn,omitempty"`
	Architecture string `json:"architecture,omitempty"`
	// Memory, Timeout and CodeSha256 are what setup or deploy last applied
	// to the function; status compares against them.
	Memory     int32  `json:"memory,omitempty"`
	Timeout    int32  `json:"timeout,omitempty"`
	CodeSha256 string `json:"codeSha256,omitempty"`
	// CORSOrigins are the browser origins the last setup allowed (none
	// when empty); status compares the OPTIONS method against them.
	CORSOrigins  []string `json:"corsOrigins,omitempty"`
	RestAPIID    string   `json:"restApiId,omitempty"`
	ResourceID   string   `json:"resourceId,omitempty"`
	StageName    string   `json:"stageName,omitempty"`
	DeploymentID string   `json:"deploymentId,omitempty"`
	// PendingDeployment is set before the API definition changes and
	// cleared by the deployment, so a run that stops in between is
	// finished by the next one.
	PendingDeployment bool `json:"pendingDeployment,omitempty"`
	// APIKeyID names the API key (apikey auth); its value is fetched from
	// API Gateway when needed and never stored here.
	APIKeyID    string `json:"apiKeyId,omitempty"`
	UsagePlanID string `json:"usagePlanId,omitempty"`

	// Desired is the stack's desired configuration: what setup (and, for
	// the function, deploy) was last told to apply. See DesiredSpec.
	Desired Config `json:"desired,omitempty"`

	UpdatedAt time.Time `json:"updatedAt"`
}

// StateFile returns the state file of stack under dir (config key
// state-dir): dir/stacks/<stack>/state.json, one per stack, so two stacks
// in one directory never share one. On first use it migrates the single
// file older versions kept, dir/state.json: when that file records this
// stack and the stack has no file of its own yet, it is moved there
// (migrated reports it). A file recording another stack stays for that
// stack's first use.
func StateFile(dir, stack string) (path string, migrated bool, err error) {
	if !namePattern.MatchString(stack) || strings.Trim(stack, ".") == "" {
		return "", false, fmt.Errorf("state of stack %q: a stack name is letters, digits, '.', '_' and '-', and not only dots", stack)
	}
	path = filepath.Join(dir, "stacks", stack, "state.json")
	legacy := filepath.Join(dir, "state.json")
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return path, false, nil
	}
	old, err := LoadState(legacy)
	if err != nil || old.Stack != stack {
		return path, false, nil // nothing of this stack's to migrate
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("migrate state %s: %w", legacy, err)
	}
	// A rename within the directory tree: the file is never copied, so
	// nothing can be lost half-way.
	if err := os.Rename(legacy, path); err != nil {
		return "", false, fmt.Errorf("migrate state %s to %s: %w", legacy, path, err)
	}
	return path, true, nil
}

// ErrNoState is returned by LoadState when the file does not exist.
var ErrNoState = errors.New("no state file")

// LoadState reads the state file at path.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read state %s: %w", path, ErrNoState)
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read state %s: invalid JSON: %w", path, err)
	}
	if s.Version > StateVersion {
		return nil, fmt.Errorf("read state %s: version %d is newer than this ddbops understands (%d)", path, s.Version, StateVersion)
	}
	return &s, nil
}

// SaveState writes s to path atomically (cmdutil.WriteFile: temp file,
// fsync, rename) with mode 0600, creating the directory and a .gitignore
// in it so the cache is never committed by accident.
func SaveState(path string, s *State) error {
	s.Version = StateVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	gi := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(gi); errors.Is(err, fs.ErrNotExist) {
		_ = cmdutil.WriteFile(gi, []byte("# written by ddbops: local state, never commit\n*\n"), 0o644)
	}
	// cmdutil's errors read "write {path}: {why}".
	return cmdutil.WriteFile(path, append(b, '\n'), 0o600)
}
