package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

func (h *harness) teardown(spec Spec, opts TeardownOptions) (*TeardownPlan, *Result, error) {
	h.t.Helper()
	p := h.prov(spec)
	plan, err := p.PlanTeardown(context.Background())
	if err != nil {
		return nil, nil, err
	}
	res, err := p.Teardown(context.Background(), plan, opts)
	return plan, res, err
}

func emptyInventory(inv map[string]int) bool {
	for _, n := range inv {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestTeardownDeletesEverythingInReverseOrderThenFindsNothing(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{wire.AuthIAM, wire.AuthAPIKey} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			spec := testSpec()
			spec.Auth = auth
			h.mustSetup(spec)
			h.f.rec.Reset()
			plan, res, err := h.teardown(spec, TeardownOptions{})
			if err != nil {
				t.Fatalf("teardown: %v", err)
			}
			if inv := h.f.inventory(); !emptyInventory(inv) {
				t.Errorf("left behind: %v", inv)
			}
			var order []string
			for _, c := range res.Changes {
				if c.Action == Deleted {
					order = append(order, c.Kind)
				}
			}
			want := []string{KindRestAPI, KindFunction, KindLogGroup, KindRole, KindPolicy, KindTable}
			if auth == wire.AuthAPIKey {
				want = append([]string{KindUsagePlan, KindAPIKey}, want...)
			}
			if !slices.Equal(order, want) {
				t.Errorf("deletion order %v, want %v", order, want)
			}
			if plan.Deletes() != len(want) {
				t.Errorf("plan deletes %d", plan.Deletes())
			}
			if _, err := os.Stat(h.statePath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state file left after a complete teardown: %v", err)
			}
			// Idempotent: nothing left to find, nothing deleted, no error.
			h.f.rec.Reset()
			plan, res, err = h.teardown(spec, TeardownOptions{})
			if err != nil || plan.Deletes() != 0 {
				t.Fatalf("second teardown: %v, %d deletes", err, plan.Deletes())
			}
			if m := h.f.rec.Mutating(); len(m) != 0 {
				t.Errorf("second teardown made mutating calls: %v", m)
			}
			for _, c := range res.Changes {
				if c.Action != Absent {
					t.Errorf("second teardown: %s %s", c.Kind, c.Action)
				}
			}
		})
	}
}

func TestTeardownLeavesResourcesItDoesNotOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	// A same-named untagged table and role (someone followed the console
	// tutorial), a role of another stack, and an untagged API of the same
	// name next to ours.
	h.f.tables["lambda-apigateway"] = &fakeTable{tags: map[string]string{}, desc: ddbtypes.TableDescription{TableName: aws.String("lambda-apigateway"),
		TableArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/lambda-apigateway"), TableStatus: ddbtypes.TableStatusActive}}
	h.f.roles["lambda-apigateway-role"] = &fakeRole{arn: "arn:aws:iam::123456789012:role/lambda-apigateway-role", trust: trustPolicy(), tags: map[string]string{TagKey: "someone-else"}}
	h.f.apis["console1"] = &fakeAPI{name: "DynamoDBOperations", tags: map[string]string{}, rootID: "r",
		resources: map[string]*fakeResource{"r": {path: "/", methods: map[string]*agtypes.Method{}}}, stages: map[string]*agtypes.MethodSetting{}, stageDep: map[string]string{}}
	// Our own API, tagged (as a crashed setup would have left it).
	h.f.apis["ours1"] = &fakeAPI{name: "DynamoDBOperations", tags: map[string]string{TagKey: "ddbops"}, rootID: "r2",
		resources: map[string]*fakeResource{"r2": {path: "/", methods: map[string]*agtypes.Method{}}}, stages: map[string]*agtypes.MethodSetting{}, stageDep: map[string]string{}}

	plan, res, err := h.teardown(spec, TeardownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.f.tables["lambda-apigateway"] == nil || h.f.roles["lambda-apigateway-role"] == nil || h.f.apis["console1"] == nil {
		t.Fatal("deleted a resource the stack does not own")
	}
	if h.f.apis["ours1"] != nil {
		t.Error("kept the owned REST API")
	}
	kept := map[string]string{}
	for _, c := range plan.Changes {
		if c.Action == Keep {
			kept[c.Kind] = c.Note
		}
	}
	if !strings.Contains(kept[KindTable], "without the ddbops:stack tag") || !strings.Contains(kept[KindRole], "owned by stack someone-else") ||
		!strings.Contains(kept[KindRestAPI], "console1") {
		t.Errorf("kept = %v", kept)
	}
	for _, m := range h.f.rec.Mutating() {
		if !strings.HasSuffix(m, "DeleteRestApi") {
			t.Errorf("unexpected mutating call %s", m)
		}
	}
	if len(res.Changes) == 0 {
		t.Error("no result rows")
	}
}

func TestTeardownRefusesANonEmptyTableUnlessToldWhatToDoWithTheData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		opts       TeardownOptions
		wantErr    bool
		wantBackup bool
	}{
		{"refused", TeardownOptions{}, true, false},
		{"--delete-data", TeardownOptions{DeleteData: true}, false, false},
		{"--backup", TeardownOptions{Backup: true}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			spec := testSpec()
			h.mustSetup(spec)
			h.f.tables["lambda-apigateway"].items = 3
			before := h.f.inventory()
			h.f.rec.Reset()
			plan, res, err := h.teardown(spec, tc.opts)
			if !plan.TableHasItems {
				t.Error("plan did not notice the items")
			}
			if tc.wantErr {
				if !errors.Is(err, ErrTableNotEmpty) || !strings.Contains(hintOf(err), "--delete-data") || !strings.Contains(hintOf(err), "--backup") {
					t.Fatalf("err = %v (hint %q)", err, hintOf(err))
				}
				if m := h.f.rec.Mutating(); len(m) != 0 {
					t.Errorf("refused teardown still made mutating calls: %v", m)
				}
				if after := h.f.inventory(); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("refused teardown changed the account")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inv := h.f.inventory(); !emptyInventory(inv) {
				t.Errorf("left behind: %v", inv)
			}
			if got := len(h.f.backups); (got == 1) != tc.wantBackup {
				t.Errorf("%d backups", got)
			}
			if tc.wantBackup {
				m := h.f.rec.Mutating()
				if slices.Index(m, "DynamoDB.CreateBackup") > slices.Index(m, "DynamoDB.DeleteTable") {
					t.Errorf("backup after delete: %v", m)
				}
				i := slices.IndexFunc(res.Changes, func(c Change) bool { return c.Kind == KindTable })
				if !strings.Contains(res.Changes[i].Note, h.f.backups[0]) {
					t.Errorf("table row does not name the backup: %+v", res.Changes[i])
				}
			}
		})
	}
}

func TestTeardownWorksFromAnyPartialStateWithoutTheStateFile(t *testing.T) {
	t.Parallel()
	clean := newHarness(t)
	clean.mustSetup(testSpec())
	_, n := clean.f.rec.Counts()
	for i := 1; i <= n; i += 2 {
		t.Run(fmt.Sprintf("setup crashed at mutating call %d", i), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.f.fail = failNthMutating(i)
			_, _ = h.setup(testSpec(), SetupOptions{})
			h.f.fail = nil
			_ = os.Remove(h.statePath)
			if _, _, err := h.teardown(testSpec(), TeardownOptions{}); err != nil {
				t.Fatal(err)
			}
			if inv := h.f.inventory(); !emptyInventory(inv) {
				t.Errorf("left behind: %v", inv)
			}
		})
	}
}

func TestTeardownFailureStopsAndTheRerunFinishes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustSetup(testSpec())
	h.f.fail = func(service, op string) error {
		if op == "DeleteRole" {
			return errors.New("injected")
		}
		return nil
	}
	_, res, err := h.teardown(testSpec(), TeardownOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "delete role lambda-apigateway-role: ") {
		t.Fatalf("err = %v", err)
	}
	if h.f.tables["lambda-apigateway"] == nil || len(h.f.policies) != 1 {
		t.Error("continued past a failed deletion")
	}
	if !slices.ContainsFunc(res.Changes, func(c Change) bool { return c.Kind == KindRole && c.Action == Failed }) {
		t.Error("failed step not reported")
	}
	h.f.fail = nil
	if _, _, err := h.teardown(testSpec(), TeardownOptions{}); err != nil {
		t.Fatal(err)
	}
	if inv := h.f.inventory(); !emptyInventory(inv) {
		t.Errorf("left behind: %v", inv)
	}
}
