package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/wire"
)

// cfnEnv is one concrete CloudFormation stack: what the pseudo parameters,
// the parameters and the resources' Ref / GetAtt return values evaluate to
// (as the CloudFormation documentation gives them per resource type).
type cfnEnv struct {
	acct   provision.Account
	region string
	apiID  string
	params map[string]string
}

func newCFNEnv(spec provision.Spec) cfnEnv {
	return cfnEnv{
		acct:   provision.Account{ID: "123456789012", Partition: Partition(spec.Region)},
		region: spec.Region,
		apiID:  "a1b2c3d4e5",
		params: map[string]string{ParamCodeBucket: "my-bucket", ParamCodeKey: "ddbops/bootstrap.zip"},
	}
}

// eval resolves the intrinsic functions of a JSON template tree.
type evaluator struct {
	env       cfnEnv
	resources map[string]map[string]any
}

func (e *evaluator) props(id string) map[string]any {
	r, ok := e.resources[id]
	if !ok {
		panic("no resource " + id)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

func (e *evaluator) typ(id string) string { return fmt.Sprint(e.resources[id]["Type"]) }

func (e *evaluator) ref(name string) string {
	a, p := e.env.acct, ""
	switch name {
	case "AWS::AccountId":
		return a.ID
	case "AWS::Partition":
		return a.Partition
	case "AWS::Region":
		return e.env.region
	case "AWS::URLSuffix":
		return a.DNSSuffix()
	}
	if v, ok := e.env.params[name]; ok {
		return v
	}
	props := e.props(name)
	switch e.typ(name) {
	case "AWS::IAM::ManagedPolicy":
		return fmt.Sprintf("arn:%s:iam::%s:policy/%s", a.Partition, a.ID, props["ManagedPolicyName"])
	case "AWS::Lambda::Function":
		return fmt.Sprint(props["FunctionName"])
	case "AWS::DynamoDB::Table":
		return fmt.Sprint(props["TableName"])
	case "AWS::ApiGateway::RestApi":
		return e.env.apiID
	case "AWS::ApiGateway::Stage":
		return fmt.Sprint(props["StageName"])
	case "AWS::ApiGateway::Resource":
		p = "res0001"
	case "AWS::ApiGateway::Deployment":
		p = "dep0001"
	case "AWS::ApiGateway::ApiKey":
		p = "key0001"
	case "AWS::ApiGateway::UsagePlan":
		p = "plan001"
	default:
		panic("no Ref model for " + e.typ(name))
	}
	return p
}

func (e *evaluator) getAtt(id, attr string) string {
	a, props := e.env.acct, e.props(id)
	switch e.typ(id) + "." + attr {
	case "AWS::IAM::Role.Arn":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.ID, props["RoleName"])
	case "AWS::ApiGateway::RestApi.RootResourceId":
		return "root001"
	case "AWS::Logs::LogGroup.Arn":
		return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", a.Partition, e.env.region, a.ID, props["LogGroupName"])
	case "AWS::DynamoDB::Table.Arn":
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", a.Partition, e.env.region, a.ID, props["TableName"])
	case "AWS::Lambda::Function.Arn":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", a.Partition, e.env.region, a.ID, props["FunctionName"])
	}
	panic("no GetAtt model for " + e.typ(id) + "." + attr)
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

func (e *evaluator) eval(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				switch k {
				case "Ref":
					return e.ref(arg.(string))
				case "Fn::GetAtt":
					l := arg.([]any)
					return e.getAtt(l[0].(string), l[1].(string))
				case "Fn::Sub":
					return subVar.ReplaceAllStringFunc(arg.(string), func(m string) string {
						name := m[2 : len(m)-1]
						if id, attr, ok := strings.Cut(name, "."); ok {
							return e.getAtt(id, attr)
						}
						return e.ref(name)
					})
				}
				if strings.HasPrefix(k, "Fn::") {
					panic("no model for " + k)
				}
			}
		}
		out := map[string]any{}
		for k, x := range t {
			out[k] = e.eval(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = e.eval(x)
		}
		return out
	}
	return v
}

// evaluated is a template with every intrinsic function resolved.
type evaluated struct {
	resources map[string]map[string]any // logical id -> evaluated resource
	outputs   map[string]any
}

func evaluate(t *testing.T, tmplJSON []byte, env cfnEnv) evaluated {
	t.Helper()
	var tmpl struct {
		Resources map[string]map[string]any
		Outputs   map[string]map[string]any
	}
	if err := json.Unmarshal(tmplJSON, &tmpl); err != nil {
		t.Fatal(err)
	}
	e := &evaluator{env: env, resources: tmpl.Resources}
	out := evaluated{resources: map[string]map[string]any{}, outputs: map[string]any{}}
	for id, r := range tmpl.Resources {
		out.resources[id] = e.eval(r).(map[string]any)
	}
	for id, o := range tmpl.Outputs {
		out.outputs[id] = e.eval(o["Value"])
	}
	return out
}

func (ev evaluated) props(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := ev.resources[id]
	if !ok {
		t.Fatalf("template has no resource %s", id)
	}
	return r["Properties"].(map[string]any)
}

// jsonValue decodes a JSON document the provisioner uses (a policy).
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// roundTrip makes v comparable with decoded JSON (numbers float64,
// []string as []any, ...).
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return jsonValue(t, string(b))
}

func renderTemplate(t *testing.T, spec provision.Spec) (*Template, []byte, []byte) {
	t.Helper()
	tmpl, err := CloudFormation(spec)
	if err != nil {
		t.Fatal(err)
	}
	j, err := tmpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	y, err := tmpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, j, y
}

// TestExportCloudFormationMatchesProvisioner evaluates the template for a
// concrete account, region and REST API id and compares every resource,
// field by field, with the provisioner's desired state for the same
// account: the policy document, role, log group, function, table, API,
// method, integration, permission, deployment, stage, API key and usage
// plan, and the invoke URL.
func TestExportCloudFormationMatchesProvisioner(t *testing.T) {
	t.Parallel()
	named := func(auth string) provision.Spec { return corsSpec(auth, false) }
	star := func(auth string) provision.Spec { return corsSpec(auth, true) }
	for _, mk := range []func(string) provision.Spec{defaultSpec, otherSpec, named, star} {
		for _, auth := range authModes {
			spec := mk(auth)
			t.Run(spec.Stack+"/"+auth, func(t *testing.T) {
				t.Parallel()
				_, j, _ := renderTemplate(t, spec)
				env := newCFNEnv(spec)
				ev := evaluate(t, j, env)
				want := provision.StackARNs(spec, env.acct)
				tags := roundTrip(t, []map[string]string{{"Key": provision.TagKey, "Value": spec.Stack}})

				check := func(what string, got, want any) {
					t.Helper()
					if !reflect.DeepEqual(got, roundTrip(t, want)) {
						t.Errorf("%s = %#v, provisioner wants %#v", what, got, want)
					}
				}

				p := ev.props(t, LogicalPolicy)
				check("policy document", p["PolicyDocument"], jsonValue(t, want.ExecutionPolicy()))
				check("policy name", p["ManagedPolicyName"], spec.Policy)
				check("policy description", p["Description"], spec.Description(provision.KindPolicy))

				r := ev.props(t, LogicalRole)
				check("role name", r["RoleName"], spec.Role)
				check("role description", r["Description"], spec.Description(provision.KindRole))
				check("trust policy", r["AssumeRolePolicyDocument"], jsonValue(t, provision.TrustPolicy()))
				check("attached policies", r["ManagedPolicyArns"], []string{want.Policy()})
				check("role tags", r["Tags"], tags)

				lg := ev.props(t, LogicalLogGroup)
				check("log group name", lg["LogGroupName"], spec.LogGroupName())
				if spec.LogRetention > 0 {
					check("log retention", lg["RetentionInDays"], spec.LogRetention)
				} else if _, ok := lg["RetentionInDays"]; ok {
					t.Errorf("retention 0 (never expire) sets RetentionInDays %v", lg["RetentionInDays"])
				}
				check("log group tags", lg["Tags"], tags)
				// The policy's log resource is this group's.
				logARN := (&evaluator{env: env, resources: map[string]map[string]any{"G": {"Type": "AWS::Logs::LogGroup", "Properties": lg}}}).getAtt("G", "Arn")
				if logARN != want.LogGroup()+":*" {
					t.Errorf("log group ARN %s, policy grants %s:*", logARN, want.LogGroup())
				}

				fn := ev.props(t, LogicalFunction)
				check("function name", fn["FunctionName"], spec.Function)
				check("function description", fn["Description"], spec.Description(provision.KindFunction))
				check("runtime", fn["Runtime"], provision.Runtime)
				check("handler", fn["Handler"], provision.Handler)
				check("architectures", fn["Architectures"], []string{spec.Arch})
				check("memory", fn["MemorySize"], spec.Memory)
				check("timeout", fn["Timeout"], spec.Timeout)
				check("role", fn["Role"], want.Role())
				check("environment", fn["Environment"], map[string]any{"Variables": provision.FunctionEnvironment(spec)})
				check("code", fn["Code"], map[string]string{"S3Bucket": env.params[ParamCodeBucket], "S3Key": env.params[ParamCodeKey]})
				check("function tags", fn["Tags"], tags)

				tb := ev.props(t, LogicalTable)
				check("table name", tb["TableName"], spec.Table)
				check("key schema", tb["KeySchema"], []map[string]string{{"AttributeName": wire.KeyAttribute, "KeyType": "HASH"}})
				check("attributes", tb["AttributeDefinitions"], []map[string]string{{"AttributeName": wire.KeyAttribute, "AttributeType": "S"}})
				check("billing", tb["BillingMode"], "PAY_PER_REQUEST")
				check("table tags", tb["Tags"], tags)
				check("table deletion policy", ev.resources[LogicalTable]["DeletionPolicy"], "Retain")

				api := ev.props(t, LogicalRestAPI)
				check("API name", api["Name"], spec.API)
				check("API description", api["Description"], spec.Description(provision.KindRestAPI))
				check("endpoint", api["EndpointConfiguration"], map[string][]string{"Types": {"REGIONAL"}})
				check("API tags", api["Tags"], tags)

				res := ev.props(t, LogicalResource)
				check("resource", res, map[string]string{"RestApiId": env.apiID, "ParentId": "root001", "PathPart": spec.Resource})

				authType, keyRequired := provision.MethodAuthorization(spec.Auth)
				m := ev.props(t, LogicalPostMethod)
				check("method", m, map[string]any{
					"RestApiId": env.apiID, "ResourceId": "res0001", "HttpMethod": "POST",
					"AuthorizationType": authType, "ApiKeyRequired": keyRequired,
					"Integration": map[string]string{"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": want.IntegrationURI()},
				})

				perm := ev.props(t, LogicalPermission)
				check("permission", perm, map[string]string{
					"FunctionName": spec.Function, "Action": provision.PermissionAction,
					"Principal": provision.PermissionPrincipal, "SourceArn": want.PermissionSourceARN(env.apiID),
				})

				dep := ev.resources[LogicalDeployment]
				check("deployment", dep["Properties"], map[string]string{"RestApiId": env.apiID, "Description": spec.Description(provision.KindDeployment)})
				waits := []string{LogicalPostMethod}
				if _, cors := provision.CORSMethod(spec); cors {
					waits = append(waits, LogicalCORSMethod)
				}
				check("deployment waits for", dep["DependsOn"], waits)

				th := provision.StageThrottle(spec)
				st := ev.props(t, LogicalStage)
				check("stage", st, map[string]any{
					"RestApiId": env.apiID, "StageName": spec.Stage, "DeploymentId": "dep0001",
					"MethodSettings": []map[string]any{{
						"ResourcePath": th.ResourcePath, "HttpMethod": th.HTTPMethod,
						"ThrottlingRateLimit": th.RateLimit, "ThrottlingBurstLimit": th.BurstLimit,
					}},
					"Tags": tags,
				})

				_, hasKey := ev.resources[LogicalAPIKey]
				_, hasPlan := ev.resources[LogicalUsagePlan]
				if (auth == wire.AuthAPIKey) != hasKey || hasKey != hasPlan {
					t.Fatalf("auth %s: API key %v, usage plan %v", auth, hasKey, hasPlan)
				}
				if hasKey {
					check("API key", ev.props(t, LogicalAPIKey), map[string]any{
						"Name": spec.APIKeyName(), "Description": spec.Description(provision.KindAPIKey), "Enabled": true, "Tags": tags,
					})
					check("usage plan", ev.props(t, LogicalUsagePlan), map[string]any{
						"UsagePlanName": spec.UsagePlanName(), "Description": spec.Description(provision.KindUsagePlan),
						"ApiStages": []map[string]string{{"ApiId": env.apiID, "Stage": spec.Stage}}, "Tags": tags,
					})
					check("usage plan key", ev.props(t, LogicalUsagePlanKey), map[string]string{"KeyId": "key0001", "KeyType": "API_KEY", "UsagePlanId": "plan001"})
					check("API key output", ev.outputs["ApiKeyId"], "key0001")
				}
				check("invoke URL", ev.outputs["InvokeUrl"], want.InvokeURL(env.apiID))
				check("auth output", ev.outputs["Auth"], spec.Auth)
			})
		}
	}
}

// TestExportCloudFormationResources pins the resource list per auth mode.
func TestExportCloudFormationResources(t *testing.T) {
	t.Parallel()
	base := []Resource{
		{LogicalPolicy, "AWS::IAM::ManagedPolicy"}, {LogicalRole, "AWS::IAM::Role"}, {LogicalLogGroup, "AWS::Logs::LogGroup"},
		{LogicalFunction, "AWS::Lambda::Function"}, {LogicalTable, "AWS::DynamoDB::Table"}, {LogicalRestAPI, "AWS::ApiGateway::RestApi"},
		{LogicalResource, "AWS::ApiGateway::Resource"}, {LogicalPostMethod, "AWS::ApiGateway::Method"},
		{LogicalPermission, "AWS::Lambda::Permission"}, {LogicalDeployment, "AWS::ApiGateway::Deployment"}, {LogicalStage, "AWS::ApiGateway::Stage"},
	}
	withKey := append(slices.Clone(base), Resource{LogicalAPIKey, "AWS::ApiGateway::ApiKey"},
		Resource{LogicalUsagePlan, "AWS::ApiGateway::UsagePlan"}, Resource{LogicalUsagePlanKey, "AWS::ApiGateway::UsagePlanKey"})
	for _, auth := range authModes {
		tmpl, j, _ := renderTemplate(t, defaultSpec(auth))
		want := base
		if auth == wire.AuthAPIKey {
			want = withKey
		}
		if got := tmpl.Resources(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: resources %v, want %v", auth, got, want)
		}
		var doc struct {
			Resources map[string]struct{ Type string }
		}
		if err := json.Unmarshal(j, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Resources) != len(want) {
			t.Errorf("%s: template holds %d resources, Resources() lists %d", auth, len(doc.Resources), len(want))
		}
		for _, r := range want {
			if doc.Resources[r.LogicalID].Type != r.Type {
				t.Errorf("%s: %s has type %q, want %s", auth, r.LogicalID, doc.Resources[r.LogicalID].Type, r.Type)
			}
		}
	}
}

// TestExportCloudFormationYAMLIsJSON checks that the YAML rendering (short
// forms !Ref, !Sub, !GetAtt) is the same template as the JSON one.
func TestExportCloudFormationYAMLIsJSON(t *testing.T) {
	t.Parallel()
	for _, auth := range authModes {
		_, j, y := renderTemplate(t, otherSpec(auth))
		var n yaml.Node
		if err := yaml.Unmarshal(y, &n); err != nil {
			t.Fatalf("%s: YAML does not parse: %v", auth, err)
		}
		got, err := yamlToJSON(n.Content[0])
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(j, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(roundTrip(t, got), want) {
			t.Errorf("%s: YAML and JSON templates differ", auth)
		}
		if !Generated(FormatCloudFormation, y) {
			t.Errorf("%s: the YAML template does not say it was generated by ddbops", auth)
		}
	}
}

// yamlToJSON reads a YAML template, turning the short forms of the
// intrinsic functions into the long ones.
func yamlToJSON(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!Ref":
		return map[string]any{"Ref": n.Value}, nil
	case "!Sub":
		return map[string]any{"Fn::Sub": n.Value}, nil
	case "!GetAtt":
		id, attr, _ := strings.Cut(n.Value, ".")
		return map[string]any{"Fn::GetAtt": []any{id, attr}}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlToJSON(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			v, err := yamlToJSON(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
}

// TestExportCloudFormationLint runs cfn-lint on the template of every auth
// mode, YAML and JSON: no error, no warning, no informational finding.
func TestExportCloudFormationLint(t *testing.T) {
	lint := tool(t, "cfn-lint", "pip install cfn-lint")
	dir := t.TempDir()
	var files []string
	named := func(auth string) provision.Spec { return corsSpec(auth, false) }
	star := func(auth string) provision.Spec { return corsSpec(auth, true) }
	for _, mk := range []func(string) provision.Spec{defaultSpec, otherSpec, named, star} {
		for _, auth := range authModes {
			spec := mk(auth)
			_, j, y := renderTemplate(t, spec)
			name := fmt.Sprintf("%s-%s-cors%d", spec.Stack, auth, len(spec.CORSOrigins))
			files = append(files,
				writeTemp(t, dir, name+".yaml", y),
				writeTemp(t, dir, name+".json", j))
		}
	}
	cmd := exec.Command(lint, append([]string{"--include-checks", "I", "--"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

// TestExportCloudFormationTagsEverythingTaggable asks cfn-lint which
// resource types take tags: a copy of the template with a Tags property on
// every resource must fail exactly on the resources the template leaves
// untagged, so every resource that can carry the stack's tag carries it.
func TestExportCloudFormationTagsEverythingTaggable(t *testing.T) {
	lint := tool(t, "cfn-lint", "pip install cfn-lint")
	_, j, _ := renderTemplate(t, defaultSpec(wire.AuthAPIKey))
	var tmpl map[string]any
	if err := json.Unmarshal(j, &tmpl); err != nil {
		t.Fatal(err)
	}
	var untagged []string
	for id, r := range tmpl["Resources"].(map[string]any) {
		props := r.(map[string]any)["Properties"].(map[string]any)
		if _, ok := props["Tags"]; !ok {
			untagged = append(untagged, id)
			props["Tags"] = []any{map[string]any{"Key": provision.TagKey, "Value": "probe"}}
		}
	}
	sort.Strings(untagged)
	probe, err := json.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, t.TempDir(), "probe.json", probe)
	out, _ := exec.Command(lint, "--format", "json", "--", path).Output()
	var findings []struct {
		Rule     struct{ Id string }
		Location struct{ Path []any }
		Message  string
	}
	if err := json.Unmarshal(out, &findings); err != nil {
		t.Fatalf("cfn-lint --format json: %v\n%s", err, out)
	}
	var refused []string
	for _, f := range findings {
		p := f.Location.Path
		if len(p) >= 4 && p[0] == "Resources" && p[2] == "Properties" && p[3] == "Tags" {
			refused = append(refused, fmt.Sprint(p[1]))
			continue
		}
		t.Errorf("unexpected finding %s at %v: %s", f.Rule.Id, p, f.Message)
	}
	sort.Strings(refused)
	refused = slices.Compact(refused)
	t.Logf("cfn-lint refuses Tags on %v", refused)
	if !reflect.DeepEqual(refused, untagged) {
		t.Errorf("cfn-lint refuses Tags on %v; the template leaves untagged %v", refused, untagged)
	}
}

// TestExportCloudFormationRejectsBadSpec: what setup would refuse, the
// export refuses.
func TestExportCloudFormationRejectsBadSpec(t *testing.T) {
	t.Parallel()
	s := defaultSpec(wire.AuthIAM)
	s.Memory = 64
	if _, err := CloudFormation(s); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("memory 64: err = %v", err)
	}
	s = defaultSpec("basic")
	if _, err := CloudFormation(s); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Errorf("auth basic: err = %v", err)
	}
}

// TestExportCloudFormationCORS checks the OPTIONS preflight of setup --cors
// against the provisioner's desired method (provision.CORSMethod), field by
// field, and the function's CORS_ORIGINS; without origins there is none.
func TestExportCloudFormationCORS(t *testing.T) {
	t.Parallel()
	for _, star := range []bool{false, true} {
		spec := corsSpec(wire.AuthIAM, star)
		want, ok := provision.CORSMethod(spec)
		if !ok {
			t.Fatal("CORSMethod: no method for a spec with origins")
		}
		_, j, _ := renderTemplate(t, spec)
		var doc struct {
			Resources map[string]struct {
				Type       string
				DependsOn  []string
				Properties struct {
					HttpMethod, AuthorizationType string
					ApiKeyRequired                bool
					Integration                   struct {
						Type, PassthroughBehavior string
						RequestTemplates          map[string]string
						IntegrationResponses      []struct {
							StatusCode         string
							ResponseParameters map[string]string
							ResponseTemplates  map[string]string
						}
					}
					MethodResponses []struct {
						StatusCode         string
						ResponseParameters map[string]bool
					}
					Environment struct{ Variables map[string]string }
				}
			}
		}
		if err := json.Unmarshal(j, &doc); err != nil {
			t.Fatal(err)
		}
		m, ok := doc.Resources[LogicalCORSMethod]
		if !ok {
			t.Fatalf("star=%v: no %s in the template", star, LogicalCORSMethod)
		}
		p := m.Properties
		if m.Type != "AWS::ApiGateway::Method" || p.HttpMethod != want.HTTPMethod || p.AuthorizationType != want.AuthorizationType || p.ApiKeyRequired != want.APIKeyRequired {
			t.Errorf("star=%v: method %s %s %s key=%v, want %s %s key=%v", star, m.Type, p.HttpMethod, p.AuthorizationType, p.ApiKeyRequired, want.HTTPMethod, want.AuthorizationType, want.APIKeyRequired)
		}
		in := p.Integration
		if in.Type != want.IntegrationType || in.PassthroughBehavior != want.PassthroughBehavior || !reflect.DeepEqual(in.RequestTemplates, want.RequestTemplates) {
			t.Errorf("star=%v: integration %+v, want %s %s %v", star, in, want.IntegrationType, want.PassthroughBehavior, want.RequestTemplates)
		}
		if len(in.IntegrationResponses) != 1 || in.IntegrationResponses[0].StatusCode != want.StatusCode ||
			!reflect.DeepEqual(in.IntegrationResponses[0].ResponseParameters, want.IntegrationResponseParameters) ||
			len(in.IntegrationResponses[0].ResponseTemplates) != len(want.IntegrationResponseTemplates) {
			t.Errorf("star=%v: integration responses %+v, want %s %v %v", star, in.IntegrationResponses, want.StatusCode, want.IntegrationResponseParameters, want.IntegrationResponseTemplates)
		}
		for k, v := range want.IntegrationResponseTemplates {
			if len(in.IntegrationResponses) == 1 && in.IntegrationResponses[0].ResponseTemplates[k] != v {
				t.Errorf("star=%v: response template %s differs from the provisioner's", star, k)
			}
		}
		if len(p.MethodResponses) != 1 || p.MethodResponses[0].StatusCode != want.StatusCode || !reflect.DeepEqual(p.MethodResponses[0].ResponseParameters, want.MethodResponseParameters) {
			t.Errorf("star=%v: method responses %+v, want %s %v", star, p.MethodResponses, want.StatusCode, want.MethodResponseParameters)
		}
		if !slices.Contains(doc.Resources[LogicalDeployment].DependsOn, LogicalCORSMethod) {
			t.Errorf("star=%v: the deployment does not depend on %s", star, LogicalCORSMethod)
		}
		env := doc.Resources[LogicalFunction].Properties.Environment.Variables
		if wantEnv := provision.FunctionEnvironment(spec); !reflect.DeepEqual(env, wantEnv) {
			t.Errorf("star=%v: function environment %v, want %v", star, env, wantEnv)
		}
	}
	_, j, _ := renderTemplate(t, otherSpec(wire.AuthIAM))
	if bytes.Contains(j, []byte(LogicalCORSMethod)) || bytes.Contains(j, []byte(provision.EnvCORSOrigins)) {
		t.Error("a template without origins has an OPTIONS method or CORS_ORIGINS")
	}
}
