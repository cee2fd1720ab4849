package configs

import (
	"slices"
	"testing"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{"memory": "128", "bench-duration": "10s", "bench-seed": "true", "profile": "", "auth": "iam", "throttle-rate": "100"} {
		if got, ok := Default(key); !ok || got != want {
			t.Errorf("Default(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	if _, ok := Default("no-such-key"); ok {
		t.Error("Default of an unknown key reports it present")
	}
	keys := Keys()
	if !slices.IsSorted(keys) || !slices.Contains(keys, "local-region") || !slices.Contains(keys, "stack") {
		t.Errorf("Keys() = %v", keys)
	}
}
