package testenv

import (
	"errors"
	"os"
	"testing"
)

// TestProcMemory reads this test binary's own memory, and reports a
// process that does not exist as ErrNoProcMemory.
func TestProcMemory(t *testing.T) {
	t.Parallel()
	anon, total, err := ProcMemory(os.Getpid())
	if errors.Is(err, ErrNoProcMemory) {
		t.Skip(err)
	}
	if err != nil || anon <= 0 || total < anon {
		t.Fatalf("ProcMemory(self) = %d, %d, %v", anon, total, err)
	}
	if _, _, err := ProcMemory(1 << 30); !errors.Is(err, ErrNoProcMemory) {
		t.Errorf("ProcMemory of no process: %v, want ErrNoProcMemory", err)
	}
}
