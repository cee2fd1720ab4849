//go:build unix && !linux

package testenv

import "syscall"

// Outside Linux there is no parent-death signal: a child still runs in
// its own group and is killed with it when the test ends, but one whose
// test binary is killed outright outlives it.
func setDieWithParent(a *syscall.SysProcAttr) { a.Setpgid, a.Pgid = true, 0 }

// waitExited reports that it cannot wait without reaping: the group is
// then killed only by Stop.
func waitExited(int) bool { return false }

func killTree(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
