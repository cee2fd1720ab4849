package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/wire"
)

// newExternalEngine returns the SDK client of o's DynamoDB endpoint.
func newExternalEngine(o *Options) (tableDB, error) {
	u, err := url.Parse(o.DynamoDBEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid dynamodb endpoint %q: want http(s)://host:port", o.DynamoDBEndpoint)
	}
	creds := o.Credentials
	if creds == nil {
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("dynamodb endpoint %s: AWS credentials are needed for an endpoint that is not on loopback", o.DynamoDBEndpoint)
		}
		// Emulators on loopback accept any credentials.
		creds = credentials.NewStaticCredentialsProvider("ddbopslocal", "ddbopslocal", "")
	}
	return dynamodb.New(dynamodb.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(o.DynamoDBEndpoint),
		Credentials:  creds,
	}), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// tableDB is what the local stack needs from an external DynamoDB: the
// handler's operations plus table management.
type tableDB interface {
	handler.DynamoDB
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// The wait for a table ensureTable created: emulators create tables in
// milliseconds, so the waiter polls from 100 ms rather than the SDK's 20 s.
const (
	tableWaitTimeout = 30 * time.Second
	waiterMinDelay   = 100 * time.Millisecond
	waiterMaxDelay   = 2 * time.Second
)

// ensureTable creates table (key id S, on-demand) unless it exists.
func ensureTable(ctx context.Context, db tableDB, table string, wait bool) error {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) && !isNotFound(err) {
		return fmt.Errorf("describe table %s: %w", table, err)
	}
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(wire.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(wire.KeyAttribute), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if !wait {
		return nil
	}
	client, ok := db.(dynamodb.DescribeTableAPIClient)
	if !ok {
		return nil
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = waiterMinDelay
		o.MaxDelay = waiterMaxDelay
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, tableWaitTimeout); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}

// isNotFound matches endpoints that report a missing table with a generic
// API error code (some emulators do).
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}
