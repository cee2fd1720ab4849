package provision

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

type logGroupObs struct {
	exists    bool
	owner     string
	retention int32 // 0 = never expire
}

// findLogGroup reports whether the log group exists and its retention.
func findLogGroup(ctx context.Context, api LogsAPI, name string) (bool, int32, error) {
	pg := cloudwatchlogs.NewDescribeLogGroupsPaginator(api, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return false, 0, opErr("describe log groups", name, err)
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return true, aws.ToInt32(g.RetentionInDays), nil
			}
		}
	}
	return false, 0, nil
}

func (r *run) observeLogGroup(ctx context.Context) (*logGroupObs, error) {
	name := r.p.spec.LogGroupName()
	exists, retention, err := findLogGroup(ctx, r.p.logs, name)
	if err != nil || !exists {
		return &logGroupObs{}, err
	}
	tags, err := r.p.logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(r.arn.logGroup())})
	var nf *logtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return &logGroupObs{}, nil // deleted between the two calls
	}
	if err != nil {
		return nil, opErr("list tags of log group", name, err)
	}
	return &logGroupObs{exists: true, retention: retention, owner: tagsOwner(tags.Tags)}, nil
}

func (r *run) planLogGroup(o *logGroupObs) (Change, error) {
	c, more, err := r.p.planFound(KindLogGroup, "log group", r.p.spec.LogGroupName(), o.exists, o.owner)
	if err != nil {
		err.(*Error).Hint += " (Lambda creates this group by itself when the function logs before ddbops created it)"
	}
	if !more {
		return c, err
	}
	c.Action = Unchanged
	if o.retention != r.p.spec.LogRetention {
		c.Action = Update
		c.Diffs = []Diff{{Field: "retention", Have: retentionString(o.retention), Want: retentionString(r.p.spec.LogRetention)}}
	}
	return c, nil
}

func retentionString(days int32) string {
	if days == 0 {
		return "never expire"
	}
	return fmtInt(days) + " days"
}

func (r *run) applyLogGroup(ctx context.Context, o *logGroupObs, c Change) error {
	p, name := r.p, r.p.spec.LogGroupName()
	setRetention := c.Action == Update
	if c.Action == Create {
		_, err := p.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
			LogGroupName: aws.String(name),
			Tags:         map[string]string{TagKey: p.spec.Stack},
		})
		var exists *logtypes.ResourceAlreadyExistsException
		if errors.As(err, &exists) {
			// Created by this call when the SDK retried it after a lost
			// answer (or by Lambda, or someone else): read it back and
			// converge it if it is ours.
			return readBackAndApply(ctx, "create log group", name, err, r.observeLogGroup, r.planLogGroup, r.applyLogGroup)
		}
		if err != nil {
			return opErr("create log group", name, err)
		}
		setRetention = p.spec.LogRetention != 0
	}
	if err := p.updateState(func(s *State) { s.LogGroupName = name }); err != nil {
		return err
	}
	if !setRetention {
		return nil
	}
	if p.spec.LogRetention == 0 {
		_, err := p.logs.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(name)})
		return opErr("delete retention policy of log group", name, err)
	}
	_, err := p.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(name), RetentionInDays: aws.Int32(p.spec.LogRetention)})
	return opErr("put retention policy of log group", name, err)
}
