package provision

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// The API key and the usage plan binding it to the stage exist for apikey
// auth only; other modes remove them.

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

func stageRef(apiID, stage string) string { return apiID + ":" + stage }

// observeKeyAndPlan finds the API key and usage plan named like ours,
// split by ownership, and whether the key is in the plan.
func (r *run) observeKeyAndPlan(ctx context.Context, o *apiObs) error {
	if err := r.observeAPIKey(ctx, o); err != nil {
		return err
	}
	if err := r.observeUsagePlan(ctx, o); err != nil {
		return err
	}
	if o.plan.id != "" && o.key.id != "" {
		var err error
		if o.plan.hasKey, err = r.p.planHasKey(ctx, o.plan.id, o.key.id); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) observeAPIKey(ctx context.Context, o *apiObs) error {
	p := r.p
	name := p.spec.APIKeyName()
	kp := apigateway.NewGetApiKeysPaginator(p.apigw, &apigateway.GetApiKeysInput{NameQuery: aws.String(name), Limit: aws.Int32(500)})
	for kp.HasMorePages() {
		out, err := kp.NextPage(ctx)
		if err != nil {
			return opErr("get API keys", name, err)
		}
		for _, k := range out.Items {
			if aws.ToString(k.Name) != name {
				continue
			}
			if owner := tagsOwner(k.Tags); owner == p.spec.Stack && o.key.id == "" {
				o.key.id = aws.ToString(k.Id)
			} else if owner != p.spec.Stack {
				o.key.foreign = append(o.key.foreign, aws.ToString(k.Id)+" ("+notOwnedNote(owner)+")")
			}
		}
	}
	return nil
}

func (r *run) observeUsagePlan(ctx context.Context, o *apiObs) error {
	p := r.p
	name := p.spec.UsagePlanName()
	pp := apigateway.NewGetUsagePlansPaginator(p.apigw, &apigateway.GetUsagePlansInput{Limit: aws.Int32(500)})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			return opErr("get usage plans", name, err)
		}
		for _, up := range out.Items {
			if aws.ToString(up.Name) != name {
				continue
			}
			if owner := tagsOwner(up.Tags); owner == p.spec.Stack && o.plan.id == "" {
				o.plan.id, o.plan.stages = aws.ToString(up.Id), up.ApiStages
			} else if owner != p.spec.Stack {
				o.plan.foreign = append(o.plan.foreign, aws.ToString(up.Id)+" ("+notOwnedNote(owner)+")")
			}
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

func (r *run) planAPIKey(o *apiObs) (Change, error) {
	p := r.p
	c := Change{Kind: KindAPIKey, Name: p.spec.APIKeyName(), Action: Unchanged}
	switch {
	case p.spec.Auth != wire.AuthAPIKey:
		if o.key.id != "" {
			c.Action, c.Note = Delete, "auth is "+p.spec.Auth
		}
	case o.key.id != "":
	case len(o.key.foreign) > 0:
		return c, r.blockNotOwnedIDs(&c, "API key", strings.Join(o.key.foreign, ", "), o.key.foreign)
	default:
		c.Action = Create
	}
	return c, nil
}

func (r *run) planUsagePlan(o *apiObs) (Change, error) {
	p := r.p
	c := Change{Kind: KindUsagePlan, Name: p.spec.UsagePlanName(), Action: Unchanged}
	switch {
	case p.spec.Auth != wire.AuthAPIKey:
		if o.plan.id != "" {
			c.Action, c.Note = Delete, "auth is "+p.spec.Auth
		}
		return c, nil
	case o.plan.id != "":
	case len(o.plan.foreign) > 0:
		return c, r.blockNotOwnedIDs(&c, "usage plan", strings.Join(o.plan.foreign, ", "), o.plan.foreign)
	default:
		c.Action = Create
		return c, nil
	}
	want := stageRef(o.id, p.spec.Stage)
	have := make([]string, 0, len(o.plan.stages))
	for _, s := range o.plan.stages {
		have = append(have, stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage)))
	}
	if o.id == "" || len(have) != 1 || have[0] != want {
		c.Diffs = append(c.Diffs, Diff{Field: "API stages", Have: strings.Join(have, ","), Want: want})
	}
	if !o.plan.hasKey {
		c.Diffs = append(c.Diffs, Diff{Field: "API key", Have: "not attached", Want: p.spec.APIKeyName()})
	}
	if len(c.Diffs) > 0 {
		c.Action = Update
	}
	return c, nil
}

// applyKeyAndPlan converges the API key and usage plan: for apikey auth,
// the key, then the plan that binds it to the stage; otherwise it deletes
// both, the plan first.
func (r *run) applyKeyAndPlan(ctx context.Context, o *apiObs, a *apiPlan) error {
	if r.p.spec.Auth != wire.AuthAPIKey {
		return r.removeKeyAndPlan(ctx, o, a)
	}
	if err := r.applyAPIKey(ctx, o, a.key); err != nil {
		return err
	}
	return r.applyUsagePlan(ctx, o, a.usagePlan)
}

func (r *run) removeKeyAndPlan(ctx context.Context, o *apiObs, a *apiPlan) error {
	p := r.p
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

func (r *run) applyAPIKey(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	if c.Action != Create {
		r.unchanged(c)
		return p.updateState(func(s *State) { s.APIKeyID = o.key.id })
	}
	return r.step(c, func() error {
		out, err := p.apigw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{
			Name: aws.String(p.spec.APIKeyName()), Enabled: true,
			Description: aws.String("ddbops stack " + p.spec.Stack + ": key for " + p.spec.API),
			Tags:        map[string]string{TagKey: p.spec.Stack},
		}, noSDKRetry)
		if err != nil {
			return opErr("create API key", p.spec.APIKeyName(), err)
		}
		o.key.id = aws.ToString(out.Id)
		return p.updateState(func(s *State) { s.APIKeyID = o.key.id })
	})
}

// applyUsagePlan creates the usage plan when missing, binds it to this
// stage only and attaches the API key.
func (r *run) applyUsagePlan(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	if c.Action == Unchanged {
		r.unchanged(c)
		return p.updateState(func(s *State) { s.UsagePlanID = o.plan.id })
	}
	return r.step(c, func() error {
		if o.plan.id == "" {
			if err := r.createUsagePlan(ctx, o); err != nil {
				return err
			}
		}
		if err := r.bindUsagePlanStage(ctx, o); err != nil {
			return err
		}
		if !o.plan.hasKey {
			if err := r.attachUsagePlanKey(ctx, o); err != nil {
				return err
			}
		}
		return p.updateState(func(s *State) { s.UsagePlanID = o.plan.id })
	})
}

func (r *run) createUsagePlan(ctx context.Context, o *apiObs) error {
	p := r.p
	out, err := p.apigw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name:        aws.String(p.spec.UsagePlanName()),
		Description: aws.String("ddbops stack " + p.spec.Stack + ": stage " + p.spec.Stage + " of " + p.spec.API),
		ApiStages:   []agtypes.ApiStage{{ApiId: aws.String(o.id), Stage: aws.String(p.spec.Stage)}},
		Tags:        map[string]string{TagKey: p.spec.Stack},
	}, noSDKRetry)
	if err != nil {
		return opErr("create usage plan", p.spec.UsagePlanName(), err)
	}
	o.plan.id, o.plan.stages = aws.ToString(out.Id), out.ApiStages
	return p.updateState(func(s *State) { s.UsagePlanID = o.plan.id })
}

// bindUsagePlanStage patches the plan's stages to this API's stage only.
func (r *run) bindUsagePlanStage(ctx context.Context, o *apiObs) error {
	p := r.p
	want := stageRef(o.id, p.spec.Stage)
	var ops []agtypes.PatchOperation
	hasWant := false
	for _, s := range o.plan.stages {
		ref := stageRef(aws.ToString(s.ApiId), aws.ToString(s.Stage))
		if ref == want {
			hasWant = true
			continue
		}
		ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(ref)})
	}
	if !hasWant {
		ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpAdd, Path: aws.String("/apiStages"), Value: aws.String(want)})
	}
	if len(ops) == 0 {
		return nil
	}
	_, err := p.apigw.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(o.plan.id), PatchOperations: ops})
	var bad *agtypes.BadRequestException
	var conflict *agtypes.ConflictException
	if errors.As(err, &bad) || errors.As(err, &conflict) {
		// A retried patch whose first answer was lost finds its
		// stages already added or removed: read the plan back.
		stages, gone, gerr := p.usagePlanStages(ctx, o.plan.id)
		switch {
		case gerr != nil:
			err = readBackFailed(err, gerr)
		case !gone && len(stages) == 1 && stageRef(aws.ToString(stages[0].ApiId), aws.ToString(stages[0].Stage)) == want:
			err = nil
		}
	}
	if err != nil {
		return opErr("update stages of usage plan", p.spec.UsagePlanName(), err)
	}
	return nil
}

func (r *run) attachUsagePlanKey(ctx context.Context, o *apiObs) error {
	p := r.p
	_, err := p.apigw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(o.plan.id), KeyId: aws.String(o.key.id), KeyType: aws.String("API_KEY")})
	var conflict *agtypes.ConflictException
	if errors.As(err, &conflict) {
		// Added by this call when the SDK retried it after a lost
		// answer, or refused because the key is in another plan
		// of the same stage: only the first is done.
		has, herr := p.planHasKey(ctx, o.plan.id, o.key.id)
		switch {
		case herr != nil:
			err = readBackFailed(err, herr)
		case has:
			err = nil
		}
	}
	if err != nil {
		return opErr("add API key to usage plan", p.spec.UsagePlanName(), err)
	}
	return nil
}
