package provision

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestIsMutating(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"GetCallerIdentity": false, "GetPolicy": false, "GetPolicyVersion": false, "ListTagsOfResource": false,
		"ListAttachedRolePolicies": false, "DescribeTable": false, "DescribeLogGroups": false, "FilterLogEvents": false,
		"GetRestApis": false, "GetResources": false, "Scan": false, "Query": false, "BatchGetItem": false, "HeadObject": false,
		"CreateTable": true, "UpdateTable": true, "DeleteTable": true, "CreateBackup": true, "TagResource": true, "UntagResource": true,
		"PutRetentionPolicy": true, "AddPermission": true, "RemovePermission": true, "AttachRolePolicy": true,
		"PutMethod": true, "PutIntegration": true, "UpdateStage": true, "CreateDeployment": true, "Invoke": true,
		"UpdateFunctionCode": true, "CreatePolicyVersion": true, "PutItem": true,
		// Prefixes only count at a word boundary.
		"Getaway": true, "Listen": true,
	}
	for op, want := range cases {
		if got := IsMutating(op); got != want {
			t.Errorf("IsMutating(%q) = %v, want %v", op, got, want)
		}
	}
}

// cannedHTTP answers every request with one canned response.
type cannedHTTP struct {
	status int
	header http.Header
	body   string
	calls  int
}

func (c *cannedHTTP) Do(r *http.Request) (*http.Response, error) {
	c.calls++
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(bytes.NewBufferString(c.body)), Request: r}, nil
}

func testAWSConfig(h aws.HTTPClient) aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  h,
	}
}

func TestRecorderMiddlewareCountsEveryRequestOfRealSDKClients(t *testing.T) {
	t.Parallel()
	h := &cannedHTTP{status: 200, header: http.Header{"Content-Type": {"text/xml"}}, body: `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account><Arn>arn:aws-cn:iam::123456789012:user/x</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>`}
	rec := &Recorder{}
	c := NewClients(testAWSConfig(h), rec)
	for i := 0; i < 2; i++ {
		if _, err := c.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	calls := rec.Calls()
	if len(calls) != 2 || calls[0] != (Call{Service: "STS", Operation: "GetCallerIdentity"}) {
		t.Errorf("calls = %+v", calls)
	}
	if total, mut := rec.Counts(); total != 2 || mut != 0 {
		t.Errorf("counts %d/%d", total, mut)
	}
}

func TestAPIGatewayClientLeavesThrottlingToProvision(t *testing.T) {
	t.Parallel()
	h := &cannedHTTP{status: 429, header: http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"TooManyRequestsException"}, "Retry-After": {"3"}}, body: `{"message":"Too Many Requests"}`}
	rec := &Recorder{}
	c := NewClients(testAWSConfig(h), rec)
	_, err := c.APIGateway.GetRestApis(context.Background(), &apigateway.GetRestApisInput{})
	var tm *agtypes.TooManyRequestsException
	if !errorsAs(err, &tm) {
		t.Fatalf("err = %v", err)
	}
	if h.calls != 1 {
		t.Errorf("the SDK retried a 429 itself: %d requests", h.calls)
	}
	if tm.RetryAfterSeconds == nil || strings.TrimSpace(*tm.RetryAfterSeconds) != "3" {
		t.Errorf("Retry-After not decoded: %+v", tm)
	}
	if total, _ := rec.Counts(); total != 1 {
		t.Errorf("recorded %d calls", total)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
