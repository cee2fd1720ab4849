package testenv

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbops/ddbops/internal/wire"
)

// AWSEnv is the AWS part of the environment of a process under test (the
// handler in-process, the bootstrap, the RIE): the fake credentials and
// region, and nothing from the developer's AWS setup (no profile, no
// config or credentials file, no endpoint, no instance metadata).
func AWSEnv(t testing.TB) []string {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	return []string{
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_DEFAULT_PROFILE=",
		"AWS_ENDPOINT_URL=",
		"AWS_ENDPOINT_URL_DYNAMODB=",
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// FunctionEnv is the environment of the handler serving table in the
// DynamoDB at endpoint: AWSEnv, TABLE_NAME and the DynamoDB endpoint.
func FunctionEnv(t testing.TB, table, endpoint string) []string {
	t.Helper()
	return append(AWSEnv(t), "TABLE_NAME="+table, "AWS_ENDPOINT_URL_DYNAMODB="+endpoint)
}

// DynamoDB is an SDK client for the DynamoDB at endpoint with the fake
// credentials.
func DynamoDB(t testing.TB, endpoint string) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(StaticConfig(t, endpoint), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true // emulators send no X-Amz-Crc32
	})
}

// CreateTable creates the tutorial's table, named name (partition key id
// of type S, billed on demand), and waits until it is ACTIVE.
func CreateTable(t testing.TB, db *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(wire.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(wire.KeyAttribute), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	// minidyn reports no status and serves the table at once.
	if out.TableDescription == nil || out.TableDescription.TableStatus != types.TableStatusCreating {
		return
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", name, err)
	}
}
