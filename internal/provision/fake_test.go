package provision

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// fakeAWS is an in-memory account holding the resources ddbops manages,
// with AWS's error types and rules (unique names where AWS has them,
// duplicate REST API names allowed, IAM's five policy versions, ...). Every
// call is recorded; fail, when set, can fail any call before it happens.
type fakeAWS struct {
	mu   sync.Mutex
	rec  *Recorder
	fail func(service, op string) error

	account string
	seq     int

	tables    map[string]*fakeTable
	policies  map[string]*fakePolicy // by ARN
	roles     map[string]*fakeRole
	logGroups map[string]*fakeLogGroup
	functions map[string]*fakeFunction
	apis      map[string]*fakeAPI
	keys      map[string]*fakeKey
	plans     map[string]*fakePlan
	backups   []string
	events    []logtypes.FilteredLogEvent
	// resetStageOnDeploy mimics moto, which drops a stage's settings when
	// a new deployment is made (AWS keeps them).
	resetStageOnDeploy bool
}

type fakeTable struct {
	desc  ddbtypes.TableDescription
	tags  map[string]string
	items int
}

type fakePolicy struct {
	name     string
	tags     map[string]string
	versions []iamtypes.PolicyVersion
	def      string
	next     int
}

type fakeRole struct {
	arn      string
	trust    string
	tags     map[string]string
	attached []string
	inline   []string
}

type fakeLogGroup struct {
	retention int32
	tags      map[string]string
}

type fakeFunction struct {
	cfg   lambdatypes.FunctionConfiguration
	tags  map[string]string
	perms map[string]string // statement id → source ARN
}

type fakeAPI struct {
	name      string
	tags      map[string]string
	rootID    string
	resources map[string]*fakeResource
	stages    map[string]*agtypes.MethodSetting // nil setting = stage without throttling
	stageDep  map[string]string
	deploys   int
}

type fakeResource struct {
	path, parent string
	methods      map[string]*agtypes.Method
}

type fakeKey struct {
	name string
	tags map[string]string
}

type fakePlan struct {
	name   string
	tags   map[string]string
	stages []agtypes.ApiStage
	keys   []string
}

func newFakeAWS() *fakeAWS {
	return &fakeAWS{
		rec: &Recorder{}, account: "123456789012",
		tables: map[string]*fakeTable{}, policies: map[string]*fakePolicy{}, roles: map[string]*fakeRole{},
		logGroups: map[string]*fakeLogGroup{}, functions: map[string]*fakeFunction{}, apis: map[string]*fakeAPI{},
		keys: map[string]*fakeKey{}, plans: map[string]*fakePlan{},
	}
}

func (f *fakeAWS) clients() Clients {
	return Clients{IAM: fakeIAM{f}, Lambda: fakeLambda{f}, DynamoDB: fakeDDB{f}, Logs: fakeLogs{f}, APIGateway: fakeAPIGW{f}, STS: fakeSTS{f}}
}

// call records the operation and applies the injected failure, then locks.
func (f *fakeAWS) call(service, op string) (unlock func(), err error) {
	f.rec.Record(service, op)
	if f.fail != nil {
		if err := f.fail(service, op); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	return f.mu.Unlock, nil
}

func (f *fakeAWS) id(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%04d", prefix, f.seq)
}

func msg(s string) *string { return aws.String(s) }

// ---- STS

type fakeSTS struct{ f *fakeAWS }

func (s fakeSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	unlock, err := s.f.call("STS", "GetCallerIdentity")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return &sts.GetCallerIdentityOutput{Account: aws.String(s.f.account), Arn: aws.String("arn:aws:iam::" + s.f.account + ":user/tester")}, nil
}

// ---- DynamoDB

type fakeDDB struct{ f *fakeAWS }

func ddbTags(tags []ddbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (d fakeDDB) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	unlock, err := d.f.call("DynamoDB", "DescribeTable")
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, ok := d.f.tables[aws.ToString(in.TableName)]
	if !ok {
		return nil, &ddbtypes.ResourceNotFoundException{Message: msg("Requested resource not found")}
	}
	desc := t.desc
	return &dynamodb.DescribeTableOutput{Table: &desc}, nil
}

func (d fakeDDB) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	unlock, err := d.f.call("DynamoDB", "CreateTable")
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := aws.ToString(in.TableName)
	if _, ok := d.f.tables[name]; ok {
		return nil, &ddbtypes.ResourceInUseException{Message: msg("Table already exists: " + name)}
	}
	t := &fakeTable{tags: ddbTags(in.Tags), desc: ddbtypes.TableDescription{
		TableName: aws.String(name), TableArn: aws.String("arn:aws:dynamodb:us-east-1:" + d.f.account + ":table/" + name),
		TableStatus: ddbtypes.TableStatusActive, KeySchema: in.KeySchema, AttributeDefinitions: in.AttributeDefinitions,
		BillingModeSummary: &ddbtypes.BillingModeSummary{BillingMode: in.BillingMode},
	}}
	d.f.tables[name] = t
	desc := t.desc
	return &dynamodb.CreateTableOutput{TableDescription: &desc}, nil
}

func (d fakeDDB) UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	unlock, err := d.f.call("DynamoDB", "UpdateTable")
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, ok := d.f.tables[aws.ToString(in.TableName)]
	if !ok {
		return nil, &ddbtypes.ResourceNotFoundException{Message: msg("Requested resource not found")}
	}
	t.desc.BillingModeSummary = &ddbtypes.BillingModeSummary{BillingMode: in.BillingMode}
	desc := t.desc
	return &dynamodb.UpdateTableOutput{TableDescription: &desc}, nil
}

func (d fakeDDB) ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	unlock, err := d.f.call("DynamoDB", "ListTagsOfResource")
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, t := range d.f.tables {
		if aws.ToString(t.desc.TableArn) == aws.ToString(in.ResourceArn) {
			out := &dynamodb.ListTagsOfResourceOutput{}
			for k, v := range t.tags {
				out.Tags = append(out.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			return out, nil
		}
	}
	return nil, &ddbtypes.ResourceNotFoundException{Message: msg("Requested resource not found")}
}

func (d fakeDDB) Scan(ctx context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	unlock, err := d.f.call("DynamoDB", "Scan")
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, ok := d.f.tables[aws.ToString(in.TableName)]
	if !ok {
		return nil, &ddbtypes.ResourceNotFoundException{Message: msg("Requested resource not found")}
	}
	return &dynamodb.ScanOutput{Count: int32(min(t.items, int(aws.ToInt32(in.Limit))))}, nil
}

func (d fakeDDB) CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	unlock, err := d.f.call("DynamoDB", "CreateBackup")
	if err != nil {
		return nil, err
	}
	defer unlock()
	arn := "arn:aws:dynamodb:us-east-1:" + d.f.account + ":table/" + aws.ToString(in.TableName) + "/backup/" + d.f.id("b")
	d.f.backups = append(d.f.backups, arn)
	return &dynamodb.CreateBackupOutput{BackupDetails: &ddbtypes.BackupDetails{BackupArn: aws.String(arn), BackupName: in.BackupName, BackupStatus: ddbtypes.BackupStatusCreating}}, nil
}

func (d fakeDDB) DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error) {
	unlock, err := d.f.call("DynamoDB", "DescribeBackup")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return &dynamodb.DescribeBackupOutput{BackupDescription: &ddbtypes.BackupDescription{BackupDetails: &ddbtypes.BackupDetails{
		BackupArn: in.BackupArn, BackupStatus: ddbtypes.BackupStatusAvailable}}}, nil
}

func (d fakeDDB) DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	unlock, err := d.f.call("DynamoDB", "DeleteTable")
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := aws.ToString(in.TableName)
	if _, ok := d.f.tables[name]; !ok {
		return nil, &ddbtypes.ResourceNotFoundException{Message: msg("Requested resource not found")}
	}
	delete(d.f.tables, name)
	return &dynamodb.DeleteTableOutput{}, nil
}

// ---- IAM

type fakeIAM struct{ f *fakeAWS }

func iamTagList(m map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for k, v := range m {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func noSuchEntity(what string) error {
	return &iamtypes.NoSuchEntityException{Message: msg(what + " not found")}
}

func (i fakeIAM) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	unlock, err := i.f.call("IAM", "GetPolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("Policy " + aws.ToString(in.PolicyArn))
	}
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{PolicyName: aws.String(p.name), Arn: in.PolicyArn, DefaultVersionId: aws.String(p.def), Tags: iamTagList(p.tags)}}, nil
}

func (i fakeIAM) CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, _ ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "CreatePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	arn := "arn:aws:iam::" + i.f.account + ":policy/" + aws.ToString(in.PolicyName)
	if _, ok := i.f.policies[arn]; ok {
		return nil, &iamtypes.EntityAlreadyExistsException{Message: msg("A policy called " + aws.ToString(in.PolicyName) + " already exists")}
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	p := &fakePolicy{name: aws.ToString(in.PolicyName), tags: tags, def: "v1", next: 2,
		versions: []iamtypes.PolicyVersion{{VersionId: aws.String("v1"), IsDefaultVersion: true, Document: aws.String(url.QueryEscape(aws.ToString(in.PolicyDocument))), CreateDate: aws.Time(time.Unix(1, 0))}}}
	i.f.policies[arn] = p
	return &iam.CreatePolicyOutput{Policy: &iamtypes.Policy{Arn: aws.String(arn), PolicyName: in.PolicyName, DefaultVersionId: aws.String("v1")}}, nil
}

func (i fakeIAM) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	unlock, err := i.f.call("IAM", "GetPolicyVersion")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("Policy")
	}
	for _, v := range p.versions {
		if aws.ToString(v.VersionId) == aws.ToString(in.VersionId) {
			v := v
			return &iam.GetPolicyVersionOutput{PolicyVersion: &v}, nil
		}
	}
	return nil, noSuchEntity("Policy version")
}

func (i fakeIAM) ListPolicyVersions(ctx context.Context, in *iam.ListPolicyVersionsInput, _ ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	unlock, err := i.f.call("IAM", "ListPolicyVersions")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("Policy")
	}
	return &iam.ListPolicyVersionsOutput{Versions: append([]iamtypes.PolicyVersion(nil), p.versions...)}, nil
}

func (i fakeIAM) CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	unlock, err := i.f.call("IAM", "CreatePolicyVersion")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("Policy")
	}
	if len(p.versions) >= maxPolicyVersions {
		return nil, &iamtypes.LimitExceededException{Message: msg("A managed policy can have up to 5 versions")}
	}
	id := fmt.Sprintf("v%d", p.next)
	p.next++
	for k := range p.versions {
		if in.SetAsDefault {
			p.versions[k].IsDefaultVersion = false
		}
	}
	v := iamtypes.PolicyVersion{VersionId: aws.String(id), IsDefaultVersion: in.SetAsDefault, Document: aws.String(url.QueryEscape(aws.ToString(in.PolicyDocument))), CreateDate: aws.Time(time.Unix(int64(p.next), 0))}
	p.versions = append(p.versions, v)
	if in.SetAsDefault {
		p.def = id
	}
	return &iam.CreatePolicyVersionOutput{PolicyVersion: &v}, nil
}

func (i fakeIAM) DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, _ ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	unlock, err := i.f.call("IAM", "DeletePolicyVersion")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := i.f.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("Policy")
	}
	for k, v := range p.versions {
		if aws.ToString(v.VersionId) == aws.ToString(in.VersionId) {
			if v.IsDefaultVersion {
				return nil, &iamtypes.DeleteConflictException{Message: msg("Cannot delete the default version")}
			}
			p.versions = append(p.versions[:k], p.versions[k+1:]...)
			return &iam.DeletePolicyVersionOutput{}, nil
		}
	}
	return nil, noSuchEntity("Policy version")
}

func (i fakeIAM) DeletePolicy(ctx context.Context, in *iam.DeletePolicyInput, _ ...func(*iam.Options)) (*iam.DeletePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "DeletePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	arn := aws.ToString(in.PolicyArn)
	p, ok := i.f.policies[arn]
	if !ok {
		return nil, noSuchEntity("Policy")
	}
	for _, r := range i.f.roles {
		for _, a := range r.attached {
			if a == arn {
				return nil, &iamtypes.DeleteConflictException{Message: msg("Cannot delete a policy attached to entities.")}
			}
		}
	}
	if len(p.versions) > 1 {
		return nil, &iamtypes.DeleteConflictException{Message: msg("This policy has more than one version.")}
	}
	delete(i.f.policies, arn)
	return &iam.DeletePolicyOutput{}, nil
}

func (i fakeIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	unlock, err := i.f.call("IAM", "GetRole")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName, Arn: aws.String(r.arn), AssumeRolePolicyDocument: aws.String(url.QueryEscape(r.trust)), Tags: iamTagList(r.tags)}}, nil
}

func (i fakeIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	unlock, err := i.f.call("IAM", "CreateRole")
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := aws.ToString(in.RoleName)
	if _, ok := i.f.roles[name]; ok {
		return nil, &iamtypes.EntityAlreadyExistsException{Message: msg("Role with name " + name + " already exists.")}
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	r := &fakeRole{arn: "arn:aws:iam::" + i.f.account + ":role/" + name, trust: aws.ToString(in.AssumeRolePolicyDocument), tags: tags}
	i.f.roles[name] = r
	return &iam.CreateRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName, Arn: aws.String(r.arn)}}, nil
}

func (i fakeIAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "UpdateAssumeRolePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	r.trust = aws.ToString(in.PolicyDocument)
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (i fakeIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	unlock, err := i.f.call("IAM", "ListAttachedRolePolicies")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	out := &iam.ListAttachedRolePoliciesOutput{}
	for _, a := range r.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(a[strings.LastIndex(a, "/")+1:])})
	}
	return out, nil
}

func (i fakeIAM) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "AttachRolePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	if _, ok := i.f.policies[aws.ToString(in.PolicyArn)]; !ok {
		return nil, noSuchEntity("Policy")
	}
	for _, a := range r.attached {
		if a == aws.ToString(in.PolicyArn) {
			return &iam.AttachRolePolicyOutput{}, nil
		}
	}
	r.attached = append(r.attached, aws.ToString(in.PolicyArn))
	return &iam.AttachRolePolicyOutput{}, nil
}

func (i fakeIAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "DetachRolePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	for k, a := range r.attached {
		if a == aws.ToString(in.PolicyArn) {
			r.attached = append(r.attached[:k], r.attached[k+1:]...)
			return &iam.DetachRolePolicyOutput{}, nil
		}
	}
	return nil, noSuchEntity("Policy attachment")
}

func (i fakeIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	unlock, err := i.f.call("IAM", "ListRolePolicies")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	return &iam.ListRolePoliciesOutput{PolicyNames: append([]string(nil), r.inline...)}, nil
}

func (i fakeIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	unlock, err := i.f.call("IAM", "DeleteRolePolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	for k, n := range r.inline {
		if n == aws.ToString(in.PolicyName) {
			r.inline = append(r.inline[:k], r.inline[k+1:]...)
			return &iam.DeleteRolePolicyOutput{}, nil
		}
	}
	return nil, noSuchEntity("Inline policy")
}

func (i fakeIAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	unlock, err := i.f.call("IAM", "DeleteRole")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, ok := i.f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, noSuchEntity("Role")
	}
	if len(r.attached) > 0 || len(r.inline) > 0 {
		return nil, &iamtypes.DeleteConflictException{Message: msg("Cannot delete entity, must detach all policies first.")}
	}
	delete(i.f.roles, aws.ToString(in.RoleName))
	return &iam.DeleteRoleOutput{}, nil
}

// ---- CloudWatch Logs

type fakeLogs struct{ f *fakeAWS }

func (l fakeLogs) DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "DescribeLogGroups")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	for name, g := range l.f.logGroups {
		if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) {
			lg := logtypes.LogGroup{LogGroupName: aws.String(name)}
			if g.retention > 0 {
				lg.RetentionInDays = aws.Int32(g.retention)
			}
			out.LogGroups = append(out.LogGroups, lg)
		}
	}
	return out, nil
}

func (l fakeLogs) CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "CreateLogGroup")
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := aws.ToString(in.LogGroupName)
	if _, ok := l.f.logGroups[name]; ok {
		return nil, &logtypes.ResourceAlreadyExistsException{Message: msg("The specified log group already exists")}
	}
	tags := map[string]string{}
	for k, v := range in.Tags {
		tags[k] = v
	}
	l.f.logGroups[name] = &fakeLogGroup{tags: tags}
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

func (l fakeLogs) group(name string) (*fakeLogGroup, error) {
	g, ok := l.f.logGroups[name]
	if !ok {
		return nil, &logtypes.ResourceNotFoundException{Message: msg("The specified log group does not exist.")}
	}
	return g, nil
}

func (l fakeLogs) PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "PutRetentionPolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	g, err := l.group(aws.ToString(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	g.retention = aws.ToInt32(in.RetentionInDays)
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
}

func (l fakeLogs) DeleteRetentionPolicy(ctx context.Context, in *cloudwatchlogs.DeleteRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteRetentionPolicyOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "DeleteRetentionPolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	g, err := l.group(aws.ToString(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	g.retention = 0
	return &cloudwatchlogs.DeleteRetentionPolicyOutput{}, nil
}

func (l fakeLogs) ListTagsForResource(ctx context.Context, in *cloudwatchlogs.ListTagsForResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "ListTagsForResource")
	if err != nil {
		return nil, err
	}
	defer unlock()
	arn := aws.ToString(in.ResourceArn)
	g, err := l.group(arn[strings.Index(arn, ":log-group:")+len(":log-group:"):])
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for k, v := range g.tags {
		tags[k] = v
	}
	return &cloudwatchlogs.ListTagsForResourceOutput{Tags: tags}, nil
}

func (l fakeLogs) DeleteLogGroup(ctx context.Context, in *cloudwatchlogs.DeleteLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "DeleteLogGroup")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := l.group(aws.ToString(in.LogGroupName)); err != nil {
		return nil, err
	}
	delete(l.f.logGroups, aws.ToString(in.LogGroupName))
	return &cloudwatchlogs.DeleteLogGroupOutput{}, nil
}

func (l fakeLogs) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	unlock, err := l.f.call("CloudWatch Logs", "FilterLogEvents")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := l.group(aws.ToString(in.LogGroupName)); err != nil {
		return nil, err
	}
	out := &cloudwatchlogs.FilterLogEventsOutput{}
	for _, e := range l.f.events {
		if aws.ToInt64(e.Timestamp) >= aws.ToInt64(in.StartTime) && strings.Contains(aws.ToString(e.Message), aws.ToString(in.FilterPattern)) {
			out.Events = append(out.Events, e)
		}
	}
	return out, nil
}

// ---- Lambda

type fakeLambda struct{ f *fakeAWS }

func lambdaNotFound(name string) error {
	return &lambdatypes.ResourceNotFoundException{Message: msg("Function not found: " + name)}
}

func (l fakeLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	unlock, err := l.f.call("Lambda", "GetFunction")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	cfg := fn.cfg
	tags := map[string]string{}
	for k, v := range fn.tags {
		tags[k] = v
	}
	return &lambda.GetFunctionOutput{Configuration: &cfg, Tags: tags}, nil
}

func (l fakeLambda) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, _ ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	unlock, err := l.f.call("Lambda", "CreateFunction")
	if err != nil {
		return nil, err
	}
	defer unlock()
	name := aws.ToString(in.FunctionName)
	if _, ok := l.f.functions[name]; ok {
		return nil, &lambdatypes.ResourceConflictException{Message: msg("Function already exist: " + name)}
	}
	roleName := aws.ToString(in.Role)[strings.LastIndex(aws.ToString(in.Role), "/")+1:]
	if _, ok := l.f.roles[roleName]; !ok {
		return nil, &lambdatypes.InvalidParameterValueException{Message: msg("The role defined for the function cannot be assumed by Lambda.")}
	}
	cfg := lambdatypes.FunctionConfiguration{
		FunctionName: in.FunctionName, FunctionArn: aws.String("arn:aws:lambda:us-east-1:" + l.f.account + ":function:" + name),
		Runtime: in.Runtime, Handler: in.Handler, Role: in.Role, MemorySize: in.MemorySize, Timeout: in.Timeout,
		Architectures: in.Architectures, CodeSha256: aws.String(CodeSha256(in.Code.ZipFile)),
		State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusSuccessful,
	}
	if in.Environment != nil {
		cfg.Environment = &lambdatypes.EnvironmentResponse{Variables: in.Environment.Variables}
	}
	l.f.functions[name] = &fakeFunction{cfg: cfg, tags: in.Tags, perms: map[string]string{}}
	return &lambda.CreateFunctionOutput{FunctionArn: cfg.FunctionArn, CodeSha256: cfg.CodeSha256}, nil
}

func (l fakeLambda) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	unlock, err := l.f.call("Lambda", "UpdateFunctionConfiguration")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	c := &fn.cfg
	c.Runtime, c.Handler, c.Role, c.MemorySize, c.Timeout = in.Runtime, in.Handler, in.Role, in.MemorySize, in.Timeout
	c.Environment = &lambdatypes.EnvironmentResponse{Variables: in.Environment.Variables}
	return &lambda.UpdateFunctionConfigurationOutput{FunctionArn: c.FunctionArn}, nil
}

func (l fakeLambda) UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	unlock, err := l.f.call("Lambda", "UpdateFunctionCode")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	fn.cfg.CodeSha256 = aws.String(CodeSha256(in.ZipFile))
	if len(in.Architectures) > 0 {
		fn.cfg.Architectures = in.Architectures
	}
	return &lambda.UpdateFunctionCodeOutput{CodeSha256: fn.cfg.CodeSha256}, nil
}

func (l fakeLambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	unlock, err := l.f.call("Lambda", "GetPolicy")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	if len(fn.perms) == 0 {
		return nil, &lambdatypes.ResourceNotFoundException{Message: msg("No policy is associated with the given resource.")}
	}
	var stmts []map[string]any
	for sid, src := range fn.perms {
		stmts = append(stmts, map[string]any{"Sid": sid, "Effect": "Allow", "Action": "lambda:InvokeFunction",
			"Principal": map[string]any{"Service": "apigateway.amazonaws.com"}, "Resource": aws.ToString(fn.cfg.FunctionArn),
			"Condition": map[string]any{"ArnLike": map[string]any{"AWS:SourceArn": src}}})
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": stmts})
	return &lambda.GetPolicyOutput{Policy: aws.String(string(b))}, nil
}

func (l fakeLambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, _ ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	unlock, err := l.f.call("Lambda", "AddPermission")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	if _, dup := fn.perms[aws.ToString(in.StatementId)]; dup {
		return nil, &lambdatypes.ResourceConflictException{Message: msg("The statement id provided already exists.")}
	}
	fn.perms[aws.ToString(in.StatementId)] = aws.ToString(in.SourceArn)
	return &lambda.AddPermissionOutput{}, nil
}

func (l fakeLambda) RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, _ ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	unlock, err := l.f.call("Lambda", "RemovePermission")
	if err != nil {
		return nil, err
	}
	defer unlock()
	fn, ok := l.f.functions[aws.ToString(in.FunctionName)]
	if !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	if _, ok := fn.perms[aws.ToString(in.StatementId)]; !ok {
		return nil, &lambdatypes.ResourceNotFoundException{Message: msg("Statement not found")}
	}
	delete(fn.perms, aws.ToString(in.StatementId))
	return &lambda.RemovePermissionOutput{}, nil
}

func (l fakeLambda) DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, _ ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	unlock, err := l.f.call("Lambda", "DeleteFunction")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, ok := l.f.functions[aws.ToString(in.FunctionName)]; !ok {
		return nil, lambdaNotFound(aws.ToString(in.FunctionName))
	}
	delete(l.f.functions, aws.ToString(in.FunctionName))
	return &lambda.DeleteFunctionOutput{}, nil
}

// ---- API Gateway

type fakeAPIGW struct{ f *fakeAWS }

func agNotFound(what string) error {
	return &agtypes.NotFoundException{Message: msg("Invalid " + what + " identifier specified")}
}

func (g fakeAPIGW) api(id *string) (*fakeAPI, error) {
	a, ok := g.f.apis[aws.ToString(id)]
	if !ok {
		return nil, agNotFound("API")
	}
	return a, nil
}

func (g fakeAPIGW) resource(apiID, resID *string) (*fakeResource, error) {
	a, err := g.api(apiID)
	if err != nil {
		return nil, err
	}
	r, ok := a.resources[aws.ToString(resID)]
	if !ok {
		return nil, agNotFound("Resource")
	}
	return r, nil
}

func copyTags(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (g fakeAPIGW) GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, _ ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetRestApis")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := &apigateway.GetRestApisOutput{}
	ids := make([]string, 0, len(g.f.apis))
	for id := range g.f.apis {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := g.f.apis[id]
		out.Items = append(out.Items, agtypes.RestApi{Id: aws.String(id), Name: aws.String(a.name), RootResourceId: aws.String(a.rootID), Tags: copyTags(a.tags)})
	}
	return out, nil
}

func (g fakeAPIGW) CreateRestApi(ctx context.Context, in *apigateway.CreateRestApiInput, _ ...func(*apigateway.Options)) (*apigateway.CreateRestApiOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateRestApi")
	if err != nil {
		return nil, err
	}
	defer unlock()
	id, root := g.f.id("api"), g.f.id("res")
	g.f.apis[id] = &fakeAPI{name: aws.ToString(in.Name), tags: copyTags(in.Tags), rootID: root,
		resources: map[string]*fakeResource{root: {path: "/", methods: map[string]*agtypes.Method{}}},
		stages:    map[string]*agtypes.MethodSetting{}, stageDep: map[string]string{}}
	return &apigateway.CreateRestApiOutput{Id: aws.String(id), RootResourceId: aws.String(root), Name: in.Name}, nil
}

func (g fakeAPIGW) DeleteRestApi(ctx context.Context, in *apigateway.DeleteRestApiInput, _ ...func(*apigateway.Options)) (*apigateway.DeleteRestApiOutput, error) {
	unlock, err := g.f.call("API Gateway", "DeleteRestApi")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := g.api(in.RestApiId); err != nil {
		return nil, err
	}
	delete(g.f.apis, aws.ToString(in.RestApiId))
	return &apigateway.DeleteRestApiOutput{}, nil
}

func (g fakeAPIGW) GetResources(ctx context.Context, in *apigateway.GetResourcesInput, _ ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetResources")
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := g.api(in.RestApiId)
	if err != nil {
		return nil, err
	}
	out := &apigateway.GetResourcesOutput{}
	for id, r := range a.resources {
		res := agtypes.Resource{Id: aws.String(id), Path: aws.String(r.path)}
		if len(in.Embed) > 0 {
			res.ResourceMethods = map[string]agtypes.Method{}
			for m, meth := range r.methods {
				res.ResourceMethods[m] = cloneMethod(meth)
			}
		}
		out.Items = append(out.Items, res)
	}
	return out, nil
}

func (g fakeAPIGW) CreateResource(ctx context.Context, in *apigateway.CreateResourceInput, _ ...func(*apigateway.Options)) (*apigateway.CreateResourceOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateResource")
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := g.api(in.RestApiId)
	if err != nil {
		return nil, err
	}
	parent, ok := a.resources[aws.ToString(in.ParentId)]
	if !ok {
		return nil, agNotFound("Resource")
	}
	path := strings.TrimRight(parent.path, "/") + "/" + aws.ToString(in.PathPart)
	for _, r := range a.resources {
		if r.path == path {
			return nil, &agtypes.ConflictException{Message: msg("Another resource with the same parent already has this name")}
		}
	}
	id := g.f.id("res")
	a.resources[id] = &fakeResource{path: path, parent: aws.ToString(in.ParentId), methods: map[string]*agtypes.Method{}}
	return &apigateway.CreateResourceOutput{Id: aws.String(id), Path: aws.String(path)}, nil
}

func (g fakeAPIGW) PutMethod(ctx context.Context, in *apigateway.PutMethodInput, _ ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error) {
	unlock, err := g.f.call("API Gateway", "PutMethod")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	if _, ok := r.methods[aws.ToString(in.HttpMethod)]; ok {
		return nil, &agtypes.ConflictException{Message: msg("Method already exists for this resource")}
	}
	r.methods[aws.ToString(in.HttpMethod)] = &agtypes.Method{HttpMethod: in.HttpMethod, AuthorizationType: in.AuthorizationType, ApiKeyRequired: aws.Bool(in.ApiKeyRequired)}
	return &apigateway.PutMethodOutput{}, nil
}

func (g fakeAPIGW) GetMethod(ctx context.Context, in *apigateway.GetMethodInput, _ ...func(*apigateway.Options)) (*apigateway.GetMethodOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetMethod")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[aws.ToString(in.HttpMethod)]
	if !ok {
		return nil, agNotFound("Method")
	}
	c := cloneMethod(m)
	return &apigateway.GetMethodOutput{HttpMethod: c.HttpMethod, AuthorizationType: c.AuthorizationType, ApiKeyRequired: c.ApiKeyRequired,
		MethodResponses: c.MethodResponses, MethodIntegration: c.MethodIntegration}, nil
}

// cloneMethod copies a method with its response maps, so callers never
// share the fake's.
func cloneMethod(m *agtypes.Method) agtypes.Method {
	c := *m
	if m.MethodResponses != nil {
		c.MethodResponses = map[string]agtypes.MethodResponse{}
		for k, mr := range m.MethodResponses {
			mr.ResponseParameters = maps.Clone(mr.ResponseParameters)
			c.MethodResponses[k] = mr
		}
	}
	if m.MethodIntegration != nil {
		in := *m.MethodIntegration
		in.RequestTemplates = maps.Clone(in.RequestTemplates)
		if in.IntegrationResponses != nil {
			in.IntegrationResponses = map[string]agtypes.IntegrationResponse{}
			for k, ir := range m.MethodIntegration.IntegrationResponses {
				ir.ResponseParameters, ir.ResponseTemplates = maps.Clone(ir.ResponseParameters), maps.Clone(ir.ResponseTemplates)
				in.IntegrationResponses[k] = ir
			}
		}
		c.MethodIntegration = &in
	}
	return c
}

// PutMethodResponse refuses a status code the method already has, as AWS
// does ("Response already exists for this resource").
func (g fakeAPIGW) PutMethodResponse(ctx context.Context, in *apigateway.PutMethodResponseInput, _ ...func(*apigateway.Options)) (*apigateway.PutMethodResponseOutput, error) {
	unlock, err := g.f.call("API Gateway", "PutMethodResponse")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[aws.ToString(in.HttpMethod)]
	if !ok {
		return nil, agNotFound("Method")
	}
	code := aws.ToString(in.StatusCode)
	if _, ok := m.MethodResponses[code]; ok {
		return nil, &agtypes.ConflictException{Message: msg("Response already exists for this resource")}
	}
	if m.MethodResponses == nil {
		m.MethodResponses = map[string]agtypes.MethodResponse{}
	}
	m.MethodResponses[code] = agtypes.MethodResponse{StatusCode: in.StatusCode, ResponseParameters: maps.Clone(in.ResponseParameters)}
	return &apigateway.PutMethodResponseOutput{StatusCode: in.StatusCode, ResponseParameters: in.ResponseParameters}, nil
}

// PutIntegrationResponse needs the integration and a method response of
// the same status code declaring every header it maps, as AWS does.
func (g fakeAPIGW) PutIntegrationResponse(ctx context.Context, in *apigateway.PutIntegrationResponseInput, _ ...func(*apigateway.Options)) (*apigateway.PutIntegrationResponseOutput, error) {
	unlock, err := g.f.call("API Gateway", "PutIntegrationResponse")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[aws.ToString(in.HttpMethod)]
	if !ok || m.MethodIntegration == nil {
		return nil, agNotFound("Integration")
	}
	code := aws.ToString(in.StatusCode)
	mr, ok := m.MethodResponses[code]
	if !ok {
		return nil, agNotFound("Invalid Response status code specified")
	}
	for k := range in.ResponseParameters {
		if _, ok := mr.ResponseParameters[k]; !ok {
			return nil, &agtypes.BadRequestException{Message: msg("Invalid mapping expression specified: " + k)}
		}
	}
	if m.MethodIntegration.IntegrationResponses == nil {
		m.MethodIntegration.IntegrationResponses = map[string]agtypes.IntegrationResponse{}
	}
	m.MethodIntegration.IntegrationResponses[code] = agtypes.IntegrationResponse{StatusCode: in.StatusCode, SelectionPattern: in.SelectionPattern,
		ResponseParameters: maps.Clone(in.ResponseParameters), ResponseTemplates: maps.Clone(in.ResponseTemplates)}
	return &apigateway.PutIntegrationResponseOutput{StatusCode: in.StatusCode}, nil
}

func (g fakeAPIGW) DeleteMethod(ctx context.Context, in *apigateway.DeleteMethodInput, _ ...func(*apigateway.Options)) (*apigateway.DeleteMethodOutput, error) {
	unlock, err := g.f.call("API Gateway", "DeleteMethod")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	if _, ok := r.methods[aws.ToString(in.HttpMethod)]; !ok {
		return nil, agNotFound("Method")
	}
	delete(r.methods, aws.ToString(in.HttpMethod))
	return &apigateway.DeleteMethodOutput{}, nil
}

func (g fakeAPIGW) GetIntegration(ctx context.Context, in *apigateway.GetIntegrationInput, _ ...func(*apigateway.Options)) (*apigateway.GetIntegrationOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetIntegration")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[aws.ToString(in.HttpMethod)]
	if !ok || m.MethodIntegration == nil {
		return nil, agNotFound("Integration")
	}
	return &apigateway.GetIntegrationOutput{Type: m.MethodIntegration.Type, HttpMethod: m.MethodIntegration.HttpMethod, Uri: m.MethodIntegration.Uri}, nil
}

func (g fakeAPIGW) PutIntegration(ctx context.Context, in *apigateway.PutIntegrationInput, _ ...func(*apigateway.Options)) (*apigateway.PutIntegrationOutput, error) {
	unlock, err := g.f.call("API Gateway", "PutIntegration")
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := g.resource(in.RestApiId, in.ResourceId)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[aws.ToString(in.HttpMethod)]
	if !ok {
		return nil, agNotFound("Method")
	}
	// A put replaces the integration, its responses with it.
	m.MethodIntegration = &agtypes.Integration{Type: in.Type, HttpMethod: in.IntegrationHttpMethod, Uri: in.Uri,
		RequestTemplates: maps.Clone(in.RequestTemplates), PassthroughBehavior: in.PassthroughBehavior}
	return &apigateway.PutIntegrationOutput{}, nil
}

func (g fakeAPIGW) GetStage(ctx context.Context, in *apigateway.GetStageInput, _ ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetStage")
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := g.api(in.RestApiId)
	if err != nil {
		return nil, err
	}
	ms, ok := a.stages[aws.ToString(in.StageName)]
	if !ok {
		return nil, agNotFound("stage")
	}
	out := &apigateway.GetStageOutput{StageName: in.StageName, DeploymentId: aws.String(a.stageDep[aws.ToString(in.StageName)]), MethodSettings: map[string]agtypes.MethodSetting{}}
	if ms != nil {
		out.MethodSettings["*/*"] = *ms
	}
	return out, nil
}

func (g fakeAPIGW) CreateDeployment(ctx context.Context, in *apigateway.CreateDeploymentInput, _ ...func(*apigateway.Options)) (*apigateway.CreateDeploymentOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateDeployment")
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := g.api(in.RestApiId)
	if err != nil {
		return nil, err
	}
	for _, r := range a.resources {
		for _, m := range r.methods {
			if m.MethodIntegration == nil {
				return nil, &agtypes.BadRequestException{Message: msg("No integration defined for method")}
			}
		}
	}
	id := g.f.id("dep")
	a.deploys++
	st := aws.ToString(in.StageName)
	if _, ok := a.stages[st]; !ok || g.f.resetStageOnDeploy {
		a.stages[st] = nil
	}
	a.stageDep[st] = id
	return &apigateway.CreateDeploymentOutput{Id: aws.String(id)}, nil
}

func (g fakeAPIGW) UpdateStage(ctx context.Context, in *apigateway.UpdateStageInput, _ ...func(*apigateway.Options)) (*apigateway.UpdateStageOutput, error) {
	unlock, err := g.f.call("API Gateway", "UpdateStage")
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, err := g.api(in.RestApiId)
	if err != nil {
		return nil, err
	}
	st := aws.ToString(in.StageName)
	ms, ok := a.stages[st]
	if !ok {
		return nil, agNotFound("stage")
	}
	if ms == nil {
		ms = &agtypes.MethodSetting{}
		a.stages[st] = ms
	}
	for _, op := range in.PatchOperations {
		switch aws.ToString(op.Path) {
		case "/*/*/throttling/rateLimit":
			fmt.Sscan(aws.ToString(op.Value), &ms.ThrottlingRateLimit)
		case "/*/*/throttling/burstLimit":
			fmt.Sscan(aws.ToString(op.Value), &ms.ThrottlingBurstLimit)
		default:
			return nil, &agtypes.BadRequestException{Message: msg("unsupported patch path " + aws.ToString(op.Path))}
		}
	}
	return &apigateway.UpdateStageOutput{}, nil
}

func (g fakeAPIGW) GetApiKeys(ctx context.Context, in *apigateway.GetApiKeysInput, _ ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetApiKeys")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := &apigateway.GetApiKeysOutput{}
	for id, k := range g.f.keys {
		if strings.HasPrefix(k.name, aws.ToString(in.NameQuery)) {
			out.Items = append(out.Items, agtypes.ApiKey{Id: aws.String(id), Name: aws.String(k.name), Tags: copyTags(k.tags)})
		}
	}
	return out, nil
}

func (g fakeAPIGW) CreateApiKey(ctx context.Context, in *apigateway.CreateApiKeyInput, _ ...func(*apigateway.Options)) (*apigateway.CreateApiKeyOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateApiKey")
	if err != nil {
		return nil, err
	}
	defer unlock()
	id := g.f.id("key")
	g.f.keys[id] = &fakeKey{name: aws.ToString(in.Name), tags: copyTags(in.Tags)}
	return &apigateway.CreateApiKeyOutput{Id: aws.String(id), Name: in.Name, Value: aws.String("secret-" + id)}, nil
}

func (g fakeAPIGW) DeleteApiKey(ctx context.Context, in *apigateway.DeleteApiKeyInput, _ ...func(*apigateway.Options)) (*apigateway.DeleteApiKeyOutput, error) {
	unlock, err := g.f.call("API Gateway", "DeleteApiKey")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, ok := g.f.keys[aws.ToString(in.ApiKey)]; !ok {
		return nil, agNotFound("API Key")
	}
	delete(g.f.keys, aws.ToString(in.ApiKey))
	for _, p := range g.f.plans {
		for k, id := range p.keys {
			if id == aws.ToString(in.ApiKey) {
				p.keys = append(p.keys[:k], p.keys[k+1:]...)
				break
			}
		}
	}
	return &apigateway.DeleteApiKeyOutput{}, nil
}

func (g fakeAPIGW) GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetUsagePlans")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := &apigateway.GetUsagePlansOutput{}
	for id, p := range g.f.plans {
		out.Items = append(out.Items, agtypes.UsagePlan{Id: aws.String(id), Name: aws.String(p.name), Tags: copyTags(p.tags), ApiStages: append([]agtypes.ApiStage(nil), p.stages...)})
	}
	return out, nil
}

func (g fakeAPIGW) GetUsagePlan(ctx context.Context, in *apigateway.GetUsagePlanInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlanOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetUsagePlan")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := g.f.plans[aws.ToString(in.UsagePlanId)]
	if !ok {
		return nil, agNotFound("Usage Plan")
	}
	return &apigateway.GetUsagePlanOutput{Id: in.UsagePlanId, Name: aws.String(p.name), Tags: copyTags(p.tags), ApiStages: append([]agtypes.ApiStage(nil), p.stages...)}, nil
}

func (g fakeAPIGW) CreateUsagePlan(ctx context.Context, in *apigateway.CreateUsagePlanInput, _ ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateUsagePlan")
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, s := range in.ApiStages {
		a, err := g.api(s.ApiId)
		if err != nil {
			return nil, err
		}
		if _, ok := a.stages[aws.ToString(s.Stage)]; !ok {
			return nil, &agtypes.BadRequestException{Message: msg("API Stage not found")}
		}
	}
	id := g.f.id("plan")
	g.f.plans[id] = &fakePlan{name: aws.ToString(in.Name), tags: copyTags(in.Tags), stages: append([]agtypes.ApiStage(nil), in.ApiStages...)}
	return &apigateway.CreateUsagePlanOutput{Id: aws.String(id), ApiStages: in.ApiStages}, nil
}

func (g fakeAPIGW) UpdateUsagePlan(ctx context.Context, in *apigateway.UpdateUsagePlanInput, _ ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error) {
	unlock, err := g.f.call("API Gateway", "UpdateUsagePlan")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := g.f.plans[aws.ToString(in.UsagePlanId)]
	if !ok {
		return nil, agNotFound("Usage Plan")
	}
	// All operations apply, or none.
	stages := slices.Clone(p.stages)
	for _, op := range in.PatchOperations {
		api, stage, _ := strings.Cut(aws.ToString(op.Value), ":")
		switch op.Op {
		case agtypes.OpAdd:
			stages = append(stages, agtypes.ApiStage{ApiId: aws.String(api), Stage: aws.String(stage)})
		case agtypes.OpRemove:
			k := slices.IndexFunc(stages, func(s agtypes.ApiStage) bool {
				return aws.ToString(s.ApiId) == api && aws.ToString(s.Stage) == stage
			})
			if k < 0 {
				// AWS refuses to remove a stage the plan does not have.
				return nil, &agtypes.BadRequestException{Message: msg(fmt.Sprintf("Invalid API Stage {api: %s, stage: %s} specified for usageplan %s", api, stage, aws.ToString(in.UsagePlanId)))}
			}
			stages = slices.Delete(stages, k, k+1)
		}
	}
	p.stages = stages
	return &apigateway.UpdateUsagePlanOutput{}, nil
}

func (g fakeAPIGW) DeleteUsagePlan(ctx context.Context, in *apigateway.DeleteUsagePlanInput, _ ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error) {
	unlock, err := g.f.call("API Gateway", "DeleteUsagePlan")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := g.f.plans[aws.ToString(in.UsagePlanId)]
	if !ok {
		return nil, agNotFound("Usage Plan")
	}
	if len(p.stages) > 0 {
		return nil, &agtypes.BadRequestException{Message: msg("Cannot delete Usage Plan while it has API stages")}
	}
	delete(g.f.plans, aws.ToString(in.UsagePlanId))
	return &apigateway.DeleteUsagePlanOutput{}, nil
}

func (g fakeAPIGW) GetUsagePlanKeys(ctx context.Context, in *apigateway.GetUsagePlanKeysInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error) {
	unlock, err := g.f.call("API Gateway", "GetUsagePlanKeys")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := g.f.plans[aws.ToString(in.UsagePlanId)]
	if !ok {
		return nil, agNotFound("Usage Plan")
	}
	out := &apigateway.GetUsagePlanKeysOutput{}
	for _, k := range p.keys {
		out.Items = append(out.Items, agtypes.UsagePlanKey{Id: aws.String(k), Type: aws.String("API_KEY")})
	}
	return out, nil
}

func (g fakeAPIGW) CreateUsagePlanKey(ctx context.Context, in *apigateway.CreateUsagePlanKeyInput, _ ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error) {
	unlock, err := g.f.call("API Gateway", "CreateUsagePlanKey")
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, ok := g.f.plans[aws.ToString(in.UsagePlanId)]
	if !ok {
		return nil, agNotFound("Usage Plan")
	}
	for _, k := range p.keys {
		if k == aws.ToString(in.KeyId) {
			return nil, &agtypes.ConflictException{Message: msg("Usage Plan Key already exists")}
		}
	}
	p.keys = append(p.keys, aws.ToString(in.KeyId))
	return &apigateway.CreateUsagePlanKeyOutput{Id: in.KeyId}, nil
}

// ---- helpers for tests

// fakeClock advances only when something sleeps on it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// testZip is a minimal deployment package (fakes and moto store it; nothing
// runs it).
func testZip(t testing.TB, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// inventory summarises what the fake account holds, to compare worlds.
func (f *fakeAWS) inventory() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := map[string]int{
		"tables": len(f.tables), "policies": len(f.policies), "roles": len(f.roles), "logGroups": len(f.logGroups),
		"functions": len(f.functions), "apis": len(f.apis), "keys": len(f.keys), "plans": len(f.plans),
	}
	for _, a := range f.apis {
		inv["resources"] += len(a.resources)
		inv["stages"] += len(a.stages)
		for _, r := range a.resources {
			inv["methods"] += len(r.methods)
		}
	}
	for _, p := range f.policies {
		inv["policyVersions"] += len(p.versions)
	}
	for _, fn := range f.functions {
		inv["permissions"] += len(fn.perms)
	}
	return inv
}
