package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableObs is what exists under the table's name.
type tableObs struct {
	exists  bool
	owner   string // value of the stack tag ("" = untagged)
	arn     string
	status  ddbtypes.TableStatus
	keyDesc string // key schema as found, when it is not id (S) HASH
	billing ddbtypes.BillingMode
}

func (p *Provisioner) observeTable(ctx context.Context) (*tableObs, error) {
	name := p.spec.Table
	out, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return &tableObs{}, nil
	}
	if err != nil {
		return nil, opErr("describe table", name, err)
	}
	t := out.Table
	o := &tableObs{exists: true, arn: aws.ToString(t.TableArn), status: t.TableStatus, billing: ddbtypes.BillingModeProvisioned}
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		o.billing = t.BillingModeSummary.BillingMode
	}
	if !tableKeyOK(t) {
		o.keyDesc = describeKey(t)
	}
	tags, err := p.tableTags(ctx, o.arn)
	if err != nil {
		return nil, err
	}
	o.owner = tagsOwner(tags)
	return o, nil
}

func (p *Provisioner) tableTags(ctx context.Context, arn string) (map[string]string, error) {
	tags := map[string]string{}
	var next *string
	for {
		out, err := p.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn), NextToken: next})
		if err != nil {
			return nil, opErr("list tags of table", p.spec.Table, err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(next) {
			return tags, nil
		}
		next = out.NextToken
	}
}

func tableKeyOK(t *ddbtypes.TableDescription) bool {
	if len(t.KeySchema) != 1 || aws.ToString(t.KeySchema[0].AttributeName) != "id" || t.KeySchema[0].KeyType != ddbtypes.KeyTypeHash {
		return false
	}
	for _, a := range t.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == "id" {
			return a.AttributeType == ddbtypes.ScalarAttributeTypeS
		}
	}
	return false
}

func describeKey(t *ddbtypes.TableDescription) string {
	types := map[string]string{}
	for _, a := range t.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	s := ""
	for i, k := range t.KeySchema {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (%s) %s", aws.ToString(k.AttributeName), types[aws.ToString(k.AttributeName)], k.KeyType)
	}
	return s
}

func (p *Provisioner) planTable(o *tableObs) (Change, error) {
	c, more, err := p.planFound(KindTable, "table", p.spec.Table, o.exists, o.owner)
	switch {
	case !more:
		return c, err
	case o.keyDesc != "":
		c.Action = Blocked
		c.Diffs = []Diff{{Field: "key", Have: o.keyDesc, Want: "id (S) HASH"}}
		return c, &Error{Op: "converge table", Resource: p.spec.Table,
			Err:  fmt.Errorf("key schema is %s, the handler needs partition key id (S); a key schema cannot be changed in place", o.keyDesc),
			Hint: "set another table name in ddbops.yaml (table: ...), or delete this table"}
	case o.status == ddbtypes.TableStatusDeleting:
		c.Action = Blocked
		return c, &Error{Op: "converge table", Resource: p.spec.Table, Err: errors.New("table is being deleted"),
			Hint: "wait until the deletion finishes, then re-run ddbops setup"}
	}
	if o.billing != ddbtypes.BillingModePayPerRequest {
		c.Diffs = append(c.Diffs, Diff{Field: "billing mode", Have: string(o.billing), Want: string(ddbtypes.BillingModePayPerRequest)})
	}
	c.Action = updateIf(c.Diffs)
	return c, nil
}

func notOwnedNote(owner string) string {
	if owner == "" {
		return "exists without the " + TagKey + " tag: not owned"
	}
	return "owned by stack " + owner
}

func (p *Provisioner) applyTable(ctx context.Context, o *tableObs, c Change) error {
	name := p.spec.Table
	switch c.Action {
	case Create:
		_, err := p.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			Tags:                 []ddbtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(p.spec.Stack)}},
		})
		var inUse *ddbtypes.ResourceInUseException
		if errors.As(err, &inUse) {
			// Created meanwhile (or by an SDK retry of our own call after
			// a lost answer): adopt it only if it is ours and has the key
			// the handler needs; its billing mode is converged below.
			o2, c2, rerr := readBack(ctx, "create table", name, err, p.observeTable, p.planTable)
			if rerr != nil {
				return rerr
			}
			if c2.Action == Update {
				return p.applyTable(ctx, o2, c2)
			}
			err = nil
		}
		if err != nil {
			return opErr("create table", name, err)
		}
	case Update:
		_, err := p.ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest})
		var inUse *ddbtypes.ResourceInUseException
		if errors.As(err, &inUse) {
			// Being updated, possibly by this very call retried by the
			// SDK after a lost answer: wait for it below, then check.
			err = p.waitTableConverged(ctx, err)
		}
		if err != nil {
			return opErr("update table", name, err)
		}
	case Unchanged:
		if o.status == ddbtypes.TableStatusActive {
			return p.updateState(func(s *State) { s.TableName, s.TableARN = name, o.arn })
		}
	}
	w := dynamodb.NewTableExistsWaiter(p.ddb, func(wo *dynamodb.TableExistsWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = p.waitMin, p.waitCap
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, p.waitMax)
	if err != nil {
		return opErr("wait for table", name+" to be ACTIVE", err)
	}
	return p.updateState(func(s *State) { s.TableName, s.TableARN = name, aws.ToString(out.Table.TableArn) })
}

// waitTableConverged waits until the table is ACTIVE again after an update
// answered ResourceInUseException, and returns nil when it is then billed
// on demand (the update took effect), else inUse.
func (p *Provisioner) waitTableConverged(ctx context.Context, inUse error) error {
	w := dynamodb.NewTableExistsWaiter(p.ddb, func(wo *dynamodb.TableExistsWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = p.waitMin, p.waitCap
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.spec.Table)}, p.waitMax)
	if err != nil {
		return fmt.Errorf("%w; waiting for it: %w", inUse, err)
	}
	if s := out.Table.BillingModeSummary; s != nil && s.BillingMode == ddbtypes.BillingModePayPerRequest {
		return nil
	}
	return inUse
}
