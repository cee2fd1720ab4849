package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

// StateVersion is the schema version of the state file.
const StateVersion = 1

// State is the cache written to .ddbops/state.json after every step. It is
// never the source of truth (resources are found by name and tag), so a
// lost file orphans nothing; it lets `call` and `bench` find the API
// without AWS calls. It holds no secrets.
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
	Memory       int32  `json:"memory,omitempty"`
	Timeout      int32  `json:"timeout,omitempty"`
	CodeSha256   string `json:"codeSha256,omitempty"`
	RestAPIID    string `json:"restApiId,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	StageName    string `json:"stageName,omitempty"`
	DeploymentID string `json:"deploymentId,omitempty"`
	// PendingDeployment is set before the API definition changes and
	// cleared by the deployment, so a run that stops in between is
	// finished by the next one.
	PendingDeployment bool `json:"pendingDeployment,omitempty"`
	// APIKeyID names the API key (apikey auth); its value is fetched from
	// API Gateway when needed and never stored here.
	APIKeyID    string `json:"apiKeyId,omitempty"`
	UsagePlanID string `json:"usagePlanId,omitempty"`

	UpdatedAt time.Time `json:"updatedAt"`
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
