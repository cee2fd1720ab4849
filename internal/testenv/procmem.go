package testenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrNoProcMemory is ProcMemory on a system without /proc/PID/status or
// without its RssAnon line (not Linux, or a kernel before 4.5).
var ErrNoProcMemory = errors.New("no RssAnon in /proc/PID/status")

// ProcMemory reads a Linux process's resident memory from
// /proc/PID/status, in bytes: anon is RssAnon (heap and stacks, what the
// process itself holds; a mapped database's pages are RssFile, the
// kernel's to drop), total is VmRSS (the whole resident set).
func ProcMemory(pid int) (anon, total int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of process %d: %w (%w)", pid, err, ErrNoProcMemory)
	}
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k != "RssAnon" && k != "VmRSS" {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("memory of process %d: %s is %q, want N kB", pid, k, strings.TrimSpace(v))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory of process %d: %s: %w", pid, k, err)
		}
		if k == "RssAnon" {
			anon, found = n<<10, true
		} else {
			total = n << 10
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("memory of process %d: %w", pid, ErrNoProcMemory)
	}
	return anon, total, nil
}
