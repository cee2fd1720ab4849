package provision

import (
	"context"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func corsSpec(origins ...string) Spec {
	s := testSpec()
	s.CORSOrigins = origins
	return s
}

func TestValidateCORSOrigins(t *testing.T) {
	t.Parallel()
	ok := [][]string{
		nil,
		{"https://app.example.com"},
		{"http://localhost:5173", "https://app.example.com"},
		{"http://127.0.0.1:8080"},
		{"https://[::1]:8443"},
		{"https://xn--bcher-kva.example"},
		{"*"},
	}
	for _, o := range ok {
		if err := validateCORSOrigins(o); err != nil {
			t.Errorf("%q: %v", o, err)
		}
	}
	bad := []struct {
		origins []string
		want    string
	}{
		{[]string{"https://app.example.com/"}, "no path, query or trailing slash: https://app.example.com"},
		{[]string{"https://app.example.com/path"}, "no path"},
		{[]string{"https://app.example.com?x=1"}, "no path, query"},
		{[]string{"https://App.Example.com"}, "lower case, as browsers send it: https://app.example.com"},
		{[]string{"https://app.example.com:443"}, "default port out: https://app.example.com"},
		{[]string{"http://app.example.com:80"}, "default port out"},
		{[]string{"http://app.example.com:0"}, "port \"0\""},
		{[]string{"http://app.example.com:70000"}, "port \"70000\""},
		{[]string{"http://app.example.com:"}, "port \"\""},
		{[]string{"null"}, "opaque origins"},
		{[]string{"https://*.example.com"}, "wildcards are not supported"},
		{[]string{"*", "https://app.example.com"}, "allows every origin"},
		{[]string{"ftp://files.example.com"}, "want http or https"},
		{[]string{"app.example.com"}, "want scheme://host[:port]"},
		{[]string{"https://"}, "want scheme://host[:port]"},
		{[]string{"https://user@app.example.com"}, "no user name"},
		{[]string{"https://app_example.com"}, "want a DNS name"},
		{[]string{"https://a'b.example.com"}, "want a DNS name"},
		{[]string{"https://[1.2.3.4]"}, "not an IPv6 address"},
		{[]string{"https://a.example", "https://a.example"}, "listed twice"},
	}
	for _, tc := range bad {
		err := validateCORSOrigins(tc.origins)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want it to say %q", tc.origins, err, tc.want)
		}
	}
	var many []string
	for i := range 200 {
		many = append(many, "https://app-"+strconv.Itoa(i)+".example.com")
	}
	if err := validateCORSOrigins(many); err == nil || !strings.Contains(err.Error(), "environment has room for") {
		t.Errorf("200 origins: %v", err)
	}
	s := corsSpec("https://app.example.com/")
	if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), `cors origin "https://app.example.com/": `) {
		t.Errorf("Spec.Validate = %v", err)
	}
}

func TestSplitCORSOrigins(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                                    nil,
		" , ":                                 nil,
		"https://a.example":                   {"https://a.example"},
		" https://a.example , http://b:81,":   {"https://a.example", "http://b:81"},
		"https://a.example,https://a.example": {"https://a.example"},
	} {
		if got := SplitCORSOrigins(in); !slices.Equal(got, want) {
			t.Errorf("SplitCORSOrigins(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCORSMethodIsTheConsolesPreflightWithOriginsChecked(t *testing.T) {
	t.Parallel()
	if _, ok := CORSMethod(testSpec()); ok {
		t.Error("CORSMethod without origins: ok")
	}
	if env := CORSFunctionEnv(testSpec()); env != nil {
		t.Errorf("CORSFunctionEnv without origins = %v", env)
	}
	m, ok := CORSMethod(corsSpec("https://b.example", "http://localhost:5173", "https://b.example"))
	if !ok {
		t.Fatal("no method")
	}
	if !slices.Equal(m.Origins, []string{"http://localhost:5173", "https://b.example"}) {
		t.Errorf("origins = %q (want sorted, without duplicates)", m.Origins)
	}
	if m.HTTPMethod != "OPTIONS" || m.AuthorizationType != "NONE" || m.APIKeyRequired || m.IntegrationType != "MOCK" || m.StatusCode != "200" {
		t.Errorf("method = %+v", m)
	}
	if m.RequestTemplates["application/json"] != `{"statusCode": 200}` {
		t.Errorf("request templates = %q", m.RequestTemplates)
	}
	wantDeclared := map[string]bool{}
	for _, h := range []string{"Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Max-Age", "Vary"} {
		wantDeclared["method.response.header."+h] = false
	}
	if !maps.Equal(m.MethodResponseParameters, wantDeclared) {
		t.Errorf("method response parameters = %v", m.MethodResponseParameters)
	}
	wantStatic := map[string]string{
		"method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-Content-Sha256'",
		"method.response.header.Access-Control-Allow-Methods": "'OPTIONS,POST'",
		"method.response.header.Access-Control-Max-Age":       "'600'",
		"method.response.header.Vary":                         "'Origin'",
	}
	if !maps.Equal(m.IntegrationResponseParameters, wantStatic) {
		t.Errorf("integration response parameters = %v", m.IntegrationResponseParameters)
	}
	for k := range m.IntegrationResponseParameters {
		if _, ok := m.MethodResponseParameters[k]; !ok {
			t.Errorf("%s mapped but not declared (API Gateway refuses that)", k)
		}
	}
	tpl := m.IntegrationResponseTemplates["application/json"]
	for _, want := range []string{
		`#set($origin = '')`,
		`#if($header.get('Origin'))#set($origin = $header.get('Origin'))#elseif($header.get('origin'))#set($origin = $header.get('origin'))#end`,
		`#if($origin == 'http://localhost:5173' || $origin == 'https://b.example')`,
		`#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)`,
	} {
		if !strings.Contains(tpl, want) {
			t.Errorf("template lacks %s:\n%s", want, tpl)
		}
	}
	if got := templateOrigins(tpl); !slices.Equal(got, m.Origins) {
		t.Errorf("templateOrigins = %q", got)
	}
	if env := CORSFunctionEnv(corsSpec("https://b.example", "http://localhost:5173")); env[EnvCORSOrigins] != "http://localhost:5173,https://b.example" || len(env) != 1 {
		t.Errorf("env = %v", env)
	}

	any, ok := CORSMethod(corsSpec("*"))
	if !ok || any.IntegrationResponseParameters["method.response.header.Access-Control-Allow-Origin"] != "'*'" || len(any.IntegrationResponseTemplates) != 0 {
		t.Errorf("* method = %+v", any)
	}
	if _, vary := any.IntegrationResponseParameters["method.response.header.Vary"]; vary {
		t.Error("* answers the same to every origin: no Vary")
	}
}

// optionsMethod is the OPTIONS method of the stack's resource in the fake.
func optionsMethod(t *testing.T, f *fakeAWS) *agtypes.Method {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.apis {
		for _, r := range a.resources {
			if r.path == "/DynamoDBManager" {
				return r.methods["OPTIONS"]
			}
		}
	}
	return nil
}

func deploys(f *fakeAWS) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.apis {
		n += a.deploys
	}
	return n
}

func TestSetupWithCORSCreatesThePreflightAndTheFunctionEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := corsSpec("https://app.example.com", "http://localhost:5173")
	res := h.mustSetup(spec)
	if got := actions(res.Changes); got[KindCORS] != Created || got[KindDeployment] != Created {
		t.Errorf("actions = %v", got)
	}
	m := optionsMethod(t, h.f)
	if m == nil {
		t.Fatal("no OPTIONS method")
	}
	want, _ := CORSMethod(spec)
	if diffs := corsDiffs(m, want); len(diffs) != 0 {
		t.Errorf("created method differs from CORSMethod: %v", diffs)
	}
	if aws.ToString(m.AuthorizationType) != "NONE" || aws.ToBool(m.ApiKeyRequired) {
		t.Errorf("OPTIONS authorization %s", methodAuthString(aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired)))
	}
	ir := m.MethodIntegration.IntegrationResponses["200"]
	if m.MethodIntegration.Type != agtypes.IntegrationTypeMock || !maps.Equal(ir.ResponseParameters, want.IntegrationResponseParameters) ||
		ir.ResponseTemplates["application/json"] != want.IntegrationResponseTemplates["application/json"] {
		t.Errorf("integration = %+v, response %+v", m.MethodIntegration, ir)
	}
	env := h.f.functions["LambdaFunctionOverHttps"].cfg.Environment.Variables
	if env[EnvCORSOrigins] != "http://localhost:5173,https://app.example.com" || env["TABLE_NAME"] != "lambda-apigateway" {
		t.Errorf("function environment = %v", env)
	}
	if st := h.prov(spec).State(); !slices.Equal(st.CORSOrigins, want.Origins) {
		t.Errorf("state records origins %q", st.CORSOrigins)
	}
	for _, authMode := range []string{"apikey", "none"} {
		// The preflight stays open whatever guards POST.
		s := spec
		s.Auth = authMode
		h.mustSetup(s)
		if m := optionsMethod(t, h.f); m == nil || aws.ToString(m.AuthorizationType) != "NONE" || aws.ToBool(m.ApiKeyRequired) {
			t.Errorf("auth %s: OPTIONS = %+v", authMode, m)
		}
	}
}

func TestCORSUnchangedRerunAndDryRunMakeNoMutatingCall(t *testing.T) {
	t.Parallel()
	for _, origins := range [][]string{{"https://app.example.com", "https://admin.example.com"}, {"*"}} {
		t.Run(origins[0], func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			spec := corsSpec(origins...)
			h.mustSetup(spec)

			h.f.rec.Reset()
			// The same origins in another order are the same setting.
			slices.Reverse(spec.CORSOrigins)
			res := h.mustSetup(spec)
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("re-run made mutating calls: %v", m)
			}
			for _, c := range res.Changes {
				if c.Action != Unchanged {
					t.Errorf("re-run: %s %s %s %s", c.Kind, c.Name, c.Action, c.Summary())
				}
			}
			if got := actions(res.Changes); got[KindCORS] != Unchanged {
				t.Errorf("re-run lists CORS as %q", got[KindCORS])
			}

			before := h.f.inventory()
			h.f.rec.Reset()
			changed := corsSpec("https://other.example")
			res, err := h.setup(changed, SetupOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("dry run made mutating calls: %v", m)
			}
			if after := h.f.inventory(); !maps.Equal(before, after) {
				t.Errorf("dry run changed the account: %v → %v", before, after)
			}
			got := actions(res.Changes)
			if got[KindCORS] != Update || got[KindFunction] != Update || got[KindDeployment] != Create {
				t.Errorf("dry run plan = %v", got)
			}
			res, err = h.setup(testSpec(), SetupOptions{DryRun: true})
			if err != nil || actions(res.Changes)[KindCORS] != Delete || len(h.f.rec.Mutating()) != 0 {
				t.Errorf("dry run of removal: %v %v, mutating %v", err, actions(res.Changes), h.f.rec.Mutating())
			}
		})
	}
}

func TestCORSChangesConvergeAndRedeploy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(corsSpec("https://app.example.com"))
	d0 := deploys(h.f)

	spec := corsSpec("https://app.example.com", "https://admin.example.com")
	h.f.rec.Reset()
	res := h.mustSetup(spec)
	got := actions(res.Changes)
	if got[KindCORS] != Updated || got[KindFunction] != Updated || got[KindDeployment] != Created {
		t.Errorf("actions = %v", got)
	}
	mut := h.f.rec.Mutating()
	for _, op := range []string{"API Gateway.DeleteMethod", "API Gateway.PutMethod", "API Gateway.PutMethodResponse", "API Gateway.PutIntegration",
		"API Gateway.PutIntegrationResponse", "Lambda.UpdateFunctionConfiguration", "API Gateway.CreateDeployment"} {
		if !slices.Contains(mut, op) {
			t.Errorf("converge made no %s (%v)", op, mut)
		}
	}
	if deploys(h.f) != d0+1 {
		t.Errorf("deployments %d → %d", d0, deploys(h.f))
	}
	want, _ := CORSMethod(spec)
	if d := corsDiffs(optionsMethod(t, h.f), want); len(d) != 0 {
		t.Errorf("after converge: %v", d)
	}
	if env := h.f.functions["LambdaFunctionOverHttps"].cfg.Environment.Variables; env[EnvCORSOrigins] != "https://admin.example.com,https://app.example.com" {
		t.Errorf("env = %v", env)
	}
	// To "*" and back: the static origin replaces the template.
	h.mustSetup(corsSpec("*"))
	anyM, _ := CORSMethod(corsSpec("*"))
	if d := corsDiffs(optionsMethod(t, h.f), anyM); len(d) != 0 {
		t.Errorf("after *: %v", d)
	}
	h.mustSetup(spec)
	if d := corsDiffs(optionsMethod(t, h.f), want); len(d) != 0 {
		t.Errorf("after * and back: %v", d)
	}
}

func TestCORSRemovalDeletesTheOptionsMethodAndTheVariable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(corsSpec("https://app.example.com"))
	d0 := deploys(h.f)
	h.f.rec.Reset()
	res := h.mustSetup(testSpec())
	if got := actions(res.Changes); got[KindCORS] != Deleted || got[KindFunction] != Updated || got[KindDeployment] != Created {
		t.Errorf("actions = %v", got)
	}
	if optionsMethod(t, h.f) != nil {
		t.Error("OPTIONS method left")
	}
	if env := h.f.functions["LambdaFunctionOverHttps"].cfg.Environment.Variables; len(env) != 1 || env["TABLE_NAME"] == "" {
		t.Errorf("env = %v", env)
	}
	if deploys(h.f) != d0+1 {
		t.Errorf("no new deployment")
	}
	if st := h.prov(testSpec()).State(); len(st.CORSOrigins) != 0 {
		t.Errorf("state still records %q", st.CORSOrigins)
	}
	// Without CORS and without an OPTIONS method there is nothing to list.
	h.f.rec.Reset()
	res = h.mustSetup(testSpec())
	if _, listed := actions(res.Changes)[KindCORS]; listed || len(h.f.rec.Mutating()) != 0 {
		t.Errorf("re-run: %v, mutating %v", actions(res.Changes), h.f.rec.Mutating())
	}
}

func TestCORSDriftIsReportedByStatusAndRepairedBySetup(t *testing.T) {
	t.Parallel()
	spec := corsSpec("https://app.example.com", "https://admin.example.com")
	cases := []struct {
		name   string
		drift  func(m *agtypes.Method)
		fields []string
	}{
		{"authorization", func(m *agtypes.Method) { m.AuthorizationType = aws.String("AWS_IAM") }, []string{"authorization"}},
		{"origins", func(m *agtypes.Method) {
			ir := m.MethodIntegration.IntegrationResponses["200"]
			ir.ResponseTemplates = map[string]string{"application/json": corsTemplate([]string{"https://app.example.com", "https://evil.example"})}
			m.MethodIntegration.IntegrationResponses["200"] = ir
		}, []string{"allowed origins"}},
		{"static any origin", func(m *agtypes.Method) {
			ir := m.MethodIntegration.IntegrationResponses["200"]
			ir.ResponseParameters["method.response.header.Access-Control-Allow-Origin"] = "'*'"
			m.MethodIntegration.IntegrationResponses["200"] = ir
		}, []string{"allowed origins"}},
		{"headers", func(m *agtypes.Method) {
			ir := m.MethodIntegration.IntegrationResponses["200"]
			ir.ResponseParameters["method.response.header.Access-Control-Allow-Headers"] = "'*'"
			ir.ResponseParameters["method.response.header.Access-Control-Allow-Methods"] = "'GET,POST,DELETE'"
			delete(ir.ResponseParameters, "method.response.header.Vary")
			m.MethodIntegration.IntegrationResponses["200"] = ir
		}, []string{"Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Vary"}},
		{"template edited", func(m *agtypes.Method) {
			ir := m.MethodIntegration.IntegrationResponses["200"]
			ir.ResponseTemplates["application/json"] += "## edited\n"
			m.MethodIntegration.IntegrationResponses["200"] = ir
		}, []string{"preflight template"}},
		{"integration", func(m *agtypes.Method) {
			m.MethodIntegration.Type = agtypes.IntegrationTypeHttp
			m.MethodIntegration.RequestTemplates = nil
		}, []string{"integration type", "request template"}},
		{"method response", func(m *agtypes.Method) {
			m.MethodResponses = map[string]agtypes.MethodResponse{"200": {StatusCode: aws.String("200")}, "204": {StatusCode: aws.String("204")}}
		}, []string{"method responses", "method response headers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mustSetup(spec)
			h.f.mu.Lock()
			tc.drift(h.f.optionsMethodLocked())
			h.f.mu.Unlock()

			// Status compares with what setup recorded (the desired
			// state of settings that know nothing of CORS here).
			st, err := LoadState(h.statePath)
			if err != nil {
				t.Fatal(err)
			}
			recorded, err := DesiredSpec(testSpec(), nil, st)
			if err != nil {
				t.Fatal(err)
			}
			h.f.rec.Reset()
			rep, err := h.prov(recorded).Status(context.Background(), StatusOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.f.rec.Mutating()) != 0 {
				t.Errorf("status made mutating calls: %v", h.f.rec.Mutating())
			}
			row := statusRow(rep, KindCORS)
			if rep.OK || row == nil || row.Status != StatusDrifted {
				t.Fatalf("status OK %v, row %+v", rep.OK, row)
			}
			var fields []string
			for _, d := range row.Diffs {
				fields = append(fields, d.Field)
			}
			for _, f := range tc.fields {
				if !slices.Contains(fields, f) {
					t.Errorf("drift fields %q lack %q (%+v)", fields, f, row.Diffs)
				}
			}
			res := h.mustSetup(spec)
			if got := actions(res.Changes); got[KindCORS] != Updated || got[KindDeployment] != Created {
				t.Errorf("repair = %v", got)
			}
			rep, err = h.prov(spec).Status(context.Background(), StatusOptions{})
			if err != nil || !rep.OK {
				t.Errorf("status after repair: %v %+v", err, rep)
			}
		})
	}
}

func (f *fakeAWS) optionsMethodLocked() *agtypes.Method {
	for _, a := range f.apis {
		for _, r := range a.resources {
			if m := r.methods["OPTIONS"]; m != nil {
				return m
			}
		}
	}
	return nil
}

func statusRow(rep *StatusReport, kind string) *StatusRow {
	for i := range rep.Rows {
		if rep.Rows[i].Kind == kind {
			return &rep.Rows[i]
		}
	}
	return nil
}

func TestStatusOfCORS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := corsSpec("https://app.example.com")
	h.mustSetup(spec)
	ctx := context.Background()

	st, err := LoadState(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := DesiredSpec(testSpec(), nil, st)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := h.prov(recorded).Status(ctx, StatusOptions{})
	if err != nil || !rep.OK || statusRow(rep, KindCORS) == nil || statusRow(rep, KindCORS).Status != StatusExists {
		t.Errorf("status as recorded: %v %+v", err, rep)
	}
	// Told to expect none: the OPTIONS method and the variable are drift.
	none := spec
	none.CORSOrigins = []string{}
	rep, err = h.prov(none).Status(ctx, StatusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if row := statusRow(rep, KindCORS); rep.OK || row == nil || row.Status != StatusDrifted || !strings.HasPrefix(row.Note, "left over") {
		t.Errorf("expecting none: %+v", rep.Rows)
	}
	if row := statusRow(rep, KindFunction); row == nil || row.Status != StatusDrifted {
		t.Errorf("function with CORS_ORIGINS not drifted: %+v", row)
	}
	// Without a state file, the settings are what is expected.
	if err := os.Remove(h.statePath); err != nil {
		t.Fatal(err)
	}
	rep, err = h.prov(spec).Status(ctx, StatusOptions{})
	if err != nil || !rep.OK {
		t.Errorf("no state, settings with CORS: %v %+v", err, rep.Rows)
	}
	// A stack without CORS lists no CORS row.
	h2 := newHarness(t)
	h2.mustSetup(testSpec())
	rep, err = h2.prov(testSpec()).Status(ctx, StatusOptions{})
	if err != nil || !rep.OK || statusRow(rep, KindCORS) != nil {
		t.Errorf("stack without CORS: %v %+v", err, rep.Rows)
	}
	// Expecting CORS where there is none: missing.
	rep, err = h2.prov(corsSpec("https://app.example.com")).Status(ctx, StatusOptions{})
	if row := statusRow(rep, KindCORS); err != nil || rep.OK || row == nil || row.Status != StatusMissing {
		t.Errorf("CORS expected, none there: %v %+v", err, rep.Rows)
	}
}

func TestDeployKeepsTheCORSOriginsOfTheFunction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(corsSpec("https://app.example.com"))
	h.zip = testZip(t, "v2")
	spec := testSpec()
	spec.Memory = 256
	if _, err := h.prov(spec).Deploy(context.Background(), DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := h.f.functions["LambdaFunctionOverHttps"].cfg
	if cfg.Environment.Variables[EnvCORSOrigins] != "https://app.example.com" || aws.ToInt32(cfg.MemorySize) != 256 {
		t.Errorf("after deploy: env %v, memory %d", cfg.Environment.Variables, aws.ToInt32(cfg.MemorySize))
	}
	if optionsMethod(t, h.f) == nil {
		t.Error("deploy removed the OPTIONS method")
	}
}

func TestTeardownRemovesTheOptionsMethodWithTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := corsSpec("https://app.example.com")
	h.mustSetup(spec)
	if inv := h.f.inventory(); inv["methods"] != 2 {
		t.Fatalf("methods before teardown = %d", inv["methods"])
	}
	if _, _, err := h.teardown(spec, TeardownOptions{}); err != nil {
		t.Fatal(err)
	}
	if inv := h.f.inventory(); !emptyInventory(inv) {
		t.Errorf("left after teardown: %v", inv)
	}
}

func (c lossyAPIGW) PutMethodResponse(ctx context.Context, in *apigateway.PutMethodResponseInput, o ...func(*apigateway.Options)) (*apigateway.PutMethodResponseOutput, error) {
	return replay(c.l, "PutMethodResponse", func() (*apigateway.PutMethodResponseOutput, error) {
		return c.APIGatewayAPI.PutMethodResponse(ctx, in, o...)
	})
}

func (c lossyAPIGW) PutIntegrationResponse(ctx context.Context, in *apigateway.PutIntegrationResponseInput, o ...func(*apigateway.Options)) (*apigateway.PutIntegrationResponseOutput, error) {
	return replay(c.l, "PutIntegrationResponse", func() (*apigateway.PutIntegrationResponseOutput, error) {
		return c.APIGatewayAPI.PutIntegrationResponse(ctx, in, o...)
	})
}

func (c lossyAPIGW) DeleteMethod(ctx context.Context, in *apigateway.DeleteMethodInput, o ...func(*apigateway.Options)) (*apigateway.DeleteMethodOutput, error) {
	return replay(c.l, "DeleteMethod", func() (*apigateway.DeleteMethodOutput, error) { return c.APIGatewayAPI.DeleteMethod(ctx, in, o...) })
}

// TestCORSLostAnswersAreAdopted: a put or delete of the OPTIONS method
// whose answer is lost meets AWS's answer to the SDK's retry (a conflict,
// not found); the run succeeds and the next changes nothing.
func TestCORSLostAnswersAreAdopted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op     string
		before Spec // set up first
		spec   Spec
	}{
		{"PutMethod", testSpec(), corsSpec("https://app.example.com")},
		{"PutMethodResponse", testSpec(), corsSpec("https://app.example.com")},
		{"PutIntegrationResponse", testSpec(), corsSpec("*")},
		{"DeleteMethod", corsSpec("https://app.example.com"), testSpec()},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mustSetup(tc.before)
			l := loseFirstAnswer(tc.op)
			h.wrap = l.wrap
			res, err := h.setup(tc.spec, SetupOptions{})
			if err != nil {
				t.Fatalf("setup: %v (%v)", err, failedChanges(res.changes()))
			}
			if p := l.pending(); len(p) != 0 {
				t.Fatalf("%v never called", p)
			}
			h.wrap = nil
			h.f.rec.Reset()
			h.mustSetup(tc.spec)
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("re-run made mutating calls: %v", m)
			}
		})
	}
}

func TestCORSPutConflictWithOtherSettingsFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(testSpec())
	// Someone creates an authorized OPTIONS method between setup's look
	// and its put: setup must not take it for its own.
	h.wrap = func(c Clients) Clients {
		c.APIGateway = raceAPIGW{APIGatewayAPI: c.APIGateway, f: h.f}
		return c
	}
	_, err := h.setup(corsSpec("https://app.example.com"), SetupOptions{})
	if err == nil || !strings.Contains(err.Error(), "re-run setup to converge it") {
		t.Fatalf("err = %v", err)
	}
	h.wrap = nil
	if res := h.mustSetup(corsSpec("https://app.example.com")); actions(res.Changes)[KindCORS] != Updated {
		t.Errorf("re-run: %v", actions(res.Changes))
	}
}

// raceAPIGW puts an IAM-authorized OPTIONS method right before the first
// PutMethod of OPTIONS.
type raceAPIGW struct {
	APIGatewayAPI
	f *fakeAWS
}

func (c raceAPIGW) PutMethod(ctx context.Context, in *apigateway.PutMethodInput, o ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error) {
	if aws.ToString(in.HttpMethod) == "OPTIONS" {
		other := *in
		other.AuthorizationType = aws.String("AWS_IAM")
		if _, err := c.APIGatewayAPI.PutMethod(ctx, &other, o...); err != nil {
			return nil, err
		}
	}
	return c.APIGatewayAPI.PutMethod(ctx, in, o...)
}
