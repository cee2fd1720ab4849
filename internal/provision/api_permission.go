package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

type permObs struct {
	exists    bool
	sourceARN string
	other     string // what differs besides the source ARN, if anything
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

// planPermission plans the invoke permission of the REST API o.id on the
// function fn (a function still to be created has none).
func (r *run) planPermission(o *apiObs, fn *functionObs) Change {
	c := Change{Kind: KindPermission, Name: PermissionStatementID, Action: Unchanged}
	want := r.arn.sourceARN(o.id)
	switch {
	case o.id == "" || !o.perm.exists:
		c.Action = Create
	case o.perm.sourceARN != want || o.perm.other != "":
		c.Action = Update
		if o.perm.sourceARN != want {
			c.Diffs = append(c.Diffs, Diff{Field: "source ARN", Have: o.perm.sourceARN, Want: want})
		}
		if o.perm.other != "" {
			c.Diffs = append(c.Diffs, Diff{Field: "grant", Have: o.perm.other, Want: "Allow lambda:InvokeFunction by apigateway.amazonaws.com"})
		}
	}
	if !fn.exists {
		c.Action = Create
	}
	return c
}

func (r *run) applyPermissionChange(ctx context.Context, o *apiObs, c Change) error {
	if c.Action == Unchanged {
		r.unchanged(c)
		return nil
	}
	return r.step(c, func() error { return r.applyPermission(ctx, o.id) })
}

// applyPermission grants API Gateway the right to invoke the function from
// this API's stage, method and path only.
func (r *run) applyPermission(ctx context.Context, apiID string) error {
	p := r.p
	add := func() error {
		_, err := p.lambda.AddPermission(ctx, &lambda.AddPermissionInput{
			FunctionName: aws.String(p.spec.Function),
			StatementId:  aws.String(PermissionStatementID),
			Action:       aws.String("lambda:InvokeFunction"),
			Principal:    aws.String("apigateway.amazonaws.com"),
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
