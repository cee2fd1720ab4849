package provision

import (
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// Desired-state accessors: the values setup gives every resource, as pure
// functions of a Spec (and, for ARNs, an Account). The provisioner's own
// steps call these (or the unexported functions they wrap), and
// internal/export builds its CloudFormation template from them, so the two
// cannot drift apart (docs/export.md).

// The invoke permission granted to API Gateway.
const (
	PermissionAction    = "lambda:InvokeFunction"
	PermissionPrincipal = "apigateway.amazonaws.com"
)

// DeploymentDescription is the description of the deployment setup creates.
const DeploymentDescription = "ddbops setup"

// ARNs names the ARNs of a stack in one account as the provisioner computes
// them. Account and Spec.Region may be placeholders (CloudFormation's
// ${AWS::AccountId}, ${AWS::Partition}, ${AWS::Region}): the formulas are
// plain string templates.
type ARNs struct{ a arns }

// StackARNs returns the ARNs of spec's resources in acct.
func StackARNs(spec Spec, acct Account) ARNs { return ARNs{arns{spec: spec, acct: acct}} }

// Table is the table's ARN.
func (x ARNs) Table() string { return x.a.table() }

// Policy is the managed policy's ARN.
func (x ARNs) Policy() string { return x.a.policy() }

// Role is the execution role's ARN.
func (x ARNs) Role() string { return x.a.role() }

// LogGroup is the log group's ARN (without the ":*" of its streams).
func (x ARNs) LogGroup() string { return x.a.logGroup() }

// Function is the function's ARN.
func (x ARNs) Function() string { return x.a.function() }

// IntegrationURI is the AWS_PROXY integration's URI of the POST method.
func (x ARNs) IntegrationURI() string { return x.a.integrationURI() }

// PermissionSourceARN is the source ARN the invoke permission is scoped to:
// this API's stage, POST method and resource path only.
func (x ARNs) PermissionSourceARN(apiID string) string { return x.a.sourceARN(apiID) }

// InvokeURL is the URL clients POST to.
func (x ARNs) InvokeURL(apiID string) string { return x.a.invokeURL(apiID) }

// ExecutionPolicy is the function's permissions policy document (JSON):
// table items and its own log group, nothing else.
func (x ARNs) ExecutionPolicy() string { return x.a.executionPolicy() }

// TrustPolicy is the execution role's trust policy document (JSON).
func TrustPolicy() string { return trustPolicy() }

// MethodAuthorization is the POST method's authorization for an auth mode:
// AWS_IAM for iam, NONE with an API key required for apikey, NONE for none.
func MethodAuthorization(auth string) (authorizationType string, apiKeyRequired bool) {
	return wantMethod(auth)
}

// Throttle is the stage-wide throttling setup sets: the method setting of
// every resource and method of the stage.
type Throttle struct {
	ResourcePath string // "/*"
	HTTPMethod   string // "*"
	RateLimit    float64
	BurstLimit   int32
}

// StageThrottle is spec's stage throttling.
func StageThrottle(spec Spec) Throttle {
	return Throttle{ResourcePath: "/*", HTTPMethod: "*", RateLimit: spec.ThrottleRate, BurstLimit: spec.ThrottleBurst}
}

// stageThrottlePatch is StageThrottle as API Gateway's UpdateStage patch.
func stageThrottlePatch(spec Spec) []agtypes.PatchOperation {
	t := StageThrottle(spec)
	prefix := t.ResourcePath + "/" + t.HTTPMethod + "/throttling/"
	return []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String(prefix + "rateLimit"), Value: aws.String(fmtRate(t.RateLimit))},
		{Op: agtypes.OpReplace, Path: aws.String(prefix + "burstLimit"), Value: aws.String(fmtInt(t.BurstLimit))},
	}
}

// FunctionEnvironment is the function's environment: TABLE_NAME, and
// CORS_ORIGINS when browser origins are allowed.
func FunctionEnvironment(spec Spec) map[string]string {
	env := map[string]string{"TABLE_NAME": spec.Table}
	maps.Copy(env, CORSFunctionEnv(spec))
	return env
}

// Description is the description setup gives the resource of kind
// (KindPolicy, KindRole, KindFunction, KindRestAPI, KindAPIKey,
// KindUsagePlan, KindDeployment); "" for kinds without one.
func (s Spec) Description(kind string) string {
	prefix := "ddbops stack " + s.Stack + ": "
	switch kind {
	case KindPolicy:
		return prefix + "the function's access to its table and log group"
	case KindRole:
		return prefix + "execution role of " + s.Function
	case KindFunction, KindRestAPI:
		return prefix + "DynamoDB operations over HTTPS"
	case KindAPIKey:
		return prefix + "key for " + s.API
	case KindUsagePlan:
		return prefix + "stage " + s.Stage + " of " + s.API
	case KindDeployment:
		return DeploymentDescription
	}
	return ""
}
