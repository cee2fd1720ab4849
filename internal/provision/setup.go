package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"golang.org/x/sync/errgroup"
)

// run is one setup, deploy, status or teardown invocation.
type run struct {
	p    *Provisioner
	acct Account
	arn  arns

	// keepCORSEnv, when set, is the CORS_ORIGINS value the function keeps
	// ("" = none) instead of the Spec's: deploy changes code and function
	// configuration, never what browsers may do, since the OPTIONS method
	// that goes with CORS_ORIGINS is setup's.
	keepCORSEnv *string

	mu      sync.Mutex
	changes []Change
}

func (p *Provisioner) newRun(ctx context.Context) (*run, error) {
	acct, err := p.identity(ctx)
	if err != nil {
		return nil, err
	}
	return &run{p: p, acct: acct, arn: arns{spec: p.spec, acct: acct}}, nil
}

// step runs fn as the change c, reporting its start, result and time.
func (r *run) step(c Change, fn func() error) error {
	r.p.reporter.StepStarted(c.Kind, c.Name)
	start := r.p.clock.Now()
	err := fn()
	c.Elapsed = r.p.clock.Now().Sub(start)
	if err != nil {
		c.Action, c.Err = Failed, err
	} else {
		c.Action = c.Action.Past()
	}
	r.record(c)
	return err
}

// do runs fn as a step when c changes something; for an unchanged
// resource fn only waits for readiness and refreshes the state file.
func (r *run) do(c Change, fn func() error) error {
	if c.Action != Unchanged {
		return r.step(c, fn)
	}
	if err := fn(); err != nil {
		c.Action, c.Err = Failed, err
		r.record(c)
		return err
	}
	r.unchanged(c)
	return nil
}

func (r *run) unchanged(c Change) { r.record(c) }

func (r *run) record(c Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	r.p.reporter.StepDone(c)
}

func (r *run) sortedChanges() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := append([]Change(nil), r.changes...)
	sort.SliceStable(cs, func(i, j int) bool { return kindIndex(cs[i].Kind) < kindIndex(cs[j].Kind) })
	return cs
}

// observed is the current state of every resource of the stack.
type observed struct {
	table    *tableObs
	policy   *policyObs
	role     *roleObs
	logGroup *logGroupObs
	function *functionObs
	api      *apiObs
}

// observeAll reads every resource concurrently; it makes no mutating call.
func (r *run) observeAll(ctx context.Context) (*observed, error) {
	o := &observed{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { o.table, err = r.p.observeTable(gctx); return })
	g.Go(func() (err error) { o.policy, err = r.observePolicy(gctx); return })
	g.Go(func() (err error) { o.role, err = r.observeRole(gctx); return })
	g.Go(func() (err error) { o.logGroup, err = r.observeLogGroup(gctx); return })
	g.Go(func() (err error) { o.function, err = r.p.observeFunction(gctx); return })
	g.Go(func() (err error) { o.api, err = r.observeAPI(gctx); return })
	return o, g.Wait()
}

// stackPlan is the change planned for each resource.
type stackPlan struct {
	table, policy, role, logGroup, function Change
	api                                     *apiPlan
}

func (s *stackPlan) changes(auth string, o *observed) []Change {
	return append([]Change{s.table, s.policy, s.role, s.logGroup, s.function}, s.api.changes(auth, o.api)...)
}

func (r *run) planAll(o *observed, fw functionWant) (*stackPlan, error) {
	var errs []error
	keep := func(c Change, err error) Change {
		if err != nil {
			errs = append(errs, err)
		}
		return c
	}
	sp := &stackPlan{
		table:    keep(r.p.planTable(o.table)),
		policy:   keep(r.planPolicy(o.policy)),
		role:     keep(r.planRole(o.role)),
		logGroup: keep(r.planLogGroup(o.logGroup)),
		function: keep(r.planFunction(o.function, fw)),
	}
	var err error
	sp.api, err = r.planAPI(o.api, o.function, r.p.State().PendingDeployment)
	if err != nil {
		errs = append(errs, err)
	}
	return sp, joinErrors(errs)
}

// SetupOptions change what Setup does.
type SetupOptions struct {
	// DryRun computes the plan and changes nothing.
	DryRun bool
	// CompareCode compares the deployed code with the handler zip (cheap
	// with --handler-zip); otherwise setup uploads code only when it
	// creates the function or changes its architecture, and code updates
	// are deploy's job.
	CompareCode bool
}

// gate lets dependent steps wait for a step and learn whether it failed.
type gate struct {
	ch  chan struct{}
	err error
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open(err error) { g.err = err; close(g.ch) }

// errDependency is a step skipped because one it needs failed; the
// failure itself is reported by the failed step.
var errDependency = errors.New("skipped: a step it depends on failed")

// wait returns nil once the step succeeded, errDependency when it failed,
// or the context's error when the run is interrupted first (Setup folds
// these into one Interrupted).
func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.ch:
		if g.err != nil {
			return errDependency
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("not started: %w", ctx.Err())
	}
}

// Setup creates or converges every resource of the stack. Independent
// branches run concurrently: the table; policy → role; the log group; the
// function once role and log group are ready; the REST API definition from
// the start and its wiring (integration, permission, deployment, stage, key)
// once the function exists. A failed branch does not stop the others, so a
// re-run has as little left to do as possible.
func (p *Provisioner) Setup(ctx context.Context, opts SetupOptions) (*Result, error) {
	res, err := p.setup(ctx, opts)
	return res, interrupted(ctx, "setup", err, res.changes())
}

func (p *Provisioner) setup(ctx context.Context, opts SetupOptions) (*Result, error) {
	start := p.clock.Now()
	r, err := p.newRun(ctx)
	if err != nil {
		return nil, err
	}
	p.loadState()
	obs, err := r.observeAll(ctx)
	if err != nil {
		return nil, err
	}
	fw := functionWant{memory: p.spec.Memory, timeout: p.spec.Timeout, arch: p.spec.Arch}
	if opts.CompareCode {
		zip, err := p.zip(ctx, p.spec.Arch)
		if err != nil {
			return nil, opErr("package handler for", p.spec.Function, err)
		}
		fw.codeSha = CodeSha256(zip)
	}
	plan, planErr := r.planAll(obs, fw)
	res := &Result{DryRun: opts.DryRun, Auth: p.spec.Auth}
	if obs.api.id != "" {
		res.InvokeURL = r.arn.invokeURL(obs.api.id)
	}
	if opts.DryRun || planErr != nil {
		res.Changes = plan.changes(p.spec.Auth, obs)
		if planErr != nil && !opts.DryRun {
			for _, c := range res.Changes {
				if c.Action == Blocked {
					p.reporter.StepDone(c)
				}
			}
		}
		res.Elapsed = p.clock.Now().Sub(start)
		return res, planErr
	}
	// What setup was told is the stack's desired configuration from now
	// on, also when a step fails: a re-run resumes towards it.
	if err := p.updateState(func(s *State) {
		s.AccountID, s.EndpointURL, s.Desired = r.acct.ID, p.spec.EndpointURL, p.spec.Config()
	}); err != nil {
		return nil, err
	}

	policyDone, roleDone, logDone, fnDone := newGate(), newGate(), newGate(), newGate()
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
	)
	branch := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && !errors.Is(err, errDependency) {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	branch(func() error {
		return r.do(plan.table, func() error { return p.applyTable(ctx, obs.table, plan.table) })
	})
	branch(func() error {
		err := r.do(plan.policy, func() error { return r.applyPolicy(ctx, obs.policy, plan.policy) })
		policyDone.open(err)
		return err
	})
	branch(func() error {
		err := policyDone.wait(ctx)
		if err == nil {
			err = r.do(plan.role, func() error { return r.applyRole(ctx, obs.role, plan.role) })
		}
		roleDone.open(err)
		return err
	})
	branch(func() error {
		err := r.do(plan.logGroup, func() error { return r.applyLogGroup(ctx, obs.logGroup, plan.logGroup) })
		logDone.open(err)
		return err
	})
	branch(func() error {
		err := roleDone.wait(ctx)
		if err == nil {
			err = logDone.wait(ctx)
		}
		if err == nil {
			err = r.do(plan.function, func() error { return r.applyFunction(ctx, obs.function, plan.function, fw) })
		}
		fnDone.open(err)
		return err
	})
	branch(func() error {
		if err := r.applyAPIDefinition(ctx, obs.api, plan.api); err != nil {
			return err
		}
		if err := fnDone.wait(ctx); err != nil {
			return err
		}
		return r.applyAPIWiring(ctx, obs.api, plan.api)
	})
	wg.Wait()

	res.Changes = r.sortedChanges()
	res.Elapsed = p.clock.Now().Sub(start)
	if obs.api.id != "" {
		res.InvokeURL = r.arn.invokeURL(obs.api.id)
	}
	res.APIKeyID = obs.api.key.id
	if len(errs) > 0 {
		return res, joinErrors(errs)
	}
	return res, nil
}

// DeployConfigKeys are the keys of the desired configuration deploy
// applies (the function's configuration); setup applies every key.
var DeployConfigKeys = []string{"memory", "timeout", "arch"}

// DeployOptions change what Deploy does.
type DeployOptions struct {
	DryRun bool
}

// Deploy pushes the handler code (only when its CodeSha256 differs) and the
// function configuration, then creates a new deployment of the API on the
// stage. The stack must have been set up.
func (p *Provisioner) Deploy(ctx context.Context, opts DeployOptions) (*Result, error) {
	res, err := p.deploy(ctx, opts)
	return res, interrupted(ctx, "deploy", err, res.changes())
}

func (p *Provisioner) deploy(ctx context.Context, opts DeployOptions) (*Result, error) {
	start := p.clock.Now()
	r, err := p.newRun(ctx)
	if err != nil {
		return nil, err
	}
	p.loadState()
	hint := "run ddbops setup first"
	fn, err := p.observeFunction(ctx)
	if err != nil {
		return nil, err
	}
	if !fn.exists {
		return nil, &Error{Op: "deploy", Resource: "function " + p.spec.Function, Err: ErrNotFound, Hint: hint}
	}
	if fn.owner != p.spec.Stack {
		return nil, notOwnedErr("function", p.spec.Function, fn.owner, p.spec.Stack)
	}
	corsEnv := fn.env[EnvCORSOrigins]
	r.keepCORSEnv = &corsEnv
	ours, _, err := p.findRestAPIs(ctx)
	if err != nil {
		return nil, err
	}
	apiID := ""
	for _, a := range ours {
		if apiID == "" || aws.ToString(a.Id) == p.State().RestAPIID {
			apiID = aws.ToString(a.Id)
		}
	}
	if apiID == "" {
		return nil, &Error{Op: "deploy", Resource: "REST API " + p.spec.API, Err: ErrNotFound, Hint: hint}
	}
	zip, err := p.zip(ctx, p.spec.Arch)
	if err != nil {
		return nil, opErr("package handler for", p.spec.Function, err)
	}
	fw := functionWant{memory: p.spec.Memory, timeout: p.spec.Timeout, arch: p.spec.Arch, codeSha: CodeSha256(zip)}
	fc, err := r.planFunction(fn, fw)
	if err != nil {
		return nil, err
	}
	dc := Change{Kind: KindDeployment, Name: p.spec.Stage, Action: Create, Note: "REST API " + apiID}
	res := &Result{DryRun: opts.DryRun, Auth: p.State().Auth, InvokeURL: r.arn.invokeURL(apiID)}
	if opts.DryRun {
		res.Changes = []Change{fc, dc}
		res.Elapsed = p.clock.Now().Sub(start)
		return res, nil
	}
	// deploy applies the function's configuration: that part of the
	// desired configuration is what it was told from now on.
	err = p.updateState(func(s *State) {
		if s.Desired == nil {
			s.Desired = s.legacyConfig()
		}
		for k, v := range p.spec.Config().Only(DeployConfigKeys...) {
			s.Desired[k] = v
		}
	})
	if err == nil {
		err = r.do(fc, func() error { return r.applyFunction(ctx, fn, fc, fw) })
	}
	if err == nil {
		err = r.step(dc, func() error {
			out, err := p.apigw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
				RestApiId: aws.String(apiID), StageName: aws.String(p.spec.Stage), Description: aws.String("ddbops deploy"),
			})
			if err != nil {
				return opErr("create deployment on stage", p.spec.Stage, err)
			}
			return p.updateState(func(s *State) {
				s.RestAPIID, s.StageName, s.DeploymentID, s.PendingDeployment = apiID, p.spec.Stage, aws.ToString(out.Id), false
				s.InvokeURL = r.arn.invokeURL(apiID)
			})
		})
	}
	if err == nil {
		var sc Change
		sc, err = r.recheckStage(ctx, apiID, Change{Kind: KindStage, Name: p.spec.Stage})
		if err == nil && sc.Action == Update {
			sc.Note = "throttling lost in the deployment"
			err = r.step(sc, func() error { return r.setStageThrottle(ctx, apiID) })
		}
	}
	res.Changes = r.sortedChanges()
	res.Elapsed = p.clock.Now().Sub(start)
	return res, err
}
