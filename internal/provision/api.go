package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// apiObs is everything found of the REST API and what hangs off it.
type apiObs struct {
	id      string   // our REST API ("" = none)
	rootID  string   // its root resource
	foreign []string // same-named APIs this stack does not own: "id (owner)"

	resourceID string
	method     *agtypes.Method // nil = missing
	integ      *agtypes.Integration
	stage      *apigateway.GetStageOutput

	perm permObs
	key  keyObs
	plan planObs
}

type permObs struct {
	exists    bool
	sourceARN string
	other     string // what differs besides the source ARN, if anything
}

type keyObs struct {
	id      string
	foreign []string
}

type planObs struct {
	id      string
	foreign []string
	stages  []agtypes.ApiStage
	hasKey  bool
}

// wantMethod is the POST method's authorization for an auth mode.
func wantMethod(auth string) (authType string, apiKeyRequired bool) {
	switch auth {
	case wire.AuthIAM:
		return "AWS_IAM", false
	case wire.AuthAPIKey:
		return "NONE", true
	}
	return "NONE", false
}

// authOf names the auth mode a method implements ("" = none of ours).
func authOf(m *agtypes.Method) string {
	if m == nil {
		return ""
	}
	switch {
	case aws.ToString(m.AuthorizationType) == "AWS_IAM" && !aws.ToBool(m.ApiKeyRequired):
		return wire.AuthIAM
	case aws.ToString(m.AuthorizationType) == "NONE" && aws.ToBool(m.ApiKeyRequired):
		return wire.AuthAPIKey
	case aws.ToString(m.AuthorizationType) == "NONE":
		return wire.AuthNone
	}
	return strings.ToLower(aws.ToString(m.AuthorizationType))
}

// findRestAPIs lists the REST APIs named like ours, split by ownership.
func (p *Provisioner) findRestAPIs(ctx context.Context) (ours []agtypes.RestApi, foreign []string, err error) {
	pg := apigateway.NewGetRestApisPaginator(p.apigw, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, nil, opErr("get REST APIs", p.spec.API, err)
		}
		for _, a := range out.Items {
			if aws.ToString(a.Name) != p.spec.API {
				continue
			}
			if owner := tagsOwner(a.Tags); owner == p.spec.Stack {
				ours = append(ours, a)
			} else {
				foreign = append(foreign, aws.ToString(a.Id)+" ("+notOwnedNote(owner)+")")
			}
		}
	}
	return ours, foreign, nil
}

func (r *run) observeAPI(ctx context.Context) (*apiObs, error) {
	p := r.p
	o := &apiObs{}
	ours, foreign, err := p.findRestAPIs(ctx)
	if err != nil {
		return nil, err
	}
	o.foreign = foreign
	if len(ours) > 1 {
		// Only a lost create answer can make twins; prefer the recorded one.
		known := p.State().RestAPIID
		i := slices.IndexFunc(ours, func(a agtypes.RestApi) bool { return aws.ToString(a.Id) == known })
		if i < 0 {
			ids := make([]string, len(ours))
			for j, a := range ours {
				ids[j] = aws.ToString(a.Id)
			}
			return nil, &Error{Op: "find REST API", Resource: p.spec.API,
				Err:  fmt.Errorf("%d REST APIs with this name carry %s=%s: %s", len(ours), TagKey, p.spec.Stack, strings.Join(ids, ", ")),
				Hint: "delete the extra ones (aws apigateway delete-rest-api --rest-api-id ID), or run ddbops teardown and setup again"}
		}
		ours = ours[i : i+1]
	}
	if len(ours) == 1 {
		o.id, o.rootID = aws.ToString(ours[0].Id), aws.ToString(ours[0].RootResourceId)
		if err := r.observeAPIInside(ctx, o); err != nil {
			return nil, err
		}
	}
	if o.perm, err = p.observePermission(ctx); err != nil {
		return nil, err
	}
	if err := r.observeKeyAndPlan(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

func (r *run) observeAPIInside(ctx context.Context, o *apiObs) error {
	p := r.p
	path := "/" + p.spec.Resource
	pg := apigateway.NewGetResourcesPaginator(p.apigw, &apigateway.GetResourcesInput{
		RestApiId: aws.String(o.id), Embed: []string{"methods"}, Limit: aws.Int32(500),
	})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return opErr("get resources of REST API", o.id, err)
		}
		for _, res := range out.Items {
			switch aws.ToString(res.Path) {
			case "/":
				o.rootID = aws.ToString(res.Id)
			case path:
				o.resourceID = aws.ToString(res.Id)
				if m, ok := res.ResourceMethods["POST"]; ok {
					o.method = &m
				}
			}
		}
	}
	if o.method != nil {
		o.integ = o.method.MethodIntegration
		if o.integ == nil {
			// Not every endpoint embeds the integration: ask for it.
			out, err := p.apigw.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
			var nf *agtypes.NotFoundException
			switch {
			case errors.As(err, &nf):
			case err != nil:
				return opErr("get integration of", "POST "+path, err)
			case out.Type != "":
				o.integ = &agtypes.Integration{Type: out.Type, HttpMethod: out.HttpMethod, Uri: out.Uri}
			}
		}
	}
	st, err := p.apigw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(o.id), StageName: aws.String(p.spec.Stage)})
	var nf *agtypes.NotFoundException
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return opErr("get stage", p.spec.Stage, err)
	default:
		o.stage = st
	}
	return nil
}

// lambdaPolicy is the resource policy document of a function.
type lambdaPolicy struct {
	Statement []struct {
		Sid       string          `json:"Sid"`
		Effect    string          `json:"Effect"`
		Action    any             `json:"Action"`
		Principal json.RawMessage `json:"Principal"`
		Condition map[string]map[string]any
	} `json:"Statement"`
}

func (p *Provisioner) observePermission(ctx context.Context) (permObs, error) {
	out, err := p.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(p.spec.Function)})
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return permObs{}, nil
	}
	if err != nil {
		return permObs{}, opErr("get policy of function", p.spec.Function, err)
	}
	var doc lambdaPolicy
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		return permObs{}, opErr("get policy of function", p.spec.Function, fmt.Errorf("parse policy: %w", err))
	}
	for _, s := range doc.Statement {
		if s.Sid != PermissionStatementID {
			continue
		}
		o := permObs{exists: true}
		for _, cond := range s.Condition {
			if v, ok := cond["AWS:SourceArn"]; ok {
				o.sourceARN = fmt.Sprint(v)
			}
		}
		var principal struct{ Service any }
		_ = json.Unmarshal(s.Principal, &principal)
		if fmt.Sprint(principal.Service) != "apigateway.amazonaws.com" || fmt.Sprint(s.Action) != "lambda:InvokeFunction" || s.Effect != "Allow" {
			o.other = fmt.Sprintf("%s %v by %v", s.Effect, s.Action, principal.Service)
		}
		return o, nil
	}
	return permObs{}, nil
}

func (r *run) observeKeyAndPlan(ctx context.Context, o *apiObs) error {
	p := r.p
	keyName, planName := p.spec.APIKeyName(), p.spec.UsagePlanName()
	kp := apigateway.NewGetApiKeysPaginator(p.apigw, &apigateway.GetApiKeysInput{NameQuery: aws.String(keyName), Limit: aws.Int32(500)})
	for kp.HasMorePages() {
		out, err := kp.NextPage(ctx)
		if err != nil {
			return opErr("get API keys", keyName, err)
		}
		for _, k := range out.Items {
			if aws.ToString(k.Name) != keyName {
				continue
			}
			if owner := tagsOwner(k.Tags); owner == p.spec.Stack && o.key.id == "" {
				o.key.id = aws.ToString(k.Id)
			} else if owner != p.spec.Stack {
				o.key.foreign = append(o.key.foreign, aws.ToString(k.Id)+" ("+notOwnedNote(owner)+")")
			}
		}
	}
	pp := apigateway.NewGetUsagePlansPaginator(p.apigw, &apigateway.GetUsagePlansInput{Limit: aws.Int32(500)})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			return opErr("get usage plans", planName, err)
		}
		for _, up := range out.Items {
			if aws.ToString(up.Name) != planName {
				continue
			}
			if owner := tagsOwner(up.Tags); owner == p.spec.Stack && o.plan.id == "" {
				o.plan.id, o.plan.stages = aws.ToString(up.Id), up.ApiStages
			} else if owner != p.spec.Stack {
				o.plan.foreign = append(o.plan.foreign, aws.ToString(up.Id)+" ("+notOwnedNote(owner)+")")
			}
		}
	}
	if o.plan.id != "" && o.key.id != "" {
		var err error
		if o.plan.hasKey, err = p.planHasKey(ctx, o.plan.id, o.key.id); err != nil {
			return err
		}
	}
	return nil
}

// planHasKey reports whether the API key keyID is attached to the usage
// plan planID.
func (p *Provisioner) planHasKey(ctx context.Context, planID, keyID string) (bool, error) {
	kp := apigateway.NewGetUsagePlanKeysPaginator(p.apigw, &apigateway.GetUsagePlanKeysInput{UsagePlanId: aws.String(planID), Limit: aws.Int32(500)})
	for kp.HasMorePages() {
		out, err := kp.NextPage(ctx)
		if err != nil {
			return false, opErr("get keys of usage plan", p.spec.UsagePlanName(), err)
		}
		for _, k := range out.Items {
			if aws.ToString(k.Id) == keyID {
				return true, nil
			}
		}
	}
	return false, nil
}

// usagePlanStages reads the stages a usage plan is bound to; gone reports
// that the plan does not exist.
func (p *Provisioner) usagePlanStages(ctx context.Context, id string) (stages []agtypes.ApiStage, gone bool, err error) {
	out, err := p.apigw.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String(id)})
	var nf *agtypes.NotFoundException
	if errors.As(err, &nf) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, opErr("get usage plan", p.spec.UsagePlanName(), err)
	}
	return out.ApiStages, false, nil
}

// apiPlan is the plan of the API's parts, in apply order.
type apiPlan struct {
	restAPI, resource, method, integration, permission, deployment, stage, key, usagePlan Change
}

func (a *apiPlan) changes(auth string, o *apiObs) []Change {
	cs := []Change{a.restAPI, a.resource, a.method, a.integration, a.permission, a.deployment, a.stage}
	if auth == wire.AuthAPIKey || o.key.id != "" {
		cs = append(cs, a.key)
	}
	if auth == wire.AuthAPIKey || o.plan.id != "" {
		cs = append(cs, a.usagePlan)
	}
	return cs
}

func (r *run) planAPI(o *apiObs, fn *functionObs, pendingDeployment bool) (*apiPlan, error) {
	p := r.p
	path := "/" + p.spec.Resource
	a := &apiPlan{
		restAPI:     Change{Kind: KindRestAPI, Name: p.spec.API, Action: Unchanged},
		resource:    Change{Kind: KindAPIResource, Name: path, Action: Unchanged},
		method:      Change{Kind: KindMethod, Name: "POST " + path, Action: Unchanged},
		integration: Change{Kind: KindIntegration, Name: "POST " + path, Action: Unchanged},
		permission:  Change{Kind: KindPermission, Name: PermissionStatementID, Action: Unchanged},
		deployment:  Change{Kind: KindDeployment, Name: p.spec.Stage, Action: Unchanged},
		stage:       Change{Kind: KindStage, Name: p.spec.Stage, Action: Unchanged},
		key:         Change{Kind: KindAPIKey, Name: p.spec.APIKeyName(), Action: Unchanged},
		usagePlan:   Change{Kind: KindUsagePlan, Name: p.spec.UsagePlanName(), Action: Unchanged},
	}
	var errs []error
	if o.id == "" && len(o.foreign) > 0 {
		a.restAPI.Action, a.restAPI.Note = Blocked, "same-named REST API "+strings.Join(o.foreign, ", ")
		a.restAPI.NotOwned = true
		errs = append(errs, notOwnedIDsErr("REST API", p.spec.API, o.foreign, p.spec.Stack))
	}
	if o.id != "" {
		a.restAPI.Name = p.spec.API + " (" + o.id + ")"
	}
	missing := o.id == ""
	if missing && a.restAPI.Action != Blocked {
		a.restAPI.Action = Create
	}
	if missing || o.resourceID == "" {
		a.resource.Action = Create
		missing = true
	}
	wantAuth, wantKey := wantMethod(p.spec.Auth)
	switch {
	case missing || o.method == nil:
		a.method.Action = Create
		missing = true
	case aws.ToString(o.method.AuthorizationType) != wantAuth || aws.ToBool(o.method.ApiKeyRequired) != wantKey:
		a.method.Action = Update
		a.method.Diffs = []Diff{{Field: "authorization", Have: methodAuthString(aws.ToString(o.method.AuthorizationType), aws.ToBool(o.method.ApiKeyRequired)),
			Want: methodAuthString(wantAuth, wantKey)}}
		a.method.Note = "method re-created (its integration with it)"
	}
	uri := r.arn.integrationURI()
	switch {
	case missing || o.integ == nil || o.integ.Type == "":
		a.integration.Action = Create
	case a.method.Action == Update:
		a.integration.Action = Create
		a.integration.Note = "re-created with the method"
	default:
		add := func(field, have, want string) {
			if have != want {
				a.integration.Diffs = append(a.integration.Diffs, Diff{Field: field, Have: have, Want: want})
			}
		}
		add("type", string(o.integ.Type), string(agtypes.IntegrationTypeAwsProxy))
		add("integration method", aws.ToString(o.integ.HttpMethod), "POST")
		add("uri", aws.ToString(o.integ.Uri), uri)
		if len(a.integration.Diffs) > 0 {
			a.integration.Action = Update
		}
	}
	switch {
	case o.id == "" || !o.perm.exists:
		a.permission.Action = Create
	case o.perm.sourceARN != r.arn.sourceARN(o.id) || o.perm.other != "":
		a.permission.Action = Update
		if o.perm.sourceARN != r.arn.sourceARN(o.id) {
			a.permission.Diffs = append(a.permission.Diffs, Diff{Field: "source ARN", Have: o.perm.sourceARN, Want: r.arn.sourceARN(o.id)})
		}
		if o.perm.other != "" {
			a.permission.Diffs = append(a.permission.Diffs, Diff{Field: "grant", Have: o.perm.other, Want: "Allow lambda:InvokeFunction by apigateway.amazonaws.com"})
		}
	}
	if !fn.exists {
		a.permission.Action = Create
	}
	apiChanged := false
	for _, c := range []Change{a.restAPI, a.resource, a.method, a.integration} {
		if c.Action == Create || c.Action == Update {
			apiChanged = true
		}
	}
	switch {
	case o.stage == nil:
		a.deployment.Action, a.deployment.Note = Create, "stage "+p.spec.Stage+" does not exist"
		a.stage.Action = Create
	case apiChanged:
		a.deployment.Action, a.deployment.Note = Create, "API changed"
	case pendingDeployment:
		a.deployment.Action, a.deployment.Note = Create, "an earlier run changed the API but did not deploy it"
	default:
		a.deployment.Name = p.spec.Stage + " (" + aws.ToString(o.stage.DeploymentId) + ")"
	}
	if o.stage != nil {
		a.stage.Diffs = p.stageDiffs(o.stage)
		if len(a.stage.Diffs) > 0 {
			a.stage.Action = Update
		}
	}
	// API key and usage plan: wanted for apikey auth, removed otherwise.
	if p.spec.Auth == wire.AuthAPIKey {
		if len(o.key.foreign) > 0 && o.key.id == "" {
			a.key.Action, a.key.Note = Blocked, strings.Join(o.key.foreign, ", ")
			a.key.NotOwned = true
			errs = append(errs, notOwnedIDsErr("API key", p.spec.APIKeyName(), o.key.foreign, p.spec.Stack))
		} else if o.key.id == "" {
			a.key.Action = Create
		}
		if len(o.plan.foreign) > 0 && o.plan.id == "" {
			a.usagePlan.Action, a.usagePlan.Note = Blocked, strings.Join(o.plan.foreign, ", ")
			a.usagePlan.NotOwned = true
			errs = append(errs, notOwnedIDsErr("usage plan", p.spec.UsagePlanName(), o.plan.foreign, p.spec.Stack))
		} else if o.plan.id == "" {
			a.usagePlan.Action = Create
		} else {
			want := stageRef(o.id, p.spec.Stage)
			have := make([]string, 0, len(o.plan.stages))
			for _, s := range o.plan.stages {
				have = append(have, stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage)))
			}
			if o.id == "" || len(have) != 1 || have[0] != want {
				a.usagePlan.Diffs = append(a.usagePlan.Diffs, Diff{Field: "API stages", Have: strings.Join(have, ","), Want: want})
			}
			if !o.plan.hasKey {
				a.usagePlan.Diffs = append(a.usagePlan.Diffs, Diff{Field: "API key", Have: "not attached", Want: p.spec.APIKeyName()})
			}
			if len(a.usagePlan.Diffs) > 0 {
				a.usagePlan.Action = Update
			}
		}
	} else {
		if o.key.id != "" {
			a.key.Action, a.key.Note = Delete, "auth is "+p.spec.Auth
		}
		if o.plan.id != "" {
			a.usagePlan.Action, a.usagePlan.Note = Delete, "auth is "+p.spec.Auth
		}
	}
	return a, errors.Join(errs...)
}

func stageRef(apiID, stage string) string { return apiID + ":" + stage }

func methodAuthString(authType string, apiKey bool) string {
	if apiKey {
		return authType + " + API key"
	}
	return authType
}

func fmtRate(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// stageThrottle reads the stage-wide (*/*) throttling settings.
func stageThrottle(st *apigateway.GetStageOutput) (rate, burst string) {
	ms, ok := st.MethodSettings["*/*"]
	if !ok {
		return "unset", "unset"
	}
	return fmtRate(ms.ThrottlingRateLimit), fmtInt(ms.ThrottlingBurstLimit)
}

// stageDiffs compares the stage-wide throttling with the desired one.
func (p *Provisioner) stageDiffs(st *apigateway.GetStageOutput) []Diff {
	var d []Diff
	rate, burst := stageThrottle(st)
	if rate != fmtRate(p.spec.ThrottleRate) {
		d = append(d, Diff{Field: "throttling rate", Have: rate, Want: fmtRate(p.spec.ThrottleRate)})
	}
	if burst != fmtInt(p.spec.ThrottleBurst) {
		d = append(d, Diff{Field: "throttling burst", Have: burst, Want: fmtInt(p.spec.ThrottleBurst)})
	}
	return d
}

// recheckStage reads the stage again after a new deployment: AWS keeps
// stage settings across deployments, but not every API Gateway
// implementation does (moto resets them), and the plan must hold for the
// stage as it is now.
func (r *run) recheckStage(ctx context.Context, apiID string, c Change) (Change, error) {
	st, err := r.p.apigw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(apiID), StageName: aws.String(r.p.spec.Stage)})
	if err != nil {
		return c, opErr("get stage", r.p.spec.Stage, err)
	}
	c.Diffs = r.p.stageDiffs(st)
	c.Action = Unchanged
	if len(c.Diffs) > 0 {
		c.Action = Update
	}
	return c, nil
}

func (r *run) setStageThrottle(ctx context.Context, apiID string) error {
	p := r.p
	_, err := p.apigw.UpdateStage(ctx, &apigateway.UpdateStageInput{
		RestApiId: aws.String(apiID), StageName: aws.String(p.spec.Stage),
		PatchOperations: stageThrottlePatch(p.spec),
	})
	return opErr("update throttling of stage", p.spec.Stage, err)
}

// markAPIChanged records, before the first change to the API's
// definition, that the stage needs a new deployment: if this run stops
// before deploying, the next one still deploys.
func (r *run) markAPIChanged() error {
	if r.p.State().PendingDeployment {
		return nil
	}
	return r.p.updateState(func(s *State) { s.PendingDeployment = true })
}

// applyAPIDefinition creates or converges the REST API, its resource and
// the POST method: everything that does not need the function.
func (r *run) applyAPIDefinition(ctx context.Context, o *apiObs, a *apiPlan) error {
	p := r.p
	path := "/" + p.spec.Resource
	if a.restAPI.Action == Create {
		if err := r.markAPIChanged(); err != nil {
			return err
		}
		err := r.step(a.restAPI, func() error {
			out, err := p.apigw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
				Name:                  aws.String(p.spec.API),
				Description:           aws.String(p.spec.Description(KindRestAPI)),
				EndpointConfiguration: &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
				Tags:                  map[string]string{TagKey: p.spec.Stack},
			}, noSDKRetry)
			if err != nil {
				return opErr("create REST API", p.spec.API, err)
			}
			o.id, o.rootID = aws.ToString(out.Id), aws.ToString(out.RootResourceId)
			return p.updateState(func(s *State) { s.RestAPIID = o.id })
		})
		if err != nil {
			return err
		}
	} else {
		r.unchanged(a.restAPI)
		if err := p.updateState(func(s *State) { s.RestAPIID = o.id }); err != nil {
			return err
		}
	}
	if a.resource.Action == Create {
		if err := r.markAPIChanged(); err != nil {
			return err
		}
		err := r.step(a.resource, func() error {
			out, err := p.apigw.CreateResource(ctx, &apigateway.CreateResourceInput{
				RestApiId: aws.String(o.id), ParentId: aws.String(o.rootID), PathPart: aws.String(p.spec.Resource),
			})
			var conflict *agtypes.ConflictException
			if errors.As(err, &conflict) {
				// Created by a retried call whose answer was lost.
				if err := r.observeAPIInside(ctx, o); err != nil {
					return err
				}
				if o.resourceID == "" {
					return opErr("create resource", path, err)
				}
				return p.updateState(func(s *State) { s.ResourceID = o.resourceID })
			}
			if err != nil {
				return opErr("create resource", path, err)
			}
			o.resourceID = aws.ToString(out.Id)
			return p.updateState(func(s *State) { s.ResourceID = o.resourceID })
		})
		if err != nil {
			return err
		}
	} else {
		r.unchanged(a.resource)
		if err := p.updateState(func(s *State) { s.ResourceID = o.resourceID }); err != nil {
			return err
		}
	}
	if a.method.Action == Unchanged {
		r.unchanged(a.method)
		return nil
	}
	if err := r.markAPIChanged(); err != nil {
		return err
	}
	return r.step(a.method, func() error {
		if a.method.Action == Update {
			// Re-creating resets every method setting, not only the
			// patched ones; the live stage keeps serving its deployment
			// until the new one below.
			_, err := p.apigw.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
			var nf *agtypes.NotFoundException
			if err != nil && !errors.As(err, &nf) {
				return opErr("delete method", "POST "+path, err)
			}
		}
		authType, apiKey := wantMethod(p.spec.Auth)
		_, err := p.apigw.PutMethod(ctx, &apigateway.PutMethodInput{
			RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST"),
			AuthorizationType: aws.String(authType), ApiKeyRequired: apiKey,
		})
		var conflict *agtypes.ConflictException
		if errors.As(err, &conflict) {
			// The method exists: put by this call when the SDK retried
			// it after a lost answer, or by someone else meanwhile.
			err = r.adoptMethod(ctx, o, err)
		}
		if err != nil {
			return opErr("put method", "POST "+path, err)
		}
		return p.updateState(func(s *State) { s.Auth = p.spec.Auth })
	})
}

// adoptMethod reads back the POST method PutMethod found existing (answer
// conflict) and accepts it when its authorization is the desired one.
func (r *run) adoptMethod(ctx context.Context, o *apiObs, conflict error) error {
	p := r.p
	m, err := p.apigw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST")})
	if err != nil {
		return fmt.Errorf("%w; reading it back: %w", conflict, err)
	}
	wantAuth, wantKey := wantMethod(p.spec.Auth)
	haveAuth, haveKey := aws.ToString(m.AuthorizationType), aws.ToBool(m.ApiKeyRequired)
	if haveAuth != wantAuth || haveKey != wantKey {
		return fmt.Errorf("%w (the method exists with authorization %s, want %s: re-run setup to converge it)",
			conflict, methodAuthString(haveAuth, haveKey), methodAuthString(wantAuth, wantKey))
	}
	o.method = &agtypes.Method{HttpMethod: m.HttpMethod, AuthorizationType: m.AuthorizationType, ApiKeyRequired: m.ApiKeyRequired, MethodIntegration: m.MethodIntegration}
	return nil
}

// applyAPIWiring connects the API to the function (integration and invoke
// permission), deploys the stage and sets its throttling, and converges the
// API key and usage plan. It needs the function to exist.
func (r *run) applyAPIWiring(ctx context.Context, o *apiObs, a *apiPlan) error {
	p := r.p
	path := "/" + p.spec.Resource
	if a.integration.Action == Unchanged {
		r.unchanged(a.integration)
	} else {
		if err := r.markAPIChanged(); err != nil {
			return err
		}
		err := r.step(a.integration, func() error {
			_, err := p.apigw.PutIntegration(ctx, &apigateway.PutIntegrationInput{
				RestApiId: aws.String(o.id), ResourceId: aws.String(o.resourceID), HttpMethod: aws.String("POST"),
				Type: agtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(r.arn.integrationURI()),
			})
			return opErr("put integration", "POST "+path, err)
		})
		if err != nil {
			return err
		}
	}
	if a.permission.Action == Unchanged {
		r.unchanged(a.permission)
	} else {
		err := r.step(a.permission, func() error { return r.applyPermission(ctx, o.id) })
		if err != nil {
			return err
		}
	}
	if a.deployment.Action == Create {
		err := r.step(a.deployment, func() error {
			out, err := p.apigw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
				RestApiId: aws.String(o.id), StageName: aws.String(p.spec.Stage),
				Description: aws.String(DeploymentDescription),
			})
			if err != nil {
				return opErr("create deployment on stage", p.spec.Stage, err)
			}
			return p.updateState(func(s *State) {
				s.DeploymentID, s.StageName, s.PendingDeployment = aws.ToString(out.Id), p.spec.Stage, false
			})
		})
		if err != nil {
			return err
		}
	} else {
		r.unchanged(a.deployment)
	}
	sc := a.stage
	if a.deployment.Action == Create && sc.Action != Create {
		var err error
		if sc, err = r.recheckStage(ctx, o.id, sc); err != nil {
			return err
		}
	}
	if sc.Action == Unchanged {
		r.unchanged(sc)
	} else {
		// A stage the deployment just created has no throttling yet.
		if err := r.step(sc, func() error { return r.setStageThrottle(ctx, o.id) }); err != nil {
			return err
		}
	}
	if err := r.applyKeyAndPlan(ctx, o, a); err != nil {
		return err
	}
	return p.updateState(func(s *State) {
		s.RestAPIID, s.ResourceID, s.StageName, s.Auth = o.id, o.resourceID, p.spec.Stage, p.spec.Auth
		s.InvokeURL = r.arn.invokeURL(o.id)
	})
}

// applyPermission grants API Gateway the right to invoke the function from
// this API's stage, method and path only.
func (r *run) applyPermission(ctx context.Context, apiID string) error {
	p := r.p
	add := func() error {
		_, err := p.lambda.AddPermission(ctx, &lambda.AddPermissionInput{
			FunctionName: aws.String(p.spec.Function),
			StatementId:  aws.String(PermissionStatementID),
			Action:       aws.String(PermissionAction),
			Principal:    aws.String(PermissionPrincipal),
			SourceArn:    aws.String(r.arn.sourceARN(apiID)),
		})
		return err
	}
	remove := func() error {
		_, err := p.lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(p.spec.Function), StatementId: aws.String(PermissionStatementID)})
		var nf *lambdatypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	cur, err := p.observePermission(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if cur.exists && cur.sourceARN == r.arn.sourceARN(apiID) && cur.other == "" {
			return nil
		}
		if cur.exists {
			if err := remove(); err != nil {
				return opErr("remove permission "+PermissionStatementID+" from function", p.spec.Function, err)
			}
		}
		err := add()
		var conflict *lambdatypes.ResourceConflictException
		if !errors.As(err, &conflict) || attempt > 0 {
			return opErr("add permission "+PermissionStatementID+" to function", p.spec.Function, err)
		}
		// The statement id exists: added by this very call when the SDK
		// retried it after a lost answer, or by someone else meanwhile.
		// Read the policy back: ours as desired is done, anything else
		// is converged once more.
		if cur, err = p.observePermission(ctx); err != nil {
			return err
		}
	}
}

func (r *run) applyKeyAndPlan(ctx context.Context, o *apiObs, a *apiPlan) error {
	p := r.p
	if p.spec.Auth != wire.AuthAPIKey {
		if a.usagePlan.Action == Delete {
			if err := r.step(a.usagePlan, func() error { return p.deleteUsagePlan(ctx, o.plan.id, o.plan.stages) }); err != nil {
				return err
			}
			if err := p.updateState(func(s *State) { s.UsagePlanID = "" }); err != nil {
				return err
			}
		}
		if a.key.Action == Delete {
			if err := r.step(a.key, func() error { return p.deleteAPIKey(ctx, o.key.id) }); err != nil {
				return err
			}
			return p.updateState(func(s *State) { s.APIKeyID = "" })
		}
		return nil
	}
	if a.key.Action == Create {
		err := r.step(a.key, func() error {
			out, err := p.apigw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{
				Name: aws.String(p.spec.APIKeyName()), Enabled: true,
				Description: aws.String(p.spec.Description(KindAPIKey)),
				Tags:        map[string]string{TagKey: p.spec.Stack},
			}, noSDKRetry)
			if err != nil {
				return opErr("create API key", p.spec.APIKeyName(), err)
			}
			o.key.id = aws.ToString(out.Id)
			return p.updateState(func(s *State) { s.APIKeyID = o.key.id })
		})
		if err != nil {
			return err
		}
	} else {
		r.unchanged(a.key)
		if err := p.updateState(func(s *State) { s.APIKeyID = o.key.id }); err != nil {
			return err
		}
	}
	if a.usagePlan.Action == Unchanged {
		r.unchanged(a.usagePlan)
		return p.updateState(func(s *State) { s.UsagePlanID = o.plan.id })
	}
	return r.step(a.usagePlan, func() error {
		want := agtypes.ApiStage{ApiId: aws.String(o.id), Stage: aws.String(p.spec.Stage)}
		if o.plan.id == "" {
			out, err := p.apigw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
				Name:        aws.String(p.spec.UsagePlanName()),
				Description: aws.String(p.spec.Description(KindUsagePlan)),
				ApiStages:   []agtypes.ApiStage{want},
				Tags:        map[string]string{TagKey: p.spec.Stack},
			}, noSDKRetry)
			if err != nil {
				return opErr("create usage plan", p.spec.UsagePlanName(), err)
			}
			o.plan.id, o.plan.stages = aws.ToString(out.Id), out.ApiStages
			if err := p.updateState(func(s *State) { s.UsagePlanID = o.plan.id }); err != nil {
				return err
			}
		}
		var ops []agtypes.PatchOperation
		hasWant := false
		for _, s := range o.plan.stages {
			ref := stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage))
			if ref == stageRef(o.id, p.spec.Stage) {
				hasWant = true
				continue
			}
			ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(ref)})
		}
		if !hasWant {
			ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpAdd, Path: aws.String("/apiStages"), Value: aws.String(stageRef(o.id, p.spec.Stage))})
		}
		if len(ops) > 0 {
			_, err := p.apigw.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(o.plan.id), PatchOperations: ops})
			var bad *agtypes.BadRequestException
			var conflict *agtypes.ConflictException
			if errors.As(err, &bad) || errors.As(err, &conflict) {
				// A retried patch whose first answer was lost finds its
				// stages already added or removed: read the plan back.
				stages, gone, gerr := p.usagePlanStages(ctx, o.plan.id)
				switch {
				case gerr != nil:
					err = fmt.Errorf("%w; reading it back: %w", err, gerr)
				case !gone && len(stages) == 1 && stageRef(aws.ToString(stages[0].ApiId), aws.ToString(stages[0].Stage)) == stageRef(o.id, p.spec.Stage):
					err = nil
				}
			}
			if err != nil {
				return opErr("update stages of usage plan", p.spec.UsagePlanName(), err)
			}
		}
		if !o.plan.hasKey {
			_, err := p.apigw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(o.plan.id), KeyId: aws.String(o.key.id), KeyType: aws.String("API_KEY")})
			var conflict *agtypes.ConflictException
			if errors.As(err, &conflict) {
				// Added by this call when the SDK retried it after a lost
				// answer, or refused because the key is in another plan
				// of the same stage: only the first is done.
				has, herr := p.planHasKey(ctx, o.plan.id, o.key.id)
				switch {
				case herr != nil:
					err = fmt.Errorf("%w; reading it back: %w", err, herr)
				case has:
					err = nil
				}
			}
			if err != nil {
				return opErr("add API key to usage plan", p.spec.UsagePlanName(), err)
			}
		}
		return p.updateState(func(s *State) { s.UsagePlanID = o.plan.id })
	})
}

// deleteUsagePlan detaches the plan's stages (API Gateway refuses to delete
// a plan still bound to a stage) and deletes it.
func (p *Provisioner) deleteUsagePlan(ctx context.Context, id string, stages []agtypes.ApiStage) error {
	var nf *agtypes.NotFoundException
	if len(stages) > 0 {
		ops := make([]agtypes.PatchOperation, 0, len(stages))
		refs := make([]string, 0, len(stages))
		for _, s := range stages {
			ref := stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage))
			refs = append(refs, ref)
			ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(ref)})
		}
		_, err := p.apigw.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(id), PatchOperations: ops})
		var bad *agtypes.BadRequestException
		if errors.As(err, &nf) || errors.As(err, &bad) {
			// 400: a stage is not bound (already removed by this call,
			// retried by the SDK after a lost answer); 404: the plan, or
			// the API a stage belongs to, is gone. Read the plan back:
			// never report it deleted while it remains.
			left, gone, gerr := p.usagePlanStages(ctx, id)
			switch {
			case gerr != nil:
				err = fmt.Errorf("%w; reading it back: %w", err, gerr)
			case gone:
				return nil
			case !slices.ContainsFunc(left, func(s agtypes.ApiStage) bool {
				return slices.Contains(refs, stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage)))
			}):
				err = nil
			}
		}
		if err != nil {
			return opErr("detach stages from usage plan", p.spec.UsagePlanName(), err)
		}
	}
	_, err := p.apigw.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: aws.String(id)})
	if errors.As(err, &nf) {
		return nil
	}
	return opErr("delete usage plan", p.spec.UsagePlanName(), err)
}

func (p *Provisioner) deleteAPIKey(ctx context.Context, id string) error {
	_, err := p.apigw.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(id)})
	var nf *agtypes.NotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return opErr("delete API key", p.spec.APIKeyName(), err)
}
