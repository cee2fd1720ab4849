package provision

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ddbops/ddbops/internal/testenv"
)

// motoStack provisions against a moto server and reads back with the SDK.
type motoStack struct {
	t     *testing.T
	cfg   aws.Config
	rec   *Recorder
	state string
	agw   *apigateway.Client
	lam   *lambda.Client
	url   string
}

func newMotoStack(t *testing.T) *motoStack {
	m := testenv.StartMoto(t)
	cfg := m.AWSConfig(t)
	return &motoStack{t: t, cfg: cfg, rec: &Recorder{}, state: filepath.Join(t.TempDir(), "state.json"),
		agw: apigateway.NewFromConfig(cfg), lam: lambda.NewFromConfig(cfg), url: m.URL}
}

func (s *motoStack) prov(spec Spec) *Provisioner {
	s.t.Helper()
	spec.Region, spec.EndpointURL = testenv.Region, s.url
	spec.IAMPropagationTimeout = 30 * time.Second
	p, err := New(Options{
		Spec: spec, Clients: NewClients(s.cfg, s.rec), StatePath: s.state,
		Code:           func(context.Context, string) ([]byte, error) { return testZip(s.t, "moto"), nil },
		WaiterMinDelay: 10 * time.Millisecond, WaiterMaxDelay: 100 * time.Millisecond,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *motoStack) setup(spec Spec) *Result {
	s.t.Helper()
	res, err := s.prov(spec).Setup(context.Background(), SetupOptions{})
	if err != nil {
		s.t.Fatalf("setup %q: %v (%v)", spec.CORSOrigins, err, failedChanges(res.changes()))
	}
	return res
}

// options reads the OPTIONS method of /DynamoDBManager back from moto
// (nil when there is none).
func (s *motoStack) options() *apigateway.GetMethodOutput {
	s.t.Helper()
	ctx := context.Background()
	apis, err := s.agw.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(apis.Items) != 1 {
		s.t.Fatalf("REST APIs: %v %d", err, len(apis.Items))
	}
	id := apis.Items[0].Id
	res, err := s.agw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range res.Items {
		if aws.ToString(r.Path) != "/DynamoDBManager" {
			continue
		}
		m, err := s.agw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: r.Id, HttpMethod: aws.String("OPTIONS")})
		var nf *agtypes.NotFoundException
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return m
	}
	s.t.Fatal("no /DynamoDBManager resource")
	return nil
}

func (s *motoStack) env() map[string]string {
	s.t.Helper()
	out, err := s.lam.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("LambdaFunctionOverHttps")})
	if err != nil {
		s.t.Fatal(err)
	}
	return out.Environment.Variables
}

// checkOptions compares what moto holds field by field with CORSMethod,
// independently of the provisioner's own comparison.
func (s *motoStack) checkOptions(spec Spec) {
	s.t.Helper()
	want, _ := CORSMethod(spec)
	m := s.options()
	if m == nil {
		s.t.Fatalf("%q: no OPTIONS method", spec.CORSOrigins)
	}
	if aws.ToString(m.AuthorizationType) != "NONE" || aws.ToBool(m.ApiKeyRequired) {
		s.t.Errorf("authorization %s, API key %v", aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired))
	}
	mr, ok := m.MethodResponses["200"]
	if !ok || len(m.MethodResponses) != 1 || !maps.Equal(mr.ResponseParameters, want.MethodResponseParameters) {
		s.t.Errorf("method responses = %+v", m.MethodResponses)
	}
	in := m.MethodIntegration
	if in == nil || in.Type != agtypes.IntegrationTypeMock || aws.ToString(in.PassthroughBehavior) != "WHEN_NO_MATCH" ||
		in.RequestTemplates["application/json"] != `{"statusCode": 200}` {
		s.t.Fatalf("integration = %+v", in)
	}
	ir, ok := in.IntegrationResponses["200"]
	if !ok || !maps.Equal(ir.ResponseParameters, want.IntegrationResponseParameters) ||
		!maps.Equal(nonEmpty(ir.ResponseTemplates), want.IntegrationResponseTemplates) {
		s.t.Errorf("integration response = %+v\nwant parameters %v templates %v", ir, want.IntegrationResponseParameters, want.IntegrationResponseTemplates)
	}
	if got := s.env()[EnvCORSOrigins]; got != CORSFunctionEnv(spec)[EnvCORSOrigins] {
		s.t.Errorf("CORS_ORIGINS = %q", got)
	}
}

// TestCORSLifecycleOnMoto: setup --cors on moto, read everything back,
// re-run, change the origins, allow any, remove CORS, tear down.
func TestCORSLifecycleOnMoto(t *testing.T) {
	s := newMotoStack(t)
	ctx := context.Background()
	named := corsSpec("https://app.example.com", "http://localhost:5173")

	res := s.setup(named)
	if got := actions(res.Changes); got[KindCORS] != Created || got[KindDeployment] != Created {
		t.Errorf("setup: %v", got)
	}
	s.checkOptions(named)

	s.rec.Reset()
	res = s.setup(named)
	if m := s.rec.Mutating(); len(m) != 0 {
		t.Errorf("unchanged re-run made mutating calls: %v", m)
	}
	if got := actions(res.Changes); got[KindCORS] != Unchanged {
		t.Errorf("re-run: %v", got)
	}
	// Status of settings that say nothing of CORS: the recorded desired
	// state supplies the origins.
	st, err := LoadState(s.state)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := DesiredSpec(testSpec(), nil, st)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.prov(recorded).Status(ctx, StatusOptions{})
	if row := statusRow(rep, KindCORS); err != nil || !rep.OK || row == nil || row.Status != StatusExists {
		t.Errorf("status: %v %+v", err, rep)
	}

	s.rec.Reset()
	dry, err := s.prov(corsSpec("https://other.example")).Setup(ctx, SetupOptions{DryRun: true})
	if err != nil || actions(dry.Changes)[KindCORS] != Update || len(s.rec.Mutating()) != 0 {
		t.Errorf("dry run: %v %v, mutating %v", err, actions(dry.Changes), s.rec.Mutating())
	}

	changed := corsSpec("https://other.example")
	if got := actions(s.setup(changed).Changes); got[KindCORS] != Updated || got[KindFunction] != Updated || got[KindDeployment] != Created {
		t.Errorf("change origins: %v", got)
	}
	s.checkOptions(changed)

	anyOrigin := corsSpec("*")
	s.setup(anyOrigin)
	s.checkOptions(anyOrigin)
	s.rec.Reset()
	s.setup(anyOrigin)
	if m := s.rec.Mutating(); len(m) != 0 {
		t.Errorf("unchanged re-run with *: %v", m)
	}

	if got := actions(s.setup(testSpec()).Changes); got[KindCORS] != Deleted || got[KindDeployment] != Created {
		t.Errorf("removal: %v", got)
	}
	if m := s.options(); m != nil {
		t.Errorf("OPTIONS method left: %+v", m)
	}
	if env := s.env(); !maps.Equal(env, map[string]string{"TABLE_NAME": "lambda-apigateway"}) {
		t.Errorf("env after removal = %v", env)
	}
	s.rec.Reset()
	if got := actions(s.setup(testSpec()).Changes); slices.Contains(slices.Collect(maps.Keys(got)), KindCORS) || len(s.rec.Mutating()) != 0 {
		t.Errorf("re-run without CORS: %v, mutating %v", got, s.rec.Mutating())
	}

	s.setup(named)
	p := s.prov(named)
	plan, err := p.PlanTeardown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Teardown(ctx, plan, TeardownOptions{}); err != nil {
		t.Fatal(err)
	}
	apis, err := s.agw.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(apis.Items) != 0 {
		t.Errorf("after teardown: %v, %d REST APIs", err, len(apis.Items))
	}
}
