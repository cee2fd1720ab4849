package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/ddbops/ddbops/internal/wire"
)

func testSpec() Spec {
	return Spec{
		Stack: "ddbops", Region: "us-east-1",
		Table: "lambda-apigateway", Function: "LambdaFunctionOverHttps", Role: "lambda-apigateway-role",
		Policy: "lambda-apigateway-dynamodb-policy", API: "DynamoDBOperations", Resource: "DynamoDBManager", Stage: "prod",
		Memory: 128, Timeout: 10, Arch: "arm64", Auth: wire.AuthIAM, ThrottleRate: 100, ThrottleBurst: 200, LogRetention: 14,
		IAMPropagationTimeout: 3 * time.Minute,
	}
}

// testReporter records progress.
type testReporter struct {
	mu    sync.Mutex
	done  []Change
	warns []string
}

func (r *testReporter) StepStarted(string, string) {}
func (r *testReporter) StepDone(c Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = append(r.done, c)
}
func (r *testReporter) Warn(m string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warns = append(r.warns, m)
}

type harness struct {
	t         *testing.T
	f         *fakeAWS
	clock     *fakeClock
	rep       *testReporter
	statePath string
	zip       []byte
	zipCalls  int
	mu        sync.Mutex
	// wrap, when set, wraps the fake's clients (lost answers).
	wrap func(Clients) Clients
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, f: newFakeAWS(), clock: newFakeClock(), rep: &testReporter{},
		statePath: filepath.Join(t.TempDir(), ".ddbops", "state.json"), zip: testZip(t, "v1")}
}

func (h *harness) prov(spec Spec) *Provisioner {
	h.t.Helper()
	clients := h.f.clients()
	if h.wrap != nil {
		clients = h.wrap(clients)
	}
	p, err := New(Options{
		Spec: spec, Clients: clients, StatePath: h.statePath, Reporter: h.rep, Clock: h.clock,
		Rand: func() float64 { return 1 },
		Code: func(ctx context.Context, arch string) ([]byte, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.zipCalls++
			return h.zip, nil
		},
		WaiterMinDelay: time.Millisecond, WaiterMaxDelay: 2 * time.Millisecond,
	})
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	return p
}

func (h *harness) setup(spec Spec, opts SetupOptions) (*Result, error) {
	h.t.Helper()
	return h.prov(spec).Setup(context.Background(), opts)
}

func (h *harness) mustSetup(spec Spec) *Result {
	h.t.Helper()
	res, err := h.setup(spec, SetupOptions{})
	if err != nil {
		h.t.Fatalf("setup: %v", err)
	}
	return res
}

func actions(cs []Change) map[string]Action {
	m := map[string]Action{}
	for _, c := range cs {
		m[c.Kind] = c.Action
	}
	return m
}

func TestSetupCreatesTheStackOfDesign4(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	res := h.mustSetup(spec)

	for kind, a := range actions(res.Changes) {
		if a != Created {
			t.Errorf("%s: %s, want created", kind, a)
		}
	}
	f := h.f
	acct := "123456789012"
	tableARN := "arn:aws:dynamodb:us-east-1:" + acct + ":table/lambda-apigateway"
	logARN := "arn:aws:logs:us-east-1:" + acct + ":log-group:/aws/lambda/LambdaFunctionOverHttps:*"

	tbl := f.tables["lambda-apigateway"]
	if tbl == nil || tbl.tags[TagKey] != "ddbops" || tbl.desc.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest || !tableKeyOK(&tbl.desc) {
		t.Fatalf("table = %+v", tbl)
	}
	pol := f.policies["arn:aws:iam::"+acct+":policy/lambda-apigateway-dynamodb-policy"]
	if pol == nil || pol.tags[TagKey] != "ddbops" {
		t.Fatalf("policy = %+v", pol)
	}
	doc, _ := url.QueryUnescape(aws.ToString(pol.versions[0].Document))
	grants, err := policyGrants(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dynamodb:DeleteItem on " + tableARN, "dynamodb:GetItem on " + tableARN, "dynamodb:PutItem on " + tableARN,
		"dynamodb:Scan on " + tableARN, "dynamodb:UpdateItem on " + tableARN,
		"logs:CreateLogStream on " + logARN, "logs:PutLogEvents on " + logARN,
	}
	slices.Sort(want)
	if !slices.Equal(grants, want) {
		t.Errorf("policy grants\n got %q\nwant %q", grants, want)
	}
	if strings.Contains(doc, `"*"`) {
		t.Errorf("policy has a * resource: %s", doc)
	}
	role := f.roles["lambda-apigateway-role"]
	if role == nil || role.tags[TagKey] != "ddbops" || !slices.Contains(role.attached, "arn:aws:iam::"+acct+":policy/lambda-apigateway-dynamodb-policy") {
		t.Fatalf("role = %+v", role)
	}
	if !strings.Contains(role.trust, `"Service":"lambda.amazonaws.com"`) {
		t.Errorf("trust policy = %s", role.trust)
	}
	lg := f.logGroups["/aws/lambda/LambdaFunctionOverHttps"]
	if lg == nil || lg.retention != 14 || lg.tags[TagKey] != "ddbops" {
		t.Fatalf("log group = %+v", lg)
	}
	fn := f.functions["LambdaFunctionOverHttps"]
	if fn == nil {
		t.Fatal("no function")
	}
	c := fn.cfg
	if c.Runtime != "provided.al2023" || aws.ToString(c.Handler) != "bootstrap" || aws.ToInt32(c.MemorySize) != 128 || aws.ToInt32(c.Timeout) != 10 ||
		c.Architectures[0] != lambdatypes.ArchitectureArm64 || c.Environment.Variables["TABLE_NAME"] != "lambda-apigateway" ||
		aws.ToString(c.Role) != role.arn || fn.tags[TagKey] != "ddbops" || aws.ToString(c.CodeSha256) != CodeSha256(h.zip) {
		t.Errorf("function config = %+v tags %v", c, fn.tags)
	}
	if len(f.apis) != 1 {
		t.Fatalf("%d REST APIs", len(f.apis))
	}
	for id, a := range f.apis {
		if a.name != "DynamoDBOperations" || a.tags[TagKey] != "ddbops" {
			t.Errorf("api = %+v", a)
		}
		var m *agtypes.Method
		for _, r := range a.resources {
			if r.path == "/DynamoDBManager" {
				m = r.methods["POST"]
			}
		}
		if m == nil || aws.ToString(m.AuthorizationType) != "AWS_IAM" || aws.ToBool(m.ApiKeyRequired) {
			t.Fatalf("method = %+v", m)
		}
		wantURI := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:" + acct + ":function:LambdaFunctionOverHttps/invocations"
		if m.MethodIntegration.Type != agtypes.IntegrationTypeAwsProxy || aws.ToString(m.MethodIntegration.HttpMethod) != "POST" || aws.ToString(m.MethodIntegration.Uri) != wantURI {
			t.Errorf("integration = %+v", m.MethodIntegration)
		}
		if src := fn.perms[PermissionStatementID]; src != "arn:aws:execute-api:us-east-1:"+acct+":"+id+"/prod/POST/DynamoDBManager" {
			t.Errorf("permission source ARN = %q", src)
		}
		if st := a.stages["prod"]; st == nil || st.ThrottlingRateLimit != 100 || st.ThrottlingBurstLimit != 200 {
			t.Errorf("stage throttling = %+v", st)
		}
		if a.deploys != 1 {
			t.Errorf("%d deployments, want 1", a.deploys)
		}
		if want := "https://" + id + ".execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager"; res.InvokeURL != want {
			t.Errorf("invoke URL %q, want %q", res.InvokeURL, want)
		}
	}
	st, err := LoadState(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	if st.InvokeURL != res.InvokeURL || st.Auth != wire.AuthIAM || st.Region != "us-east-1" || st.FunctionName != "LambdaFunctionOverHttps" ||
		st.LogGroupName != "/aws/lambda/LambdaFunctionOverHttps" || st.TableARN != tableARN || st.CodeSha256 != CodeSha256(h.zip) ||
		st.PendingDeployment || st.AccountID != acct || st.DeploymentID == "" {
		t.Errorf("state = %+v", st)
	}
	if len(f.keys)+len(f.plans) != 0 {
		t.Errorf("iam auth created API keys or usage plans")
	}
}

func TestUnchangedRerunMakesNoMutatingCall(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{wire.AuthIAM, wire.AuthAPIKey, wire.AuthNone} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			spec := testSpec()
			spec.Auth = auth
			h.mustSetup(spec)
			h.f.rec.Reset()
			res := h.mustSetup(spec)
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("re-run made mutating calls: %v", m)
			}
			for _, c := range res.Changes {
				if c.Action != Unchanged {
					t.Errorf("%s %s: %s %s", c.Kind, c.Name, c.Action, c.Summary())
				}
			}
			if h.zipCalls != 1 {
				t.Errorf("handler packaged %d times, want once (only to create the function)", h.zipCalls)
			}
			total, _ := h.f.rec.Counts()
			t.Logf("auth %s: unchanged re-run makes %d read calls", auth, total)
		})
	}
}

func TestDryRunMakesNoMutatingCall(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(h *harness)
		want    map[string]Action
	}{
		{"fresh account", func(h *harness) {}, map[string]Action{KindTable: Create, KindFunction: Create, KindRestAPI: Create, KindDeployment: Create}},
		{"complete stack", func(h *harness) { h.mustSetup(testSpec()) }, map[string]Action{KindTable: Unchanged, KindFunction: Unchanged, KindRestAPI: Unchanged, KindDeployment: Unchanged}},
		{"drifted stack", func(h *harness) {
			h.mustSetup(testSpec())
			h.f.functions["LambdaFunctionOverHttps"].cfg.MemorySize = aws.Int32(512)
			for _, a := range h.f.apis {
				a.stages["prod"].ThrottlingRateLimit = 5
			}
		}, map[string]Action{KindFunction: Update, KindStage: Update, KindTable: Unchanged}},
		{"partial stack", func(h *harness) {
			h.f.fail = failNthMutating(6)
			_, _ = h.setup(testSpec(), SetupOptions{})
			h.f.fail = nil
		}, map[string]Action{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tc.prepare(h)
			before := h.f.inventory()
			h.f.rec.Reset()
			res, err := h.setup(testSpec(), SetupOptions{DryRun: true})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("dry run made mutating calls: %v", m)
			}
			if after := h.f.inventory(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("dry run changed the account: %v → %v", before, after)
			}
			got := actions(res.Changes)
			for k, a := range tc.want {
				if got[k] != a {
					t.Errorf("%s: plan %s, want %s", k, got[k], a)
				}
			}
			if !res.DryRun {
				t.Error("result not marked dry run")
			}
		})
	}
}

// failNthMutating fails the n-th mutating call (1-based) once.
func failNthMutating(n int) func(service, op string) error {
	var mu sync.Mutex
	seen := 0
	return func(service, op string) error {
		if !IsMutating(op) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen == n {
			return fmt.Errorf("injected crash before %s.%s", service, op)
		}
		return nil
	}
}

func TestCrashBetweenStepsThenRerunResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	clean := newHarness(t)
	clean.mustSetup(testSpec())
	want := clean.f.inventory()
	_, steps := clean.f.rec.Counts()
	if steps < 12 {
		t.Fatalf("a clean setup made only %d mutating calls", steps)
	}
	for _, auth := range []string{wire.AuthIAM, wire.AuthAPIKey} {
		spec := testSpec()
		spec.Auth = auth
		cleanAuth := newHarness(t)
		cleanAuth.mustSetup(spec)
		wantAuth := cleanAuth.f.inventory()
		_, n := cleanAuth.f.rec.Counts()
		for i := 1; i <= n; i++ {
			t.Run(fmt.Sprintf("%s/crash at mutating call %d", auth, i), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				h.f.fail = failNthMutating(i)
				if _, err := h.setup(spec, SetupOptions{}); err == nil || !strings.Contains(err.Error(), "injected crash") {
					t.Fatalf("setup with a crash: err = %v", err)
				}
				h.f.fail = nil
				h.f.rec.Reset()
				res, err := h.setup(spec, SetupOptions{})
				if err != nil {
					t.Fatalf("re-run: %v", err)
				}
				if got := h.f.inventory(); fmt.Sprint(got) != fmt.Sprint(wantAuth) {
					t.Errorf("after resume: %v\nclean setup:  %v", got, wantAuth)
				}
				for _, c := range res.Changes {
					if c.Action == Failed {
						t.Errorf("%s failed on re-run: %v", c.Kind, c.Err)
					}
				}
				// Resuming creates nothing twice: every Create* is for
				// something the crashed run did not get to.
				for _, op := range h.f.rec.Mutating() {
					if strings.Contains(op, "CreateRestApi") && len(h.f.apis) != 1 {
						t.Errorf("duplicate REST API")
					}
				}
				h.f.rec.Reset()
				h.mustSetup(spec)
				if m := h.f.rec.Mutating(); len(m) != 0 {
					t.Errorf("third run made mutating calls: %v", m)
				}
				st, err := LoadState(h.statePath)
				if err != nil || st.PendingDeployment || st.InvokeURL == "" {
					t.Errorf("state after resume = %+v, %v", st, err)
				}
			})
		}
	}
	_ = want
}

func TestIAMPropagationRaceIsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	for _, k := range []int{0, 1, 3, 8} {
		t.Run(fmt.Sprintf("%d failures", k), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			var mu sync.Mutex
			creates := 0
			h.f.fail = func(service, op string) error {
				if op != "CreateFunction" {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				creates++
				if creates <= k {
					return &lambdatypes.InvalidParameterValueException{Message: aws.String("The role defined for the function cannot be assumed by Lambda.")}
				}
				return nil
			}
			h.mustSetup(testSpec())
			if creates != k+1 {
				t.Errorf("CreateFunction called %d times, want %d", creates, k+1)
			}
			sleeps := h.clock.Sleeps()
			if len(sleeps) != k {
				t.Fatalf("slept %v, want %d sleeps", sleeps, k)
			}
			for i := 1; i < len(sleeps); i++ {
				if sleeps[i] < sleeps[i-1] || sleeps[i] > 15*time.Second {
					t.Errorf("backoff not growing and capped: %v", sleeps)
				}
			}
			if k > 0 && len(h.rep.warns) != k {
				t.Errorf("warnings = %q", h.rep.warns)
			}
		})
	}
}

func TestIAMPropagationThatNeverEndsFailsAtTheDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	spec.IAMPropagationTimeout = 20 * time.Second
	attempts := 0
	h.f.fail = func(service, op string) error {
		if op == "CreateFunction" {
			attempts++
			return &lambdatypes.InvalidParameterValueException{Message: aws.String("The role defined for the function cannot be assumed by Lambda.")}
		}
		return nil
	}
	start := h.clock.Now()
	_, err := h.setup(spec, SetupOptions{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Op != "create function" || !strings.Contains(err.Error(), "role arn:aws:iam::123456789012:role/lambda-apigateway-role still cannot be assumed") ||
		!strings.Contains(pe.Hint, "iam-propagation-timeout") {
		t.Fatalf("err = %v (hint %q)", err, hintOf(err))
	}
	if waited := h.clock.Now().Sub(start); waited != spec.IAMPropagationTimeout {
		t.Errorf("gave up after %s of retries, want exactly the %s deadline", waited, spec.IAMPropagationTimeout)
	}
	if attempts < 3 {
		t.Errorf("only %d attempts", attempts)
	}
	// Independent branches finished and were recorded.
	if h.f.tables["lambda-apigateway"] == nil || len(h.f.apis) != 1 {
		t.Error("table or API definition not created while the function was retried")
	}
	// And a re-run once IAM caught up resumes.
	h.f.fail = nil
	h.mustSetup(spec)
}

func policyVersion(id string, doc *string, created int) iamtypes.PolicyVersion {
	return iamtypes.PolicyVersion{VersionId: aws.String(id), Document: doc, CreateDate: aws.Time(time.Unix(int64(created), 0))}
}

func hintOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Hint
	}
	return ""
}

func TestNonPropagationErrorsFailFastWithTheOperationNamed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.f.fail = func(service, op string) error {
		if op == "CreateFunction" {
			return &lambdatypes.InvalidParameterValueException{Message: aws.String("Unzipped size must be smaller than 262144000 bytes")}
		}
		return nil
	}
	_, err := h.setup(testSpec(), SetupOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "create function LambdaFunctionOverHttps: ") {
		t.Fatalf("err = %v", err)
	}
	if len(h.clock.Sleeps()) != 0 {
		t.Errorf("retried a non-propagation error: %v", h.clock.Sleeps())
	}
}

func TestAPIGatewayThrottleStormsAreRetriedWithPacing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		perOp      int
		retryAfter string
		budget     time.Duration
		wantErr    bool
	}{
		{"three 429 per call", 3, "", 0, false},
		{"429 with Retry-After", 2, "7", 0, false},
		{"storm longer than the budget", 1000, "", 30 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			var mu sync.Mutex
			seen := map[string]int{}
			h.f.fail = func(service, op string) error {
				if service != "API Gateway" {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				seen[op]++
				if seen[op] <= tc.perOp {
					e := &agtypes.TooManyRequestsException{Message: aws.String("Too Many Requests")}
					if tc.retryAfter != "" {
						e.RetryAfterSeconds = aws.String(tc.retryAfter)
					}
					return e
				}
				return nil
			}
			p, err := New(Options{Spec: testSpec(), Clients: h.f.clients(), StatePath: h.statePath, Reporter: h.rep, Clock: h.clock,
				Rand: func() float64 { return 0.5 }, ThrottleBudget: tc.budget, WaiterMinDelay: time.Millisecond, WaiterMaxDelay: time.Millisecond,
				Code: func(context.Context, string) ([]byte, error) { return h.zip, nil }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Setup(context.Background(), SetupOptions{})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "TooManyRequestsException") || !strings.Contains(err.Error(), "get REST APIs") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			if len(h.f.apis) != 1 {
				t.Errorf("%d REST APIs after the storm", len(h.f.apis))
			}
			sleeps := h.clock.Sleeps()
			if len(sleeps) == 0 {
				t.Fatal("never paused")
			}
			if tc.retryAfter != "" {
				for _, s := range sleeps {
					if s < 7*time.Second {
						t.Errorf("slept %s, less than Retry-After 7s", s)
					}
				}
			}
		})
	}
}

func TestSetupStopsAtForeignResourcesWithoutChangingAnything(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		plant  func(h *harness)
		naming string
	}{
		{"untagged table", func(h *harness) {
			h.f.tables["lambda-apigateway"] = &fakeTable{tags: map[string]string{}, desc: ddbtypes.TableDescription{TableName: aws.String("lambda-apigateway"),
				TableArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/lambda-apigateway"), TableStatus: ddbtypes.TableStatusActive,
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}}}}
		}, "table lambda-apigateway"},
		{"role of another stack", func(h *harness) {
			h.f.roles["lambda-apigateway-role"] = &fakeRole{arn: "arn:aws:iam::123456789012:role/lambda-apigateway-role", trust: trustPolicy(), tags: map[string]string{TagKey: "other"}}
		}, "IAM role lambda-apigateway-role"},
		{"untagged log group", func(h *harness) {
			h.f.logGroups["/aws/lambda/LambdaFunctionOverHttps"] = &fakeLogGroup{tags: map[string]string{}}
		}, "log group /aws/lambda/LambdaFunctionOverHttps"},
		{"untagged REST API", func(h *harness) {
			h.f.apis["tutorial1"] = &fakeAPI{name: "DynamoDBOperations", tags: map[string]string{}, rootID: "r", resources: map[string]*fakeResource{"r": {path: "/", methods: map[string]*agtypes.Method{}}}, stages: map[string]*agtypes.MethodSetting{}, stageDep: map[string]string{}}
		}, "REST API DynamoDBOperations: exists but is not owned by this stack: tutorial1 (exists without"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tc.plant(h)
			before := h.f.inventory()
			_, err := h.setup(testSpec(), SetupOptions{})
			// An untagged resource may be tagged for this stack; another
			// stack's must not be taken from it.
			wantHint := "tag it " + TagKey + "=ddbops"
			if strings.Contains(tc.name, "another stack") {
				wantHint = "it belongs to the ddbops stack other: give this stack its own names in ddbops.yaml"
			}
			if !errors.Is(err, ErrNotOwned) || !strings.Contains(err.Error(), tc.naming) || !strings.Contains(hintOf(err), wantHint) ||
				(wantHint != "tag it "+TagKey+"=ddbops" && strings.Contains(hintOf(err), "tag it")) {
				t.Fatalf("err = %v (hint %q)", err, hintOf(err))
			}
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("mutating calls despite a foreign resource: %v", m)
			}
			if after := h.f.inventory(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("account changed: %v → %v", before, after)
			}
			res, err := h.setup(testSpec(), SetupOptions{DryRun: true})
			if !errors.Is(err, ErrNotOwned) || res == nil || !slices.ContainsFunc(res.Changes, func(c Change) bool { return c.Action == Blocked && c.NotOwned }) {
				t.Errorf("dry run: err %v, plan %+v", err, res)
			}
		})
	}
}

func TestDriftIsReportedByStatusAndRepairedBySetup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	h.mustSetup(spec)
	var apiID string
	for id := range h.f.apis {
		apiID = id
	}
	// Out-of-band changes, as someone with the console would make them.
	fn := h.f.functions["LambdaFunctionOverHttps"]
	fn.cfg.MemorySize = aws.Int32(1024)
	fn.cfg.Environment.Variables = map[string]string{"TABLE_NAME": "other"}
	fn.perms[PermissionStatementID] = "arn:aws:execute-api:us-east-1:123456789012:" + apiID + "/*/*/*"
	pol := h.f.policies["arn:aws:iam::123456789012:policy/lambda-apigateway-dynamodb-policy"]
	pol.versions[0].Document = aws.String(url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`))
	h.f.logGroups["/aws/lambda/LambdaFunctionOverHttps"].retention = 3
	a := h.f.apis[apiID]
	a.stages["prod"].ThrottlingBurstLimit = 1
	for _, r := range a.resources {
		if m := r.methods["POST"]; m != nil {
			m.AuthorizationType = aws.String("NONE")
			m.MethodIntegration.Uri = aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Evil/invocations")
		}
	}

	p := h.prov(spec)
	h.f.rec.Reset()
	rep, err := p.Status(context.Background(), StatusOptions{CodeSha256: CodeSha256(testZip(t, "v2"))})
	if err != nil {
		t.Fatal(err)
	}
	if m := h.f.rec.Mutating(); len(m) != 0 {
		t.Errorf("status made mutating calls: %v", m)
	}
	if rep.OK {
		t.Error("status OK despite drift")
	}
	drifted := map[string]string{}
	for _, r := range rep.Rows {
		if r.Status == StatusDrifted {
			var fields []string
			for _, d := range r.Diffs {
				fields = append(fields, d.Field)
			}
			drifted[r.Kind] = strings.Join(fields, ",")
		}
	}
	want := map[string]string{
		KindFunction: "code,environment,memory", KindPolicy: "document", KindLogGroup: "retention",
		KindMethod: "authorization", KindStage: "throttling burst", KindPermission: "source ARN",
		KindIntegration: "", // re-created with the method
	}
	for k, fields := range want {
		got, ok := drifted[k]
		if !ok {
			t.Errorf("%s not reported drifted (rows %+v)", k, rep.Rows)
			continue
		}
		for _, f := range strings.Split(fields, ",") {
			if f != "" && !strings.Contains(got, f) {
				t.Errorf("%s: drift fields %q lack %q", k, got, f)
			}
		}
	}
	if rep.Auth != wire.AuthNone || rep.WantAuth != wire.AuthIAM {
		t.Errorf("auth %q want %q", rep.Auth, rep.WantAuth)
	}

	res := h.mustSetup(spec)
	if got := actions(res.Changes); got[KindFunction] != Updated || got[KindPolicy] != Updated || got[KindDeployment] != Created {
		t.Errorf("repair actions = %v", got)
	}
	rep, err = h.prov(spec).Status(context.Background(), StatusOptions{})
	if err != nil || !rep.OK {
		t.Fatalf("status after repair: %v %+v", err, rep)
	}
	if len(pol.versions) != 2 || pol.def != "v2" {
		t.Errorf("policy versions = %d, default %s", len(pol.versions), pol.def)
	}
}

func TestPolicyConvergencePrunesTheOldestVersionAtIAMsLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	h.mustSetup(spec)
	pol := h.f.policies["arn:aws:iam::123456789012:policy/lambda-apigateway-dynamodb-policy"]
	bad := aws.String(url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
	for i := 2; i <= 5; i++ {
		pol.versions = append(pol.versions, policyVersion(fmt.Sprintf("v%d", i), bad, i))
	}
	for k := range pol.versions {
		pol.versions[k].IsDefaultVersion = k == 4
	}
	pol.def, pol.next = "v5", 6
	h.f.rec.Reset()
	h.mustSetup(spec)
	m := h.f.rec.Mutating()
	if !slices.Equal(m, []string{"IAM.DeletePolicyVersion", "IAM.CreatePolicyVersion"}) {
		t.Errorf("mutating calls %v", m)
	}
	var ids []string
	for _, v := range pol.versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	if !slices.Equal(ids, []string{"v2", "v3", "v4", "v5", "v6"}) || pol.def != "v6" {
		t.Errorf("versions %v default %s: want v1 (oldest non-default) pruned and v6 default", ids, pol.def)
	}
}

func TestAuthModeSwitchConvergesMethodKeyAndPlan(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	h.mustSetup(spec)
	spec.Auth = wire.AuthAPIKey
	res := h.mustSetup(spec)
	got := actions(res.Changes)
	if got[KindMethod] != Updated || got[KindAPIKey] != Created || got[KindUsagePlan] != Created || got[KindDeployment] != Created {
		t.Errorf("iam → apikey: %v", got)
	}
	if len(h.f.keys) != 1 || len(h.f.plans) != 1 {
		t.Fatalf("keys %d plans %d", len(h.f.keys), len(h.f.plans))
	}
	for _, pl := range h.f.plans {
		if len(pl.stages) != 1 || aws.ToString(pl.stages[0].Stage) != "prod" || len(pl.keys) != 1 {
			t.Errorf("usage plan = %+v", pl)
		}
	}
	st, _ := LoadState(h.statePath)
	if st.Auth != wire.AuthAPIKey || st.APIKeyID == "" || st.UsagePlanID == "" {
		t.Errorf("state = %+v", st)
	}
	h.f.rec.Reset()
	h.mustSetup(spec)
	if m := h.f.rec.Mutating(); len(m) != 0 {
		t.Errorf("apikey re-run mutating calls: %v", m)
	}
	spec.Auth = wire.AuthNone
	res = h.mustSetup(spec)
	got = actions(res.Changes)
	if got[KindMethod] != Updated || got[KindAPIKey] != Deleted || got[KindUsagePlan] != Deleted {
		t.Errorf("apikey → none: %v", got)
	}
	if len(h.f.keys)+len(h.f.plans) != 0 {
		t.Error("key or plan left behind")
	}
	st, _ = LoadState(h.statePath)
	if st.Auth != wire.AuthNone || st.APIKeyID != "" {
		t.Errorf("state = %+v", st)
	}
}

func TestOrderingTableConcurrentWithIAMAndAPIWaitsForTheFunction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	policyCreated := make(chan struct{})
	resourceCreated := make(chan struct{})
	var once1, once2 sync.Once
	h.f.fail = func(service, op string) error {
		switch op {
		case "CreatePolicy":
			once1.Do(func() { close(policyCreated) })
		case "CreateResource":
			once2.Do(func() { close(resourceCreated) })
		case "CreateTable":
			// A sequential setup would deadlock here: the table step
			// needs the IAM branch to be running at the same time.
			select {
			case <-policyCreated:
			case <-time.After(10 * time.Second):
				return errors.New("table waited for IAM: not concurrent")
			}
		case "CreateFunction":
			// The API definition proceeds while the function is created.
			select {
			case <-resourceCreated:
			case <-time.After(10 * time.Second):
				return errors.New("API definition waited for the function")
			}
		}
		return nil
	}
	h.mustSetup(testSpec())
	calls := h.f.rec.Calls()
	idx := func(op string) int {
		return slices.IndexFunc(calls, func(c Call) bool { return c.Operation == op })
	}
	last := func(op string) int {
		i := -1
		for k, c := range calls {
			if c.Operation == op {
				i = k
			}
		}
		return i
	}
	order := [][2]string{
		{"CreatePolicy", "CreateRole"}, {"CreateRole", "AttachRolePolicy"}, {"AttachRolePolicy", "CreateFunction"},
		{"CreateLogGroup", "CreateFunction"}, {"CreateFunction", "PutIntegration"}, {"CreateFunction", "AddPermission"},
		{"PutIntegration", "CreateDeployment"}, {"CreateDeployment", "UpdateStage"},
	}
	for _, o := range order {
		if a, b := last(o[0]), idx(o[1]); a < 0 || b < 0 || a > b {
			t.Errorf("%s (at %d) should come before %s (at %d)", o[0], a, o[1], b)
		}
	}
	// The function was Active (waiter polled GetFunction) before wiring.
	if gf := last("GetFunction"); gf > idx("PutIntegration") {
		t.Errorf("API wiring started before the function was confirmed Active")
	}
}

func TestDeployUploadsOnlyChangedCodeAndAlwaysDeploysTheStage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	h.mustSetup(spec)
	apiDeploys := func() int {
		for _, a := range h.f.apis {
			return a.deploys
		}
		return 0
	}

	h.f.rec.Reset()
	res, err := h.prov(spec).Deploy(context.Background(), DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := h.f.rec.Mutating(); !slices.Equal(m, []string{"API Gateway.CreateDeployment"}) {
		t.Errorf("same code: mutating calls %v", m)
	}
	if got := actions(res.Changes); got[KindFunction] != Unchanged || got[KindDeployment] != Created {
		t.Errorf("same code: %v", got)
	}

	h.zip = testZip(t, "v2")
	spec.Memory, spec.Timeout = 1024, 30
	h.f.rec.Reset()
	dry, err := h.prov(spec).Deploy(context.Background(), DeployOptions{DryRun: true})
	if err != nil || len(h.f.rec.Mutating()) != 0 || actions(dry.Changes)[KindFunction] != Update {
		t.Fatalf("deploy dry run: %v, mutating %v, plan %+v", err, h.f.rec.Mutating(), dry)
	}
	if _, err := h.prov(spec).Deploy(context.Background(), DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	m := h.f.rec.Mutating()
	if !slices.Equal(m, []string{"Lambda.UpdateFunctionCode", "Lambda.UpdateFunctionConfiguration", "API Gateway.CreateDeployment"}) {
		t.Errorf("new code: mutating calls %v", m)
	}
	fn := h.f.functions["LambdaFunctionOverHttps"].cfg
	if aws.ToString(fn.CodeSha256) != CodeSha256(h.zip) || aws.ToInt32(fn.MemorySize) != 1024 || aws.ToInt32(fn.Timeout) != 30 {
		t.Errorf("function after deploy = %+v", fn)
	}
	if apiDeploys() != 3 {
		t.Errorf("%d deployments, want 3", apiDeploys())
	}
	st, _ := LoadState(h.statePath)
	if st.CodeSha256 != CodeSha256(h.zip) || st.Memory != 1024 {
		t.Errorf("state = %+v", st)
	}
}

func TestDeployNeedsASetUpStack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.prov(testSpec()).Deploy(context.Background(), DeployOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(hintOf(err), "ddbops setup") {
		t.Fatalf("err = %v", err)
	}
	if m := h.f.rec.Mutating(); len(m) != 0 {
		t.Errorf("mutating calls: %v", m)
	}
}

func TestSetupWithHandlerZipComparesCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(testSpec())
	h.zip = testZip(t, "v2")
	h.f.rec.Reset()
	res, err := h.setup(testSpec(), SetupOptions{CompareCode: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Changes[slices.IndexFunc(res.Changes, func(c Change) bool { return c.Kind == KindFunction })]; c.Action != Updated || c.Diffs[0].Field != "code" {
		t.Errorf("function change = %+v", c)
	}
	if m := h.f.rec.Mutating(); !slices.Equal(m, []string{"Lambda.UpdateFunctionCode"}) {
		t.Errorf("mutating calls %v", m)
	}
}

func TestStateFileNeverHoldsTheAPIKeyValue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	spec.Auth = wire.AuthAPIKey
	h.mustSetup(spec)
	b, err := LoadState(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(b)
	if strings.Contains(string(raw), "secret-") {
		t.Errorf("state holds the key value: %s", raw)
	}
}

func TestStageSettingsLostInADeploymentAreRestored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	h.mustSetup(spec)
	h.f.resetStageOnDeploy = true
	h.f.rec.Reset()
	res, err := h.prov(spec).Deploy(context.Background(), DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res.Changes); got[KindStage] != Updated {
		t.Errorf("deploy: %v", got)
	}
	if m := h.f.rec.Mutating(); !slices.Equal(m, []string{"API Gateway.CreateDeployment", "API Gateway.UpdateStage"}) {
		t.Errorf("mutating calls %v", m)
	}
	// setup deploying after an API change re-checks the stage too.
	spec.Auth = wire.AuthNone
	res = h.mustSetup(spec)
	if got := actions(res.Changes); got[KindDeployment] != Created || got[KindStage] != Updated {
		t.Errorf("setup: %v", got)
	}
	rep, err := h.prov(spec).Status(context.Background(), StatusOptions{})
	if err != nil || !rep.OK {
		t.Errorf("status: %v %+v", err, rep)
	}
}
