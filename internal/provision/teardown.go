package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/sync/errgroup"
)

// TeardownPlan is what teardown found: the owned resources it will delete,
// in order, and the same-named ones it will leave alone.
type TeardownPlan struct {
	Changes []Change
	// TableHasItems is true when the owned table is not empty.
	TableHasItems bool

	r       *run
	deletes []deletion
}

// Deletes counts the resources to delete.
func (t *TeardownPlan) Deletes() int { return len(t.deletes) }

type deletion struct {
	change Change
	del    func(ctx context.Context, opts TeardownOptions) (note string, err error)
}

// TeardownOptions change what Teardown does.
type TeardownOptions struct {
	// DeleteData deletes a table that still holds items.
	DeleteData bool
	// Backup takes an on-demand backup of the table before deleting it.
	Backup bool
}

// PlanTeardown finds every resource named like the stack's, by name and
// tag only (the state file is not needed), and plans deleting the owned
// ones in reverse dependency order. It makes no mutating call.
func (p *Provisioner) PlanTeardown(ctx context.Context) (*TeardownPlan, error) {
	plan, err := p.planTeardown(ctx)
	return plan, interrupted(ctx, "teardown", err, nil)
}

func (p *Provisioner) planTeardown(ctx context.Context) (*TeardownPlan, error) {
	r, err := p.newRun(ctx)
	if err != nil {
		return nil, err
	}
	var (
		table    *tableObs
		policy   *policyObs
		role     *roleObs
		logGroup *logGroupObs
		fn       *functionObs
		apis     []agtypes.RestApi
		foreign  []string
		api      = &apiObs{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { table, err = p.observeTable(gctx); return })
	g.Go(func() (err error) { policy, err = r.observePolicy(gctx); return })
	g.Go(func() (err error) { role, err = r.observeRole(gctx); return })
	g.Go(func() (err error) { logGroup, err = r.observeLogGroup(gctx); return })
	g.Go(func() (err error) { fn, err = p.observeFunction(gctx); return })
	g.Go(func() (err error) { apis, foreign, err = p.findRestAPIs(gctx); return })
	g.Go(func() error { return r.observeKeyAndPlan(gctx, api) })
	if err := g.Wait(); err != nil {
		return nil, err
	}

	tp := &TeardownPlan{r: r}
	stack := p.spec.Stack
	keep := func(kind, name, note string) {
		tp.Changes = append(tp.Changes, Change{Kind: kind, Name: name, Action: Keep, NotOwned: true, Note: note})
	}
	absent := func(kind, name string) {
		tp.Changes = append(tp.Changes, Change{Kind: kind, Name: name, Action: Absent})
	}
	plan := func(kind, name, note string, del func(ctx context.Context, opts TeardownOptions) (string, error)) {
		c := Change{Kind: kind, Name: name, Action: Delete, Note: note}
		tp.Changes = append(tp.Changes, c)
		tp.deletes = append(tp.deletes, deletion{change: c, del: del})
	}

	// Reverse dependency order: what refers to others goes first.
	if api.plan.id != "" {
		id, stages := api.plan.id, api.plan.stages
		plan(KindUsagePlan, p.spec.UsagePlanName(), id, func(ctx context.Context, _ TeardownOptions) (string, error) {
			return "", p.deleteUsagePlan(ctx, id, stages)
		})
	}
	for _, f := range api.plan.foreign {
		keep(KindUsagePlan, p.spec.UsagePlanName(), f)
	}
	if api.key.id != "" {
		id := api.key.id
		plan(KindAPIKey, p.spec.APIKeyName(), id, func(ctx context.Context, _ TeardownOptions) (string, error) {
			return "", p.deleteAPIKey(ctx, id)
		})
	}
	for _, f := range api.key.foreign {
		keep(KindAPIKey, p.spec.APIKeyName(), f)
	}
	for _, a := range apis {
		id := aws.ToString(a.Id)
		plan(KindRestAPI, p.spec.API+" ("+id+")", "with its resources, methods, deployments and stages", func(ctx context.Context, _ TeardownOptions) (string, error) {
			_, err := p.apigw.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: aws.String(id)})
			var nf *agtypes.NotFoundException
			if errors.As(err, &nf) {
				err = nil
			}
			return "", opErr("delete REST API", id, err)
		})
	}
	for _, f := range foreign {
		keep(KindRestAPI, p.spec.API, f)
	}
	if len(apis) == 0 && len(foreign) == 0 {
		absent(KindRestAPI, p.spec.API)
	}

	type found struct {
		kind, name string
		exists     bool
		owner      string
		del        func(ctx context.Context, opts TeardownOptions) (string, error)
		note       string
	}
	items := []found{
		{KindFunction, p.spec.Function, fn.exists, fn.owner, p.deleteFunction, "with its invoke permission"},
		{KindLogGroup, p.spec.LogGroupName(), logGroup.exists, logGroup.owner, p.deleteLogGroup, ""},
		{KindRole, p.spec.Role, role.exists, role.owner, p.deleteRole, ""},
		{KindPolicy, p.spec.Policy, policy.exists, policy.owner, r.deletePolicy, ""},
		{KindTable, p.spec.Table, table.exists, table.owner, p.deleteTable, ""},
	}
	for _, it := range items {
		switch {
		case !it.exists:
			absent(it.kind, it.name)
		case it.owner != stack:
			keep(it.kind, it.name, notOwnedNote(it.owner))
		default:
			plan(it.kind, it.name, it.note, it.del)
		}
	}
	if table.exists && table.owner == stack {
		out, err := p.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(p.spec.Table), Limit: aws.Int32(1), Select: ddbtypes.SelectCount})
		if err != nil {
			return nil, opErr("scan table", p.spec.Table, err)
		}
		tp.TableHasItems = out.Count > 0 || len(out.LastEvaluatedKey) > 0
		if tp.TableHasItems {
			for i := range tp.Changes {
				if tp.Changes[i].Kind == KindTable && tp.Changes[i].Action == Delete {
					tp.Changes[i].Note = "holds items"
				}
			}
			for i := range tp.deletes {
				if tp.deletes[i].change.Kind == KindTable {
					tp.deletes[i].change.Note = "holds items"
				}
			}
		}
	}
	return tp, nil
}

// TableNotEmptyError is the refusal to delete a table with items.
func (p *Provisioner) TableNotEmptyError() error {
	return &Error{Op: "delete table", Resource: p.spec.Table, Err: ErrTableNotEmpty,
		Hint: "nothing was deleted; pass --backup to take an on-demand backup and then delete it, or --delete-data to delete the items with it"}
}

// Teardown deletes what plan found, in order, stopping at the first
// failure (a re-run picks up from there). A table with items is refused,
// before anything is deleted, unless opts says what to do with the data.
func (p *Provisioner) Teardown(ctx context.Context, plan *TeardownPlan, opts TeardownOptions) (*Result, error) {
	res, err := p.teardown(ctx, plan, opts)
	return res, interrupted(ctx, "teardown", err, res.changes())
}

func (p *Provisioner) teardown(ctx context.Context, plan *TeardownPlan, opts TeardownOptions) (*Result, error) {
	start := p.clock.Now()
	if plan.TableHasItems && !opts.DeleteData && !opts.Backup {
		return nil, p.TableNotEmptyError()
	}
	r := plan.r
	res := &Result{}
	var err error
	for _, d := range plan.deletes {
		c := d.change
		p.reporter.StepStarted(c.Kind, c.Name)
		t0 := p.clock.Now()
		var note string
		note, err = d.del(ctx, opts)
		c.Elapsed = p.clock.Now().Sub(t0)
		if note != "" {
			c.Note = note
		}
		c.Action = Deleted
		if err != nil {
			c.Action, c.Err = Failed, err
		}
		r.record(c)
		if err != nil {
			break
		}
		p.forget(c.Kind)
	}
	for _, c := range plan.Changes {
		if c.Action != Delete {
			r.mu.Lock()
			r.changes = append(r.changes, c)
			r.mu.Unlock()
		}
	}
	res.Changes = r.changes
	res.Elapsed = p.clock.Now().Sub(start)
	if err == nil && p.statePath != "" {
		if s, lerr := LoadState(p.statePath); lerr == nil && s.Stack == p.spec.Stack {
			if rerr := os.Remove(p.statePath); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return res, fmt.Errorf("remove state %s: %w", p.statePath, rerr)
			}
		}
	}
	return res, err
}

// forget clears what the state file caches about a deleted resource.
func (p *Provisioner) forget(kind string) {
	if p.statePath == "" {
		return
	}
	s, err := LoadState(p.statePath)
	if err != nil || s.Stack != p.spec.Stack {
		return
	}
	switch kind {
	case KindUsagePlan:
		s.UsagePlanID = ""
	case KindAPIKey:
		s.APIKeyID = ""
	case KindRestAPI:
		s.RestAPIID, s.ResourceID, s.DeploymentID, s.InvokeURL, s.PendingDeployment = "", "", "", "", false
	case KindFunction:
		s.FunctionARN, s.CodeSha256 = "", ""
	case KindLogGroup:
		s.LogGroupName = ""
	case KindRole:
		s.RoleARN = ""
	case KindPolicy:
		s.PolicyARN = ""
	case KindTable:
		s.TableARN = ""
	}
	s.UpdatedAt = p.clock.Now().UTC()
	_ = SaveState(p.statePath, s)
}

func (p *Provisioner) deleteFunction(ctx context.Context, _ TeardownOptions) (string, error) {
	_, err := p.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(p.spec.Function)})
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		err = nil
	}
	return "", opErr("delete function", p.spec.Function, err)
}

func (p *Provisioner) deleteLogGroup(ctx context.Context, _ TeardownOptions) (string, error) {
	_, err := p.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(p.spec.LogGroupName())})
	var nf *logtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		err = nil
	}
	return "", opErr("delete log group", p.spec.LogGroupName(), err)
}

// deleteRole detaches every managed policy and deletes every inline one
// (IAM refuses to delete a role that has any), then the role.
func (p *Provisioner) deleteRole(ctx context.Context, _ TeardownOptions) (string, error) {
	name := p.spec.Role
	var nse *iamtypes.NoSuchEntityException
	pg := iam.NewListAttachedRolePoliciesPaginator(p.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if errors.As(err, &nse) {
			return "", nil
		}
		if err != nil {
			return "", opErr("list attached role policies", name, err)
		}
		for _, ap := range out.AttachedPolicies {
			_, err := p.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: ap.PolicyArn})
			if err != nil && !errors.As(err, &nse) {
				return "", opErr("detach policy "+aws.ToString(ap.PolicyName)+" from role", name, err)
			}
		}
	}
	ip := iam.NewListRolePoliciesPaginator(p.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for ip.HasMorePages() {
		out, err := ip.NextPage(ctx)
		if errors.As(err, &nse) {
			return "", nil
		}
		if err != nil {
			return "", opErr("list role policies", name, err)
		}
		for _, pn := range out.PolicyNames {
			_, err := p.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil && !errors.As(err, &nse) {
				return "", opErr("delete inline policy "+pn+" of role", name, err)
			}
		}
	}
	_, err := p.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	if errors.As(err, &nse) {
		err = nil
	}
	return "", opErr("delete role", name, err)
}

// deletePolicy deletes the non-default versions (IAM requires it), then
// the policy.
func (r *run) deletePolicy(ctx context.Context, _ TeardownOptions) (string, error) {
	p, name, arn := r.p, r.p.spec.Policy, r.arn.policy()
	var nse *iamtypes.NoSuchEntityException
	pg := iam.NewListPolicyVersionsPaginator(p.iam, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if errors.As(err, &nse) {
			return "", nil
		}
		if err != nil {
			return "", opErr("list policy versions", name, err)
		}
		for _, v := range out.Versions {
			if v.IsDefaultVersion {
				continue
			}
			_, err := p.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: v.VersionId})
			if err != nil && !errors.As(err, &nse) {
				return "", opErr("delete policy version "+aws.ToString(v.VersionId)+" of", name, err)
			}
		}
	}
	_, err := p.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	if errors.As(err, &nse) {
		return "", nil
	}
	var conflict *iamtypes.DeleteConflictException
	if errors.As(err, &conflict) {
		return "", &Error{Op: "delete policy", Resource: name, Err: err,
			Hint: "the policy is still attached to a role or user this stack does not own: detach it there, then re-run ddbops teardown"}
	}
	return "", opErr("delete policy", name, err)
}

// deleteTable optionally backs the table up first, deletes it and waits
// until it is gone, so a setup right after does not find it DELETING.
func (p *Provisioner) deleteTable(ctx context.Context, opts TeardownOptions) (string, error) {
	name := p.spec.Table
	note := ""
	if opts.Backup {
		arn, err := p.backupTable(ctx)
		if err != nil {
			return "", err
		}
		note = "backup " + arn
	}
	_, err := p.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return note, nil
	}
	if err != nil {
		return note, opErr("delete table", name, err)
	}
	w := dynamodb.NewTableNotExistsWaiter(p.ddb, func(o *dynamodb.TableNotExistsWaiterOptions) { o.MinDelay, o.MaxDelay = p.waitMin, p.waitCap })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, p.waitMax); err != nil {
		return note, opErr("wait for table", name+" to be deleted", err)
	}
	return note, nil
}

// backupTable takes an on-demand backup and waits until it is AVAILABLE
// (DynamoDB has no SDK waiter for backups).
func (p *Provisioner) backupTable(ctx context.Context) (string, error) {
	name := p.spec.Table
	bname := fmt.Sprintf("%s-ddbops-%s", name, p.clock.Now().UTC().Format("20060102T150405Z"))
	if len(bname) > 255 {
		bname = bname[len(bname)-255:]
	}
	bname = strings.Trim(bname, "-")
	out, err := p.ddb.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(name), BackupName: aws.String(bname)})
	if err != nil {
		return "", opErr("create backup of table", name, err)
	}
	arn := aws.ToString(out.BackupDetails.BackupArn)
	status := out.BackupDetails.BackupStatus
	deadline := p.clock.Now().Add(p.waitMax)
	for status != ddbtypes.BackupStatusAvailable {
		if status == ddbtypes.BackupStatusDeleted {
			return "", opErr("create backup of table", name, fmt.Errorf("backup %s was deleted", arn))
		}
		if p.clock.Now().After(deadline) {
			return "", &Error{Op: "wait for backup", Resource: arn, Err: fmt.Errorf("still %s after %s", status, p.waitMax),
				Hint: "nothing after the backup was deleted; re-run teardown when the backup is AVAILABLE"}
		}
		if err := p.clock.Sleep(ctx, 2*time.Second); err != nil {
			return "", err
		}
		d, err := p.ddb.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
		if err != nil {
			return "", opErr("describe backup", arn, err)
		}
		status = d.BackupDescription.BackupDetails.BackupStatus
	}
	return arn, nil
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
				err = readBackFailed(err, gerr)
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
