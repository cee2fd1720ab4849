package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

type functionObs struct {
	exists     bool
	owner      string
	arn        string
	runtime    string
	handler    string
	role       string
	arch       string
	codeSha    string
	memory     int32
	timeout    int32
	env        map[string]string
	state      lambdatypes.State
	lastUpdate lambdatypes.LastUpdateStatus
}

func (p *Provisioner) observeFunction(ctx context.Context) (*functionObs, error) {
	name := p.spec.Function
	out, err := p.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return &functionObs{}, nil
	}
	if err != nil {
		return nil, opErr("get function", name, err)
	}
	cfg := out.Configuration
	o := &functionObs{
		exists: true, owner: tagsOwner(out.Tags), arn: aws.ToString(cfg.FunctionArn),
		runtime: string(cfg.Runtime), handler: aws.ToString(cfg.Handler), role: aws.ToString(cfg.Role),
		codeSha: aws.ToString(cfg.CodeSha256), memory: aws.ToInt32(cfg.MemorySize), timeout: aws.ToInt32(cfg.Timeout),
		state: cfg.State, lastUpdate: cfg.LastUpdateStatus, env: map[string]string{}, arch: "x86_64",
	}
	if len(cfg.Architectures) > 0 {
		o.arch = string(cfg.Architectures[0])
	}
	if cfg.Environment != nil {
		o.env = cfg.Environment.Variables
	}
	return o, nil
}

// functionWant is the desired function configuration.
type functionWant struct {
	memory, timeout int32
	arch            string
	codeSha         string // "" = do not compare code
}

func (r *run) desiredEnv() map[string]string { return map[string]string{"TABLE_NAME": r.p.spec.Table} }

func envString(m map[string]string) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func (r *run) planFunction(o *functionObs, w functionWant) (Change, error) {
	c, more, err := r.p.planFound(KindFunction, "function", r.p.spec.Function, o.exists, o.owner)
	if !more {
		return c, err
	}
	c.Diffs = r.functionConfigDiffs(o, w)
	if w.arch != o.arch {
		c.Diffs = append(c.Diffs, Diff{Field: "architecture", Have: o.arch, Want: w.arch})
	}
	if w.codeSha != "" && w.codeSha != o.codeSha {
		c.Diffs = append(c.Diffs, Diff{Field: "code", Have: "CodeSha256 " + o.codeSha, Want: w.codeSha})
	}
	sort.SliceStable(c.Diffs, func(i, j int) bool { return c.Diffs[i].Field < c.Diffs[j].Field })
	c.Action = updateIf(c.Diffs)
	return c, nil
}

// functionConfigDiffs are the differences UpdateFunctionConfiguration fixes.
func (r *run) functionConfigDiffs(o *functionObs, w functionWant) []Diff {
	var d []Diff
	add := func(field, have, want string) {
		if have != want {
			d = append(d, Diff{Field: field, Have: have, Want: want})
		}
	}
	add("runtime", o.runtime, Runtime)
	add("handler", o.handler, Handler)
	add("memory", fmtInt(o.memory)+" MB", fmtInt(w.memory)+" MB")
	add("timeout", fmtInt(o.timeout)+" s", fmtInt(w.timeout)+" s")
	add("environment", envString(o.env), envString(r.desiredEnv()))
	add("role", o.role, r.arn.role())
	return d
}

// applyFunction needs the role (with its policy) and the log group.
func (r *run) applyFunction(ctx context.Context, o *functionObs, c Change, w functionWant) error {
	p, name := r.p, r.p.spec.Function
	role := r.arn.role()
	switch c.Action {
	case Create:
		zip, err := p.zip(ctx, w.arch)
		if err != nil {
			return opErr("package handler for", name, err)
		}
		var out *lambda.CreateFunctionOutput
		err = p.retryIAMPropagation(ctx, "create function", name, role, func() error {
			var cerr error
			out, cerr = p.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName:  aws.String(name),
				Runtime:       lambdatypes.Runtime(Runtime),
				Handler:       aws.String(Handler),
				Role:          aws.String(role),
				Code:          &lambdatypes.FunctionCode{ZipFile: zip},
				Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(w.arch)},
				MemorySize:    aws.Int32(w.memory),
				Timeout:       aws.Int32(w.timeout),
				Environment:   &lambdatypes.Environment{Variables: r.desiredEnv()},
				PackageType:   lambdatypes.PackageTypeZip,
				Description:   aws.String("ddbops stack " + p.spec.Stack + ": DynamoDB operations over HTTPS"),
				Tags:          map[string]string{TagKey: p.spec.Stack},
			})
			return cerr
		})
		var conflict *lambdatypes.ResourceConflictException
		if errors.As(err, &conflict) {
			// Created by this call when the SDK retried it after a lost
			// answer, or by someone else meanwhile: read it back and
			// converge it if it is ours.
			return readBackAndApply(ctx, "create function", name, err, p.observeFunction,
				func(o *functionObs) (Change, error) { return r.planFunction(o, w) },
				func(ctx context.Context, o *functionObs, c Change) error { return r.applyFunction(ctx, o, c, w) })
		}
		if err != nil {
			return err
		}
		o.arn, o.codeSha = aws.ToString(out.FunctionArn), aws.ToString(out.CodeSha256)
		wt := lambda.NewFunctionActiveV2Waiter(p.lambda, func(wo *lambda.FunctionActiveV2WaiterOptions) { wo.MinDelay, wo.MaxDelay = p.waitMin, p.waitCap })
		if err := wt.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, p.waitMax); err != nil {
			return opErr("wait for function", name+" to be Active", err)
		}
	case Update:
		if err := r.waitFunctionUpdated(ctx); err != nil {
			return err
		}
		if w.arch != o.arch || (w.codeSha != "" && w.codeSha != o.codeSha) {
			sha, err := r.uploadCode(ctx, w.arch)
			if err != nil {
				return err
			}
			o.codeSha = sha
		}
		if len(r.functionConfigDiffs(o, w)) > 0 {
			err := p.retryIAMPropagation(ctx, "update function configuration of", name, role, func() error {
				_, uerr := p.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
					FunctionName: aws.String(name),
					Runtime:      lambdatypes.Runtime(Runtime),
					Handler:      aws.String(Handler),
					Role:         aws.String(role),
					MemorySize:   aws.Int32(w.memory),
					Timeout:      aws.Int32(w.timeout),
					Environment:  &lambdatypes.Environment{Variables: r.desiredEnv()},
				})
				return uerr
			})
			var conflict *lambdatypes.ResourceConflictException
			if errors.As(err, &conflict) {
				// An update is in progress, possibly this very one
				// retried by the SDK after a lost answer: wait for it and
				// accept it if it left the configuration as desired.
				err = r.adoptFunctionUpdate(ctx, err, func(o2 *functionObs) bool { return len(r.functionConfigDiffs(o2, w)) == 0 })
			}
			if err != nil {
				return err
			}
			if err := r.waitFunctionUpdated(ctx); err != nil {
				return err
			}
		}
	case Unchanged:
		if o.state != lambdatypes.StateActive || o.lastUpdate == lambdatypes.LastUpdateStatusInProgress {
			if err := r.waitFunctionUpdated(ctx); err != nil {
				return err
			}
		}
	}
	arn := o.arn
	if arn == "" {
		arn = r.arn.function()
	}
	return p.updateState(func(s *State) {
		s.FunctionName, s.FunctionARN, s.Architecture = name, arn, w.arch
		s.Memory, s.Timeout = w.memory, w.timeout
		if o.codeSha != "" {
			s.CodeSha256 = o.codeSha
		}
	})
}

// uploadCode pushes the zip for arch (the architecture can only change
// together with the code) and waits for the update to finish.
func (r *run) uploadCode(ctx context.Context, arch string) (string, error) {
	p, name := r.p, r.p.spec.Function
	zip, err := p.zip(ctx, arch)
	if err != nil {
		return "", opErr("package handler for", name, err)
	}
	out, err := p.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
		FunctionName:  aws.String(name),
		ZipFile:       zip,
		Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(arch)},
	})
	var conflict *lambdatypes.ResourceConflictException
	if errors.As(err, &conflict) {
		// As for the configuration: an update in progress that may be
		// this one; accept it when the code and architecture are ours.
		sha := CodeSha256(zip)
		err = r.adoptFunctionUpdate(ctx, err, func(o2 *functionObs) bool { return o2.codeSha == sha && o2.arch == arch })
		if err == nil {
			return sha, nil
		}
	}
	if err != nil {
		return "", opErr("update function code of", name, err)
	}
	if err := r.waitFunctionUpdated(ctx); err != nil {
		return "", err
	}
	return aws.ToString(out.CodeSha256), nil
}

// adoptFunctionUpdate handles an update Lambda refused with
// ResourceConflictException (an update in progress): it waits for that
// update to finish, reads the function back and returns nil when done
// says it is as desired, else conflict.
func (r *run) adoptFunctionUpdate(ctx context.Context, conflict error, done func(*functionObs) bool) error {
	if err := r.waitFunctionUpdated(ctx); err != nil {
		return err
	}
	o, err := r.p.observeFunction(ctx)
	if err != nil {
		return err
	}
	if o.exists && done(o) {
		return nil
	}
	return conflict
}

// waitFunctionUpdated waits until the function is Active and its last
// update Successful; Lambda rejects a new update while one is in progress.
func (r *run) waitFunctionUpdated(ctx context.Context) error {
	p, name := r.p, r.p.spec.Function
	in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
	a := lambda.NewFunctionActiveV2Waiter(p.lambda, func(wo *lambda.FunctionActiveV2WaiterOptions) { wo.MinDelay, wo.MaxDelay = p.waitMin, p.waitCap })
	if err := a.Wait(ctx, in, p.waitMax); err != nil {
		return opErr("wait for function", name+" to be Active", err)
	}
	u := lambda.NewFunctionUpdatedV2Waiter(p.lambda, func(wo *lambda.FunctionUpdatedV2WaiterOptions) { wo.MinDelay, wo.MaxDelay = p.waitMin, p.waitCap })
	if err := u.Wait(ctx, in, p.waitMax); err != nil {
		return opErr("wait for function", name+" update to succeed", fmt.Errorf("%w (see the function's LastUpdateStatusReason)", err))
	}
	return nil
}
