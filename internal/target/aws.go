package target

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/wire"
)

// AWSOptions are the settings an AWS configuration is loaded with, as the
// AWS CLI takes them: "" leaves each to the SDK's own chain (AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL(_<SERVICE>), shared files, SSO).
type AWSOptions struct {
	Profile     string // --profile
	Region      string // --region
	EndpointURL string // --endpoint-url: every call goes there (moto, LocalStack)
	// Verbose shows the SDK's own warnings on Log (e.g. "falling back to
	// IMDSv1" when no credentials are configured), which would otherwise
	// precede ddbops' one-line error.
	Verbose bool
	Log     io.Writer
}

// AWSLoader loads an AWS configuration; LoadAWS is the real one.
type AWSLoader func(ctx context.Context, o AWSOptions) (aws.Config, error)

// LoadAWS loads the AWS SDK configuration exactly as the AWS CLI would,
// with o's values taking precedence over the SDK's chain. A configuration
// without a region is an error: every call ddbops makes needs one.
func LoadAWS(ctx context.Context, o AWSOptions) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Verbose && o.Log != nil {
		opts = append(opts, awsconfig.WithLogger(logging.NewStandardLogger(o.Log)))
	} else {
		opts = append(opts, awsconfig.WithLogger(logging.Nop{}))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, cmdutil.WithHint(fmt.Errorf("load AWS configuration: %w", err),
			"check --profile / AWS_PROFILE and your ~/.aws/config")
	}
	if cfg.Region == "" {
		return aws.Config{}, cmdutil.WithHint(errors.New("load AWS configuration: no region set"),
			"pass --region, set AWS_REGION, or add region to your AWS profile")
	}
	return cfg, nil
}

// ServerAWS returns what a local stack serving auth needs from the AWS
// configuration load gives: the region and credentials that verify SigV4
// signatures (required for iam auth) and sign calls to an external
// DynamoDB endpoint (optional: emulators on loopback accept the stack's
// fake ones). region "" means none was loaded; creds may be nil.
func ServerAWS(ctx context.Context, load func(context.Context) (aws.Config, error), auth, endpoint string) (region string, creds aws.CredentialsProvider, err error) {
	if auth != wire.AuthIAM && endpoint == "" {
		return "", nil, nil
	}
	cfg, err := load(ctx)
	if err != nil {
		if auth == wire.AuthIAM {
			return "", nil, fmt.Errorf("ddbops local: iam auth verifies signatures with your AWS credentials: %w", err)
		}
		return "", nil, nil
	}
	if cfg.Credentials != nil {
		if _, err := cfg.Credentials.Retrieve(ctx); err == nil {
			creds = cfg.Credentials
		} else if auth == wire.AuthIAM {
			return "", nil, cmdutil.WithHint(fmt.Errorf("ddbops local: iam auth verifies signatures with your AWS credentials: %w", err),
				"configure credentials (aws configure, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile) or use --auth apikey")
		}
	}
	return cfg.Region, creds, nil
}
