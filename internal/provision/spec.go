package provision

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ddbops/ddbops/internal/wire"
)

// TagKey is the tag every resource of a stack carries; its value is the
// stack name. Ownership is decided by this tag and nothing else.
const TagKey = "ddbops:stack"

// PermissionStatementID is the fixed statement id of the lambda:InvokeFunction
// permission granted to API Gateway, so re-runs find (and converge) it.
const PermissionStatementID = "ddbops-apigateway-invoke"

// Function shape that is not configurable (docs/provisioning.md).
const (
	Runtime = "provided.al2023"
	Handler = "bootstrap"
)

// Spec is the desired state of a stack: names and settings after the
// configuration precedence has been applied.
type Spec struct {
	Stack  string
	Region string
	// EndpointURL is the emulator endpoint every call goes to ("" = AWS).
	// It only changes the recorded invoke URL.
	EndpointURL string

	Table    string
	Function string
	Role     string
	Policy   string
	API      string
	Resource string // path part, without the leading slash
	Stage    string

	// The user-settable configuration: each field tagged config:"key" is
	// the stack's desired configuration under that config key, recorded
	// in the state file and merged by DesiredSpec (docs/provisioning.md#desired-state).
	// A new setting needs only its field and tag here.
	Memory        int32   `config:"memory"`         // MB
	Timeout       int32   `config:"timeout"`        // seconds
	Arch          string  `config:"arch"`           // arm64 | x86_64
	Auth          string  `config:"auth"`           // iam | apikey | none
	ThrottleRate  float64 `config:"throttle-rate"`  // requests per second
	ThrottleBurst int32   `config:"throttle-burst"` // requests
	LogRetention  int32   `config:"log-retention"`  // days; 0 = never expire
	// CORSOrigins are the browser origins allowed to call the API
	// (docs/cors.md): each scheme://host[:port] as browsers send it, or
	// "*" alone for any. Empty: none, and the resource has no OPTIONS
	// method.
	CORSOrigins []string `config:"cors"`

	// IAMPropagationTimeout bounds the retries of "the role cannot be
	// assumed by Lambda" after the role was created or changed.
	IAMPropagationTimeout time.Duration
}

var (
	namePattern     = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	iamNamePattern  = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]+$`)
	stagePattern    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	functionPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// CloudWatch Logs accepts only these retention periods (days).
	retentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// Validate reports the first setting AWS would reject, as "{setting}: {why}".
func (s Spec) Validate() error {
	checks := []struct {
		name, value string
		re          *regexp.Regexp
		max         int
	}{
		{"stack", s.Stack, namePattern, 128},
		{"table", s.Table, namePattern, 255},
		{"function", s.Function, functionPattern, 64},
		{"role", s.Role, iamNamePattern, 64},
		{"policy", s.Policy, iamNamePattern, 128},
		{"resource", s.Resource, namePattern, 255},
		{"stage", s.Stage, stagePattern, 128},
	}
	for _, c := range checks {
		switch {
		case c.value == "":
			return fmt.Errorf("%s: must not be empty", c.name)
		case len(c.value) > c.max:
			return fmt.Errorf("%s %q: longer than %d characters", c.name, c.value, c.max)
		case !c.re.MatchString(c.value):
			return fmt.Errorf("%s %q: may only contain %s", c.name, c.value, strings.Trim(c.re.String(), "^$+"))
		}
	}
	if strings.Trim(s.Stack, ".") == "" {
		return fmt.Errorf("stack %q: must not be only dots", s.Stack)
	}
	if len(s.Table) < 3 {
		return fmt.Errorf("table %q: shorter than 3 characters", s.Table)
	}
	if strings.TrimSpace(s.API) == "" {
		return fmt.Errorf("api: must not be empty")
	}
	if s.Memory < 128 || s.Memory > 10240 {
		return fmt.Errorf("memory %d: must be between 128 and 10240 MB", s.Memory)
	}
	if s.Timeout < 1 || s.Timeout > 900 {
		return fmt.Errorf("timeout %d: must be between 1 and 900 seconds", s.Timeout)
	}
	if s.Arch != "arm64" && s.Arch != "x86_64" {
		return fmt.Errorf("arch %q: want arm64 or x86_64", s.Arch)
	}
	switch s.Auth {
	case wire.AuthIAM, wire.AuthAPIKey, wire.AuthNone:
	default:
		return fmt.Errorf("auth %q: want iam, apikey or none", s.Auth)
	}
	if s.ThrottleRate <= 0 || s.ThrottleBurst <= 0 {
		return fmt.Errorf("throttle-rate %g / throttle-burst %d: must be positive", s.ThrottleRate, s.ThrottleBurst)
	}
	if s.LogRetention != 0 && !slices.Contains(retentionDays, s.LogRetention) {
		return fmt.Errorf("log-retention %d: CloudWatch Logs accepts 0 (never expire) or one of %v days", s.LogRetention, retentionDays)
	}
	if err := validateCORSOrigins(s.CORSOrigins); err != nil {
		return err
	}
	if s.IAMPropagationTimeout < 0 {
		return fmt.Errorf("iam-propagation-timeout %s: must not be negative", s.IAMPropagationTimeout)
	}
	return nil
}

// LogGroupName is the function's CloudWatch log group.
func (s Spec) LogGroupName() string { return "/aws/lambda/" + s.Function }

// APIKeyName and UsagePlanName name the apikey-auth resources of the stack.
func (s Spec) APIKeyName() string    { return s.Stack + "-" + s.API }
func (s Spec) UsagePlanName() string { return s.Stack + "-" + s.API }

// Account is who and where the calls go: the account id and its partition.
type Account struct {
	ID        string
	Partition string
}

// DNSSuffix of the partition, for the execute-api host name.
func (a Account) DNSSuffix() string {
	switch a.Partition {
	case "aws-cn":
		return "amazonaws.com.cn"
	case "aws-iso":
		return "c2s.ic.gov"
	case "aws-iso-b":
		return "sc2s.sgov.gov"
	case "aws-iso-e":
		return "cloud.adc-e.uk"
	case "aws-iso-f":
		return "csp.hci.ic.gov"
	case "aws-eusc":
		return "amazonaws.eu"
	}
	return "amazonaws.com"
}

// arns computes every ARN of the stack from names, so dependent steps and
// the dry-run plan never need the dependency to exist first.
type arns struct {
	spec Spec
	acct Account
}

func (a arns) table() string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", a.acct.Partition, a.spec.Region, a.acct.ID, a.spec.Table)
}
func (a arns) policy() string {
	return fmt.Sprintf("arn:%s:iam::%s:policy/%s", a.acct.Partition, a.acct.ID, a.spec.Policy)
}
func (a arns) role() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.acct.Partition, a.acct.ID, a.spec.Role)
}
func (a arns) logGroup() string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", a.acct.Partition, a.spec.Region, a.acct.ID, a.spec.LogGroupName())
}
func (a arns) function() string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", a.acct.Partition, a.spec.Region, a.acct.ID, a.spec.Function)
}
func (a arns) integrationURI() string {
	return fmt.Sprintf("arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", a.acct.Partition, a.spec.Region, a.function())
}
func (a arns) sourceARN(apiID string) string {
	return fmt.Sprintf("arn:%s:execute-api:%s:%s:%s/%s/POST/%s", a.acct.Partition, a.spec.Region, a.acct.ID, apiID, a.spec.Stage, a.spec.Resource)
}

// invokeURL is the URL clients POST to. Against an emulator endpoint it is
// the path-style URL LocalStack serves
// ({endpoint}/restapis/{id}/{stage}/_user_request_/{resource}).
func (a arns) invokeURL(apiID string) string {
	if apiID == "" {
		return ""
	}
	if a.spec.EndpointURL != "" {
		return fmt.Sprintf("%s/restapis/%s/%s/_user_request_/%s", strings.TrimRight(a.spec.EndpointURL, "/"), apiID, a.spec.Stage, a.spec.Resource)
	}
	return fmt.Sprintf("https://%s.execute-api.%s.%s/%s/%s", apiID, a.spec.Region, a.acct.DNSSuffix(), a.spec.Stage, a.spec.Resource)
}

// Policy documents. Statement order and action order are fixed so the
// created document is byte-for-byte reproducible; comparison is semantic.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string          `json:"Sid,omitempty"`
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal,omitempty"`
	Action    []string        `json:"Action"`
	Resource  []string        `json:"Resource,omitempty"`
}

// tableActions are exactly the DynamoDB calls the handler makes.
var tableActions = []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"}

// logActions let the function write to its own log group; the group itself
// is created by ddbops, so no logs:CreateLogGroup.
var logActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// executionPolicy is the function's least-privilege permissions policy.
func (a arns) executionPolicy() string {
	return mustJSON(policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{
			{Sid: "TableItems", Effect: "Allow", Action: tableActions, Resource: []string{a.table()}},
			{Sid: "FunctionLogs", Effect: "Allow", Action: logActions, Resource: []string{a.logGroup() + ":*"}},
		},
	})
}

// trustPolicy lets Lambda assume the role.
func trustPolicy() string {
	return mustJSON(policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Effect:    "Allow",
			Principal: json.RawMessage(`{"Service":"lambda.amazonaws.com"}`),
			Action:    []string{"sts:AssumeRole"},
		}},
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // static documents: a programming error
	}
	return string(b)
}
