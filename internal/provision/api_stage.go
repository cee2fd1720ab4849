package provision

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func (r *run) observeStage(ctx context.Context, o *apiObs) error {
	p := r.p
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

// planDeployment plans a new deployment of the stage when it does not
// exist, when one of defs (the planned REST API, resource, methods and
// integration) changes the API, or when an earlier run changed the API
// without deploying it (pending).
func (r *run) planDeployment(o *apiObs, pending bool, defs ...Change) Change {
	stage := r.p.spec.Stage
	c := Change{Kind: KindDeployment, Name: stage, Action: Unchanged}
	apiChanged := false
	for _, d := range defs {
		if d.Action == Create || d.Action == Update || d.Action == Delete {
			apiChanged = true
		}
	}
	switch {
	case o.stage == nil:
		c.Action, c.Note = Create, "first deployment of stage "+stage
	case apiChanged:
		c.Action, c.Note = Create, "API changed"
	case pending:
		c.Action, c.Note = Create, "an earlier run changed the API but did not deploy it"
	default:
		c.Name = stage + " (" + aws.ToString(o.stage.DeploymentId) + ")"
	}
	return c
}

// planStage plans the stage's throttling; a missing stage is created by
// the deployment.
func (r *run) planStage(o *apiObs) Change {
	c := Change{Kind: KindStage, Name: r.p.spec.Stage, Action: Unchanged}
	if o.stage == nil {
		c.Action = Create
		return c
	}
	c.Diffs = r.p.stageDiffs(o.stage)
	c.Action = updateIf(c.Diffs)
	return c
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
	c.Action = updateIf(c.Diffs)
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

func (r *run) applyDeployment(ctx context.Context, o *apiObs, c Change) error {
	p := r.p
	if c.Action != Create {
		r.unchanged(c)
		return nil
	}
	return r.step(c, func() error {
		out, err := p.apigw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
			RestApiId: aws.String(o.id), StageName: aws.String(p.spec.Stage),
			Description: aws.String(p.spec.Description(KindDeployment)),
		})
		if err != nil {
			return opErr("create deployment on stage", p.spec.Stage, err)
		}
		return p.updateState(func(s *State) {
			s.DeploymentID, s.StageName, s.PendingDeployment = aws.ToString(out.Id), p.spec.Stage, false
		})
	})
}

// applyStage sets the stage's throttling; deployed says a deployment was
// just created, after which the stage is read again.
func (r *run) applyStage(ctx context.Context, o *apiObs, c Change, deployed bool) error {
	if deployed && c.Action != Create {
		var err error
		if c, err = r.recheckStage(ctx, o.id, c); err != nil {
			return err
		}
	}
	if c.Action == Unchanged {
		r.unchanged(c)
		return nil
	}
	// A stage the deployment just created has no throttling yet.
	return r.step(c, func() error { return r.setStageThrottle(ctx, o.id) })
}
