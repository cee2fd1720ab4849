package provision

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestConfigCoversEveryTaggedField: every user-settable field is recorded
// and restored by its config key, so a new field needs only its tag.
func TestConfigCoversEveryTaggedField(t *testing.T) {
	t.Parallel()
	want := []string{"arch", "auth", "cors", "log-retention", "memory", "throttle-burst", "throttle-rate", "timeout"}
	for _, k := range want {
		if !slices.Contains(ConfigKeys(), k) {
			t.Errorf("config key %s is not a desired-state key: %v", k, ConfigKeys())
		}
	}
	set := testSpec()
	set.Memory, set.Timeout, set.Arch, set.Auth = 512, 30, "x86_64", "apikey"
	set.ThrottleRate, set.ThrottleBurst, set.LogRetention = 7.5, 9, 30
	set.CORSOrigins = []string{"https://app.example.com"}
	b, err := json.Marshal(set.Config())
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := testSpec()
	if err := got.apply(back, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, set) {
		t.Errorf("round trip through the state file:\n got %+v\nwant %+v", got, set)
	}
	if d := testSpec().Config().Changes(set.Config()); len(d) != len(ConfigKeys()) {
		t.Errorf("Changes = %v, want one per key", d)
	}
	if d := set.Config().Changes(set.Config()); len(d) != 0 {
		t.Errorf("Changes of equal configurations = %v", d)
	}
	noCORS, emptyCORS := testSpec(), testSpec()
	emptyCORS.CORSOrigins = []string{}
	if d := noCORS.Config().Changes(emptyCORS.Config()); len(d) != 0 {
		t.Errorf("no origins vs an empty list of origins: Changes = %v", d)
	}
}

// TestDesiredSpecRule: explicit beats recorded beats the default, for
// every key; an older state file's applied values stand in for "desired";
// another stack's record is ignored; a broken record names its key.
func TestDesiredSpecRule(t *testing.T) {
	t.Parallel()
	base := testSpec() // the defaults, plus whatever the user set explicitly
	rec := base
	rec.Memory, rec.Timeout, rec.Arch, rec.Auth, rec.ThrottleRate, rec.ThrottleBurst, rec.LogRetention = 256, 20, "x86_64", "none", 10, 20, 7
	rec.CORSOrigins = []string{"http://localhost:5173"}
	st := &State{Stack: base.Stack, Desired: rec.Config()}

	for _, k := range ConfigKeys() {
		// Nothing explicit: every key comes from the record.
		got, err := DesiredSpec(base, nil, st)
		if err != nil || got.Config().String(k) != rec.Config().String(k) {
			t.Errorf("%s not explicit: got %s (%v), want the recorded %s", k, got.Config().String(k), err, rec.Config().String(k))
		}
		// Explicit: the configuration's value wins, the others stay recorded.
		got, _ = DesiredSpec(base, func(key string) bool { return key == k }, st)
		for _, other := range ConfigKeys() {
			want := rec.Config().String(other)
			if other == k {
				want = base.Config().String(other)
			}
			if got.Config().String(other) != want {
				t.Errorf("%s explicit: %s = %s, want %s", k, other, got.Config().String(other), want)
			}
		}
	}
	if got, _ := DesiredSpec(base, nil, nil); !reflect.DeepEqual(got, base) {
		t.Errorf("no record: %+v, want the configuration", got)
	}
	if got, _ := DesiredSpec(base, nil, &State{Stack: "other", Desired: rec.Config()}); !reflect.DeepEqual(got, base) {
		t.Errorf("another stack's record was used: %+v", got)
	}
	legacy := &State{Stack: base.Stack, Memory: 1024, Timeout: 60, Architecture: "x86_64", Auth: "apikey"}
	got, _ := DesiredSpec(base, nil, legacy)
	if got.Memory != 1024 || got.Timeout != 60 || got.Arch != "x86_64" || got.Auth != "apikey" || got.ThrottleRate != base.ThrottleRate {
		t.Errorf("legacy state: %+v", got)
	}
	// "desired" wins over the applied values it supersedes.
	legacy.Desired = Config{"memory": json.RawMessage("2048")}
	if got, _ := DesiredSpec(base, nil, legacy); got.Memory != 2048 || got.Timeout != 60 {
		t.Errorf("desired over applied: memory %d timeout %d", got.Memory, got.Timeout)
	}
	if _, err := DesiredSpec(base, nil, &State{Stack: base.Stack, Desired: Config{"memory": json.RawMessage(`"lots"`)}}); err == nil || !strings.Contains(err.Error(), "desired memory") {
		t.Errorf("a broken record: err %v, want it to name the key", err)
	}
}

// TestSetupAndDeployRecordTheDesiredState: setup records every key, also
// when a step then fails; deploy records the function's keys only.
func TestSetupAndDeployRecordTheDesiredState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spec := testSpec()
	spec.Memory, spec.ThrottleRate = 256, 42
	if _, err := h.setup(spec, SetupOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Desired.Changes(spec.Config()); len(d) != 0 || len(st.Desired) != len(ConfigKeys()) {
		t.Fatalf("setup recorded %v (differs %v)", st.Desired, d)
	}
	dep := spec
	dep.Memory, dep.ThrottleRate, dep.Auth = 512, 1, "none" // deploy applies memory, not throttling or auth
	if _, err := h.prov(dep).Deploy(context.Background(), DeployOptions{}); err != nil {
		t.Fatal(err)
	}
	st, _ = LoadState(h.statePath)
	if st.Desired.String("memory") != "512" || st.Desired.String("throttle-rate") != "42" || st.Desired.String("auth") != spec.Auth {
		t.Errorf("after deploy: %v", st.Desired)
	}
	// A dry run records nothing.
	dry := spec
	dry.Memory = 1024
	if _, err := h.setup(dry, SetupOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ = LoadState(h.statePath); st.Desired.String("memory") != "512" {
		t.Errorf("a dry run recorded memory %s", st.Desired.String("memory"))
	}
}

// TestStateFilePerStackAndMigration: each stack has its own file; the old
// single file moves to the stack it records on that stack's first use, and
// never over a stack's own file or to another stack.
func TestStateFilePerStackAndMigration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, migrated, err := StateFile(dir, "ddbops")
	if err != nil || migrated || a != filepath.Join(dir, "stacks", "ddbops", "state.json") {
		t.Fatalf("StateFile = %s, %v, %v", a, migrated, err)
	}
	b, _, _ := StateFile(dir, "demo")
	if a == b {
		t.Fatal("two stacks share a state file")
	}
	legacy := filepath.Join(dir, "state.json")
	if err := SaveState(legacy, &State{Stack: "ddbops", RestAPIID: "api-1", Desired: Config{"memory": json.RawMessage("256")}}); err != nil {
		t.Fatal(err)
	}
	// Another stack's first use leaves it alone.
	if _, migrated, _ := StateFile(dir, "demo"); migrated {
		t.Error("the legacy file moved to a stack it does not record")
	}
	path, migrated, err := StateFile(dir, "ddbops")
	if err != nil || !migrated || path != a {
		t.Fatalf("migration: %s, %v, %v", path, migrated, err)
	}
	st, err := LoadState(a)
	if err != nil || st.RestAPIID != "api-1" || st.Desired.String("memory") != "256" {
		t.Fatalf("migrated state = %+v, %v", st, err)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the legacy file is still there: %v", err)
	}
	// A stack with a file of its own never takes an old one over it.
	if err := SaveState(legacy, &State{Stack: "ddbops", RestAPIID: "stale"}); err != nil {
		t.Fatal(err)
	}
	if _, migrated, _ := StateFile(dir, "ddbops"); migrated {
		t.Error("the legacy file replaced the stack's own")
	}
	if st, _ := LoadState(a); st.RestAPIID != "api-1" {
		t.Errorf("the stack's file was replaced: %+v", st)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "has space"} {
		if _, _, err := StateFile(dir, bad); err == nil {
			t.Errorf("StateFile(%q) accepted", bad)
		}
	}
}

// TestEverySettingStaysSet walks every user-settable setting (arch too,
// which moto cannot change): setup is told a value, then a run that is told
// nothing (the defaults, merged with the record by DesiredSpec) finds the
// stack in sync: status OK, a setup dry run of unchanged resources, a
// deploy that leaves the function alone, and the value still recorded.
func TestEverySettingStaysSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	defaults := testSpec()
	if _, err := h.setup(defaults, SetupOptions{}); err != nil {
		t.Fatal(err)
	}
	told := defaults
	for _, k := range ConfigKeys() {
		switch k {
		case "memory":
			told.Memory = 512
		case "timeout":
			told.Timeout = 45
		case "arch":
			told.Arch = "x86_64"
		case "auth":
			told.Auth = "apikey"
		case "throttle-rate":
			told.ThrottleRate = 12.5
		case "throttle-burst":
			told.ThrottleBurst = 25
		case "log-retention":
			told.LogRetention = 60
		case "cors":
			told.CORSOrigins = []string{"https://app.example.com"}
		default:
			t.Fatalf("no value to set for %s: add one here", k)
		}
		if _, err := h.setup(told, SetupOptions{}); err != nil {
			t.Fatalf("setup %s: %v", k, err)
		}
		st, err := LoadState(h.statePath)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := DesiredSpec(defaults, nil, st)
		if err != nil || !reflect.DeepEqual(spec, told) {
			t.Fatalf("after %s: the desired state is %+v (%v), want %+v", k, spec, err, told)
		}
		rep, err := h.prov(spec).Status(context.Background(), StatusOptions{})
		if err != nil || !rep.OK {
			t.Fatalf("after %s: status %+v %v", k, rep, err)
		}
		res, err := h.setup(spec, SetupOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Changes {
			if c.Action != Unchanged {
				t.Errorf("after %s: the dry run plans %s %s %v", k, c.Action, c.Kind, c.Diffs)
			}
		}
		res, err = h.prov(spec).Deploy(context.Background(), DeployOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Changes {
			if c.Kind == KindFunction && c.Action != Unchanged {
				t.Errorf("after %s: deploy changed the function: %s %v", k, c.Action, c.Diffs)
			}
		}
	}
}
