package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// maxPolicyVersions is IAM's limit of stored versions per managed policy.
const maxPolicyVersions = 5

type policyObs struct {
	exists   bool
	owner    string
	arn      string
	document string // default version, decoded JSON
}

func iamTags(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (r *run) observePolicy(ctx context.Context) (*policyObs, error) {
	p, arn := r.p, r.arn.policy()
	out, err := p.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return &policyObs{arn: arn}, nil
	}
	if err != nil {
		return nil, opErr("get policy", p.spec.Policy, err)
	}
	o := &policyObs{exists: true, arn: arn, owner: tagsOwner(iamTags(out.Policy.Tags))}
	if o.owner != p.spec.Stack {
		return o, nil // not ours: its content is none of our business
	}
	v, err := p.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: out.Policy.DefaultVersionId})
	if err != nil {
		return nil, opErr("get policy version", p.spec.Policy, err)
	}
	if o.document, err = decodePolicyDocument(aws.ToString(v.PolicyVersion.Document)); err != nil {
		return nil, opErr("get policy version", p.spec.Policy, err)
	}
	return o, nil
}

func (r *run) planPolicy(o *policyObs) (Change, error) {
	c, more, err := r.p.planFound(KindPolicy, "IAM policy", r.p.spec.Policy, o.exists, o.owner)
	if !more {
		return c, err
	}
	c.Diffs = diffPolicies("document", o.document, r.arn.executionPolicy())
	c.Action = updateIf(c.Diffs)
	return c, nil
}

// iamStackTags tags an IAM resource as this stack's.
func (r *run) iamStackTags() []iamtypes.Tag {
	return []iamtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(r.p.spec.Stack)}}
}

func (r *run) applyPolicy(ctx context.Context, o *policyObs, c Change) error {
	p, name, doc := r.p, r.p.spec.Policy, r.arn.executionPolicy()
	switch c.Action {
	case Create:
		_, err := p.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(name),
			PolicyDocument: aws.String(doc),
			Description:    aws.String(fmt.Sprintf("ddbops stack %s: the function's access to its table and log group", p.spec.Stack)),
			Tags:           r.iamStackTags(),
		})
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			// Created by this call when the SDK retried it after a lost
			// answer, or by someone else meanwhile: read it back and
			// converge it if it is ours.
			return readBackAndApply(ctx, "create policy", name, err, r.observePolicy, r.planPolicy, r.applyPolicy)
		}
		if err != nil {
			return opErr("create policy", name, err)
		}
	case Update:
		if err := r.pruneOldestPolicyVersion(ctx, o.arn); err != nil {
			return err
		}
		_, err := p.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
			PolicyArn: aws.String(o.arn), PolicyDocument: aws.String(doc), SetAsDefault: true,
		})
		if err != nil {
			return opErr("create policy version", name, err)
		}
	}
	return p.updateState(func(s *State) { s.PolicyARN = o.arn })
}

// pruneOldestPolicyVersion makes room for a new version when IAM's limit
// of five is reached, deleting the oldest version that is not the default.
func (r *run) pruneOldestPolicyVersion(ctx context.Context, arn string) error {
	var versions []iamtypes.PolicyVersion
	pg := iam.NewListPolicyVersionsPaginator(r.p.iam, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return opErr("list policy versions", r.p.spec.Policy, err)
		}
		versions = append(versions, out.Versions...)
	}
	if len(versions) < maxPolicyVersions {
		return nil
	}
	var old []iamtypes.PolicyVersion
	for _, v := range versions {
		if !v.IsDefaultVersion {
			old = append(old, v)
		}
	}
	sort.Slice(old, func(i, j int) bool { return aws.ToTime(old[i].CreateDate).Before(aws.ToTime(old[j].CreateDate)) })
	if len(old) == 0 {
		return nil
	}
	_, err := r.p.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: old[0].VersionId})
	return opErr("delete policy version "+aws.ToString(old[0].VersionId)+" of", r.p.spec.Policy, err)
}

type roleObs struct {
	exists   bool
	owner    string
	arn      string
	trust    string
	attached bool
}

func (r *run) observeRole(ctx context.Context) (*roleObs, error) {
	p, name := r.p, r.p.spec.Role
	out, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return &roleObs{arn: r.arn.role()}, nil
	}
	if err != nil {
		return nil, opErr("get role", name, err)
	}
	o := &roleObs{exists: true, arn: aws.ToString(out.Role.Arn), owner: tagsOwner(iamTags(out.Role.Tags))}
	if o.owner != p.spec.Stack {
		return o, nil
	}
	if o.trust, err = decodePolicyDocument(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
		return nil, opErr("get role", name, err)
	}
	policyARN := r.arn.policy()
	pg := iam.NewListAttachedRolePoliciesPaginator(p.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, opErr("list attached role policies", name, err)
		}
		for _, ap := range page.AttachedPolicies {
			if aws.ToString(ap.PolicyArn) == policyARN {
				o.attached = true
			}
		}
	}
	return o, nil
}

func (r *run) planRole(o *roleObs) (Change, error) {
	c, more, err := r.p.planFound(KindRole, "IAM role", r.p.spec.Role, o.exists, o.owner)
	if !more {
		return c, err
	}
	c.Diffs = diffPolicies("trust policy", o.trust, trustPolicy())
	if !o.attached {
		c.Diffs = append(c.Diffs, Diff{Field: "attached policy", Have: "not attached", Want: r.p.spec.Policy})
	}
	c.Action = updateIf(c.Diffs)
	return c, nil
}

// applyRole needs the policy to exist (it attaches it).
func (r *run) applyRole(ctx context.Context, o *roleObs, c Change) error {
	p, name := r.p, r.p.spec.Role
	attach := !o.attached
	switch c.Action {
	case Create:
		out, err := p.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(trustPolicy()),
			Description:              aws.String(fmt.Sprintf("ddbops stack %s: execution role of %s", p.spec.Stack, p.spec.Function)),
			Tags:                     r.iamStackTags(),
		})
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			// As for the policy: read back, converge if ours.
			return readBackAndApply(ctx, "create role", name, err, r.observeRole, r.planRole, r.applyRole)
		}
		if err != nil {
			return opErr("create role", name, err)
		}
		o.arn = aws.ToString(out.Role.Arn)
		attach = true
	case Update:
		if diffPolicies("trust policy", o.trust, trustPolicy()) != nil {
			_, err := p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(trustPolicy())})
			if err != nil {
				return opErr("update assume role policy of", name, err)
			}
		}
	}
	if err := p.updateState(func(s *State) { s.RoleName, s.RoleARN = name, o.arn }); err != nil {
		return err
	}
	if attach && c.Action != Unchanged {
		// Attaching an attached policy succeeds: an SDK retry after a lost
		// answer needs no special case.
		_, err := p.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(r.arn.policy())})
		if err != nil {
			return opErr("attach policy "+p.spec.Policy+" to role", name, err)
		}
	}
	return nil
}
