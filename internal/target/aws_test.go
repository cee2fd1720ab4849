package target

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ddbops/ddbops/internal/cmdutil"
)

func TestLoadAWSNeedsARegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	_, err := LoadAWS(context.Background(), AWSOptions{})
	if err == nil || !strings.Contains(err.Error(), "no region set") || cmdutil.HintOf(err) == "" {
		t.Fatalf("err = %v", err)
	}
	cfg, err := LoadAWS(context.Background(), AWSOptions{Region: "eu-west-3", EndpointURL: "http://127.0.0.1:1"})
	if err != nil || cfg.Region != "eu-west-3" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:1" {
		t.Fatalf("cfg %+v, %v", cfg, err)
	}
}

func TestServerAWS(t *testing.T) {
	t.Parallel()
	good := func(context.Context) (aws.Config, error) {
		return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}, nil
	}
	failing := func(context.Context) (aws.Config, error) { return aws.Config{}, errors.New("no region set") }
	badCreds := func(context.Context) (aws.Config, error) {
		return aws.Config{Region: "eu-west-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("expired")
		})}, nil
	}
	loads := 0
	counting := func(ctx context.Context) (aws.Config, error) { loads++; return good(ctx) }
	if r, c, err := ServerAWS(context.Background(), counting, "apikey", ""); r != "" || c != nil || err != nil || loads != 0 {
		t.Errorf("apikey, embedded engine: %q %v %v, %d loads", r, c, err, loads)
	}
	if r, c, err := ServerAWS(context.Background(), good, "iam", ""); r != "eu-west-1" || c == nil || err != nil {
		t.Errorf("iam: %q %v %v", r, c, err)
	}
	if _, _, err := ServerAWS(context.Background(), failing, "iam", ""); err == nil || !strings.Contains(err.Error(), "iam auth verifies signatures") {
		t.Errorf("iam without a configuration: %v", err)
	}
	if r, c, err := ServerAWS(context.Background(), failing, "none", "http://127.0.0.1:8000"); r != "" || c != nil || err != nil {
		t.Errorf("endpoint without a configuration: %q %v %v", r, c, err)
	}
	if _, _, err := ServerAWS(context.Background(), badCreds, "iam", ""); err == nil || cmdutil.HintOf(err) == "" {
		t.Errorf("iam with credentials that fail: %v", err)
	}
	if r, c, err := ServerAWS(context.Background(), badCreds, "apikey", "http://127.0.0.1:8000"); r != "eu-west-1" || c != nil || err != nil {
		t.Errorf("endpoint with credentials that fail: %q %v %v", r, c, err)
	}
}
