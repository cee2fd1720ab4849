package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
	"github.com/ddbops/ddbops/internal/wire"
)

// faultScenario is one fault (or a few) injected between ddbops and moto
// during a first setup and during a teardown.
type faultScenario struct {
	name  string
	auth  string // --auth; "" = iam
	stack string // --stack; "" = the default, ddbops
	// prepare, when set, is the --auth of a clean setup run before the
	// faulted one: the faulted setup then converges an existing stack.
	prepare string

	setup []testenv.Rule
	// setupErr is nil when the faulted setup must converge regardless;
	// otherwise it must stop (exit 1) with one error line containing each
	// of these, and report the step of kind setupFailed as failed.
	setupErr    []string
	setupFailed string
	// setupNothing: the faulted setup stops before changing anything.
	setupNothing bool
	// teardownFirst tears the partial stack down right after the faulted
	// setup (nothing must be left), before the re-run builds it anew.
	teardownFirst bool
	// rerun lists "kind action" changes the clean re-run must make (what
	// the stopped setup left undone, e.g. a deployment it owes).
	rerun []string

	teardown       []testenv.Rule
	teardownErr    []string
	teardownFailed string

	// interrupt and interruptTeardown name an operation after which the
	// command is interrupted (its context cancelled, as Ctrl-C does): the
	// call takes effect, its answer never arrives, the command exits 130.
	interrupt, interruptTeardown string

	// bug, when set, describes a known bug this scenario exposes; the
	// scenario is skipped with it unless DDBOPS_FAULT_BUGS=1.
	bug string
}

const (
	fFunction = "LambdaFunctionOverHttps"
	fRole     = "lambda-apigateway-role"
	fPolicy   = "lambda-apigateway-dynamodb-policy"
	fTable    = "lambda-apigateway"
	fLogGroup = "/aws/lambda/LambdaFunctionOverHttps"
	fAPI      = "DynamoDBOperations"
	fAcct     = "123456789012"
)

// every is a Times large enough to fault every matching call of a command.
const every = 10000

func rule(op string, times int, f testenv.Fault) testenv.Rule {
	return testenv.Rule{Op: op, Nth: 1, Times: times, Fault: f}
}

func slow(op string, d time.Duration) testenv.Rule {
	return testenv.Rule{Op: op, Nth: 1, Times: every, Fault: testenv.Slow, Delay: d}
}

// sdkAttempts and ddbAttempts are the SDK's default attempts per call
// (standard retryer; DynamoDB's client defaults to 4): a 500 or reset
// injected that many times outlasts the SDK's retries.
const (
	sdkAttempts = 3
	ddbAttempts = 4
)

// faultScenarios: 429s are retried with pacing and converge; 500s and
// resets that outlast the SDK's retries stop the command with the failed
// operation and resource named; answers lost after the call took effect
// are adopted on the SDK's retry where names are unique (or the retry's
// "already exists" is handled), and for API Gateway's non-unique names
// (REST API, API key, usage plan: no SDK retry) stop at once and are found
// by name and tag on the re-run — never a twin.
var faultScenarios = []faultScenario{
	// API Gateway throttling: paced retries, setup converges.
	{
		name:     "429 CreateRestApi x3",
		setup:    []testenv.Rule{rule("apigateway:CreateRestApi", 3, testenv.Throttle)},
		teardown: []testenv.Rule{rule("apigateway:DeleteRestApi", 3, testenv.Throttle)},
	},
	{
		name:        "429 CreateDeployment storm x5",
		auth:        "apikey",
		setup:       []testenv.Rule{rule("apigateway:CreateDeployment", 5, testenv.Throttle)},
		teardown:    []testenv.Rule{rule("apigateway:DeleteUsagePlan", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete usage plan ddbops-" + fAPI + ":", "StatusCode: 500"}, teardownFailed: "usage-plan",
	},
	{
		name:     "429 PutIntegration x2",
		auth:     "none",
		setup:    []testenv.Rule{rule("apigateway:PutIntegration", 2, testenv.Throttle)},
		teardown: []testenv.Rule{rule("apigateway:DeleteRestApi", 1, testenv.ResetAfter)},
	},
	{
		name: "429 on every API Gateway create x2",
		auth: "apikey",
		setup: []testenv.Rule{
			rule("apigateway:CreateRestApi", 2, testenv.Throttle), rule("apigateway:CreateResource", 2, testenv.Throttle),
			rule("apigateway:PutMethod", 2, testenv.Throttle), rule("apigateway:PutIntegration", 2, testenv.Throttle),
			rule("apigateway:CreateDeployment", 2, testenv.Throttle), rule("apigateway:UpdateStage", 2, testenv.Throttle),
			rule("apigateway:CreateApiKey", 2, testenv.Throttle), rule("apigateway:CreateUsagePlan", 2, testenv.Throttle),
			rule("apigateway:CreateUsagePlanKey", 2, testenv.Throttle),
		},
		teardown: []testenv.Rule{rule("apigateway:UpdateUsagePlan", 2, testenv.Throttle), rule("apigateway:DeleteUsagePlan", 2, testenv.Throttle),
			rule("apigateway:DeleteApiKey", 2, testenv.Throttle), rule("apigateway:DeleteRestApi", 2, testenv.Throttle)},
	},

	// Server errors that outlast the SDK's retries: stop, named.
	{
		name:        "500 CreateFunction",
		setup:       []testenv.Rule{rule("lambda:CreateFunction", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create function " + fFunction + ":", "StatusCode: 500"},
		setupFailed: "function",
		teardown:    []testenv.Rule{rule("lambda:DeleteFunction", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete function " + fFunction + ":", "StatusCode: 500"}, teardownFailed: "function",
	},
	{
		name:     "500 CreateFunction once (SDK retry)",
		setup:    []testenv.Rule{rule("lambda:CreateFunction", 1, testenv.ServerError)},
		teardown: []testenv.Rule{rule("lambda:DeleteFunction", 1, testenv.ServerError)},
	},
	{
		name:        "500 CreateRole",
		auth:        "none",
		setup:       []testenv.Rule{rule("iam:CreateRole", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create role " + fRole + ":", "StatusCode: 500"},
		setupFailed: "iam-role",
		teardown:    []testenv.Rule{rule("iam:DeleteRole", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete role " + fRole + ":", "StatusCode: 500"}, teardownFailed: "iam-role",
	},
	{
		name:        "500 CreatePolicy (stack blue)",
		stack:       "blue",
		setup:       []testenv.Rule{rule("iam:CreatePolicy", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create policy " + fPolicy + ":", "StatusCode: 500"},
		setupFailed: "iam-policy",
		teardown:    []testenv.Rule{rule("iam:DeletePolicy", 1, testenv.ResetAfter)},
	},
	{
		name:        "500 CreateTable",
		setup:       []testenv.Rule{rule("dynamodb:CreateTable", ddbAttempts, testenv.ServerError)},
		setupErr:    []string{"create table " + fTable + ":", "StatusCode: 500"},
		setupFailed: "table",
		teardown:    []testenv.Rule{rule("dynamodb:DeleteTable", ddbAttempts, testenv.ServerError)},
		teardownErr: []string{"delete table " + fTable + ":", "StatusCode: 500"}, teardownFailed: "table",
	},
	{
		name:        "500 CreateResource",
		auth:        "apikey",
		setup:       []testenv.Rule{rule("apigateway:CreateResource", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create resource /DynamoDBManager:", "StatusCode: 500"},
		setupFailed: "api-resource",
		teardown:    []testenv.Rule{rule("apigateway:DeleteRestApi", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete REST API ", "StatusCode: 500"}, teardownFailed: "rest-api",
	},
	{
		name:        "500 UpdateStage (stage throttling)",
		setup:       []testenv.Rule{rule("apigateway:UpdateStage", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"update throttling of stage prod:", "StatusCode: 500"},
		setupFailed: "api-stage",
		rerun:       []string{"api-stage updated"},
		teardown:    []testenv.Rule{rule("iam:DetachRolePolicy", 1, testenv.ResetAfter)},
	},
	{
		name:         "500 DescribeTable: nothing changed",
		setup:        []testenv.Rule{rule("dynamodb:DescribeTable", ddbAttempts, testenv.ServerError)},
		setupErr:     []string{"describe table " + fTable + ":", "StatusCode: 500"},
		setupNothing: true,
		teardown:     []testenv.Rule{rule("iam:ListRolePolicies", sdkAttempts, testenv.ServerError)},
		teardownErr:  []string{"list role policies " + fRole + ":", "StatusCode: 500"}, teardownFailed: "iam-role",
	},
	{
		name:         "500 GetCallerIdentity: nothing changed",
		auth:         "apikey",
		setup:        []testenv.Rule{rule("sts:GetCallerIdentity", sdkAttempts, testenv.ServerError)},
		setupErr:     []string{"get caller identity:", "StatusCode: 500"},
		setupNothing: true,
		teardown:     []testenv.Rule{rule("apigateway:DeleteApiKey", 1, testenv.ResetAfter)},
	},
	{
		name:        "500 Scan in the teardown plan",
		teardown:    []testenv.Rule{rule("dynamodb:Scan", ddbAttempts, testenv.ServerError)},
		teardownErr: []string{"scan table " + fTable + ":", "StatusCode: 500"},
	},
	{
		name:        "500 CreateDeployment",
		auth:        "none",
		setup:       []testenv.Rule{rule("apigateway:CreateDeployment", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create deployment on stage prod:", "StatusCode: 500"},
		setupFailed: "api-deployment",
		teardown:    []testenv.Rule{rule("logs:DeleteLogGroup", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete log group " + fLogGroup + ":", "StatusCode: 500"}, teardownFailed: "log-group",
	},
	{
		name:        "500 AddPermission",
		setup:       []testenv.Rule{rule("lambda:AddPermission", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"add permission " + provision.PermissionStatementID + " to function " + fFunction + ":", "StatusCode: 500"},
		setupFailed: "lambda-permission",
		teardown:    []testenv.Rule{rule("iam:DetachRolePolicy", sdkAttempts, testenv.Reset)},
		teardownErr: []string{"detach policy " + fPolicy + " from role " + fRole + ":"}, teardownFailed: "iam-role",
	},

	// Connections closed before the call reached AWS.
	{
		name:          "reset AttachRolePolicy, then teardown",
		setup:         []testenv.Rule{rule("iam:AttachRolePolicy", sdkAttempts, testenv.Reset)},
		setupErr:      []string{"attach policy " + fPolicy + " to role " + fRole + ":"},
		setupFailed:   "iam-role",
		teardownFirst: true,
		teardown:      []testenv.Rule{rule("lambda:DeleteFunction", 1, testenv.ResetAfter)},
	},
	{
		name:        "reset CreateLogGroup",
		auth:        "apikey",
		setup:       []testenv.Rule{rule("logs:CreateLogGroup", sdkAttempts, testenv.Reset)},
		setupErr:    []string{"create log group " + fLogGroup + ":"},
		setupFailed: "log-group",
		teardown:    []testenv.Rule{rule("logs:DeleteLogGroup", 1, testenv.ResetAfter)},
	},
	{
		// No SDK retry for a non-unique name: one failure stops setup.
		name:        "reset CreateRestApi once",
		auth:        "none",
		setup:       []testenv.Rule{rule("apigateway:CreateRestApi", 1, testenv.Reset)},
		setupErr:    []string{"create REST API " + fAPI + ":"},
		setupFailed: "rest-api",
		teardown:    []testenv.Rule{rule("apigateway:DeleteRestApi", 1, testenv.Reset)},
	},
	{
		// net/http retries an idempotent request once on its own.
		name:     "reset reads x2 (GetRestApis, GetFunction, DescribeTable, GetRole)",
		setup:    []testenv.Rule{rule("apigateway:GetRestApis", 2, testenv.Reset), rule("lambda:GetFunction", 2, testenv.Reset), rule("dynamodb:DescribeTable", 2, testenv.Reset), rule("iam:GetRole", 2, testenv.Reset)},
		teardown: []testenv.Rule{rule("apigateway:GetRestApis", 2, testenv.Reset), rule("iam:GetRole", 2, testenv.Reset), rule("dynamodb:Scan", 2, testenv.Reset)},
	},

	// Answers lost after the call took effect.
	{
		name:          "lost answer CreateRestApi, then teardown",
		setup:         []testenv.Rule{rule("apigateway:CreateRestApi", 1, testenv.ResetAfter)},
		setupErr:      []string{"create REST API " + fAPI + ":"},
		setupFailed:   "rest-api",
		teardownFirst: true,
		teardown:      []testenv.Rule{rule("apigateway:DeleteRestApi", 3, testenv.Throttle)},
	},
	{
		name:        "lost answer CreateFunction",
		auth:        "none",
		setup:       []testenv.Rule{rule("lambda:CreateFunction", 1, testenv.ResetAfter)},
		teardown:    []testenv.Rule{rule("lambda:DeleteFunction", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete function " + fFunction + ":"}, teardownFailed: "function",
	},
	{
		name:     "lost answer CreateTable",
		setup:    []testenv.Rule{rule("dynamodb:CreateTable", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("dynamodb:DeleteTable", 1, testenv.ResetAfter)},
	},
	{
		name:     "lost answer CreateRole",
		auth:     "apikey",
		setup:    []testenv.Rule{rule("iam:CreateRole", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("iam:DeleteRole", 1, testenv.ResetAfter)},
	},
	{
		name:     "lost answer CreatePolicy, CreateLogGroup, AttachRolePolicy",
		setup:    []testenv.Rule{rule("iam:CreatePolicy", 1, testenv.ResetAfter), rule("logs:CreateLogGroup", 1, testenv.ResetAfter), rule("iam:AttachRolePolicy", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("iam:DeletePolicy", 1, testenv.ResetAfter)},
	},
	{
		// AWS answers the SDK's retry with ResourceConflictException:
		// the policy read back holds the statement as desired.
		name:     "lost answer AddPermission",
		setup:    []testenv.Rule{rule("lambda:AddPermission", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("apigateway:DeleteRestApi", 1, testenv.ServerError)},
	},
	{
		// The retry's ConflictException is adopted.
		name:     "lost answer CreateResource",
		auth:     "none",
		setup:    []testenv.Rule{rule("apigateway:CreateResource", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("logs:DeleteLogGroup", 1, testenv.ResetAfter)},
	},
	{
		// AWS answers the SDK's retry with ConflictException: the method
		// read back has the desired authorization.
		name:     "lost answer PutMethod",
		setup:    []testenv.Rule{rule("apigateway:PutMethod", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("apigateway:DeleteRestApi", 1, testenv.ResetAfter)},
	},
	{
		name:     "lost answer PutIntegration, CreateDeployment, UpdateStage",
		auth:     "none",
		setup:    []testenv.Rule{rule("apigateway:PutIntegration", 1, testenv.ResetAfter), rule("apigateway:CreateDeployment", 1, testenv.ResetAfter), rule("apigateway:UpdateStage", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("lambda:DeleteFunction", 1, testenv.ResetAfter)},
	},
	{
		name:          "lost answer CreateApiKey, then teardown",
		auth:          "apikey",
		setup:         []testenv.Rule{rule("apigateway:CreateApiKey", 1, testenv.ResetAfter)},
		setupErr:      []string{"create API key ddbops-" + fAPI + ":"},
		setupFailed:   "api-key",
		teardownFirst: true,
		teardown:      []testenv.Rule{rule("apigateway:DeleteApiKey", sdkAttempts, testenv.ServerError)},
		teardownErr:   []string{"delete API key ddbops-" + fAPI + ":", "StatusCode: 500"}, teardownFailed: "api-key",
	},
	{
		name:        "lost answer CreateUsagePlan (stack blue)",
		auth:        "apikey",
		stack:       "blue",
		setup:       []testenv.Rule{rule("apigateway:CreateUsagePlan", 1, testenv.ResetAfter)},
		setupErr:    []string{"create usage plan blue-" + fAPI + ":"},
		setupFailed: "usage-plan",
		teardown:    []testenv.Rule{rule("apigateway:DeleteUsagePlan", 1, testenv.ResetAfter)},
	},
	{
		// The retry's ConflictException: the plan's keys read back hold
		// ours. In teardown, the retried stage removal meets
		// BadRequestException (the stage is already gone): the plan read
		// back has no stage left, and is deleted.
		name:     "lost answer CreateUsagePlanKey",
		auth:     "apikey",
		setup:    []testenv.Rule{rule("apigateway:CreateUsagePlanKey", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("apigateway:UpdateUsagePlan", 1, testenv.ResetAfter)},
	},

	// Slow answers.
	{
		name:     "slow GetFunction 1.5s",
		setup:    []testenv.Rule{slow("lambda:GetFunction", 1500*time.Millisecond)},
		teardown: []testenv.Rule{slow("lambda:GetFunction", 1500*time.Millisecond), rule("lambda:DeleteFunction", 1, testenv.ResetAfter)},
	},
	{
		name:     "slow GetRestApis 1.5s",
		auth:     "apikey",
		setup:    []testenv.Rule{slow("apigateway:GetRestApis", 1500*time.Millisecond)},
		teardown: []testenv.Rule{slow("apigateway:GetRestApis", 1500*time.Millisecond), rule("apigateway:DeleteRestApi", 2, testenv.Throttle)},
	},

	// Interrupted (Ctrl-C) right after a create or delete took effect.
	{
		name:              "interrupt after CreateRestApi and DeleteRestApi",
		interrupt:         "apigateway:CreateRestApi",
		interruptTeardown: "apigateway:DeleteRestApi",
	},
	{
		name:              "interrupt after CreateFunction and DeleteLogGroup",
		auth:              "apikey",
		interrupt:         "lambda:CreateFunction",
		interruptTeardown: "logs:DeleteLogGroup",
	},

	// An existing stack converged under faults (auth switches).
	{
		name:        "iam to apikey, lost answer CreateUsagePlan",
		prepare:     "iam",
		auth:        "apikey",
		setup:       []testenv.Rule{rule("apigateway:CreateUsagePlan", 1, testenv.ResetAfter)},
		setupErr:    []string{"create usage plan ddbops-" + fAPI + ":"},
		setupFailed: "usage-plan",
		teardown:    []testenv.Rule{rule("iam:DeleteRole", sdkAttempts, testenv.ServerError)},
		teardownErr: []string{"delete role " + fRole + ":"}, teardownFailed: "iam-role",
	},
	{
		name:        "apikey to iam, 500 PutMethod",
		prepare:     "apikey",
		auth:        "iam",
		setup:       []testenv.Rule{rule("apigateway:PutMethod", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"put method POST /DynamoDBManager:", "StatusCode: 500"},
		setupFailed: "api-method",
		teardown:    []testenv.Rule{rule("dynamodb:DeleteTable", ddbAttempts, testenv.ServerError)},
		teardownErr: []string{"delete table " + fTable + ":"}, teardownFailed: "table",
	},
	{
		// The stopped run changed the method; the re-run still owes the
		// stage a deployment (state's pending-deployment mark).
		name:        "iam to none, 500 CreateDeployment",
		prepare:     "iam",
		auth:        "none",
		setup:       []testenv.Rule{rule("apigateway:CreateDeployment", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"create deployment on stage prod:", "StatusCode: 500"},
		setupFailed: "api-deployment",
		rerun:       []string{"api-deployment created"},
		teardown:    []testenv.Rule{rule("lambda:DeleteFunction", sdkAttempts, testenv.Reset)},
		teardownErr: []string{"delete function " + fFunction + ":"}, teardownFailed: "function",
	},
	{
		// Removing the usage plan: the retried stage removal meets
		// BadRequestException and the retried delete NotFoundException;
		// the plan read back is detached, then gone.
		name:     "apikey to iam, lost answers UpdateUsagePlan and DeleteUsagePlan",
		prepare:  "apikey",
		auth:     "iam",
		setup:    []testenv.Rule{rule("apigateway:UpdateUsagePlan", 1, testenv.ResetAfter), rule("apigateway:DeleteUsagePlan", 1, testenv.ResetAfter)},
		teardown: []testenv.Rule{rule("lambda:DeleteFunction", 1, testenv.ResetAfter)},
	},
	{
		name:        "apikey to none, 500 DeleteUsagePlan",
		prepare:     "apikey",
		auth:        "none",
		setup:       []testenv.Rule{rule("apigateway:DeleteUsagePlan", sdkAttempts, testenv.ServerError)},
		setupErr:    []string{"delete usage plan ddbops-" + fAPI + ":", "StatusCode: 500"},
		setupFailed: "usage-plan",
		teardown:    []testenv.Rule{rule("apigateway:DeleteRestApi", 1, testenv.ResetAfter)},
	},
}

// TestProvisionFaultScenariosOnMoto runs each scenario against its own
// fault proxy in front of a moto server taken from a small pool (one per
// parallel subtest, reset before use), with startAWSParity between the two
// so retried calls meet AWS's answers: faulted setup, clean re-run that
// converges to exactly one of everything, tagged, a third run without a
// mutating call, faulted teardown, clean teardown to nothing, and a last
// teardown that finds nothing. Resources are counted straight from moto.
func TestProvisionFaultScenariosOnMoto(t *testing.T) {
	n := min(runtime.GOMAXPROCS(0), 2, len(faultScenarios))
	pool := make(chan *testenv.Moto, n)
	for range n {
		pool <- testenv.StartMoto(t)
	}
	// newProvEnv isolates the AWS and ddbops environment of the process
	// (t.Setenv, so here in the serial parent, and after moto started: it
	// must not inherit the empty AWS_PROFILE); the parallel subtests share
	// it, each with its own config, state file and proxy.
	base := newProvEnv(t, "", aws.Config{})
	for _, sc := range faultScenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.bug != "" && os.Getenv("DDBOPS_FAULT_BUGS") != "1" {
				t.Skip("BUG: " + sc.bug + " (DDBOPS_FAULT_BUGS=1 runs it)")
			}
			t.Parallel()
			m := <-pool
			defer func() { pool <- m }()
			m.Reset(t)
			runFaultScenario(t, m, base, sc)
		})
	}
}

func runFaultScenario(t *testing.T, m *testenv.Moto, base *provEnv, sc faultScenario) {
	dir := t.TempDir()
	parity := startAWSParity(t, m.URL)
	proxy := testenv.NewFaultProxy(t, parity.URL)
	stack, auth := orDefault(sc.stack, "ddbops"), orDefault(sc.auth, wire.AuthIAM)
	// Each stack keeps its own state file: the scenario's stack's.
	e := &provEnv{t: t, endpoint: proxy.URL, cfg: m.AWSConfig(t), config: filepath.Join(dir, "ddbops.yaml"),
		state: filepath.Join(dir, ".ddbops", "stacks", stack, "state.json"), zip: base.zip}
	if err := os.WriteFile(e.config, []byte("state-dir: "+filepath.Join(dir, ".ddbops")+"\niam-propagation-timeout: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := func(name string, extra ...string) []string {
		return append([]string{name, "--stack", stack}, extra...)
	}
	setup := func(auth string) []string { return cmd("setup", "--handler-zip", e.zip, "--auth", auth, "--yes") }
	var res provision.Report
	// run decodes each command's document into a fresh res: fields a
	// document omits must not survive from the previous one.
	run := func(args ...string) (int, string) {
		res = provision.Report{}
		return e.runJSON(&res, args...)
	}
	// runInterrupted runs args, cancelling the command's context right
	// after the call of op took effect.
	runInterrupted := func(op string, args ...string) (int, string) {
		res = provision.Report{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		parity.interruptAfter(op, cancel)
		defer parity.interruptAfter("", nil)
		ios, out, errOut := testIO()
		code := Execute(ctx, ios, append([]string{"--config", e.config, "--endpoint-url", e.endpoint}, append(args, "-o", "json")...))
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("ddbops %v interrupted: exit %d, stdout is not one JSON document: %v\nstdout: %s\nstderr: %s", args, code, err, out, errOut)
		}
		return code, errOut.String()
	}

	if sc.prepare != "" {
		if code, stderr := run(setup(sc.prepare)...); code != 0 {
			t.Fatalf("prepare: setup --auth %s: exit %d %s\n%s", sc.prepare, code, res.Error, stderr)
		}
	}

	// 1. Setup with the fault: converges, or stops naming the step.
	injected := len(proxy.Injected())
	proxy.SetRules(sc.setup...)
	var code int
	var stderr string
	if sc.interrupt != "" {
		code, stderr = runInterrupted(sc.interrupt, setup(auth)...)
		checkInterrupted(t, "setup", sc.interrupt, code, res, stderr)
	} else {
		code, stderr = run(setup(auth)...)
	}
	proxy.SetRules()
	checkInjected(t, "setup", proxy.Injected()[injected:], sc.setup)
	checkThrottleWarned(t, "setup", stderr, sc.setup)
	if sc.interrupt == "" {
		checkOutcome(t, "setup", code, res, stderr, sc.setupErr, sc.setupFailed)
	}
	// Even a stopped setup leaves only tagged resources, no twin, and a
	// state file naming only what exists.
	inv := takeInventory(t, e.cfg, stack)
	for _, p := range inv.problems {
		t.Errorf("after the faulted setup: %s", p)
	}
	for kind, n := range inv.counts {
		if n > 1 || sc.setupNothing && n > 0 && sc.prepare == "" {
			t.Errorf("after the faulted setup: %d of %s", n, kind)
		}
	}
	if sc.setupNothing && res.APICalls.Mutating != 0 {
		t.Errorf("the faulted setup made %d mutating calls, want none", res.APICalls.Mutating)
	}
	checkStateIDs(t, e.cfg, e.state)

	if sc.teardownFirst {
		if code, stderr := run(cmd("teardown", "--yes", "--delete-data")...); code != 0 {
			t.Fatalf("teardown of the partial stack: exit %d %s\n%s", code, res.Error, stderr)
		}
		for kind, n := range takeInventory(t, e.cfg, stack).counts {
			if n != 0 {
				t.Errorf("after tearing down the partial stack: %d %s left", n, kind)
			}
		}
	}

	// 2. A clean re-run converges to exactly one of everything.
	code, stderr = run(setup(auth)...)
	if code != 0 || res.Error != "" {
		t.Fatalf("re-run setup: exit %d %s\n%s", code, res.Error, stderr)
	}
	var did []string
	for _, c := range res.Changes {
		did = append(did, c.Resource+" "+c.Action)
	}
	for _, w := range sc.rerun {
		if !slices.Contains(did, w) {
			t.Errorf("re-run: %q not among %v", w, did)
		}
	}
	inv = takeInventory(t, e.cfg, stack)
	inv.checkComplete(t, auth)
	apiID := checkWiring(t, e.cfg, stack, auth)
	if st, err := provision.LoadState(e.state); err != nil || st.RestAPIID != apiID || st.InvokeURL != res.InvokeURL || st.Auth != auth || st.PendingDeployment {
		t.Errorf("state after the re-run: %+v, %v (REST API %s, invoke URL %s)", st, err, apiID, res.InvokeURL)
	}
	var status provision.StatusDoc
	if code, _ := e.runJSON(&status, cmd("status", "--exit-code")...); code != 0 || !status.OK {
		t.Errorf("status --exit-code after the re-run: exit %d %+v", code, status.Rows)
	}

	// 3. A third run changes nothing, by ddbops' count and by the wire's.
	seen := len(proxy.Calls())
	code, stderr = run(setup(auth)...)
	if code != 0 || res.APICalls.Mutating != 0 {
		t.Errorf("third setup: exit %d, calls %+v %s\n%s", code, res.APICalls, res.Error, stderr)
	}
	for _, c := range res.Changes {
		if c.Action != string(provision.Unchanged) {
			t.Errorf("third setup: %s %s %s %v", c.Resource, c.Name, c.Action, c.Diffs)
		}
	}
	for _, op := range proxy.Calls()[seen:] {
		if _, name, _ := strings.Cut(op, ":"); provision.IsMutating(name) {
			t.Errorf("third setup sent mutating call %s", op)
		}
	}

	// 4. Teardown with the fault, of a table holding an item.
	if _, err := dynamodb.NewFromConfig(e.cfg).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(fTable),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	teardown := cmd("teardown", "--yes", "--delete-data")
	injected = len(proxy.Injected())
	proxy.SetRules(sc.teardown...)
	if sc.interruptTeardown != "" {
		code, stderr = runInterrupted(sc.interruptTeardown, teardown...)
		checkInterrupted(t, "teardown", sc.interruptTeardown, code, res, stderr)
	} else {
		code, stderr = run(teardown...)
	}
	proxy.SetRules()
	checkInjected(t, "teardown", proxy.Injected()[injected:], sc.teardown)
	checkThrottleWarned(t, "teardown", stderr, sc.teardown)
	if sc.interruptTeardown == "" {
		checkOutcome(t, "teardown", code, res, stderr, sc.teardownErr, sc.teardownFailed)
	}
	for _, p := range takeInventory(t, e.cfg, stack).problems {
		t.Errorf("after the faulted teardown: %s", p)
	}
	if sc.teardownErr != nil || sc.interruptTeardown != "" {
		if code, stderr = run(teardown...); code != 0 {
			t.Fatalf("teardown re-run: exit %d %s\n%s", code, res.Error, stderr)
		}
	}
	inv = takeInventory(t, e.cfg, stack)
	for kind, n := range inv.counts {
		if n != 0 {
			t.Errorf("after teardown: %d %s left", n, kind)
		}
	}
	if _, err := os.Stat(e.state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left after teardown: %v", err)
	}
	code, stderr = run(teardown...)
	if code != 0 || res.APICalls.Mutating != 0 {
		t.Errorf("last teardown: exit %d, calls %+v %s\n%s", code, res.APICalls, res.Error, stderr)
	}
}

// checkStateIDs wants every API Gateway id the state file records (the
// ones that matter: those names are not unique) to exist in moto.
func checkStateIDs(t *testing.T, cfg aws.Config, path string) {
	t.Helper()
	st, err := provision.LoadState(path)
	if errors.Is(err, provision.ErrNoState) {
		return
	}
	if err != nil {
		t.Errorf("state file after the faulted setup: %v", err)
		return
	}
	ctx, agw := context.Background(), apigateway.NewFromConfig(cfg)
	if st.RestAPIID != "" {
		if _, err := agw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(st.RestAPIID)}); err != nil {
			t.Errorf("state names REST API %s: %v", st.RestAPIID, err)
		}
	}
	if st.APIKeyID != "" {
		if _, err := agw.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(st.APIKeyID)}); err != nil {
			t.Errorf("state names API key %s: %v", st.APIKeyID, err)
		}
	}
	if st.UsagePlanID != "" {
		if _, err := agw.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String(st.UsagePlanID)}); err != nil {
			t.Errorf("state names usage plan %s: %v", st.UsagePlanID, err)
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkInjected fails the test when a rule never fired: a misspelt
// operation would otherwise pass as "converged".
func checkInjected(t *testing.T, what string, got []string, rules []testenv.Rule) {
	t.Helper()
	for _, r := range rules {
		if want := r.Op + ":" + r.Fault.String(); !slices.Contains(got, want) {
			t.Errorf("%s: fault %s was never injected (injected: %v)", what, want, got)
		}
	}
}

// checkThrottleWarned wants each API Gateway throttle the paced retry
// absorbed to be said on stderr, so a slow run is explained.
func checkThrottleWarned(t *testing.T, what, stderr string, rules []testenv.Rule) {
	t.Helper()
	for _, r := range rules {
		svc, op, _ := strings.Cut(r.Op, ":")
		if r.Fault != testenv.Throttle || svc != "apigateway" {
			continue
		}
		if want := "warning: API Gateway " + op + " throttled, retrying in "; !strings.Contains(stderr, want) {
			t.Errorf("%s: no %q on stderr:\n%s", what, want, stderr)
		}
	}
}

// checkOutcome checks a command run with faults: exit 0 when wantErr is
// nil; otherwise exit 1, with the JSON document's error, printed on stderr
// as one line, naming the operation and resource, and the step reported
// failed.
func checkOutcome(t *testing.T, what string, code int, res provision.Report, stderr string, wantErr []string, failedKind string) {
	t.Helper()
	if wantErr == nil {
		if code != 0 || res.Error != "" {
			t.Fatalf("%s with the fault should converge: exit %d %s\n%s", what, code, res.Error, stderr)
		}
		return
	}
	if code != 1 || res.Error == "" {
		t.Fatalf("%s with the fault: exit %d (want 1) error %q\n%s", what, code, res.Error, stderr)
	}
	line := strings.Join(strings.Fields(res.Error), " ")
	for _, w := range wantErr {
		if !strings.Contains(line, w) {
			t.Errorf("%s error %q does not name %q", what, line, w)
		}
	}
	if !slices.Contains(strings.Split(stderr, "\n"), line) {
		t.Errorf("%s error is not one line on stderr:\n%s", what, stderr)
	}
	if failedKind == "" {
		return
	}
	var failed []string
	for _, c := range res.Changes {
		if c.Action == string(provision.Failed) {
			failed = append(failed, c.Resource)
		}
	}
	if !slices.Contains(failed, failedKind) {
		t.Errorf("%s: failed steps %v, want %s among them", what, failed, failedKind)
	}
	t.Logf("%s stopped as expected: %s", what, line)
}

// interruptedSteps are the steps an interrupted command may name for the
// operation whose answer it did not wait for: the step that made the call,
// or the one right after it when the cancellation reached the command only
// once the answer had arrived (the proxy cancels as the call takes effect,
// and the client races it).
var interruptedSteps = map[string][]string{
	"apigateway:CreateRestApi": {"create REST API " + fAPI, "resource /"},
	"apigateway:DeleteRestApi": {"delete REST API ", "function " + fFunction},
	"lambda:CreateFunction":    {"function " + fFunction},
	"logs:DeleteLogGroup":      {"log group " + fLogGroup, "role "},
}

// checkInterrupted checks a command interrupted after the call op took
// effect: exit 130, and the interruption said once, in one line naming the
// step that was running.
func checkInterrupted(t *testing.T, what, op string, code int, res provision.Report, stderr string) {
	t.Helper()
	line := strings.Join(strings.Fields(res.Error), " ")
	if code != cmdutil.ExitInterrupt || !strings.HasPrefix(line, what+" interrupted during ") || !strings.HasSuffix(line, ": context canceled") ||
		strings.Count(line, "context canceled") != 1 || !slices.ContainsFunc(interruptedSteps[op], func(s string) bool { return strings.Contains(line, s) }) {
		t.Fatalf("interrupted %s: exit %d (want %d) error %q (want %q naming one of %q)\n%s", what, code, cmdutil.ExitInterrupt, res.Error,
			what+" interrupted during …: context canceled", interruptedSteps[op], stderr)
	}
	if !slices.Contains(strings.Split(stderr, "\n"), line) {
		t.Errorf("interrupted %s: error is not one line on stderr:\n%s", what, stderr)
	}
	t.Logf("%s interrupted as expected: %s", what, line)
}

// inventory is everything moto holds, counted by kind, with what is not
// tagged for the stack.
type inventory struct {
	counts   map[string]int
	problems []string
}

// takeInventory lists every resource of the kinds a stack has, straight
// from moto (not through the proxy). moto holds nothing else: anything
// found must carry ddbops:stack=<stack>.
func takeInventory(t *testing.T, cfg aws.Config, stack string) inventory {
	t.Helper()
	ctx := context.Background()
	inv := inventory{counts: map[string]int{}}
	add := func(kind, name string, tags map[string]string) {
		inv.counts[kind]++
		if tags[provision.TagKey] != stack {
			inv.problems = append(inv.problems, fmt.Sprintf("%s %s is not tagged %s=%s (tags %v)", kind, name, provision.TagKey, stack, tags))
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("inventory: %v", err)
		}
	}

	agw := apigateway.NewFromConfig(cfg)
	apis, err := agw.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	must(err)
	for _, a := range apis.Items {
		add("rest-api", aws.ToString(a.Name)+" "+aws.ToString(a.Id), a.Tags)
	}
	keys, err := agw.GetApiKeys(ctx, &apigateway.GetApiKeysInput{Limit: aws.Int32(500)})
	must(err)
	for _, k := range keys.Items {
		add("api-key", aws.ToString(k.Name), k.Tags)
	}
	plans, err := agw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(500)})
	must(err)
	for _, p := range plans.Items {
		add("usage-plan", aws.ToString(p.Name), p.Tags)
		pk, err := agw.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: p.Id})
		must(err)
		inv.counts["usage-plan-key"] += len(pk.Items)
	}

	lam := lambda.NewFromConfig(cfg)
	fns, err := lam.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	must(err)
	for _, f := range fns.Functions {
		fn, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: f.FunctionName})
		must(err)
		add("function", aws.ToString(f.FunctionName), fn.Tags)
		pol, err := lam.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: f.FunctionName})
		var nf *lambdatypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue
		}
		must(err)
		var doc struct{ Statement []struct{ Sid string } }
		must(json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc))
		for _, s := range doc.Statement {
			inv.counts["lambda-permission"]++
			if s.Sid != provision.PermissionStatementID {
				inv.problems = append(inv.problems, "unexpected permission statement "+s.Sid)
			}
		}
	}

	ic := iam.NewFromConfig(cfg)
	roles, err := ic.ListRoles(ctx, &iam.ListRolesInput{})
	must(err)
	for _, r := range roles.Roles {
		got, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})
		must(err)
		add("iam-role", aws.ToString(r.RoleName), iamTagMap(got.Role.Tags))
		att, err := ic.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
		must(err)
		inv.counts["attached-policy"] += len(att.AttachedPolicies)
	}
	pols, err := ic.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	must(err)
	for _, p := range pols.Policies {
		tags, err := ic.ListPolicyTags(ctx, &iam.ListPolicyTagsInput{PolicyArn: p.Arn})
		must(err)
		add("iam-policy", aws.ToString(p.PolicyName), iamTagMap(tags.Tags))
	}

	logs := cloudwatchlogs.NewFromConfig(cfg)
	lgs, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	must(err)
	for _, g := range lgs.LogGroups {
		name := aws.ToString(g.LogGroupName)
		tags, err := logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:" + fAcct + ":log-group:" + name)})
		must(err)
		add("log-group", name, tags.Tags)
	}

	ddb := dynamodb.NewFromConfig(cfg)
	tables, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{})
	must(err)
	for _, name := range tables.TableNames {
		tags, err := ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:" + fAcct + ":table/" + name)})
		must(err)
		m := map[string]string{}
		for _, tg := range tags.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		add("table", name, m)
	}
	return inv
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// checkComplete wants exactly one of everything the auth mode needs, all
// tagged, and nothing else.
func (inv inventory) checkComplete(t *testing.T, auth string) {
	t.Helper()
	keyed := 0
	if auth == wire.AuthAPIKey {
		keyed = 1
	}
	want := map[string]int{
		"rest-api": 1, "function": 1, "lambda-permission": 1, "iam-role": 1, "attached-policy": 1, "iam-policy": 1,
		"log-group": 1, "table": 1, "api-key": keyed, "usage-plan": keyed, "usage-plan-key": keyed,
	}
	for kind, n := range want {
		if inv.counts[kind] != n {
			t.Errorf("after the re-run: %d %s, want %d", inv.counts[kind], kind, n)
		}
	}
	for _, p := range inv.problems {
		t.Errorf("after the re-run: %s", p)
	}
}

// checkWiring verifies that the one REST API is wired as docs/provisioning.md says
// for the auth mode and returns its id.
func checkWiring(t *testing.T, cfg aws.Config, stack, auth string) string {
	t.Helper()
	ctx := context.Background()
	agw, lam := apigateway.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	apis, err := agw.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(apis.Items) != 1 {
		t.Fatalf("REST APIs %+v %v", apis, err)
	}
	id := aws.ToString(apis.Items[0].Id)
	rs, err := agw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var resIDs []string
	for _, r := range rs.Items {
		if aws.ToString(r.Path) == "/DynamoDBManager" {
			resIDs = append(resIDs, aws.ToString(r.Id))
		}
	}
	if len(resIDs) != 1 {
		t.Fatalf("resources /DynamoDBManager: %v", resIDs)
	}
	wantType, wantKey := "AWS_IAM", false
	switch auth {
	case wire.AuthAPIKey:
		wantType, wantKey = "NONE", true
	case wire.AuthNone:
		wantType = "NONE"
	}
	m, err := agw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(id), ResourceId: aws.String(resIDs[0]), HttpMethod: aws.String("POST")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.AuthorizationType) != wantType || aws.ToBool(m.ApiKeyRequired) != wantKey {
		t.Errorf("method %s apiKeyRequired %v, want %s %v", aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired), wantType, wantKey)
	}
	in, err := agw.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: aws.String(id), ResourceId: aws.String(resIDs[0]), HttpMethod: aws.String("POST")})
	if err != nil {
		t.Fatal(err)
	}
	fnARN := "arn:aws:lambda:us-east-1:" + fAcct + ":function:" + fFunction
	if uri := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fnARN + "/invocations"; string(in.Type) != "AWS_PROXY" || aws.ToString(in.Uri) != uri {
		t.Errorf("integration %s %s", in.Type, aws.ToString(in.Uri))
	}
	pol, err := lam.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fFunction)})
	if err != nil {
		t.Fatal(err)
	}
	if src := "arn:aws:execute-api:us-east-1:" + fAcct + ":" + id + "/prod/POST/DynamoDBManager"; !strings.Contains(aws.ToString(pol.Policy), `"`+src+`"`) {
		t.Errorf("invoke permission %s lacks source ARN %s", aws.ToString(pol.Policy), src)
	}
	st, err := agw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(id), StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if ms := st.MethodSettings["*/*"]; ms.ThrottlingRateLimit != 100 || ms.ThrottlingBurstLimit != 200 {
		t.Errorf("stage throttling %+v", ms)
	}
	if auth == wire.AuthAPIKey {
		plans, err := agw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
		if err != nil || len(plans.Items) != 1 {
			t.Fatalf("usage plans %+v %v", plans, err)
		}
		if s := plans.Items[0].ApiStages; len(s) != 1 || aws.ToString(s[0].ApiId) != id || aws.ToString(s[0].Stage) != "prod" {
			t.Errorf("usage plan stages %+v, want %s:prod", s, id)
		}
		if n := aws.ToString(plans.Items[0].Name); n != stack+"-"+fAPI {
			t.Errorf("usage plan name %s", n)
		}
	}
	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(fRole)})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fFunction)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(fn.Configuration.Role) != aws.ToString(role.Role.Arn) {
		t.Errorf("function role %s, want %s", aws.ToString(fn.Configuration.Role), aws.ToString(role.Role.Arn))
	}
	return id
}

// startAWSParity starts a reverse proxy to moto that answers as AWS does
// where moto 5.2 does not, in the cases a retried call meets after a lost
// answer (the SDK retries a call whose connection closed): moto accepts a
// duplicate statement id, resource path part, method or usage plan key,
// and answers 500 to deleting a REST API or usage plan that does not exist
// or to removing a stage a usage plan does not have. AWS answers 409, 404
// and 400 (the codes and messages below). Each rule reads moto's state
// first (a GET with the caller's headers) and otherwise forwards the call.
// It sits behind the fault proxy, so the proxy's Calls() stay the wire's.
func startAWSParity(t *testing.T, motoURL string) *awsParity {
	t.Helper()
	u, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	a := &awsParity{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if status, code, msg := awsOnlyAnswer(r, body, motoURL); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", code)
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
			return
		}
		if interrupt := a.take(testenv.Operation(r, body)); interrupt != nil {
			// The call takes effect in full, then the caller is
			// interrupted before the answer reaches it.
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
			interrupt()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// awsParity is the proxy startAWSParity runs.
type awsParity struct {
	URL string

	mu          sync.Mutex
	interruptOp string
	interrupt   func()
}

// interruptAfter makes the next call of op call interrupt once the call
// took effect and before its answer is relayed.
func (a *awsParity) interruptAfter(op string, interrupt func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.interruptOp, a.interrupt = op, interrupt
}

func (a *awsParity) take(op string) func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.interrupt == nil || op != a.interruptOp {
		return nil
	}
	f := a.interrupt
	a.interrupt = nil
	return f
}

// awsOnlyAnswer returns the error AWS would answer r with where moto
// would not, or status 0 to forward r.
func awsOnlyAnswer(r *http.Request, body []byte, motoURL string) (status int, code, msg string) {
	path := r.URL.EscapedPath()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	get := func(p string, v any) int {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, motoURL+p, nil)
		if err != nil {
			return 0
		}
		// moto tells the service from the credential scope.
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			req.Header.Set(h, r.Header.Get(h))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK && v != nil {
			if json.NewDecoder(resp.Body).Decode(v) != nil {
				return 0
			}
		}
		return resp.StatusCode
	}
	type item struct {
		ID       string `json:"id"`
		ParentID string `json:"parentId"`
		PathPart string `json:"pathPart"`
	}
	switch testenv.Operation(r, body) {
	case "lambda:AddPermission": // POST /2015-03-31/functions/{fn}/policy
		var in struct{ StatementId string }
		var out struct{ Policy string }
		var doc struct{ Statement []struct{ Sid string } }
		if json.Unmarshal(body, &in) == nil && get(path, &out) == http.StatusOK && json.Unmarshal([]byte(out.Policy), &doc) == nil {
			for _, st := range doc.Statement {
				if st.Sid == in.StatementId {
					return http.StatusConflict, "ResourceConflictException",
						fmt.Sprintf("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", in.StatementId)
				}
			}
		}
	case "apigateway:CreateResource": // POST /restapis/{api}/resources/{parent}
		var in struct {
			PathPart string `json:"pathPart"`
		}
		var out struct{ Item []item }
		if len(parts) == 4 && json.Unmarshal(body, &in) == nil && get("/restapis/"+parts[1]+"/resources?limit=500", &out) == http.StatusOK {
			for _, it := range out.Item {
				if it.ParentID == parts[3] && it.PathPart == in.PathPart {
					return http.StatusConflict, "ConflictException", "Another resource with the same parent already has this name: " + in.PathPart
				}
			}
		}
	case "apigateway:PutMethod": // PUT /restapis/{api}/resources/{id}/methods/{method}
		if get(path, nil) == http.StatusOK {
			return http.StatusConflict, "ConflictException", "Method already exists for this resource"
		}
	case "apigateway:CreateUsagePlanKey": // POST /usageplans/{id}/keys
		var in struct {
			KeyID string `json:"keyId"`
		}
		var out struct{ Item []item }
		if json.Unmarshal(body, &in) == nil && get(path, &out) == http.StatusOK {
			for _, it := range out.Item {
				if it.ID == in.KeyID {
					return http.StatusConflict, "ConflictException", "Usage Plan " + parts[1] + " cannot be added because API Key " + in.KeyID + " cannot reference multiple Usage Plans with the same API Stage"
				}
			}
		}
	case "apigateway:DeleteRestApi":
		if get(path, nil) == http.StatusNotFound {
			return http.StatusNotFound, "NotFoundException", "Invalid API identifier specified"
		}
	case "apigateway:DeleteUsagePlan":
		if get(path, nil) == http.StatusNotFound {
			return http.StatusNotFound, "NotFoundException", "Invalid Usage Plan ID specified"
		}
	case "apigateway:UpdateUsagePlan": // PATCH /usageplans/{id}
		var in struct {
			PatchOperations []struct{ Op, Path, Value string } `json:"patchOperations"`
		}
		type apiStage struct {
			APIID string `json:"apiId"`
			Stage string `json:"stage"`
		}
		var out struct {
			APIStages []apiStage `json:"apiStages"`
		}
		if json.Unmarshal(body, &in) != nil || get(path, &out) != http.StatusOK {
			break
		}
		for _, op := range in.PatchOperations {
			if op.Op != "remove" || op.Path != "/apiStages" {
				continue
			}
			api, stage, _ := strings.Cut(op.Value, ":")
			if !slices.Contains(out.APIStages, apiStage{api, stage}) {
				return http.StatusBadRequest, "BadRequestException", fmt.Sprintf("Invalid API Stage {api: %s, stage: %s} specified for usageplan %s", api, stage, parts[1])
			}
		}
	}
	return 0, "", ""
}
