package testenv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
)

func TestFaultProxyInjectsTypedErrors(t *testing.T) {
	m := StartMoto(t)
	p := NewFaultProxy(t, m.URL,
		Rule{Op: "apigateway:CreateRestApi", Nth: 1, Fault: Throttle},
		Rule{Op: "iam:CreateRole", Nth: 1, Fault: ServerError},
		// Times 2: net/http itself retries an idempotent request once when a
		// reused connection closes without an answer.
		Rule{Op: "lambda:GetFunction", Nth: 1, Times: 2, Fault: Reset},
		Rule{Op: "apigateway:GetRestApis", Nth: 1, Fault: Slow, Delay: 50 * time.Millisecond},
	)
	cfg := StaticConfig(t, p.URL)
	cfg.RetryMaxAttempts = 1
	ctx := context.Background()

	ag := apigateway.NewFromConfig(cfg)
	_, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x")})
	var tmr *agtypes.TooManyRequestsException
	if !errors.As(err, &tmr) {
		t.Fatalf("CreateRestApi: want TooManyRequestsException, got %v", err)
	}
	if _, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x")}); err != nil {
		t.Fatalf("second CreateRestApi should pass: %v", err)
	}
	if _, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{}); err != nil {
		t.Fatalf("slow GetRestApis: %v", err)
	}

	_, err = iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{}")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceFailure" {
		t.Fatalf("CreateRole: want ServiceFailure, got %v", err)
	}

	// A call first, so that GetFunction goes out on a reused connection,
	// which net/http retries once when it is reset: the two resets below.
	lc := lambda.NewFromConfig(cfg)
	if _, err := lc.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatalf("ListFunctions: %v", err)
	}
	_, err = lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f")})
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("GetFunction: want a transport error, got %v (calls %v)", err, p.Calls())
	}

	t.Logf("calls: %v", p.Calls())
	want := []string{"apigateway:CreateRestApi:429", "apigateway:GetRestApis:slow", "iam:CreateRole:500", "lambda:GetFunction:reset", "lambda:GetFunction:reset"}
	got := p.Injected()
	if len(got) != len(want) {
		t.Fatalf("injected %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("injected %v, want %v", got, want)
		}
	}
}
