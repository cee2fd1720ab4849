package provision

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Clients are the SDK clients provisioning uses.
type Clients struct {
	IAM        IAMAPI
	Lambda     LambdaAPI
	DynamoDB   DynamoDBAPI
	Logs       LogsAPI
	APIGateway APIGatewayAPI
	STS        STSAPI
}

// NewClients builds the SDK clients from cfg, each with rec's middleware
// (when rec is not nil) so every request is counted. API Gateway's SDK
// retryer leaves TooManyRequestsException to provision's own paced retry,
// so retries are bounded and observable in one place.
func NewClients(cfg aws.Config, rec *Recorder) Clients {
	cfg = cfg.Copy()
	if rec != nil {
		cfg.APIOptions = append(cfg.APIOptions, rec.Middleware)
	}
	maxAttempts := cfg.RetryMaxAttempts
	return Clients{
		IAM:      iam.NewFromConfig(cfg),
		Lambda:   lambda.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Logs:     cloudwatchlogs.NewFromConfig(cfg),
		APIGateway: apigateway.NewFromConfig(cfg, func(o *apigateway.Options) {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				if maxAttempts > 0 {
					so.MaxAttempts = maxAttempts
				}
				so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
					var tm *agtypes.TooManyRequestsException
					if errors.As(err, &tm) {
						return aws.FalseTernary
					}
					return aws.UnknownTernary
				})}, so.Retryables...)
			})
		}),
		STS: sts.NewFromConfig(cfg),
	}
}

// noSDKRetry is for API Gateway creates of resources whose names are not
// unique: an SDK retry after a lost answer would create a twin. Provision
// fails instead, and the re-run finds the first one by name and tag.
func noSDKRetry(o *apigateway.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) }

// CodeFunc returns the deployment zip for an architecture.
type CodeFunc func(ctx context.Context, arch string) ([]byte, error)

// Options configure a Provisioner.
type Options struct {
	Spec    Spec
	Clients Clients
	// Code supplies the handler zip. It is called only when code must be
	// uploaded (function created or architecture changed, deploy) or
	// compared (SetupOptions.CompareCode).
	Code CodeFunc
	// StatePath is the state file written after every step ("" = none).
	StatePath string
	Reporter  Reporter
	// Clock and Rand drive retry delays; tests replace them.
	Clock Clock
	Rand  func() float64
	// ThrottleBudget bounds how long one API Gateway call is retried while
	// throttled (default 3m).
	ThrottleBudget time.Duration
	// WaitTimeout bounds each wait for a table, function or backup
	// (default 10m).
	WaitTimeout time.Duration
	// WaiterMinDelay and WaiterMaxDelay pace the SDK waiters (defaults 1s
	// and 10s: resources here become ready in seconds, the SDK's defaults
	// of 20 s for tables would make setup slow).
	WaiterMinDelay, WaiterMaxDelay time.Duration
}

// Provisioner creates, converges, reports and deletes one stack.
type Provisioner struct {
	spec      Spec
	iam       IAMAPI
	lambda    LambdaAPI
	ddb       DynamoDBAPI
	logs      LogsAPI
	apigw     APIGatewayAPI
	sts       STSAPI
	code      CodeFunc
	statePath string
	reporter  Reporter
	clock     Clock
	rand      func() float64
	waitMax   time.Duration
	waitMin   time.Duration
	waitCap   time.Duration

	stateMu sync.Mutex
	state   *State

	codeMu   sync.Mutex
	codeArch string
	codeZip  []byte
}

// New returns a Provisioner for o.Spec.
func New(o Options) (*Provisioner, error) {
	if err := o.Spec.Validate(); err != nil {
		return nil, err
	}
	c := o.Clients
	if c.IAM == nil || c.Lambda == nil || c.DynamoDB == nil || c.Logs == nil || c.APIGateway == nil || c.STS == nil {
		return nil, errors.New("provision: every client is required")
	}
	p := &Provisioner{
		spec: o.Spec, iam: c.IAM, lambda: c.Lambda, ddb: c.DynamoDB, logs: c.Logs, sts: c.STS,
		code: o.Code, statePath: o.StatePath, reporter: o.Reporter, clock: o.Clock, rand: o.Rand,
		waitMax: o.WaitTimeout, waitMin: o.WaiterMinDelay, waitCap: o.WaiterMaxDelay,
	}
	if p.reporter == nil {
		p.reporter = nopReporter{}
	}
	if p.clock == nil {
		p.clock = realClock{}
	}
	if p.rand == nil {
		p.rand = defaultRand
	}
	if p.waitMax <= 0 {
		p.waitMax = 10 * time.Minute
	}
	if p.waitMin <= 0 {
		p.waitMin = time.Second
	}
	if p.waitCap < p.waitMin {
		p.waitCap = max(10*time.Second, p.waitMin)
	}
	budget := o.ThrottleBudget
	if budget <= 0 {
		budget = 3 * time.Minute
	}
	p.apigw = throttledAPIGateway{api: c.APIGateway, t: &throttle{clock: p.clock, rand: p.rand, budget: budget, warn: p.reporter.Warn}}
	return p, nil
}

// zip returns the handler zip for arch, building it at most once per arch.
func (p *Provisioner) zip(ctx context.Context, arch string) ([]byte, error) {
	p.codeMu.Lock()
	defer p.codeMu.Unlock()
	if p.codeZip != nil && p.codeArch == arch {
		return p.codeZip, nil
	}
	if p.code == nil {
		return nil, errors.New("no handler code: pass --handler-zip or run from a ddbops checkout")
	}
	z, err := p.code(ctx, arch)
	if err != nil {
		return nil, err
	}
	if len(z) == 0 {
		return nil, errors.New("handler zip is empty")
	}
	p.codeArch, p.codeZip = arch, z
	return z, nil
}

// CodeSha256 is the base64 SHA-256 of a deployment package, as Lambda
// reports it in CodeSha256.
func CodeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// identity asks STS who we are; the account and partition go into ARNs.
func (p *Provisioner) identity(ctx context.Context) (Account, error) {
	out, err := p.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Account{}, &Error{Op: "get caller identity", Err: err, Hint: identityHint(err, p.spec.EndpointURL)}
	}
	acct := Account{ID: aws.ToString(out.Account), Partition: "aws"}
	if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) >= 2 && parts[1] != "" {
		acct.Partition = parts[1]
	}
	if acct.ID == "" {
		return Account{}, &Error{Op: "get caller identity", Err: errors.New("no account id in the answer")}
	}
	return acct, nil
}

// loadState reads the state file for this stack (a fresh one when missing,
// unreadable or for another stack: it is only a cache).
func (p *Provisioner) loadState() *State {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	if p.state != nil {
		return p.state
	}
	s := &State{}
	if p.statePath != "" {
		if old, err := LoadState(p.statePath); err == nil && old.Stack == p.spec.Stack && old.Region == p.spec.Region {
			s = old
		}
	}
	s.Stack, s.Region = p.spec.Stack, p.spec.Region
	p.state = s
	return s
}

// updateState applies fn to the state and writes the file.
func (p *Provisioner) updateState(fn func(s *State)) error {
	p.loadState()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	fn(p.state)
	p.state.UpdatedAt = p.clock.Now().UTC()
	if p.statePath == "" {
		return nil
	}
	return SaveState(p.statePath, p.state)
}

// State returns a copy of the state as last written.
func (p *Provisioner) State() State {
	s := p.loadState()
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return *s
}

// identityHint is what to check when the first call of a run failed: the
// endpoint when nothing answered, else the credentials.
func identityHint(err error, endpoint string) string {
	var send *smithyhttp.RequestSendError
	switch {
	case !errors.As(err, &send):
		return "check your AWS credentials (aws sts get-caller-identity), --profile and --region"
	case endpoint != "":
		return "nothing answered at " + endpoint + ": is the emulator running? check --endpoint-url"
	}
	return "AWS did not answer: check your network and proxy settings (HTTPS_PROXY) and --region"
}

// tagsOwner returns the stack tag value found in tags.
func tagsOwner(tags map[string]string) string { return tags[TagKey] }

func fmtInt(v int32) string { return fmt.Sprintf("%d", v) }
