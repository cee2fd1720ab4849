package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
)

// provEnv drives the CLI (Execute, as main does) against an AWS endpoint
// with the AWS_* environment a user would have, and reads resources back
// with the SDK.
type provEnv struct {
	t        *testing.T
	endpoint string
	cfg      aws.Config
	config   string // --config file
	state    string // the stack's state file under the state-dir
	zip      string // --handler-zip
}

// newProvEnv isolates the AWS and ddbops configuration of the test process:
// fake credentials, us-east-1, no shared files, and a config file whose
// state-dir is a temporary directory. It uses t.Setenv, so tests
// using it do not run in parallel.
func newProvEnv(t *testing.T, endpoint string, cfg aws.Config) *provEnv {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": testenv.AccessKeyID, "AWS_SECRET_ACCESS_KEY": testenv.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": testenv.Region, "AWS_DEFAULT_REGION": testenv.Region, "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-aws-credentials"),
		"DDBOPS_STACK": "", "DDBOPS_AUTH": "", "DDBOPS_MEMORY": "", "DDBOPS_ARCH": "", "DDBOPS_OUTPUT": "",
	} {
		t.Setenv(k, v)
	}
	e := &provEnv{t: t, endpoint: endpoint, cfg: cfg, config: filepath.Join(dir, "ddbops.yaml"), state: filepath.Join(dir, "state", "stacks", "ddbops", "state.json"), zip: filepath.Join(dir, "bootstrap.zip")}
	if err := os.WriteFile(e.config, []byte("state-dir: "+filepath.Join(dir, "state")+"\niam-propagation-timeout: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.zip, provTestZip(t, "handler v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func provTestZip(t testing.TB, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// run executes ddbops with args and returns the exit code and output.
func (e *provEnv) run(args ...string) (int, string, string) {
	e.t.Helper()
	ios, out, errOut := testIO()
	full := append([]string{"--config", e.config, "--endpoint-url", e.endpoint}, args...)
	code := Execute(context.Background(), ios, full)
	return code, out.String(), errOut.String()
}

// runJSON runs with -o json and decodes the document into v.
func (e *provEnv) runJSON(v any, args ...string) (int, string) {
	e.t.Helper()
	code, out, errOut := e.run(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("ddbops %v: exit %d, stdout is not one JSON document: %v\nstdout: %s\nstderr: %s", args, code, err, out, errOut)
	}
	return code, errOut
}

func tagsOf(t *testing.T, m map[string]string) string { return m[provision.TagKey] }

func TestProvisionLifecycleOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	// Every call also goes through a recording proxy, an independent count
	// of what reached the wire next to ddbops' own middleware.
	proxy := testenv.NewFaultProxy(t, m.URL)
	e := newProvEnv(t, proxy.URL, m.AWSConfig(t))
	ctx := context.Background()
	iamc, lam, ddb := iam.NewFromConfig(e.cfg), lambda.NewFromConfig(e.cfg), dynamodb.NewFromConfig(e.cfg)
	logs, agw := cloudwatchlogs.NewFromConfig(e.cfg), apigateway.NewFromConfig(e.cfg)

	// 1. Setup from nothing.
	var res provision.Report
	start := time.Now()
	code, stderr := e.runJSON(&res, "setup", "--handler-zip", e.zip)
	setupWall := time.Since(start)
	if code != 0 || res.Error != "" {
		t.Fatalf("setup: exit %d, %s\n%s", code, res.Error, stderr)
	}
	for _, c := range res.Changes {
		if c.Action != "created" {
			t.Errorf("setup: %s %s %s", c.Resource, c.Name, c.Action)
		}
	}
	if len(res.Changes) != 12 || res.APICalls.Mutating == 0 {
		t.Errorf("setup changes %d, calls %+v", len(res.Changes), res.APICalls)
	}
	t.Logf("moto: setup took %s, %d AWS calls (%d mutating)", setupWall.Round(time.Millisecond), res.APICalls.Total, res.APICalls.Mutating)

	// 2. Read everything back and check it against docs/provisioning.md.
	const acct = "123456789012"
	tableARN := "arn:aws:dynamodb:us-east-1:" + acct + ":table/lambda-apigateway"
	logARN := "arn:aws:logs:us-east-1:" + acct + ":log-group:/aws/lambda/LambdaFunctionOverHttps"
	policyARN := "arn:aws:iam::" + acct + ":policy/lambda-apigateway-dynamodb-policy"

	pol, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(policyARN), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	doc := aws.ToString(pv.PolicyVersion.Document)
	if d, err := url.QueryUnescape(doc); err == nil && !strings.HasPrefix(doc, "{") {
		doc = d
	}
	checkPolicyDocument(t, doc, tableARN, logARN+":*")
	ptags, err := iamc.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: aws.String(policyARN)})
	if err != nil || len(ptags.Tags) != 1 || aws.ToString(ptags.Tags[0].Value) != "ddbops" {
		t.Errorf("policy tags %+v %v", ptags, err)
	}
	role, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("lambda-apigateway-role")})
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if !strings.Contains(trust, "lambda.amazonaws.com") || !strings.Contains(trust, "sts:AssumeRole") {
		t.Errorf("trust policy %s", trust)
	}
	if len(role.Role.Tags) != 1 || aws.ToString(role.Role.Tags[0].Value) != "ddbops" {
		t.Errorf("role tags %+v", role.Role.Tags)
	}
	att, err := iamc.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("lambda-apigateway-role")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != policyARN {
		t.Errorf("attached policies %+v %v", att, err)
	}
	lgs, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/LambdaFunctionOverHttps")})
	if err != nil || len(lgs.LogGroups) != 1 || aws.ToInt32(lgs.LogGroups[0].RetentionInDays) != 14 {
		t.Errorf("log groups %+v %v", lgs, err)
	}
	lgt, err := logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(logARN)})
	if err != nil || tagsOf(t, lgt.Tags) != "ddbops" {
		t.Errorf("log group tags %+v %v", lgt, err)
	}
	fn, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("LambdaFunctionOverHttps")})
	if err != nil {
		t.Fatal(err)
	}
	fc := fn.Configuration
	if fc.Runtime != "provided.al2023" || aws.ToString(fc.Handler) != "bootstrap" || aws.ToInt32(fc.MemorySize) != 128 || aws.ToInt32(fc.Timeout) != 10 ||
		string(fc.Architectures[0]) != "arm64" || fc.Environment.Variables["TABLE_NAME"] != "lambda-apigateway" || aws.ToString(fc.Role) != aws.ToString(role.Role.Arn) ||
		tagsOf(t, fn.Tags) != "ddbops" {
		t.Errorf("function %+v tags %v", fc, fn.Tags)
	}
	tbl, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-apigateway")})
	if err != nil {
		t.Fatal(err)
	}
	if k := tbl.Table.KeySchema; len(k) != 1 || aws.ToString(k[0].AttributeName) != "id" || tbl.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("table %+v", tbl.Table)
	}
	tt, err := ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(tableARN)})
	if err != nil || len(tt.Tags) != 1 || aws.ToString(tt.Tags[0].Value) != "ddbops" {
		t.Errorf("table tags %+v %v", tt, err)
	}
	apiID := checkAPI(t, agw, lam, "AWS_IAM", false)
	if want := e.endpoint + "/restapis/" + apiID + "/prod/_user_request_/DynamoDBManager"; res.InvokeURL != want {
		t.Errorf("invoke URL %s, want %s", res.InvokeURL, want)
	}
	st, err := provision.LoadState(e.state)
	if err != nil || st.InvokeURL != res.InvokeURL || st.Auth != "iam" || st.Region != "us-east-1" || st.FunctionName != "LambdaFunctionOverHttps" ||
		st.LogGroupName != "/aws/lambda/LambdaFunctionOverHttps" || st.EndpointURL != e.endpoint || st.RestAPIID != apiID {
		t.Errorf("state %+v, %v", st, err)
	}

	// 3. A re-run makes zero mutating calls, by ddbops' count and the wire's.
	seen := len(proxy.Calls())
	start = time.Now()
	code, stderr = e.runJSON(&res, "setup", "--handler-zip", e.zip)
	rerunWall := time.Since(start)
	if code != 0 || res.APICalls.Mutating != 0 {
		t.Fatalf("re-run: exit %d, calls %+v\n%s", code, res.APICalls, stderr)
	}
	wire := proxy.Calls()[seen:]
	for _, op := range wire {
		_, name, _ := strings.Cut(op, ":")
		if provision.IsMutating(name) {
			t.Errorf("re-run sent mutating call %s", op)
		}
	}
	if len(wire) != res.APICalls.Total {
		t.Errorf("middleware counted %d calls, the wire saw %d", res.APICalls.Total, len(wire))
	}
	t.Logf("moto: unchanged re-run took %s, %d AWS calls (%d mutating)", rerunWall.Round(time.Millisecond), res.APICalls.Total, res.APICalls.Mutating)

	// 4. Out-of-band drift is reported by status --exit-code and repaired.
	if _, err := lam.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("LambdaFunctionOverHttps"), MemorySize: aws.Int32(512)}); err != nil {
		t.Fatal(err)
	}
	var status provision.StatusDoc
	code, _ = e.runJSON(&status, "status", "--exit-code")
	if code != 1 || status.OK {
		t.Fatalf("status --exit-code on drift: exit %d ok %v", code, status.OK)
	}
	drift := ""
	for _, r := range status.Rows {
		if r.Status != provision.StatusExists {
			drift += fmt.Sprintf("%s %s %+v;", r.Kind, r.Status, r.Diffs)
		}
	}
	if drift != "function drifted [memory: 512 MB → 128 MB];" {
		t.Errorf("drift reported: %s", drift)
	}
	if status.APICalls.Mutating != 0 {
		t.Errorf("status made %d mutating calls", status.APICalls.Mutating)
	}
	code, stdout, stderr := e.run("status", "--exit-code")
	if code != 1 || !strings.Contains(stdout, "memory: 512 MB (want 128 MB)") || stderr != "" {
		t.Errorf("status text: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stderr = e.runJSON(&res, "setup", "--handler-zip", e.zip)
	if code != 0 || res.APICalls.Mutating != 1 {
		t.Fatalf("repair: exit %d calls %+v %s", code, res.APICalls, stderr)
	}
	if code, _ = e.runJSON(&status, "status", "--exit-code"); code != 0 || !status.OK {
		t.Fatalf("status after repair: exit %d %+v", code, status.Rows)
	}

	// 5. Teardown refuses a table with items; spares what it does not own.
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("lambda-apigateway"), Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("someone-elses-table"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	// REST API names are not unique, so a same-named untagged API (the
	// console tutorial's) can exist next to ours.
	foreignAPI, err := agw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("DynamoDBOperations")})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = e.run("teardown", "--yes")
	if code != 1 || !strings.Contains(stderr, "delete table lambda-apigateway: table still holds items") || !strings.Contains(stderr, "--delete-data") {
		t.Fatalf("teardown of a non-empty table: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("LambdaFunctionOverHttps")}); err != nil {
		t.Errorf("refused teardown deleted the function: %v", err)
	}
	code, _, stderr = e.run("teardown")
	if code != 2 || !strings.Contains(stderr, "--yes") {
		t.Errorf("teardown without --yes and without a TTY: exit %d %s", code, stderr)
	}
	start = time.Now()
	code, stderr = e.runJSON(&res, "teardown", "--yes", "--delete-data")
	teardownWall := time.Since(start)
	if code != 0 {
		t.Fatalf("teardown: exit %d %s %s", code, res.Error, stderr)
	}
	t.Logf("moto: teardown took %s, %d AWS calls (%d mutating)", teardownWall.Round(time.Millisecond), res.APICalls.Total, res.APICalls.Mutating)
	var deleted, kept []string
	for _, c := range res.Changes {
		switch c.Action {
		case "deleted":
			deleted = append(deleted, c.Resource)
		case "keep":
			kept = append(kept, c.Resource+" "+c.Note)
		}
	}
	if want := []string{"rest-api", "function", "log-group", "iam-role", "iam-policy", "table"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	if len(kept) != 1 || !strings.Contains(kept[0], aws.ToString(foreignAPI.Id)) {
		t.Errorf("kept %v", kept)
	}
	if _, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("someone-elses-table")}); err != nil {
		t.Errorf("foreign table deleted: %v", err)
	}
	if _, err := agw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: foreignAPI.Id}); err != nil {
		t.Errorf("foreign REST API deleted: %v", err)
	}
	if _, err := os.Stat(e.state); !os.IsNotExist(err) {
		t.Errorf("state file left: %v", err)
	}

	// 6. A second teardown finds nothing and exits 0; nothing of ours is left.
	code, stderr = e.runJSON(&res, "teardown", "--yes")
	if code != 0 || res.APICalls.Mutating != 0 {
		t.Fatalf("second teardown: exit %d %+v %s", code, res.APICalls, stderr)
	}
	if left := ownedLeft(t, e.cfg); len(left) != 0 {
		t.Errorf("resources left after teardown: %v", left)
	}
}

// checkPolicyDocument verifies the least-privilege policy of docs/provisioning.md.
func checkPolicyDocument(t *testing.T, doc, tableARN, logResource string) {
	t.Helper()
	var d struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("policy document %s: %v", doc, err)
	}
	grants := map[string]string{}
	for _, s := range d.Statement {
		res := fmt.Sprint(s.Resource)
		if strings.Contains(res, "*") && res != logResource && res != "["+logResource+"]" {
			t.Errorf("statement with a * resource: %+v", s)
		}
		for _, a := range s.Action {
			grants[a] = strings.Trim(res, "[]")
		}
	}
	want := map[string]string{
		"dynamodb:PutItem": tableARN, "dynamodb:GetItem": tableARN, "dynamodb:UpdateItem": tableARN, "dynamodb:DeleteItem": tableARN, "dynamodb:Scan": tableARN,
		"logs:CreateLogStream": logResource, "logs:PutLogEvents": logResource,
	}
	if fmt.Sprint(grants) != fmt.Sprint(want) {
		t.Errorf("policy grants %v\nwant %v", grants, want)
	}
}

// checkAPI verifies the REST API, its method, integration, permission and
// stage, and returns its id.
func checkAPI(t *testing.T, agw *apigateway.Client, lam *lambda.Client, authType string, apiKey bool) string {
	t.Helper()
	ctx := context.Background()
	apis, err := agw.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, a := range apis.Items {
		if aws.ToString(a.Name) == "DynamoDBOperations" && a.Tags[provision.TagKey] == "ddbops" {
			if id != "" {
				t.Errorf("two REST APIs of the stack")
			}
			id = aws.ToString(a.Id)
		}
	}
	if id == "" {
		t.Fatal("no tagged REST API")
	}
	rs, err := agw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var resID string
	for _, r := range rs.Items {
		if aws.ToString(r.Path) == "/DynamoDBManager" {
			resID = aws.ToString(r.Id)
		}
	}
	m, err := agw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(id), ResourceId: aws.String(resID), HttpMethod: aws.String("POST")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.AuthorizationType) != authType || aws.ToBool(m.ApiKeyRequired) != apiKey {
		t.Errorf("method authorization %s apiKeyRequired %v, want %s %v", aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired), authType, apiKey)
	}
	in, err := agw.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: aws.String(id), ResourceId: aws.String(resID), HttpMethod: aws.String("POST")})
	if err != nil {
		t.Fatal(err)
	}
	wantURI := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:LambdaFunctionOverHttps/invocations"
	if string(in.Type) != "AWS_PROXY" || aws.ToString(in.HttpMethod) != "POST" || aws.ToString(in.Uri) != wantURI {
		t.Errorf("integration %s %s %s", in.Type, aws.ToString(in.HttpMethod), aws.ToString(in.Uri))
	}
	pol, err := lam.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("LambdaFunctionOverHttps")})
	if err != nil {
		t.Fatal(err)
	}
	wantSource := "arn:aws:execute-api:us-east-1:123456789012:" + id + "/prod/POST/DynamoDBManager"
	if p := aws.ToString(pol.Policy); !strings.Contains(p, `"`+wantSource+`"`) || !strings.Contains(p, "apigateway.amazonaws.com") || strings.Count(p, provision.PermissionStatementID) != 1 {
		t.Errorf("function policy %s lacks source ARN %s", p, wantSource)
	}
	stage, err := agw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(id), StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if ms := stage.MethodSettings["*/*"]; ms.ThrottlingRateLimit != 100 || ms.ThrottlingBurstLimit != 200 {
		t.Errorf("stage throttling %+v", ms)
	}
	return id
}

// ownedLeft lists every resource named like the stack's or tagged with it.
func ownedLeft(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	ctx := context.Background()
	var left []string
	if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-apigateway")}); err == nil {
		left = append(left, "table")
	}
	if _, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("LambdaFunctionOverHttps")}); err == nil {
		left = append(left, "function")
	}
	if _, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("lambda-apigateway-role")}); err == nil {
		left = append(left, "role")
	}
	if _, err := iam.NewFromConfig(cfg).GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/lambda-apigateway-dynamodb-policy")}); err == nil {
		left = append(left, "policy")
	}
	if lg, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/LambdaFunctionOverHttps")}); err != nil || len(lg.LogGroups) > 0 {
		left = append(left, "log group")
	}
	agw := apigateway.NewFromConfig(cfg)
	if apis, err := agw.GetRestApis(ctx, &apigateway.GetRestApisInput{}); err == nil {
		for _, a := range apis.Items {
			if a.Tags[provision.TagKey] != "" {
				left = append(left, "rest api "+aws.ToString(a.Id))
			}
		}
	}
	if keys, err := agw.GetApiKeys(ctx, &apigateway.GetApiKeysInput{}); err == nil {
		for _, k := range keys.Items {
			if k.Tags[provision.TagKey] != "" {
				left = append(left, "api key "+aws.ToString(k.Id))
			}
		}
	}
	if plans, err := agw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{}); err == nil {
		for _, p := range plans.Items {
			if p.Tags[provision.TagKey] != "" {
				left = append(left, "usage plan "+aws.ToString(p.Id))
			}
		}
	}
	return left
}

func TestProvisionAuthModesOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	e := newProvEnv(t, m.URL, m.AWSConfig(t))
	ctx := context.Background()
	agw, lam := apigateway.NewFromConfig(e.cfg), lambda.NewFromConfig(e.cfg)
	cases := []struct {
		auth     string
		method   string
		apiKey   bool
		warnOpen bool
	}{
		{"iam", "AWS_IAM", false, false},
		{"apikey", "NONE", true, false},
		{"none", "NONE", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.auth, func(t *testing.T) {
			m.Reset(t)
			var res provision.Report
			code, stderr := e.runJSON(&res, "setup", "--handler-zip", e.zip, "--auth", tc.auth, "--yes")
			if code != 0 {
				t.Fatalf("setup: exit %d %s %s", code, res.Error, stderr)
			}
			if res.Auth != tc.auth || strings.Contains(stderr, "anyone on the internet") != tc.warnOpen {
				t.Errorf("auth %q, stderr %q", res.Auth, stderr)
			}
			apiID := checkAPI(t, agw, lam, tc.method, tc.apiKey)
			st, err := provision.LoadState(e.state)
			if err != nil || st.Auth != tc.auth {
				t.Fatalf("state %+v %v", st, err)
			}
			keys, _ := agw.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
			plans, _ := agw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
			if tc.apiKey {
				if len(keys.Items) != 1 || aws.ToString(keys.Items[0].Id) != st.APIKeyID || res.APIKeyID != st.APIKeyID || keys.Items[0].Tags[provision.TagKey] != "ddbops" {
					t.Fatalf("API keys %+v, state key %q", keys.Items, st.APIKeyID)
				}
				if len(plans.Items) != 1 || len(plans.Items[0].ApiStages) != 1 || aws.ToString(plans.Items[0].ApiStages[0].ApiId) != apiID ||
					aws.ToString(plans.Items[0].ApiStages[0].Stage) != "prod" || aws.ToString(plans.Items[0].Id) != st.UsagePlanID {
					t.Fatalf("usage plans %+v", plans.Items)
				}
				pk, err := agw.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: plans.Items[0].Id})
				if err != nil || len(pk.Items) != 1 || aws.ToString(pk.Items[0].Id) != st.APIKeyID {
					t.Fatalf("usage plan keys %+v %v", pk, err)
				}
				raw, _ := os.ReadFile(e.state)
				if v, err := agw.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(st.APIKeyID), IncludeValue: aws.Bool(true)}); err != nil || strings.Contains(string(raw), aws.ToString(v.Value)) {
					t.Errorf("state file holds the API key value (or key unreadable: %v)", err)
				}
			} else if len(keys.Items)+len(plans.Items) != 0 {
				t.Errorf("keys %d plans %d for auth %s", len(keys.Items), len(plans.Items), tc.auth)
			}
			code, stderr = e.runJSON(&res, "setup", "--handler-zip", e.zip, "--auth", tc.auth, "--yes")
			if code != 0 || res.APICalls.Mutating != 0 {
				t.Errorf("re-run: exit %d calls %+v %s", code, res.APICalls, stderr)
			}
			if code, stderr = e.runJSON(&res, "teardown", "--yes"); code != 0 {
				t.Fatalf("teardown: exit %d %s %s", code, res.Error, stderr)
			}
			if left := ownedLeft(t, e.cfg); len(left) != 0 {
				t.Errorf("left after teardown: %v", left)
			}
		})
	}
}

func TestProvisionSurvivesThrottlingAndLostAnswersOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	proxy := testenv.NewFaultProxy(t, m.URL,
		testenv.Rule{Op: "apigateway:CreateResource", Times: 3, Fault: testenv.Throttle},
		testenv.Rule{Op: "apigateway:PutMethod", Nth: 1, Times: 2, Fault: testenv.Throttle},
		testenv.Rule{Op: "apigateway:GetRestApis", Nth: 1, Times: 2, Fault: testenv.Throttle},
		// The table is created but the answer is lost: the SDK retries,
		// finds it exists, and setup adopts it because it carries the tag.
		testenv.Rule{Op: "dynamodb:CreateTable", Fault: testenv.ResetAfter},
		// The REST API is created but the answer is lost: names are not
		// unique, so setup must not retry blindly (a twin); it fails and
		// the re-run finds the first by name and tag.
		testenv.Rule{Op: "apigateway:CreateRestApi", Fault: testenv.ResetAfter},
	)
	e := newProvEnv(t, proxy.URL, m.AWSConfig(t))
	code, stdout, stderr := e.run("setup", "--handler-zip", e.zip)
	if code != 1 || !strings.Contains(stderr, "create REST API DynamoDBOperations") {
		t.Fatalf("setup with a lost CreateRestApi answer: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "API Gateway GetRestApis throttled, retrying") {
		t.Errorf("throttling not reported:\n%s", stderr)
	}
	var res provision.Report
	code, stderr = e.runJSON(&res, "setup", "--handler-zip", e.zip)
	if code != 0 {
		t.Fatalf("re-run: exit %d %s\n%s", code, res.Error, stderr)
	}
	got := proxy.Injected()
	for _, want := range []string{"apigateway:CreateResource:429", "apigateway:PutMethod:429", "dynamodb:CreateTable:reset-after-forward", "apigateway:CreateRestApi:reset-after-forward"} {
		if !slices.Contains(got, want) {
			t.Errorf("fault %s not injected (injected %v)", want, got)
		}
	}
	checkAPI(t, apigateway.NewFromConfig(e.cfg), lambda.NewFromConfig(e.cfg), "AWS_IAM", false)
	code, stderr = e.runJSON(&res, "setup", "--handler-zip", e.zip)
	if code != 0 || res.APICalls.Mutating != 0 {
		t.Errorf("third run: exit %d %+v %s", code, res.APICalls, stderr)
	}
}

func TestDeployLogsAndPromptsOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	e := newProvEnv(t, m.URL, m.AWSConfig(t))
	ctx := context.Background()
	lam, logs := lambda.NewFromConfig(e.cfg), cloudwatchlogs.NewFromConfig(e.cfg)

	// setup --auth none on a terminal asks first; "no" changes nothing.
	ios, out, errOut := testIO()
	ios.In, ios.IsInTTY = strings.NewReader("n\n"), true
	code := Execute(ctx, ios, []string{"--config", e.config, "--endpoint-url", e.endpoint, "setup", "--auth", "none", "--handler-zip", e.zip})
	if code != 1 || !strings.Contains(errOut.String(), "anyone on the internet. Continue? [y/N]") || !strings.Contains(errOut.String(), "setup cancelled") {
		t.Fatalf("declined setup: exit %d\n%s\n%s", code, out, errOut)
	}
	if left := ownedLeft(t, e.cfg); len(left) != 0 {
		t.Fatalf("declined setup created %v", left)
	}

	var res provision.Report
	if code, stderr := e.runJSON(&res, "setup", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("setup: %d %s", code, stderr)
	}

	// deploy: same code is not uploaded, the stage is redeployed.
	// moto resets a stage's settings on every new deployment (AWS keeps
	// them); deploy notices and re-applies the throttling: one more call.
	stageFix := func(r provision.Report) int {
		for _, c := range r.Changes {
			if c.Resource == "api-stage" && c.Action == "updated" {
				return 1
			}
		}
		return 0
	}
	code, stderr := e.runJSON(&res, "deploy", "--handler-zip", e.zip)
	if code != 0 || res.APICalls.Mutating != 1+stageFix(res) || res.Changes[0].Action != "unchanged" || res.Changes[1].Action != "created" {
		t.Fatalf("deploy of unchanged code: exit %d %+v %s", code, res, stderr)
	}
	v2 := filepath.Join(t.TempDir(), "v2.zip")
	if err := os.WriteFile(v2, provTestZip(t, "handler v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr = e.runJSON(&res, "deploy", "--handler-zip", v2, "--memory", "256", "--dry-run")
	if code != 0 || res.APICalls.Mutating != 0 || res.Changes[0].Action != "update" {
		t.Fatalf("deploy --dry-run: exit %d %+v %s", code, res, stderr)
	}
	code, stderr = e.runJSON(&res, "deploy", "--handler-zip", v2, "--memory", "256")
	if code != 0 || res.Changes[0].Action != "updated" || res.APICalls.Mutating != 3+stageFix(res) {
		t.Fatalf("deploy of new code: exit %d %+v %s", code, res, stderr)
	}
	fn, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("LambdaFunctionOverHttps")})
	if err != nil || aws.ToString(fn.Configuration.CodeSha256) != provision.CodeSha256(provTestZip(t, "handler v2")) || aws.ToInt32(fn.Configuration.MemorySize) != 256 {
		t.Fatalf("function after deploy: %+v %v", fn.Configuration, err)
	}
	// status compares with what deploy applied (memory 256, code v2)...
	var status provision.StatusDoc
	if code, _ = e.runJSON(&status, "status", "--exit-code"); code != 0 {
		t.Errorf("status after deploy: exit %d %+v", code, status.Rows)
	}
	// ...or with a given zip.
	code, _ = e.runJSON(&status, "status", "--exit-code", "--handler-zip", e.zip)
	if code != 1 || !strings.Contains(fmt.Sprint(status.Rows[4].Diffs), "code: CodeSha256") {
		t.Errorf("status against v1: exit %d %+v", code, status.Rows)
	}

	// logs: what the function wrote, filtered, as text and JSON.
	group, stream := "/aws/lambda/LambdaFunctionOverHttps", "2026/01/01/[$LATEST]0123"
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var evs []cwtypes.InputLogEvent
	for i, msg := range []string{"START RequestId: 1", "ERROR boom", "END RequestId: 1"} {
		evs = append(evs, cwtypes.InputLogEvent{Message: aws.String(msg), Timestamp: aws.Int64(now.Add(time.Duration(i-60) * time.Second).UnixMilli())})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := e.run("logs", "--since", "1h")
	if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, "ERROR boom") {
		t.Errorf("logs: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// No events: nothing on stdout, and stderr says so and since when.
	code, stdout, stderr = e.run("logs", "--since", "10m", "--filter", "NOTHING")
	if code != 0 || stdout != "" || stderr != "no events matching \"NOTHING\" in "+group+" since 10m ago (--since widens the window)\n" {
		t.Errorf("logs without events: exit %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = e.run("logs", "--since", "1h", "--filter", "ERROR")
	if code != 0 || strings.TrimSpace(stdout[strings.Index(stdout, " ")+2:]) != "ERROR boom" {
		t.Errorf("logs --filter ERROR: exit %d %q", code, stdout)
	}
	var lj struct {
		LogGroup string
		Events   []provision.LogEvent
	}
	if code, _ = e.runJSON(&lj, "logs", "--since", "1h"); code != 0 || len(lj.Events) != 3 || lj.LogGroup != group || lj.Events[0].Stream != stream {
		t.Errorf("logs -o json: exit %d %+v", code, lj)
	}
	// --follow ends cleanly when the context is cancelled (Ctrl-C).
	fctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	fo := &logsOptions{provDeps: provDeps{IO: ios, AWSConfig: func(context.Context) (aws.Config, error) { return e.cfg, nil }, StatePath: e.state}, Follow: true, Since: time.Hour, PollInterval: 200 * time.Millisecond}
	fo.Settings = Settings{Stack: "ddbops", Table: "lambda-apigateway", Function: "LambdaFunctionOverHttps", Role: "r", Policy: "p", API: "a", Resource: "r", Stage: "prod",
		Memory: 128, Timeout: 10, Arch: "arm64", Auth: "iam", ThrottleRate: 1, ThrottleBurst: 1, LogRetention: 14, Output: "json"}
	var fout bytes.Buffer
	fo.IO = &cmdutil.IOStreams{In: strings.NewReader(""), Out: &fout, ErrOut: &bytes.Buffer{}}
	if err := runLogs(fctx, fo); err != nil {
		t.Fatalf("logs --follow: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(fout.String()), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], `{"id":`) {
		t.Errorf("logs --follow -o json: %q", fout.String())
	}

	// teardown on a terminal asks; "n" keeps everything, "y" deletes.
	ios, out, errOut = testIO()
	ios.In, ios.IsInTTY = strings.NewReader("n\n"), true
	code = Execute(ctx, ios, []string{"--config", e.config, "--endpoint-url", e.endpoint, "teardown"})
	if code != 1 || !strings.Contains(errOut.String(), "Delete these 6 resources of stack ddbops in us-east-1? [y/N]") || !strings.Contains(errOut.String(), "teardown cancelled") {
		t.Fatalf("declined teardown: exit %d\n%s\n%s", code, out, errOut)
	}
	if left := ownedLeft(t, e.cfg); len(left) != 6 {
		t.Fatalf("declined teardown: left %v", left)
	}
	ios, out, errOut = testIO()
	ios.In, ios.IsInTTY = strings.NewReader("y\n"), true
	if code = Execute(ctx, ios, []string{"--config", e.config, "--endpoint-url", e.endpoint, "teardown"}); code != 0 || !strings.Contains(out.String(), "torn down: 6 deleted") {
		t.Fatalf("confirmed teardown: exit %d\n%s\n%s", code, out, errOut)
	}
	if left := ownedLeft(t, e.cfg); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	code, _, stderr = e.run("logs")
	if code != 1 || !strings.Contains(stderr, "log group /aws/lambda/LambdaFunctionOverHttps does not exist") || !strings.Contains(stderr, "hint: run ddbops setup") {
		t.Errorf("logs without a log group: exit %d %s", code, stderr)
	}
	code, _, stderr = e.run("deploy", "--handler-zip", e.zip)
	if code != 1 || !strings.Contains(stderr, "deploy function LambdaFunctionOverHttps: not found") || !strings.Contains(stderr, "hint: run ddbops setup first") {
		t.Errorf("deploy without a stack: exit %d %s", code, stderr)
	}
}
