//go:build linux

package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"golang.org/x/sys/unix"
)

// The test binary plays three more parts, chosen by roleEnv: a sleeper
// child, a Lambda runtime under the RIE, and (TestOrphanParent) a test
// binary that starts children through Start and is then killed.
const (
	roleEnv   = "DDBOPS_TESTENV_ROLE"
	parentEnv = "DDBOPS_TESTENV_PARENT" // what TestOrphanParent starts: "sleeper" or "emulators"
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "sleeper":
		for {
			time.Sleep(time.Hour)
		}
	case "lambda":
		lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sleeper is a command for a child that runs until killed.
func sleeper() *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), roleEnv+"=sleeper")
	return cmd
}

// TestOrphanParent is not a test of its own: TestChildrenDieWithTheTestBinary
// runs it in a child test binary, which starts processes through Start,
// prints their pids ("child NAME PID" lines, then "ready") and waits to be
// killed.
func TestOrphanParent(t *testing.T) {
	what := os.Getenv(parentEnv)
	if what == "" {
		t.Skip("runs only as the child test binary of TestChildrenDieWithTheTestBinary")
	}
	switch what {
	case "sleeper":
		fmt.Printf("child sleeper %d\n", Start(t, sleeper()).Pid())
	case "emulators":
		fmt.Printf("child moto_server %d\n", StartMoto(t).Pid())
		rie := StartRIE(t, os.Args[0], roleEnv+"=lambda")
		// The RIE starts the runtime for the first invocation.
		resp, err := http.Post(rie.InvokeURL, "application/json", strings.NewReader(`{"ping":1}`))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		fmt.Printf("child aws-lambda-rie %d\n", rie.Pid())
		for _, d := range descendants(rie.Pid()) {
			fmt.Printf("child runtime-under-rie %d\n", d.pid)
		}
	default:
		t.Fatalf("%s=%q", parentEnv, what)
	}
	fmt.Println("ready")
	select {}
}

// TestChildrenDieWithTheTestBinary starts a test binary that starts
// children through Start, kills it as `go test` and a terminal would
// (SIGKILL; the SIGINT of Ctrl-C and the SIGTERM of `timeout`, sent to its
// whole process group), and requires every child, and the runtime the
// RIE started, to be gone soon after, although no test cleanup ran.
func TestChildrenDieWithTheTestBinary(t *testing.T) {
	for _, what := range []string{"sleeper", "emulators"} {
		t.Run(what, func(t *testing.T) {
			if what == "emulators" {
				if _, err := exec.LookPath("moto_server"); err != nil {
					SkipOrFail(t, "moto_server is not on PATH (pip install 'moto[server]')")
				}
				BuildRIE(t) // once here: the parents find it in the build cache
			}
			for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM} {
				t.Run(unix.SignalName(sig), func(t *testing.T) { checkChildrenDie(t, what, sig) })
			}
		})
	}
}

func checkChildrenDie(t *testing.T, what string, sig syscall.Signal) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanParent$", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), parentEnv+"="+what)
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	parent := StartReading(t, cmd)

	children := readChildren(t, parent, &stderr)
	if len(children) == 0 {
		t.Fatal("the parent reported no children")
	}
	t.Logf("children of the parent test binary (pid %d): %v", parent.Pid(), children)
	// pidfds name the children for good: a pid reused after a child is
	// gone cannot pass for it.
	fds := map[string]int{}
	for name, pid := range children {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			t.Fatalf("%s (pid %d) is gone before the parent was killed: %v", name, pid, err)
		}
		t.Cleanup(func() {
			_ = unix.Close(fd)
			_ = syscall.Kill(pid, syscall.SIGKILL) // a survivor must not outlive this test either
		})
		fds[name] = fd
	}

	// A terminal signals the whole foreground process group; the children
	// are in groups of their own and get nothing from it.
	if err := syscall.Kill(-parent.Pid(), sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-parent.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("the parent test binary ignored %v", sig)
	}

	deadline := time.Now().Add(15 * time.Second)
	for name, fd := range fds {
		if !exitedBy(fd, deadline) {
			t.Errorf("%s (pid %d) still runs after its test binary died of %v", name, children[name], sig)
		}
	}
}

// readChildren reads the parent's "child NAME PID" lines up to "ready".
func readChildren(t *testing.T, parent *Proc, stderr *SyncBuffer) map[string]int {
	t.Helper()
	children := map[string]int{}
	var out bytes.Buffer
	ready := make(chan bool, 1)
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(parent.Stdout())
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			if f := strings.Fields(line); len(f) == 3 && f[0] == "child" {
				if pid, err := strconv.Atoi(f[2]); err == nil {
					children[f[1]] = pid
				}
			}
			mu.Unlock()
			if line == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	var ok bool
	select {
	case ok = <-ready:
	case <-time.After(3 * time.Minute):
	}
	mu.Lock()
	defer mu.Unlock()
	if !ok {
		t.Fatalf("the parent test binary did not get ready:\n%s%s", out.String(), stderr.String())
	}
	return children
}

// exitedBy waits until the process behind pidfd fd has exited (the pidfd
// turns readable) or deadline passes.
func exitedBy(fd int, deadline time.Time) bool {
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms <= 0 {
			ms = 0
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n == 1
	}
}

// TestStartSurvivesTheStartingThreadsExit: the parent-death signal follows
// the thread that forked, and Go ends the thread of a goroutine that exits
// locked to it. A child started from such a goroutine must live on.
func TestStartSurvivesTheStartingThreadsExit(t *testing.T) {
	var p *Proc
	var tid int
	for p == nil {
		started := make(chan error)
		go func() {
			runtime.LockOSThread()
			if unix.Gettid() == os.Getpid() {
				// The main thread is never ended, only parked: try
				// another one.
				runtime.UnlockOSThread()
				started <- nil
				return
			}
			tid = unix.Gettid()
			// Never unlocked: the thread ends with this goroutine.
			var err error
			p, err = start(sleeper())
			started <- err
		}()
		if err := <-started; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(p.Stop)
	// The thread is gone once /proc no longer lists it among ours.
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d did not end", tid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The signal, had it come, is sent as the thread exits; give the child
	// a moment to die of it.
	select {
	case <-p.Done():
		t.Fatalf("the child died with the thread that started it: %v", p.Wait())
	case <-time.After(500 * time.Millisecond):
	}
	p.Stop()
	if p.ExitCode() != -1 {
		t.Errorf("Stop: exit code %d, want death by signal", p.ExitCode())
	}
}

// TestStopKillsTheTree: Stop kills the group and a descendant that left
// it (as the RIE's runtime does), and waits for the process.
func TestStopKillsTheTree(t *testing.T) {
	// sh starts a sleeper in a session and group of its own (setsid(1)
	// execs it: same pid), prints its pid and waits.
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid(1) not found")
	}
	cmd := exec.Command("sh", "-c", `setsid "$0" & echo $!; wait`, os.Args[0])
	cmd.Env = append(os.Environ(), roleEnv+"=sleeper")
	p := StartReading(t, cmd)
	line, err := bufio.NewReader(p.Stdout()).ReadString('\n')
	if err != nil {
		t.Fatalf("read the grandchild's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// setsid(1) leaves the group a moment after it starts.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		pgid, err := syscall.Getpgid(pid)
		if err != nil {
			t.Fatalf("the grandchild is gone before Stop: %v", err)
		}
		if pgid != p.Pid() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the grandchild stayed in the group (%d): the test would prove nothing", pgid)
		}
	}
	p.Stop()
	if !exitedBy(fd, time.Now().Add(10*time.Second)) {
		t.Errorf("the grandchild %d outside the group survived Stop", pid)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Stop returned before the process was reaped")
	}
	p.Stop() // again: nothing left, no error, no hang
}

func TestRunReportsTheExit(t *testing.T) {
	err := Run(t, exec.Command("sh", "-c", "exit 3"))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Run = %v, want exit status 3", err)
	}
	if err := Run(t, exec.Command("true")); err != nil {
		t.Fatalf("Run(true) = %v", err)
	}
}
