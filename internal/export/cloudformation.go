package export

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// Logical ids of the template's resources.
const (
	LogicalPolicy       = "ExecutionPolicy"
	LogicalRole         = "ExecutionRole"
	LogicalLogGroup     = "FunctionLogGroup"
	LogicalFunction     = "Function"
	LogicalTable        = "Table"
	LogicalRestAPI      = "RestApi"
	LogicalResource     = "ApiResource"
	LogicalPostMethod   = "PostMethod"
	LogicalCORSMethod   = "OptionsMethod"
	LogicalPermission   = "InvokePermission"
	LogicalDeployment   = "Deployment"
	LogicalStage        = "Stage"
	LogicalAPIKey       = "ApiKey"
	LogicalUsagePlan    = "UsagePlan"
	LogicalUsagePlanKey = "UsagePlanKey"
)

// Template parameters naming the handler code in S3.
const (
	ParamCodeBucket = "CodeS3Bucket"
	ParamCodeKey    = "CodeS3Key"
)

// The account, partition and region of a CloudFormation stack as
// placeholders of !Sub: the provisioner's ARN formulas, fed these, give the
// template strings.
var (
	cfnAccount = provision.Account{ID: "${AWS::AccountId}", Partition: "${AWS::Partition}"}
	cfnRegion  = "${AWS::Region}"
)

// Resource is one resource of a template.
type Resource struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
}

// Template is a CloudFormation template.
type Template struct {
	root      *Obj
	resources []Resource
	comment   string
}

// Resources lists the template's resources in the order they appear.
func (t *Template) Resources() []Resource { return slices.Clone(t.resources) }

// YAML renders the template with the short forms of the intrinsic
// functions (!Ref, !Sub, !GetAtt).
func (t *Template) YAML() ([]byte, error) { return renderYAML(t.root, t.comment) }

// JSON renders the template as JSON (long forms: Ref, Fn::Sub, Fn::GetAtt),
// which CloudFormation accepts as well.
func (t *Template) JSON() ([]byte, error) { return renderJSON(t.root) }

// cfn builds a template resource by resource.
type cfn struct {
	spec provision.Spec // as configured
	arn  provision.ARNs // with CloudFormation placeholders

	resources *Obj
	list      []Resource
	// methods are the logical ids of the API's methods: the deployment
	// depends on every one. A method builder (POST today; an OPTIONS
	// preflight for CORS) adds itself here.
	methods []string
}

// CloudFormation returns the template of what `ddbops setup` creates for
// spec: the same names, settings, policy statements, ARNs, method
// authorization, invoke permission scope, stage throttling and (for apikey
// auth) API key and usage plan, taken from the provisioner's desired-state
// functions. The handler code comes from the CodeS3Bucket / CodeS3Key
// parameters.
func CloudFormation(spec provision.Spec) (*Template, error) {
	probe := spec
	if probe.Region == "" {
		probe.Region = "us-east-1" // the template's region is the stack's
	}
	if err := probe.Validate(); err != nil {
		return nil, fmt.Errorf("cloudformation: %w", err)
	}
	placeholders := spec
	placeholders.Region, placeholders.EndpointURL = cfnRegion, ""
	g := &cfn{spec: spec, arn: provision.StackARNs(placeholders, cfnAccount), resources: &Obj{}}

	g.policy()
	g.role()
	g.logGroup()
	g.function()
	g.table()
	g.restAPI()
	g.apiResource()
	g.postMethod()
	g.corsMethod()
	g.permission()
	g.deployment()
	g.stage()
	if spec.Auth == wire.AuthAPIKey {
		g.apiKeyAndPlan()
	}

	root := obj(
		"AWSTemplateFormatVersion", "2010-09-09",
		"Description", fmt.Sprintf("ddbops stack %s: REST API %s (POST /%s, auth %s) -> Lambda %s -> DynamoDB table %s, as ddbops setup creates it. Code: the zip built by ddbops package, uploaded to S3.",
			spec.Stack, spec.API, spec.Resource, spec.Auth, spec.Function, spec.Table),
		"Parameters", obj(
			ParamCodeBucket, obj(
				"Type", "String",
				"Description", "S3 bucket, in the stack's region, holding the handler zip built by ddbops package",
				"MinLength", 3,
				"MaxLength", 63,
			),
			ParamCodeKey, obj(
				"Type", "String",
				"Description", "Object key of that zip; a new key per build (e.g. ddbops/bootstrap-<CodeSha256>.zip) makes CloudFormation update the code",
				"MinLength", 1,
			),
		),
		"Resources", g.resources,
		"Outputs", g.outputs(),
	)
	comment := fmt.Sprintf(generatedBy(FormatCloudFormation)+" Stack %s, auth %s.\n"+
		"Deploy: ddbops package, upload the zip, then aws cloudformation deploy with\n"+
		"--parameter-overrides %s=... %s=... --capabilities CAPABILITY_NAMED_IAM (docs/export.md).",
		spec.Stack, spec.Auth, ParamCodeBucket, ParamCodeKey)
	return &Template{root: root, resources: g.list, comment: comment}, nil
}

// add appends a resource. extra holds resource attributes besides Type and
// Properties (DependsOn, DeletionPolicy, ...), as key, value pairs.
func (g *cfn) add(id, typ string, props *Obj, extra ...any) {
	r := obj("Type", typ)
	for i := 0; i+1 < len(extra); i += 2 {
		r.Set(extra[i].(string), extra[i+1])
	}
	r.Set("Properties", props)
	g.resources.Set(id, r)
	g.list = append(g.list, Resource{LogicalID: id, Type: typ})
}

// tags is the stack's ownership tag in CloudFormation's list form.
func (g *cfn) tags() []any {
	return []any{obj("Key", provision.TagKey, "Value", g.spec.Stack)}
}

// policyDocument turns a policy document of the provisioner (JSON) into
// the template's form: the same statements, every ARN a !Sub of the same
// formula.
func policyDocument(doc string) any {
	v, err := orderedJSON([]byte(doc))
	if err != nil {
		panic(err) // the provisioner's documents are static JSON
	}
	return mapStrings(v, subOrString)
}

func (g *cfn) policy() {
	// AWS::IAM::ManagedPolicy takes no tags (setup tags the policy through
	// IAM): the only resource here without the stack's tag.
	g.add(LogicalPolicy, "AWS::IAM::ManagedPolicy", obj(
		"ManagedPolicyName", g.spec.Policy,
		"Description", g.spec.Description(provision.KindPolicy),
		"PolicyDocument", policyDocument(g.arn.ExecutionPolicy()),
	))
}

func (g *cfn) role() {
	g.add(LogicalRole, "AWS::IAM::Role", obj(
		"RoleName", g.spec.Role,
		"Description", g.spec.Description(provision.KindRole),
		"AssumeRolePolicyDocument", policyDocument(provision.TrustPolicy()),
		"ManagedPolicyArns", []any{ref(LogicalPolicy)},
		"Tags", g.tags(),
	))
}

func (g *cfn) logGroup() {
	props := obj("LogGroupName", g.spec.LogGroupName())
	if g.spec.LogRetention > 0 {
		props.Set("RetentionInDays", g.spec.LogRetention)
	}
	props.Set("Tags", g.tags())
	// Deleted with the stack, as ddbops teardown deletes it: it holds
	// the function's logs, not data a user stored.
	g.add(LogicalLogGroup, "AWS::Logs::LogGroup", props, "DeletionPolicy", "Delete", "UpdateReplacePolicy", "Delete")
}

func (g *cfn) function() {
	env := provision.FunctionEnvironment(g.spec)
	vars := &Obj{}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars.Set(k, env[k])
	}
	// The log group first, as setup does: the function's first log
	// lines must land in the group with the stack's retention and tag.
	g.add(LogicalFunction, "AWS::Lambda::Function", obj(
		"FunctionName", g.spec.Function,
		"Description", g.spec.Description(provision.KindFunction),
		"Runtime", provision.Runtime,
		"Handler", provision.Handler,
		"Architectures", []any{g.spec.Arch},
		"MemorySize", g.spec.Memory,
		"Timeout", g.spec.Timeout,
		"Role", getAtt{LogicalRole, "Arn"},
		"Environment", obj("Variables", vars),
		"PackageType", "Zip",
		"Code", obj("S3Bucket", ref(ParamCodeBucket), "S3Key", ref(ParamCodeKey)),
		"Tags", g.tags(),
	), "DependsOn", []any{LogicalLogGroup})
}

func (g *cfn) table() {
	// Retained when the CloudFormation stack is deleted: as with ddbops
	// teardown, deleting the stack never deletes stored items.
	g.add(LogicalTable, "AWS::DynamoDB::Table", obj(
		"TableName", g.spec.Table,
		"AttributeDefinitions", []any{obj("AttributeName", wire.KeyAttribute, "AttributeType", "S")},
		"KeySchema", []any{obj("AttributeName", wire.KeyAttribute, "KeyType", "HASH")},
		"BillingMode", "PAY_PER_REQUEST",
		"Tags", g.tags(),
	), "DeletionPolicy", "Retain", "UpdateReplacePolicy", "Retain")
}

func (g *cfn) restAPI() {
	g.add(LogicalRestAPI, "AWS::ApiGateway::RestApi", obj(
		"Name", g.spec.API,
		"Description", g.spec.Description(provision.KindRestAPI),
		"EndpointConfiguration", obj("Types", []any{"REGIONAL"}),
		"Tags", g.tags(),
	))
}

func (g *cfn) apiResource() {
	g.add(LogicalResource, "AWS::ApiGateway::Resource", obj(
		"RestApiId", ref(LogicalRestAPI),
		"ParentId", getAtt{LogicalRestAPI, "RootResourceId"},
		"PathPart", g.spec.Resource,
	))
}

// postMethod is the POST method with the auth mode's authorization and the
// AWS_PROXY integration to the function.
func (g *cfn) postMethod() {
	authType, keyRequired := provision.MethodAuthorization(g.spec.Auth)
	// The integration URI names the function by ARN (the provisioner's
	// formula), which implies no dependency: setup wires the integration
	// once the function exists, and so does DependsOn.
	g.add(LogicalPostMethod, "AWS::ApiGateway::Method", obj(
		"RestApiId", ref(LogicalRestAPI),
		"ResourceId", ref(LogicalResource),
		"HttpMethod", "POST",
		"AuthorizationType", authType,
		"ApiKeyRequired", keyRequired,
		"Integration", obj(
			"Type", "AWS_PROXY",
			"IntegrationHttpMethod", "POST",
			"Uri", subOrString(g.arn.IntegrationURI()),
		),
	), "DependsOn", []any{LogicalFunction})
	g.methods = append(g.methods, LogicalPostMethod)
}

// corsMethod is the OPTIONS preflight setup --cors creates
// (provision.CORSMethod): no authorization, a MOCK integration whose
// response sets the Access-Control-Allow-* headers. None without origins.
func (g *cfn) corsMethod() {
	m, ok := provision.CORSMethod(g.spec)
	if !ok {
		return
	}
	methodParams := &Obj{}
	for _, k := range sortedKeys(m.MethodResponseParameters) {
		methodParams.Set(k, m.MethodResponseParameters[k])
	}
	integParams := &Obj{}
	for _, k := range sortedKeys(m.IntegrationResponseParameters) {
		integParams.Set(k, m.IntegrationResponseParameters[k])
	}
	integResponse := obj("StatusCode", m.StatusCode, "ResponseParameters", integParams)
	if len(m.IntegrationResponseTemplates) > 0 {
		templates := &Obj{}
		for _, k := range sortedKeys(m.IntegrationResponseTemplates) {
			templates.Set(k, m.IntegrationResponseTemplates[k])
		}
		integResponse.Set("ResponseTemplates", templates)
	}
	requestTemplates := &Obj{}
	for _, k := range sortedKeys(m.RequestTemplates) {
		requestTemplates.Set(k, m.RequestTemplates[k])
	}
	g.add(LogicalCORSMethod, "AWS::ApiGateway::Method", obj(
		"RestApiId", ref(LogicalRestAPI),
		"ResourceId", ref(LogicalResource),
		"HttpMethod", m.HTTPMethod,
		"AuthorizationType", m.AuthorizationType,
		"ApiKeyRequired", m.APIKeyRequired,
		"Integration", obj(
			"Type", m.IntegrationType,
			"PassthroughBehavior", m.PassthroughBehavior,
			"RequestTemplates", requestTemplates,
			"IntegrationResponses", []any{integResponse},
		),
		"MethodResponses", []any{obj("StatusCode", m.StatusCode, "ResponseParameters", methodParams)},
	))
	g.methods = append(g.methods, LogicalCORSMethod)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (g *cfn) permission() {
	g.add(LogicalPermission, "AWS::Lambda::Permission", obj(
		"FunctionName", ref(LogicalFunction),
		"Action", provision.PermissionAction,
		"Principal", provision.PermissionPrincipal,
		"SourceArn", subOrString(g.arn.PermissionSourceARN("${"+LogicalRestAPI+"}")),
	))
}

func (g *cfn) deployment() {
	deps := make([]any, len(g.methods))
	for i, m := range g.methods {
		deps[i] = m
	}
	g.add(LogicalDeployment, "AWS::ApiGateway::Deployment", obj(
		"RestApiId", ref(LogicalRestAPI),
		"Description", g.spec.Description(provision.KindDeployment),
	), "DependsOn", deps)
}

func (g *cfn) stage() {
	t := provision.StageThrottle(g.spec)
	g.add(LogicalStage, "AWS::ApiGateway::Stage", obj(
		"RestApiId", ref(LogicalRestAPI),
		"StageName", g.spec.Stage,
		"DeploymentId", ref(LogicalDeployment),
		"MethodSettings", []any{obj(
			"ResourcePath", t.ResourcePath,
			"HttpMethod", t.HTTPMethod,
			"ThrottlingRateLimit", t.RateLimit,
			"ThrottlingBurstLimit", t.BurstLimit,
		)},
		"Tags", g.tags(),
	))
}

func (g *cfn) apiKeyAndPlan() {
	g.add(LogicalAPIKey, "AWS::ApiGateway::ApiKey", obj(
		"Name", g.spec.APIKeyName(),
		"Description", g.spec.Description(provision.KindAPIKey),
		"Enabled", true,
		"Tags", g.tags(),
	))
	g.add(LogicalUsagePlan, "AWS::ApiGateway::UsagePlan", obj(
		"UsagePlanName", g.spec.UsagePlanName(),
		"Description", g.spec.Description(provision.KindUsagePlan),
		"ApiStages", []any{obj("ApiId", ref(LogicalRestAPI), "Stage", ref(LogicalStage))},
		"Tags", g.tags(),
	))
	g.add(LogicalUsagePlanKey, "AWS::ApiGateway::UsagePlanKey", obj(
		"KeyId", ref(LogicalAPIKey),
		"KeyType", "API_KEY",
		"UsagePlanId", ref(LogicalUsagePlan),
	))
}

func (g *cfn) outputs() *Obj {
	out := obj(
		"InvokeUrl", obj(
			"Description", "POST tutorial-format requests here (ddbops call --url URL ...)",
			"Value", sub(fmt.Sprintf("https://${%s}.execute-api.${AWS::Region}.${AWS::URLSuffix}/%s/%s", LogicalRestAPI, g.spec.Stage, g.spec.Resource)),
		),
		"RestApiId", obj("Description", "REST API id", "Value", ref(LogicalRestAPI)),
		"Auth", obj("Description", "auth mode of the POST method", "Value", g.spec.Auth),
		"FunctionName", obj("Description", "Lambda function", "Value", ref(LogicalFunction)),
		"TableName", obj("Description", "DynamoDB table", "Value", ref(LogicalTable)),
	)
	if g.spec.Auth == wire.AuthAPIKey {
		out.Set("ApiKeyId", obj(
			"Description", "API key id: aws apigateway get-api-key --api-key ID --include-value prints the key",
			"Value", ref(LogicalAPIKey),
		))
	}
	return out
}
