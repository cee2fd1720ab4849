package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestProvisionLifecycleLiveAWS runs the moto lifecycle against a real AWS
// account. It never runs in CI: it needs DDBOPS_LIVE_AWS=1, credentials
// (AWS_PROFILE or the usual chain) allowed to manage IAM, Lambda, DynamoDB,
// API Gateway and CloudWatch Logs, AWS_REGION, and Go (the real handler is
// built). Every name carries a random suffix, and teardown runs at the end
// even when the test fails, so it leaves nothing behind and never touches an
// existing stack. It costs a few cents at most.
//
//	DDBOPS_LIVE_AWS=1 AWS_PROFILE=sandbox AWS_REGION=eu-west-1 \
//	  go test ./cmd/ddbops -run LiveAWS -v -timeout 20m
func TestProvisionLifecycleLiveAWS(t *testing.T) {
	if os.Getenv("DDBOPS_LIVE_AWS") != "1" {
		t.Skip("live AWS test: set DDBOPS_LIVE_AWS=1 (with AWS credentials and AWS_REGION) to run it")
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil || cfg.Region == "" {
		t.Fatalf("AWS configuration: %v (region %q)", err, cfg.Region)
	}
	suffix := fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff)
	dir := t.TempDir()
	config := filepath.Join(dir, "ddbops.yaml")
	yaml := strings.Join([]string{
		"stack: ddbops-live-" + suffix,
		"table: ddbops-live-" + suffix,
		"function: ddbops-live-" + suffix,
		"role: ddbops-live-" + suffix,
		"policy: ddbops-live-" + suffix,
		"api: ddbops-live-" + suffix,
		"log-retention: 1",
		"state-dir: " + dir,
	}, "\n") + "\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		ios, out, errOut := testIO()
		code := Execute(ctx, ios, append([]string{"--config", config}, args...))
		t.Logf("ddbops %s → exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		return code, out.String(), errOut.String()
	}
	t.Cleanup(func() { run("teardown", "--yes", "--delete-data") })

	start := time.Now()
	if code, _, _ := run("setup", "-o", "json"); code != 0 {
		t.Fatal("setup failed")
	}
	t.Logf("live: setup took %s", time.Since(start).Round(time.Second))
	if code, out, _ := run("setup", "-o", "json"); code != 0 || !strings.Contains(out, `"mutating": 0`) {
		t.Error("re-run was not free of mutating calls")
	}
	if code, _, _ := run("status", "--exit-code"); code != 0 {
		t.Error("status reports drift right after setup")
	}
	// The API answers (IAM auth, SigV4-signed by ddbops call); new
	// deployments and IAM grants can take a little while to apply.
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, out, _ := run("call", "ping")
		if code == 0 && strings.Contains(out, "pong") {
			break
		}
		if time.Now().After(deadline) {
			t.Error("call ping never succeeded")
			break
		}
		time.Sleep(5 * time.Second)
	}
	lam := lambda.NewFromConfig(cfg)
	if _, err := lam.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("ddbops-live-" + suffix), MemorySize: aws.Int32(256)}); err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionUpdatedV2Waiter(lam).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ddbops-live-" + suffix)}, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run("status", "--exit-code"); code != 1 || !strings.Contains(out, "memory: 256 MB (want 128 MB)") {
		t.Error("status did not report the memory drift")
	}
	if code, _, _ := run("setup"); code != 0 {
		t.Error("setup did not repair the drift")
	}
	if code, _, _ := run("status", "--exit-code"); code != 0 {
		t.Error("drift not repaired")
	}
	if code, _, _ := run("call", "create", "--id", "1", "--name", "Bob"); code != 0 {
		t.Error("call create failed")
	}
	if code, _, stderr := run("teardown", "--yes"); code != 1 || !strings.Contains(stderr, "table still holds items") {
		t.Error("teardown did not refuse a table with items")
	}
	start = time.Now()
	if code, _, _ := run("teardown", "--yes", "--delete-data", "-o", "json"); code != 0 {
		t.Fatal("teardown failed")
	}
	t.Logf("live: teardown took %s", time.Since(start).Round(time.Second))
	if code, out, _ := run("teardown", "--yes"); code != 0 || !strings.Contains(out, "Nothing to delete") {
		t.Error("second teardown found something")
	}
}
