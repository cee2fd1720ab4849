package provision

// The small SDK interfaces provision consumes (STYLE.md): exactly the calls
// it makes, with the SDK v2 signatures, so the real clients satisfy them and
// tests use hand-written fakes.

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAMAPI is the IAM calls of provisioning and teardown.
type IAMAPI interface {
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListPolicyVersions(ctx context.Context, in *iam.ListPolicyVersionsInput, optFns ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(ctx context.Context, in *iam.DeletePolicyInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
}

// LambdaAPI is the Lambda calls; GetFunction also feeds the SDK waiters.
type LambdaAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, optFns ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, optFns ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// DynamoDBAPI is the DynamoDB control-plane calls; DescribeTable also
// feeds the SDK waiters.
type DynamoDBAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// LogsAPI is the CloudWatch Logs calls for the function's log group.
type LogsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	DeleteRetentionPolicy(ctx context.Context, in *cloudwatchlogs.DeleteRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteRetentionPolicyOutput, error)
	ListTagsForResource(ctx context.Context, in *cloudwatchlogs.ListTagsForResourceInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	DeleteLogGroup(ctx context.Context, in *cloudwatchlogs.DeleteLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// APIGatewayAPI is the API Gateway (REST API v1) calls.
type APIGatewayAPI interface {
	GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, optFns ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)
	CreateRestApi(ctx context.Context, in *apigateway.CreateRestApiInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateRestApiOutput, error)
	DeleteRestApi(ctx context.Context, in *apigateway.DeleteRestApiInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteRestApiOutput, error)
	GetResources(ctx context.Context, in *apigateway.GetResourcesInput, optFns ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error)
	CreateResource(ctx context.Context, in *apigateway.CreateResourceInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateResourceOutput, error)
	GetMethod(ctx context.Context, in *apigateway.GetMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.GetMethodOutput, error)
	PutMethod(ctx context.Context, in *apigateway.PutMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error)
	DeleteMethod(ctx context.Context, in *apigateway.DeleteMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteMethodOutput, error)
	GetIntegration(ctx context.Context, in *apigateway.GetIntegrationInput, optFns ...func(*apigateway.Options)) (*apigateway.GetIntegrationOutput, error)
	PutIntegration(ctx context.Context, in *apigateway.PutIntegrationInput, optFns ...func(*apigateway.Options)) (*apigateway.PutIntegrationOutput, error)
	PutMethodResponse(ctx context.Context, in *apigateway.PutMethodResponseInput, optFns ...func(*apigateway.Options)) (*apigateway.PutMethodResponseOutput, error)
	PutIntegrationResponse(ctx context.Context, in *apigateway.PutIntegrationResponseInput, optFns ...func(*apigateway.Options)) (*apigateway.PutIntegrationResponseOutput, error)
	GetStage(ctx context.Context, in *apigateway.GetStageInput, optFns ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error)
	CreateDeployment(ctx context.Context, in *apigateway.CreateDeploymentInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateDeploymentOutput, error)
	UpdateStage(ctx context.Context, in *apigateway.UpdateStageInput, optFns ...func(*apigateway.Options)) (*apigateway.UpdateStageOutput, error)
	GetApiKeys(ctx context.Context, in *apigateway.GetApiKeysInput, optFns ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error)
	CreateApiKey(ctx context.Context, in *apigateway.CreateApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateApiKeyOutput, error)
	DeleteApiKey(ctx context.Context, in *apigateway.DeleteApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteApiKeyOutput, error)
	GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
	GetUsagePlan(ctx context.Context, in *apigateway.GetUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlanOutput, error)
	CreateUsagePlan(ctx context.Context, in *apigateway.CreateUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error)
	UpdateUsagePlan(ctx context.Context, in *apigateway.UpdateUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error)
	DeleteUsagePlan(ctx context.Context, in *apigateway.DeleteUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error)
	GetUsagePlanKeys(ctx context.Context, in *apigateway.GetUsagePlanKeysInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error)
	CreateUsagePlanKey(ctx context.Context, in *apigateway.CreateUsagePlanKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error)
}

// STSAPI tells who the caller is.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// throttledAPIGateway retries every API Gateway call answered with
// TooManyRequestsException (see throttle).
type throttledAPIGateway struct {
	api APIGatewayAPI
	t   *throttle
}

func (c throttledAPIGateway) GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, optFns ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	return throttled(ctx, c.t, "GetRestApis", func() (*apigateway.GetRestApisOutput, error) { return c.api.GetRestApis(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateRestApi(ctx context.Context, in *apigateway.CreateRestApiInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateRestApiOutput, error) {
	return throttled(ctx, c.t, "CreateRestApi", func() (*apigateway.CreateRestApiOutput, error) { return c.api.CreateRestApi(ctx, in, optFns...) })
}

func (c throttledAPIGateway) DeleteRestApi(ctx context.Context, in *apigateway.DeleteRestApiInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteRestApiOutput, error) {
	return throttled(ctx, c.t, "DeleteRestApi", func() (*apigateway.DeleteRestApiOutput, error) { return c.api.DeleteRestApi(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetResources(ctx context.Context, in *apigateway.GetResourcesInput, optFns ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error) {
	return throttled(ctx, c.t, "GetResources", func() (*apigateway.GetResourcesOutput, error) { return c.api.GetResources(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateResource(ctx context.Context, in *apigateway.CreateResourceInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateResourceOutput, error) {
	return throttled(ctx, c.t, "CreateResource", func() (*apigateway.CreateResourceOutput, error) { return c.api.CreateResource(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetMethod(ctx context.Context, in *apigateway.GetMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.GetMethodOutput, error) {
	return throttled(ctx, c.t, "GetMethod", func() (*apigateway.GetMethodOutput, error) { return c.api.GetMethod(ctx, in, optFns...) })
}

func (c throttledAPIGateway) PutMethod(ctx context.Context, in *apigateway.PutMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error) {
	return throttled(ctx, c.t, "PutMethod", func() (*apigateway.PutMethodOutput, error) { return c.api.PutMethod(ctx, in, optFns...) })
}

func (c throttledAPIGateway) DeleteMethod(ctx context.Context, in *apigateway.DeleteMethodInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteMethodOutput, error) {
	return throttled(ctx, c.t, "DeleteMethod", func() (*apigateway.DeleteMethodOutput, error) { return c.api.DeleteMethod(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetIntegration(ctx context.Context, in *apigateway.GetIntegrationInput, optFns ...func(*apigateway.Options)) (*apigateway.GetIntegrationOutput, error) {
	return throttled(ctx, c.t, "GetIntegration", func() (*apigateway.GetIntegrationOutput, error) { return c.api.GetIntegration(ctx, in, optFns...) })
}

func (c throttledAPIGateway) PutIntegration(ctx context.Context, in *apigateway.PutIntegrationInput, optFns ...func(*apigateway.Options)) (*apigateway.PutIntegrationOutput, error) {
	return throttled(ctx, c.t, "PutIntegration", func() (*apigateway.PutIntegrationOutput, error) { return c.api.PutIntegration(ctx, in, optFns...) })
}

func (c throttledAPIGateway) PutMethodResponse(ctx context.Context, in *apigateway.PutMethodResponseInput, optFns ...func(*apigateway.Options)) (*apigateway.PutMethodResponseOutput, error) {
	return throttled(ctx, c.t, "PutMethodResponse", func() (*apigateway.PutMethodResponseOutput, error) {
		return c.api.PutMethodResponse(ctx, in, optFns...)
	})
}

func (c throttledAPIGateway) PutIntegrationResponse(ctx context.Context, in *apigateway.PutIntegrationResponseInput, optFns ...func(*apigateway.Options)) (*apigateway.PutIntegrationResponseOutput, error) {
	return throttled(ctx, c.t, "PutIntegrationResponse", func() (*apigateway.PutIntegrationResponseOutput, error) {
		return c.api.PutIntegrationResponse(ctx, in, optFns...)
	})
}

func (c throttledAPIGateway) GetStage(ctx context.Context, in *apigateway.GetStageInput, optFns ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error) {
	return throttled(ctx, c.t, "GetStage", func() (*apigateway.GetStageOutput, error) { return c.api.GetStage(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateDeployment(ctx context.Context, in *apigateway.CreateDeploymentInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateDeploymentOutput, error) {
	return throttled(ctx, c.t, "CreateDeployment", func() (*apigateway.CreateDeploymentOutput, error) { return c.api.CreateDeployment(ctx, in, optFns...) })
}

func (c throttledAPIGateway) UpdateStage(ctx context.Context, in *apigateway.UpdateStageInput, optFns ...func(*apigateway.Options)) (*apigateway.UpdateStageOutput, error) {
	return throttled(ctx, c.t, "UpdateStage", func() (*apigateway.UpdateStageOutput, error) { return c.api.UpdateStage(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetApiKeys(ctx context.Context, in *apigateway.GetApiKeysInput, optFns ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error) {
	return throttled(ctx, c.t, "GetApiKeys", func() (*apigateway.GetApiKeysOutput, error) { return c.api.GetApiKeys(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateApiKey(ctx context.Context, in *apigateway.CreateApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateApiKeyOutput, error) {
	return throttled(ctx, c.t, "CreateApiKey", func() (*apigateway.CreateApiKeyOutput, error) { return c.api.CreateApiKey(ctx, in, optFns...) })
}

func (c throttledAPIGateway) DeleteApiKey(ctx context.Context, in *apigateway.DeleteApiKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteApiKeyOutput, error) {
	return throttled(ctx, c.t, "DeleteApiKey", func() (*apigateway.DeleteApiKeyOutput, error) { return c.api.DeleteApiKey(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error) {
	return throttled(ctx, c.t, "GetUsagePlans", func() (*apigateway.GetUsagePlansOutput, error) { return c.api.GetUsagePlans(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetUsagePlan(ctx context.Context, in *apigateway.GetUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlanOutput, error) {
	return throttled(ctx, c.t, "GetUsagePlan", func() (*apigateway.GetUsagePlanOutput, error) { return c.api.GetUsagePlan(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateUsagePlan(ctx context.Context, in *apigateway.CreateUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error) {
	return throttled(ctx, c.t, "CreateUsagePlan", func() (*apigateway.CreateUsagePlanOutput, error) { return c.api.CreateUsagePlan(ctx, in, optFns...) })
}

func (c throttledAPIGateway) UpdateUsagePlan(ctx context.Context, in *apigateway.UpdateUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error) {
	return throttled(ctx, c.t, "UpdateUsagePlan", func() (*apigateway.UpdateUsagePlanOutput, error) { return c.api.UpdateUsagePlan(ctx, in, optFns...) })
}

func (c throttledAPIGateway) DeleteUsagePlan(ctx context.Context, in *apigateway.DeleteUsagePlanInput, optFns ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error) {
	return throttled(ctx, c.t, "DeleteUsagePlan", func() (*apigateway.DeleteUsagePlanOutput, error) { return c.api.DeleteUsagePlan(ctx, in, optFns...) })
}

func (c throttledAPIGateway) GetUsagePlanKeys(ctx context.Context, in *apigateway.GetUsagePlanKeysInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error) {
	return throttled(ctx, c.t, "GetUsagePlanKeys", func() (*apigateway.GetUsagePlanKeysOutput, error) { return c.api.GetUsagePlanKeys(ctx, in, optFns...) })
}

func (c throttledAPIGateway) CreateUsagePlanKey(ctx context.Context, in *apigateway.CreateUsagePlanKeyInput, optFns ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error) {
	return throttled(ctx, c.t, "CreateUsagePlanKey", func() (*apigateway.CreateUsagePlanKeyOutput, error) {
		return c.api.CreateUsagePlanKey(ctx, in, optFns...)
	})
}
