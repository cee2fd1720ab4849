package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// The REST API and what hangs off it, one file per part: this file holds
// the REST API and its resource, and plans and applies the whole API in
// order; api_method.go the POST method and its integration, api_cors.go
// the OPTIONS method answering CORS preflights,
// api_permission.go the function's invoke permission, api_stage.go the
// deployment and the stage's throttling, api_key.go the API key and usage
// plan.

// apiObs is everything found of the REST API and what hangs off it.
type apiObs struct {
	id      string   // our REST API ("" = none)
	rootID  string   // its root resource
	foreign []string // same-named APIs this stack does not own: "id (owner)"

	resourceID string
	method     *agtypes.Method // nil = missing
	integ      *agtypes.Integration
	// corsListed: the resource has an OPTIONS method; cors is that
	// method, read whole (nil = none).
	corsListed bool
	cors       *agtypes.Method
	stage      *apigateway.GetStageOutput

	perm permObs
	key  keyObs
	plan planObs
}

// resourceMissing reports that the /<resource> resource must be created
// (a missing REST API has none).
func (o *apiObs) resourceMissing() bool { return o.id == "" || o.resourceID == "" }

// methodMissing reports that the POST method must be created (a missing
// resource has none).
func (o *apiObs) methodMissing() bool { return o.resourceMissing() || o.method == nil }

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

// observeAPIInside reads the resources of the REST API o.id, the POST
// method with its integration, the OPTIONS method, and the stage.
func (r *run) observeAPIInside(ctx context.Context, o *apiObs) error {
	if err := r.observeResources(ctx, o); err != nil {
		return err
	}
	if err := r.observeIntegration(ctx, o); err != nil {
		return err
	}
	if err := r.observeCORS(ctx, o); err != nil {
		return err
	}
	return r.observeStage(ctx, o)
}

// observeResources finds the root and /<resource> resources and the POST
// and OPTIONS methods on the latter.
func (r *run) observeResources(ctx context.Context, o *apiObs) error {
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
				_, o.corsListed = res.ResourceMethods["OPTIONS"]
			}
		}
	}
	return nil
}

// apiPlan is the plan of the API's parts, in apply order.
type apiPlan struct {
	restAPI, resource, method, integration, cors, permission, deployment, stage, key, usagePlan Change
	// withCORS: the plan lists the OPTIONS method (origins are allowed,
	// or one exists to delete).
	withCORS bool
}

func (a *apiPlan) changes(auth string, o *apiObs) []Change {
	cs := []Change{a.restAPI, a.resource, a.method, a.integration}
	if a.withCORS {
		cs = append(cs, a.cors)
	}
	cs = append(cs, a.permission, a.deployment, a.stage)
	if auth == wire.AuthAPIKey || o.key.id != "" {
		cs = append(cs, a.key)
	}
	if auth == wire.AuthAPIKey || o.plan.id != "" {
		cs = append(cs, a.usagePlan)
	}
	return cs
}

// planAPI plans every part of the API from what observeAPI found; fn is
// the function the integration and permission point at, and
// pendingDeployment says an earlier run changed the API without deploying
// it. Parts refused (not owned) are Blocked and their errors joined.
func (r *run) planAPI(o *apiObs, fn *functionObs, pendingDeployment bool) (*apiPlan, error) {
	var errs []error
	keep := func(c Change, err error) Change {
		if err != nil {
			errs = append(errs, err)
		}
		return c
	}
	a := &apiPlan{}
	a.restAPI = keep(r.planRestAPI(o))
	a.resource = r.planResource(o)
	a.method = r.planMethod(o)
	a.integration = r.planIntegration(o, a.method)
	a.cors = r.planCORS(o)
	_, corsOn := CORSMethod(r.p.spec)
	a.withCORS = corsOn || (!o.resourceMissing() && o.cors != nil)
	a.permission = r.planPermission(o, fn)
	a.deployment = r.planDeployment(o, pendingDeployment, a.restAPI, a.resource, a.method, a.integration, a.cors)
	a.stage = r.planStage(o)
	a.key = keep(r.planAPIKey(o))
	a.usagePlan = keep(r.planUsagePlan(o))
	return a, joinErrors(errs)
}

// blockNotOwnedIDs marks c Blocked by same-named resources (ids) that this
// stack does not own, for resources whose names are not unique.
func (r *run) blockNotOwnedIDs(c *Change, kind, note string, ids []string) error {
	c.Action, c.Note, c.NotOwned = Blocked, note, true
	return notOwnedIDsErr(kind, c.Name, ids, r.p.spec.Stack)
}

func (r *run) planRestAPI(o *apiObs) (Change, error) {
	c := Change{Kind: KindRestAPI, Name: r.p.spec.API, Action: Unchanged}
	switch {
	case o.id != "":
		c.Name = r.p.spec.API + " (" + o.id + ")"
	case len(o.foreign) > 0:
		return c, r.blockNotOwnedIDs(&c, "REST API", "same-named REST API "+strings.Join(o.foreign, ", "), o.foreign)
	default:
		c.Action = Create
	}
	return c, nil
}

func (r *run) planResource(o *apiObs) Change {
	c := Change{Kind: KindAPIResource, Name: "/" + r.p.spec.Resource, Action: Unchanged}
	if o.resourceMissing() {
		c.Action = Create
	}
	return c
}

// stepAPIDefinition runs fn as the change c to the API's definition. It
// records first that the stage needs a new deployment: if this run stops
// before deploying, the next one still deploys.
func (r *run) stepAPIDefinition(c Change, fn func() error) error {
	if !r.p.State().PendingDeployment {
		if err := r.p.updateState(func(s *State) { s.PendingDeployment = true }); err != nil {
			return err
		}
	}
	return r.step(c, fn)
}

// applyAPIDefinition creates or converges the REST API, its resource, the
// POST method and the OPTIONS method: everything that does not need the
// function.
func (r *run) applyAPIDefinition(ctx context.Context, o *apiObs, a *apiPlan) error {
	if err := r.applyRestAPI(ctx, o, a.restAPI); err != nil {
		return err
	}
	if err := r.applyResource(ctx, o, a.resource); err != nil {
		return err
	}
	if err := r.applyMethod(ctx, o, a.method); err != nil {
		return err
	}
	return r.applyCORS(ctx, o, a.cors)
}

func (r *run) applyRestAPI(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	if c.Action != Create {
		r.unchanged(c)
		return p.updateState(func(s *State) { s.RestAPIID = o.id })
	}
	return r.stepAPIDefinition(c, func() error {
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
}

func (r *run) applyResource(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	path := "/" + p.spec.Resource
	if c.Action != Create {
		r.unchanged(c)
		return p.updateState(func(s *State) { s.ResourceID = o.resourceID })
	}
	return r.stepAPIDefinition(c, func() error {
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
}

// applyAPIWiring connects the API to the function (integration and invoke
// permission), deploys the stage and sets its throttling, and converges the
// API key and usage plan. It needs the function to exist.
func (r *run) applyAPIWiring(ctx context.Context, o *apiObs, a *apiPlan) error {
	p := r.p
	if err := r.applyIntegration(ctx, o, a.integration); err != nil {
		return err
	}
	if err := r.applyPermissionChange(ctx, o, a.permission); err != nil {
		return err
	}
	if err := r.applyDeployment(ctx, o, a.deployment); err != nil {
		return err
	}
	if err := r.applyStage(ctx, o, a.stage, a.deployment.Action == Create); err != nil {
		return err
	}
	if err := r.applyKeyAndPlan(ctx, o, a); err != nil {
		return err
	}
	return p.updateState(func(s *State) {
		s.RestAPIID, s.ResourceID, s.StageName, s.Auth = o.id, o.resourceID, p.spec.Stage, p.spec.Auth
		s.InvokeURL = r.arn.invokeURL(o.id)
	})
}
