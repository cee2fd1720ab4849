package testenv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// setDieWithParent puts the child in a process group of its own and has
// the kernel SIGKILL it when the thread that forks it exits.
func setDieWithParent(a *syscall.SysProcAttr) {
	a.Setpgid, a.Pgid = true, 0
	a.Pdeathsig = syscall.SIGKILL
}

// waitExited blocks until the process pid has exited, without reaping
// it, so that its pid still names its group for the kill that follows.
func waitExited(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err == nil
		}
	}
}

// killTree SIGKILLs the process group pid leads and every descendant of
// pid, also those in other groups. The caller guarantees pid is not
// reaped yet.
func killTree(pid int) {
	// A pidfd names one process for good, so a descendant that exits
	// meanwhile cannot be mistaken for a newcomer reusing its pid. Each is
	// opened while its parent, which alone may reap it, is still alive;
	// one whose parent changed between the listing and the open has
	// already gone.
	var fds, pids []int
	for _, d := range descendants(pid) {
		fd, err := unix.PidfdOpen(d.pid, 0)
		if errors.Is(err, unix.ENOSYS) {
			// Before Linux 5.3: by pid, checked as below.
			if ppid, ok := parentOf(d.pid); ok && ppid == d.ppid {
				pids = append(pids, d.pid)
			}
			continue
		}
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(d.pid); !ok || ppid != d.ppid {
			_ = unix.Close(fd)
			continue
		}
		fds = append(fds, fd)
	}
	for _, d := range pids {
		_ = syscall.Kill(d, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for _, fd := range fds {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		_ = unix.Close(fd)
	}
}

type procEntry struct{ pid, ppid int }

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []procEntry {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, d := range dirs {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(n); ok {
			children[ppid] = append(children[ppid], n)
		}
	}
	var out []procEntry
	queue := []int{pid}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, c := range children[parent] {
			out = append(out, procEntry{pid: c, ppid: parent})
			queue = append(queue, c)
		}
	}
	return out
}

// parentOf reads the parent pid of pid from /proc/pid/stat.
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return ppid, err == nil
}
