package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ddbops/ddbops/internal/cmdutil"
	"github.com/ddbops/ddbops/internal/provision"
	"github.com/ddbops/ddbops/internal/testenv"
)

// liveValue reads the value a setting has on the stack's resources.
func (e *provEnv) liveValue(t *testing.T, key string) string {
	t.Helper()
	ctx := context.Background()
	st, err := provision.LoadState(e.state)
	if err != nil {
		t.Fatal(err)
	}
	switch key {
	case "memory", "timeout", "arch", "cors":
		fc, err := lambda.NewFromConfig(e.cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(st.FunctionName)})
		if err != nil {
			t.Fatal(err)
		}
		if key == "cors" {
			// The handler answers browsers from this variable; the
			// preflight method follows it (internal/provision's cors tests).
			if fc.Environment == nil || fc.Environment.Variables[provision.EnvCORSOrigins] == "" {
				return "(none)"
			}
			return fc.Environment.Variables[provision.EnvCORSOrigins]
		}
		return map[string]string{"memory": strconv.Itoa(int(aws.ToInt32(fc.MemorySize))), "timeout": strconv.Itoa(int(aws.ToInt32(fc.Timeout))),
			"arch": string(fc.Architectures[0])}[key]
	case "auth":
		m, err := apigateway.NewFromConfig(e.cfg).GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(st.RestAPIID), ResourceId: aws.String(st.ResourceID), HttpMethod: aws.String("POST")})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case aws.ToString(m.AuthorizationType) == "AWS_IAM":
			return "iam"
		case aws.ToBool(m.ApiKeyRequired):
			return "apikey"
		}
		return "none"
	case "throttle-rate", "throttle-burst":
		sg, err := apigateway.NewFromConfig(e.cfg).GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(st.RestAPIID), StageName: aws.String("prod")})
		if err != nil {
			t.Fatal(err)
		}
		ms := sg.MethodSettings["*/*"]
		if key == "throttle-rate" {
			return strconv.FormatFloat(ms.ThrottlingRateLimit, 'f', -1, 64)
		}
		return strconv.Itoa(int(ms.ThrottlingBurstLimit))
	case "log-retention":
		lg, err := cloudwatchlogs.NewFromConfig(e.cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(st.LogGroupName)})
		if err != nil || len(lg.LogGroups) != 1 {
			t.Fatalf("log group: %+v %v", lg, err)
		}
		return strconv.Itoa(int(aws.ToInt32(lg.LogGroups[0].RetentionInDays)))
	}
	t.Fatalf("no reader for %s", key)
	return ""
}

// agree checks that status, setup --dry-run and deploy all see the stack as
// it should be: status in sync with nothing pending, a plan of nothing but
// "unchanged", and a deploy that changes no function setting. want are the
// values every setting must have, recorded and on the resources.
func (e *provEnv) agree(t *testing.T, step string, want map[string]string) {
	t.Helper()
	var status provision.StatusDoc
	if code, stderr := e.runJSON(&status, "status", "--exit-code"); code != 0 || !status.OK || len(status.Pending) != 0 {
		t.Fatalf("%s: status --exit-code: exit %d ok %v pending %v rows %+v\n%s", step, code, status.OK, status.Pending, status.Rows, stderr)
	}
	var plan provision.Report
	if code, stderr := e.runJSON(&plan, "setup", "--dry-run", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("%s: setup --dry-run: exit %d %s", step, code, stderr)
	}
	for _, c := range plan.Changes {
		if c.Action != "unchanged" {
			t.Errorf("%s: setup --dry-run plans %s %s %s %v", step, c.Action, c.Resource, c.Name, c.Diffs)
		}
	}
	var dep provision.Report
	if code, stderr := e.runJSON(&dep, "deploy", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("%s: deploy: exit %d %s", step, code, stderr)
	}
	for _, c := range dep.Changes {
		if c.Resource == provision.KindFunction && c.Action != "unchanged" {
			t.Errorf("%s: deploy changed the function: %s %v", step, c.Action, c.Diffs)
		}
	}
	st, err := provision.LoadState(e.state)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got := st.Desired.String(k); got != v {
			t.Errorf("%s: recorded %s = %s, want %s", step, k, got, v)
		}
		if got := e.liveValue(t, k); got != v {
			t.Errorf("%s: %s on the stack = %s, want %s", step, k, got, v)
		}
	}
}

// TestDesiredStateStaysSet walks every user-settable setting but arch (see
// below): set it once
// with setup (its flag, else its DDBOPS_ variable for that one run), then
// status, setup --dry-run and deploy agree with it and nothing reverts, also
// while the other settings change after it. Then the rules for values that
// keep being given: a config file value wins and becomes the recorded one
// (status shows it as pending first), deploy --memory is recorded, and a
// value removed from the config file stays as recorded.
func TestDesiredStateStaysSet(t *testing.T) {
	m := testenv.StartMoto(t)
	e := newProvEnv(t, m.URL, m.AWSConfig(t))
	if code, _, stderr := e.run("setup", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("setup: exit %d %s", code, stderr)
	}
	want := map[string]string{"memory": "128", "timeout": "10", "arch": "arm64", "auth": "iam", "throttle-rate": "100", "throttle-burst": "200", "log-retention": "14"}
	e.agree(t, "defaults", want)
	for _, tc := range []struct{ key, value, flag string }{
		{"memory", "256", "--memory"},
		{"timeout", "30", ""},
		// arch is walked in internal/provision (TestEverySettingStaysSet):
		// moto ignores Architectures on UpdateFunctionCode.
		{"auth", "apikey", "--auth"},
		{"auth", "none", "--auth"},
		{"auth", "iam", "--auth"},
		{"cors", "https://app.example.com", "--cors"},
		{"throttle-rate", "50", ""},
		{"throttle-burst", "75", ""},
		{"log-retention", "30", ""},
	} {
		if !strings.Contains(strings.Join(provision.ConfigKeys(), " "), tc.key) {
			t.Fatalf("%s is not a desired-state key", tc.key)
		}
		// --yes: setup --auth none asks for confirmation on a terminal
		// and wants --yes without one.
		args := []string{"setup", "--yes", "--handler-zip", e.zip}
		if tc.flag != "" {
			args = append(args, tc.flag, tc.value)
		} else {
			env := cmdutil.EnvPrefix + strings.ToUpper(strings.ReplaceAll(tc.key, "-", "_"))
			t.Setenv(env, tc.value)
			defer os.Unsetenv(env)
		}
		code, _, stderr := e.run(args...)
		if tc.flag == "" {
			os.Unsetenv(cmdutil.EnvPrefix + strings.ToUpper(strings.ReplaceAll(tc.key, "-", "_")))
		}
		if code != 0 {
			t.Fatalf("setup %s %s: exit %d %s", tc.key, tc.value, code, stderr)
		}
		want[tc.key] = tc.value
		e.agree(t, "after setting "+tc.key, want)
	}
	// Every setting survived the ones set after it.
	if code, _, stderr := e.run("setup", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("setup: exit %d %s", code, stderr)
	}
	e.agree(t, "all set", want)

	// A config file value is explicit: status lists it as pending (and is
	// not in sync), setup --dry-run plans it, deploy applies and records it.
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, append(cfg, "memory: 512\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	var status provision.StatusDoc
	if code, _ := e.runJSON(&status, "status", "--exit-code"); code != 1 || status.OK || len(status.Pending) != 1 || status.Pending[0].Field != "memory" ||
		status.Pending[0].Have != "256" || status.Pending[0].Want != "512" {
		t.Errorf("status with memory: 512 in the config file: exit %d ok %v pending %+v", code, status.OK, status.Pending)
	}
	code, out, _ := e.run("status")
	if code != 0 || !strings.Contains(out, "pending:    memory: 256 → 512 (from "+e.config+" line 3;") {
		t.Errorf("status text: exit %d\n%s", code, out)
	}
	code, out, _ = e.run("setup", "--dry-run", "--handler-zip", e.zip)
	if code != 0 || !strings.Contains(out, "memory: 256 MB → 512 MB") {
		t.Errorf("setup --dry-run with memory: 512 in the config file: exit %d\n%s", code, out)
	}
	if code, _, stderr := e.run("deploy", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("deploy: exit %d %s", code, stderr)
	}
	want["memory"] = "512"
	e.agree(t, "config file memory", want)
	// Taken out of the file again, the value stays as recorded.
	if err := os.WriteFile(e.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	e.agree(t, "config file value removed", want)

	// deploy --memory is recorded: the next setup keeps it.
	if code, _, stderr := e.run("deploy", "--memory", "1024", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("deploy --memory: exit %d %s", code, stderr)
	}
	want["memory"] = "1024"
	if code, _, stderr := e.run("setup", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("setup: exit %d %s", code, stderr)
	}
	e.agree(t, "deploy --memory", want)

	// deploy applies only the function's settings; it says that setup
	// applies the rest.
	t.Setenv("DDBOPS_THROTTLE_RATE", "5")
	code, _, stderr := e.run("deploy", "--handler-zip", e.zip)
	os.Unsetenv("DDBOPS_THROTTLE_RATE")
	if code != 0 || !strings.Contains(stderr, "note: the configuration changes throttle-rate: 50 → 5 (from $DDBOPS_THROTTLE_RATE); deploy applies only memory, timeout, arch: ddbops setup applies it") {
		t.Errorf("deploy with a throttle-rate change: exit %d %s", code, stderr)
	}
	e.agree(t, "deploy left throttling alone", want)
}

// TestStacksKeepApart: two stacks in one directory each keep their own
// state file; call and status of one are unaffected by setup and teardown
// of the other; the old single state file migrates to its stack; status
// without --endpoint-url uses the endpoint the stack lives on; setup of a
// stack whose names another stack owns points at that stack.
func TestStacksKeepApart(t *testing.T) {
	m := testenv.StartMoto(t)
	e := newProvEnv(t, m.URL, m.AWSConfig(t))
	stateDir := filepath.Dir(filepath.Dir(filepath.Dir(e.state)))
	demoCfg := filepath.Join(filepath.Dir(e.config), "demo.yaml")
	if err := os.WriteFile(demoCfg, []byte("state-dir: "+stateDir+"\niam-propagation-timeout: 30s\nstack: demo\ntable: demo-table\nfunction: demo-fn\n"+
		"role: demo-role\npolicy: demo-policy\napi: demo-api\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	demo := func(args ...string) (int, string, string) {
		ios, out, errOut := testIO()
		code := Execute(context.Background(), ios, append([]string{"--config", demoCfg, "--endpoint-url", e.endpoint}, args...))
		return code, out.String(), errOut.String()
	}
	code, out, stderr := e.run("setup", "--handler-zip", e.zip, "--memory", "256")
	if code != 0 {
		t.Fatalf("setup ddbops: exit %d %s", code, stderr)
	}
	// moto cannot run the function: no "try: ddbops call" line there.
	if strings.Contains(out, "try:") || !strings.Contains(out, "note:       on an emulator, ddbops call works only if it runs Lambda functions") {
		t.Errorf("setup on an emulator:\n%s", out)
	}
	first, err := os.ReadFile(e.state)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := demo("setup", "--handler-zip", e.zip); code != 0 {
		t.Fatalf("setup demo: exit %d %s", code, stderr)
	}
	if after, _ := os.ReadFile(e.state); string(after) != string(first) {
		t.Errorf("setup of demo changed the state of ddbops")
	}
	if _, err := os.Stat(filepath.Join(stateDir, "stacks", "demo", "state.json")); err != nil {
		t.Errorf("demo has no state file of its own: %v", err)
	}
	checkFirst := func(step string) {
		t.Helper()
		code, out, stderr := e.run("call", "read", "--id", "1", "--print-curl")
		if st, _ := provision.LoadState(e.state); code != 0 || st == nil || !strings.Contains(out, st.InvokeURL) {
			t.Errorf("%s: call of the first stack: exit %d %s %s", step, code, out, stderr)
		}
		var status provision.StatusDoc
		if code, stderr := e.runJSON(&status, "status", "--exit-code"); code != 0 || !status.OK {
			t.Errorf("%s: status of the first stack: exit %d %+v %s", step, code, status.Rows, stderr)
		}
	}
	checkFirst("after setup of demo")
	if code, _, stderr := demo("teardown", "--yes", "--delete-data"); code != 0 {
		t.Fatalf("teardown demo: exit %d %s", code, stderr)
	}
	if after, err := os.ReadFile(e.state); err != nil || string(after) != string(first) {
		t.Errorf("teardown of demo touched the state of ddbops: %v", err)
	}
	checkFirst("after teardown of demo")

	// The old single state file moves to its stack on first use.
	legacy := filepath.Join(stateDir, "state.json")
	if err := os.Rename(e.state, legacy); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = e.run("status")
	if code != 0 || !strings.Contains(stderr, "moved "+legacy+" to "+e.state) || !strings.Contains(out, "in sync") {
		t.Errorf("status over the old state file: exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(e.state); err != nil || string(b) != string(first) {
		t.Errorf("migrated state differs: %v", err)
	}

	// Without --endpoint-url, status goes where the stack lives.
	ios, outb, errb := testIO()
	code = Execute(context.Background(), ios, []string{"--config", e.config, "status", "--exit-code"})
	if code != 0 || !strings.Contains(errb.String(), "note: stack ddbops lives on "+e.endpoint) || !strings.Contains(outb.String(), "in sync") {
		t.Errorf("status without --endpoint-url: exit %d\n%s\n%s", code, outb, errb)
	}

	// A stack whose names belong to another ddbops stack: the hint points
	// at that stack, never at re-tagging its resources.
	other := filepath.Join(filepath.Dir(e.config), "other.yaml")
	if err := os.WriteFile(other, []byte("state-dir: "+stateDir+"\nstack: other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, errb = testIO()
	code = Execute(context.Background(), ios, []string{"--config", other, "--endpoint-url", e.endpoint, "setup", "--handler-zip", e.zip})
	if code != cmdutil.ExitError || !strings.Contains(errb.String(), "hint: it belongs to the ddbops stack ddbops") || strings.Contains(errb.String(), "tag it") {
		t.Errorf("setup over another stack's names: exit %d\n%s", code, errb)
	}
}
