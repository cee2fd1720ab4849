package provision

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*Spec)
		want   string // "" = valid
	}{
		{"defaults", func(*Spec) {}, ""},
		{"x86", func(s *Spec) { s.Arch = "x86_64" }, ""},
		{"never expire", func(s *Spec) { s.LogRetention = 0 }, ""},
		{"bad arch", func(s *Spec) { s.Arch = "amd64" }, `arch "amd64": want arm64 or x86_64`},
		{"bad auth", func(s *Spec) { s.Auth = "cognito" }, `auth "cognito": want iam, apikey or none`},
		{"small memory", func(s *Spec) { s.Memory = 64 }, "memory 64: must be between 128 and 10240 MB"},
		{"long timeout", func(s *Spec) { s.Timeout = 901 }, "timeout 901: must be between 1 and 900 seconds"},
		{"retention", func(s *Spec) { s.LogRetention = 10 }, "log-retention 10: CloudWatch Logs accepts"},
		{"table name", func(s *Spec) { s.Table = "my table" }, `table "my table": may only contain`},
		{"short table", func(s *Spec) { s.Table = "ab" }, `table "ab": shorter than 3`},
		{"empty role", func(s *Spec) { s.Role = "" }, "role: must not be empty"},
		{"throttle", func(s *Spec) { s.ThrottleBurst = 0 }, "must be positive"},
		{"resource slash", func(s *Spec) { s.Resource = "/DynamoDBManager" }, `resource "/DynamoDBManager"`},
	}
	for _, tc := range cases {
		s := testSpec()
		tc.mutate(&s)
		err := s.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestARNsAndInvokeURL(t *testing.T) {
	t.Parallel()
	s := testSpec()
	a := arns{spec: s, acct: Account{ID: "111122223333", Partition: "aws"}}
	checks := map[string]string{
		a.table():                   "arn:aws:dynamodb:us-east-1:111122223333:table/lambda-apigateway",
		a.policy():                  "arn:aws:iam::111122223333:policy/lambda-apigateway-dynamodb-policy",
		a.role():                    "arn:aws:iam::111122223333:role/lambda-apigateway-role",
		a.logGroup():                "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/LambdaFunctionOverHttps",
		a.function():                "arn:aws:lambda:us-east-1:111122223333:function:LambdaFunctionOverHttps",
		a.integrationURI():          "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:LambdaFunctionOverHttps/invocations",
		a.sourceARN("abc123"):       "arn:aws:execute-api:us-east-1:111122223333:abc123/prod/POST/DynamoDBManager",
		a.invokeURL("abc123"):       "https://abc123.execute-api.us-east-1.amazonaws.com/prod/DynamoDBManager",
		cn(s).invokeURL("abc123"):   "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod/DynamoDBManager",
		moto(s).invokeURL("abc123"): "http://127.0.0.1:5000/restapis/abc123/prod/_user_request_/DynamoDBManager",
	}
	for got, want := range checks {
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func cn(s Spec) arns {
	s.Region = "cn-north-1"
	return arns{spec: s, acct: Account{ID: "1", Partition: "aws-cn"}}
}

func moto(s Spec) arns {
	s.EndpointURL = "http://127.0.0.1:5000/"
	return arns{spec: s, acct: Account{ID: "1", Partition: "aws"}}
}

func TestIdentityReadsThePartition(t *testing.T) {
	t.Parallel()
	h := &cannedHTTP{status: 200, header: http.Header{"Content-Type": {"text/xml"}}, body: `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account><Arn>arn:aws-cn:iam::123456789012:user/x</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>`}
	c := newFakeAWS().clients()
	c.STS = NewClients(testAWSConfig(h), nil).STS
	p, err := New(Options{Spec: testSpec(), Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := p.identity(context.Background())
	if err != nil || acct != (Account{ID: "123456789012", Partition: "aws-cn"}) {
		t.Fatalf("identity = %+v, %v", acct, err)
	}
}

func TestPolicyDocumentsCompareSemantically(t *testing.T) {
	t.Parallel()
	a := arns{spec: testSpec(), acct: Account{ID: "1", Partition: "aws"}}
	want := a.executionPolicy()
	same := `{"Statement":[{"Resource":"arn:aws:logs:us-east-1:1:log-group:/aws/lambda/LambdaFunctionOverHttps:*","Action":["logs:PutLogEvents","logs:CreateLogStream"],"Effect":"Allow"},` +
		`{"Effect":"Allow","Resource":["arn:aws:dynamodb:us-east-1:1:table/lambda-apigateway"],"Action":["dynamodb:Scan","dynamodb:PutItem","dynamodb:GetItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:GetItem"]}],"Version":"2012-10-17"}`
	if d := diffPolicies("document", same, want); d != nil {
		t.Errorf("reordered, de-Sid'd document differs: %v", d)
	}
	encoded, err := decodePolicyDocument(url.QueryEscape(same))
	if err != nil || diffPolicies("document", encoded, want) != nil {
		t.Errorf("URL-encoded document: %v", err)
	}
	wide := strings.Replace(same, `"dynamodb:Scan",`, `"dynamodb:Scan","dynamodb:DeleteTable",`, 1)
	wide = strings.Replace(wide, `"Resource":"arn:aws:logs:us-east-1:1:log-group:/aws/lambda/LambdaFunctionOverHttps:*"`, `"Resource":"*"`, 1)
	d := diffPolicies("document", wide, want)
	var got []string
	for _, x := range d {
		got = append(got, x.String())
	}
	joined := strings.Join(got, "\n")
	for _, w := range []string{
		"document: dynamodb:DeleteTable on arn:aws:dynamodb:us-east-1:1:table/lambda-apigateway → absent",
		"document: logs:PutLogEvents on * → absent",
		"document: missing → logs:PutLogEvents on arn:aws:logs:us-east-1:1:log-group:/aws/lambda/LambdaFunctionOverHttps:*",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("diff lacks %q:\n%s", w, joined)
		}
	}
	if d := diffPolicies("trust policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`, trustPolicy()); d != nil {
		t.Errorf("equivalent trust policy differs: %v", d)
	}
	if d := diffPolicies("trust policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, trustPolicy()); d == nil {
		t.Error("ec2 trust policy reported equal")
	}
	if strings.Contains(want, `"*"`) || strings.Contains(want, `:*"`) == false {
		t.Errorf("execution policy: %s", want)
	}
}
