package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// lostAnswers makes chosen calls behave as when the connection closes after
// AWS applied a call and before its answer arrived: the SDK retries the
// call, and the caller sees AWS's answer to that retry. By default that is
// the fake's own answer to the same call made again (a conflict or "already
// exists" for creates); retry, when set for an operation, is the answer
// instead (what AWS says where the fake cannot: an update in progress).
// Each listed operation loses one answer, its first.
type lostAnswers struct {
	mu    sync.Mutex
	left  map[string]bool
	retry map[string]error
}

func loseFirstAnswer(ops ...string) *lostAnswers {
	l := &lostAnswers{left: map[string]bool{}, retry: map[string]error{}}
	for _, op := range ops {
		l.left[op] = true
	}
	return l
}

func (l *lostAnswers) take(op string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.left[op] {
		return false
	}
	delete(l.left, op)
	return true
}

// pending lists the operations whose answer was never lost (the test
// did not exercise them).
func (l *lostAnswers) pending() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ops []string
	for op := range l.left {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// replay runs call; when op's answer is to be lost, it runs it again (the
// SDK's retry) and returns that answer, or l.retry[op].
func replay[O any](l *lostAnswers, op string, call func() (O, error)) (O, error) {
	if !l.take(op) {
		return call()
	}
	out, err := call()
	if err != nil {
		return out, err // the call itself failed: no answer to lose
	}
	if e := l.retry[op]; e != nil {
		var zero O
		return zero, e
	}
	return call()
}

func (l *lostAnswers) wrap(c Clients) Clients {
	c.IAM = lossyIAM{c.IAM, l}
	c.Logs = lossyLogs{c.Logs, l}
	c.DynamoDB = lossyDDB{c.DynamoDB, l}
	c.Lambda = lossyLambda{c.Lambda, l}
	c.APIGateway = lossyAPIGW{c.APIGateway, l}
	return c
}

type lossyIAM struct {
	IAMAPI
	l *lostAnswers
}

func (c lossyIAM) CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, o ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	return replay(c.l, "CreatePolicy", func() (*iam.CreatePolicyOutput, error) { return c.IAMAPI.CreatePolicy(ctx, in, o...) })
}

func (c lossyIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, o ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	return replay(c.l, "CreateRole", func() (*iam.CreateRoleOutput, error) { return c.IAMAPI.CreateRole(ctx, in, o...) })
}

func (c lossyIAM) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, o ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	return replay(c.l, "AttachRolePolicy", func() (*iam.AttachRolePolicyOutput, error) { return c.IAMAPI.AttachRolePolicy(ctx, in, o...) })
}

type lossyLogs struct {
	LogsAPI
	l *lostAnswers
}

func (c lossyLogs) CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	return replay(c.l, "CreateLogGroup", func() (*cloudwatchlogs.CreateLogGroupOutput, error) { return c.LogsAPI.CreateLogGroup(ctx, in, o...) })
}

type lossyDDB struct {
	DynamoDBAPI
	l *lostAnswers
}

func (c lossyDDB) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return replay(c.l, "CreateTable", func() (*dynamodb.CreateTableOutput, error) { return c.DynamoDBAPI.CreateTable(ctx, in, o...) })
}

func (c lossyDDB) UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	return replay(c.l, "UpdateTable", func() (*dynamodb.UpdateTableOutput, error) { return c.DynamoDBAPI.UpdateTable(ctx, in, o...) })
}

type lossyLambda struct {
	LambdaAPI
	l *lostAnswers
}

func (c lossyLambda) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, o ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	return replay(c.l, "CreateFunction", func() (*lambda.CreateFunctionOutput, error) { return c.LambdaAPI.CreateFunction(ctx, in, o...) })
}

func (c lossyLambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, o ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	return replay(c.l, "AddPermission", func() (*lambda.AddPermissionOutput, error) { return c.LambdaAPI.AddPermission(ctx, in, o...) })
}

func (c lossyLambda) UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, o ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	return replay(c.l, "UpdateFunctionConfiguration", func() (*lambda.UpdateFunctionConfigurationOutput, error) {
		return c.LambdaAPI.UpdateFunctionConfiguration(ctx, in, o...)
	})
}

func (c lossyLambda) UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, o ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	return replay(c.l, "UpdateFunctionCode", func() (*lambda.UpdateFunctionCodeOutput, error) { return c.LambdaAPI.UpdateFunctionCode(ctx, in, o...) })
}

type lossyAPIGW struct {
	APIGatewayAPI
	l *lostAnswers
}

func (c lossyAPIGW) CreateResource(ctx context.Context, in *apigateway.CreateResourceInput, o ...func(*apigateway.Options)) (*apigateway.CreateResourceOutput, error) {
	return replay(c.l, "CreateResource", func() (*apigateway.CreateResourceOutput, error) { return c.APIGatewayAPI.CreateResource(ctx, in, o...) })
}

func (c lossyAPIGW) PutMethod(ctx context.Context, in *apigateway.PutMethodInput, o ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error) {
	return replay(c.l, "PutMethod", func() (*apigateway.PutMethodOutput, error) { return c.APIGatewayAPI.PutMethod(ctx, in, o...) })
}

func (c lossyAPIGW) UpdateUsagePlan(ctx context.Context, in *apigateway.UpdateUsagePlanInput, o ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error) {
	return replay(c.l, "UpdateUsagePlan", func() (*apigateway.UpdateUsagePlanOutput, error) {
		return c.APIGatewayAPI.UpdateUsagePlan(ctx, in, o...)
	})
}

func (c lossyAPIGW) CreateUsagePlanKey(ctx context.Context, in *apigateway.CreateUsagePlanKeyInput, o ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error) {
	return replay(c.l, "CreateUsagePlanKey", func() (*apigateway.CreateUsagePlanKeyOutput, error) {
		return c.APIGatewayAPI.CreateUsagePlanKey(ctx, in, o...)
	})
}

func (c lossyAPIGW) DeleteUsagePlan(ctx context.Context, in *apigateway.DeleteUsagePlanInput, o ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error) {
	return replay(c.l, "DeleteUsagePlan", func() (*apigateway.DeleteUsagePlanOutput, error) {
		return c.APIGatewayAPI.DeleteUsagePlan(ctx, in, o...)
	})
}

func failedChanges(cs []Change) []string {
	var out []string
	for _, c := range cs {
		if c.Action == Failed {
			out = append(out, fmt.Sprintf("%s %s: %v", c.Kind, c.Name, c.Err))
		}
	}
	return out
}

// TestLostAnswersAreAdoptedOnTheSDKRetry: each create, attach, put or
// update whose answer is lost after it took effect meets AWS's answer to
// the SDK's retry ("already exists", a conflict, an update in progress, a
// stage already removed, a plan already deleted); docs/provisioning.md wants that
// read back and adopted, not reported. The run succeeds, the next one
// changes nothing, and the account holds what a clean run leaves.
func TestLostAnswersAreAdoptedOnTheSDKRetry(t *testing.T) {
	t.Parallel()
	inProgress := &lambdatypes.ResourceConflictException{Message: msg("The operation cannot be performed at this time. An update is in progress for resource: LambdaFunctionOverHttps")}
	cases := []struct {
		name  string
		auth  string // "" = iam
		op    string
		retry error // AWS's answer to the retry, when the fake's own is not it
		// before prepares the account (a stack to converge or tear down).
		before func(t *testing.T, h *harness)
		// cmd is setup (default), deploy or teardown.
		cmd string
	}{
		{name: "CreatePolicy", op: "CreatePolicy"},
		{name: "CreateRole", op: "CreateRole"},
		{name: "AttachRolePolicy", op: "AttachRolePolicy"},
		{name: "CreateLogGroup", op: "CreateLogGroup"},
		{name: "CreateTable", op: "CreateTable"},
		{name: "CreateFunction", op: "CreateFunction"},
		{name: "AddPermission", op: "AddPermission"},
		{name: "CreateResource", op: "CreateResource", auth: wire.AuthNone},
		{name: "PutMethod", op: "PutMethod"},
		{name: "PutMethod apikey", op: "PutMethod", auth: wire.AuthAPIKey},
		{name: "CreateUsagePlanKey", op: "CreateUsagePlanKey", auth: wire.AuthAPIKey},
		{
			name: "UpdateTable billing mode", op: "UpdateTable",
			retry: &ddbtypes.ResourceInUseException{Message: msg("Attempt to change a resource which is still in use: Table is being updated")},
			before: func(t *testing.T, h *harness) {
				h.mustSetup(testSpec())
				h.f.tables["lambda-apigateway"].desc.BillingModeSummary = &ddbtypes.BillingModeSummary{BillingMode: ddbtypes.BillingModeProvisioned}
			},
		},
		{
			name: "UpdateFunctionConfiguration", op: "UpdateFunctionConfiguration", retry: inProgress,
			before: func(t *testing.T, h *harness) {
				h.mustSetup(testSpec())
				h.f.functions["LambdaFunctionOverHttps"].cfg.MemorySize = aws.Int32(512)
			},
		},
		{
			name: "UpdateFunctionCode", op: "UpdateFunctionCode", retry: inProgress, cmd: "deploy",
			before: func(t *testing.T, h *harness) {
				h.mustSetup(testSpec())
				h.zip = testZip(t, "v2")
			},
		},
		{
			name: "UpdateUsagePlan re-attaching the stage", op: "UpdateUsagePlan", auth: wire.AuthAPIKey,
			retry: &agtypes.ConflictException{Message: msg("API Stage already exists in usage plan")},
			before: func(t *testing.T, h *harness) {
				spec := testSpec()
				spec.Auth = wire.AuthAPIKey
				h.mustSetup(spec)
				for _, p := range h.f.plans {
					p.stages = nil
				}
			},
		},
		{
			name: "UpdateUsagePlan detaching the stage (auth apikey to iam)", op: "UpdateUsagePlan",
			before: func(t *testing.T, h *harness) {
				spec := testSpec()
				spec.Auth = wire.AuthAPIKey
				h.mustSetup(spec)
			},
		},
		{
			name: "UpdateUsagePlan in teardown", op: "UpdateUsagePlan", auth: wire.AuthAPIKey, cmd: "teardown",
			before: func(t *testing.T, h *harness) {
				spec := testSpec()
				spec.Auth = wire.AuthAPIKey
				h.mustSetup(spec)
			},
		},
		{
			name: "DeleteUsagePlan in teardown", op: "DeleteUsagePlan", auth: wire.AuthAPIKey, cmd: "teardown",
			before: func(t *testing.T, h *harness) {
				spec := testSpec()
				spec.Auth = wire.AuthAPIKey
				h.mustSetup(spec)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := testSpec()
			if tc.auth != "" {
				spec.Auth = tc.auth
			}
			clean := newHarness(t)
			if tc.cmd == "teardown" {
				clean.f = newFakeAWS()
			} else {
				clean.zip = testZip(t, "v2")
				clean.mustSetup(spec)
			}

			h := newHarness(t)
			if tc.before != nil {
				tc.before(t, h)
			}
			l := loseFirstAnswer(tc.op)
			if tc.retry != nil {
				l.retry[tc.op] = tc.retry
			}
			h.wrap = l.wrap
			h.f.rec.Reset()
			var res *Result
			var err error
			switch tc.cmd {
			case "teardown":
				_, res, err = h.teardown(spec, TeardownOptions{})
			case "deploy":
				res, err = h.prov(spec).Deploy(context.Background(), DeployOptions{})
			default:
				res, err = h.setup(spec, SetupOptions{})
			}
			if err != nil {
				t.Fatalf("%s with the %s answer lost: %v", orDefault(tc.cmd, "setup"), tc.op, err)
			}
			if p := l.pending(); len(p) > 0 {
				t.Fatalf("%v was never called: the case tests nothing", p)
			}
			if f := failedChanges(res.changes()); len(f) > 0 {
				t.Errorf("failed steps: %v", f)
			}
			if got, want := h.f.inventory(), clean.f.inventory(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("account after the run: %v\nafter a clean one:   %v", got, want)
			}
			if tc.cmd == "teardown" {
				return
			}
			h.f.rec.Reset()
			if tc.cmd == "deploy" {
				if _, err := h.setup(spec, SetupOptions{CompareCode: true}); err != nil {
					t.Fatalf("setup after deploy: %v", err)
				}
			} else {
				h.mustSetup(spec)
			}
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("the next setup still changed something: %v", m)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// beforeOnce runs fn (holding the fake's lock) just before the first call
// of op reaches the fake: someone else's change, made meanwhile.
func beforeOnce(f *fakeAWS, op string, fn func(f *fakeAWS)) func(service, op string) error {
	var once sync.Once
	return func(_, called string) error {
		if called == op {
			once.Do(func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				fn(f)
			})
		}
		return nil
	}
}

// answerOnce makes the first call of op fail with err without taking
// effect.
func answerOnce(op string, err error) func(service, op string) error {
	var once sync.Once
	return func(_, called string) error {
		var e error
		if called == op {
			once.Do(func() { e = err })
		}
		return e
	}
}

// TestConflictsAreReadBackNotTrusted: an "already exists" answer is
// adopted only when what exists is ours and as desired; otherwise it is
// converged or reported, and a usage plan is never reported deleted while
// it remains.
func TestConflictsAreReadBackNotTrusted(t *testing.T) {
	t.Parallel()
	apikey := testSpec()
	apikey.Auth = wire.AuthAPIKey
	otherSource := "arn:aws:execute-api:us-east-1:123456789012:other/prod/POST/DynamoDBManager"
	cases := []struct {
		name string
		spec Spec
		// prepare runs a setup first, for teardown cases.
		prepare bool
		fault   func(h *harness) func(service, op string) error
		lose    string // an operation whose answer is lost (taking effect)
		retry   error  // and the answer to its retry
		cmd     string // setup (default) or teardown
		wantErr []string
		check   func(t *testing.T, h *harness, res *Result)
	}{
		{
			name: "a statement with our id but another source ARN is converged",
			spec: testSpec(),
			fault: func(h *harness) func(string, string) error {
				return beforeOnce(h.f, "AddPermission", func(f *fakeAWS) {
					f.functions["LambdaFunctionOverHttps"].perms[PermissionStatementID] = otherSource
				})
			},
			check: func(t *testing.T, h *harness, _ *Result) {
				perms := h.f.functions["LambdaFunctionOverHttps"].perms
				apiID := ""
				for id := range h.f.apis {
					apiID = id
				}
				if want := "arn:aws:execute-api:us-east-1:123456789012:" + apiID + "/prod/POST/DynamoDBManager"; len(perms) != 1 || perms[PermissionStatementID] != want {
					t.Errorf("permissions %v, want only %s", perms, want)
				}
			},
		},
		{
			name: "a method put meanwhile with other authorization is reported",
			spec: testSpec(),
			fault: func(h *harness) func(string, string) error {
				return beforeOnce(h.f, "PutMethod", func(f *fakeAWS) {
					for _, a := range f.apis {
						for _, r := range a.resources {
							if r.path == "/DynamoDBManager" {
								r.methods["POST"] = &agtypes.Method{HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"), ApiKeyRequired: aws.Bool(false)}
							}
						}
					}
				})
			},
			wantErr: []string{"put method POST /DynamoDBManager:", "ConflictException", "the method exists with authorization NONE, want AWS_IAM: re-run setup to converge it"},
		},
		{
			name: "a key refused because it is in another plan is reported",
			spec: apikey,
			fault: func(*harness) func(string, string) error {
				return answerOnce("CreateUsagePlanKey", &agtypes.ConflictException{Message: msg("API Key cannot reference multiple Usage Plans with the same API Stage")})
			},
			wantErr: []string{"add API key to usage plan ddbops-DynamoDBOperations:", "multiple Usage Plans"},
		},
		{
			name: "a same-named table created meanwhile without our tag is not adopted",
			spec: testSpec(),
			fault: func(h *harness) func(string, string) error {
				return beforeOnce(h.f, "CreateTable", func(f *fakeAWS) {
					f.tables["lambda-apigateway"] = &fakeTable{tags: map[string]string{}, desc: ddbtypes.TableDescription{
						TableName: aws.String("lambda-apigateway"), TableArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/lambda-apigateway"),
						TableStatus:          ddbtypes.TableStatusActive,
						KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
						AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
					}}
				})
			},
			wantErr: []string{"adopt table lambda-apigateway:", ErrNotOwned.Error()},
		},
		{
			name: "a plan whose stage removal answers 404 but which still holds the stage is not reported deleted",
			spec: apikey, prepare: true, cmd: "teardown",
			fault: func(*harness) func(string, string) error {
				return answerOnce("UpdateUsagePlan", &agtypes.NotFoundException{Message: msg("Invalid API identifier specified")})
			},
			wantErr: []string{"detach stages from usage plan ddbops-DynamoDBOperations:", "NotFoundException"},
			check: func(t *testing.T, h *harness, res *Result) {
				if len(h.f.plans) != 1 {
					t.Errorf("%d usage plans, want the one that remains", len(h.f.plans))
				}
				if a := actions(res.Changes)[KindUsagePlan]; a != Failed {
					t.Errorf("usage plan: %s, want failed", a)
				}
			},
		},
		{
			name: "a plan whose stage removal took effect but answered 404 is deleted",
			spec: apikey, prepare: true, cmd: "teardown",
			lose: "UpdateUsagePlan", retry: &agtypes.NotFoundException{Message: msg("Invalid API identifier specified")},
			check: func(t *testing.T, h *harness, res *Result) {
				if len(h.f.plans) != 0 || !slices.Contains(h.f.rec.Mutating(), "API Gateway.DeleteUsagePlan") {
					t.Errorf("usage plans left %d; mutating calls %v", len(h.f.plans), h.f.rec.Mutating())
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tc.prepare {
				h.mustSetup(tc.spec)
			}
			if tc.fault != nil {
				h.f.fail = tc.fault(h)
			}
			if tc.lose != "" {
				l := loseFirstAnswer(tc.lose)
				l.retry[tc.lose] = tc.retry
				h.wrap = l.wrap
			}
			var res *Result
			var err error
			if tc.cmd == "teardown" {
				_, res, err = h.teardown(tc.spec, TeardownOptions{})
			} else {
				res, err = h.setup(tc.spec, SetupOptions{})
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("%s: %v", orDefault(tc.cmd, "setup"), err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
			if tc.check != nil {
				tc.check(t, h, res)
			}
			// Whatever stopped, a clean re-run converges.
			h.f.fail, h.wrap = nil, nil
			if tc.cmd == "teardown" {
				if _, _, err := h.teardown(tc.spec, TeardownOptions{}); err != nil || !emptyInventory(h.f.inventory()) {
					t.Errorf("teardown re-run: %v, left %v", err, h.f.inventory())
				}
				return
			}
			if tc.wantErr != nil && strings.Contains(tc.name, "not adopted") {
				return // the foreign table stays in the way, by design
			}
			h.mustSetup(tc.spec)
			h.f.rec.Reset()
			h.mustSetup(tc.spec)
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("not converged: a further setup made %v", m)
			}
		})
	}
}

// TestInterruptedRunsSayItOnceNamingTheRunningStep: Ctrl-C during a step
// ends setup or teardown with one error naming the step, still
// errors.Is(context.Canceled) (exit 130), not one "context canceled" per
// concurrent branch.
func TestInterruptedRunsSayItOnceNamingTheRunningStep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, op, cmd string
		want          string // the step named
	}{
		{"setup during CreateFunction", "CreateFunction", "setup", "create function LambdaFunctionOverHttps"},
		{"setup during CreatePolicy", "CreatePolicy", "setup", "create policy lambda-apigateway-dynamodb-policy"},
		{"teardown during DeleteFunction", "DeleteFunction", "teardown", "delete function LambdaFunctionOverHttps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			spec := testSpec()
			if tc.cmd == "teardown" {
				h.mustSetup(spec)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The call is cut short as the SDK does when its context ends.
			h.f.fail = func(service, op string) error {
				if op != tc.op {
					return nil
				}
				cancel()
				return fmt.Errorf("operation error %s: %s, canceled, %w", service, op, ctx.Err())
			}
			p := h.prov(spec)
			var res *Result
			var err error
			if tc.cmd == "teardown" {
				plan, perr := p.PlanTeardown(ctx)
				if perr != nil {
					t.Fatal(perr)
				}
				res, err = p.Teardown(ctx, plan, TeardownOptions{})
			} else {
				res, err = p.Setup(ctx, SetupOptions{})
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			var ie *Interrupted
			msg := err.Error()
			if !errors.As(err, &ie) || !strings.HasPrefix(msg, tc.cmd+" interrupted during ") || !strings.HasSuffix(msg, ": context canceled") ||
				strings.Count(msg, "context canceled") != 1 || strings.Contains(msg, "\n") || !slices.Contains(ie.Steps, tc.want) {
				t.Errorf("error %q: want one line %q naming %q", msg, tc.cmd+" interrupted during …: context canceled", tc.want)
			}
			if len(failedChanges(res.changes())) == 0 {
				t.Error("the interrupted step is not reported failed")
			}
		})
	}
}

func TestInterruptedErrorFolding(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := func(op, res string) error {
		return opErr(op, res, fmt.Errorf("operation error: canceled, %w", context.Canceled))
	}
	boom := opErr("create table", "t", errors.New("boom"))
	cases := []struct {
		name    string
		ctx     context.Context
		err     error
		changes []Change
		want    string
	}{
		{"no error", done, nil, nil, ""},
		{"not interrupted", context.Background(), boom, nil, "create table t: boom"},
		{"one step", done, errors.Join(canceled("create role", "r"), fmt.Errorf("not started: %w", context.Canceled), errDependency),
			[]Change{{Kind: KindRole, Name: "r", Action: Failed, Err: canceled("create role", "r")}},
			"setup interrupted during create role r: context canceled"},
		{"steps in stack order, each once", done, errors.Join(canceled("create REST API", "a"), canceled("create table", "t")),
			[]Change{{Kind: KindTable, Action: Failed, Err: canceled("create table", "t")}, {Kind: KindRestAPI, Action: Failed, Err: canceled("create REST API", "a")}},
			"setup interrupted during create table t, create REST API a: context canceled"},
		{"between steps", done, fmt.Errorf("not started: %w", context.Canceled), nil, "setup interrupted: context canceled"},
		{"other failures kept", done, errors.Join(boom, canceled("create role", "r")), nil,
			"create table t: boom\nsetup interrupted during create role r: context canceled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := interrupted(tc.ctx, "setup", tc.err, tc.changes)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			if tc.ctx == done && err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%v is not context.Canceled", err)
			}
		})
	}
}
