package testenv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// Proc is a process a test started with Start: an emulator, a server, a
// `ddbops local`. It cannot outlive the test binary:
//
//   - it runs in its own process group, and Stop (run when the test ends)
//     kills that group and every descendant that left it (the RIE puts the
//     function's runtime in a group of its own);
//   - on Linux it gets SIGKILL from the kernel when the test binary dies
//     without cleaning up (SIGKILL, or the SIGINT of a Ctrl-C and the
//     SIGTERM of `timeout`, which end a Go program without running test
//     cleanups). Its own process group keeps it from receiving a Ctrl-C
//     meant for `go test`, so that parent-death signal is what ends it.
//
// The parent-death signal fires when the OS thread that forked the child
// exits, not when the process does (prctl(2), PR_SET_PDEATHSIG), and the Go
// runtime ends threads, so every child is forked from a goroutine locked
// to its own thread that stays there until the child is reaped. A chain of
// execs keeps the signal (a pyenv shim for moto_server execs bash, pyenv
// and python in turn); a fork does not, which is why Stop kills whole
// groups and trees.
type Proc struct {
	cmd    *exec.Cmd
	stdout *os.File // read end of the pipe StartReading made, or nil
	done   chan struct{}
	err    error // cmd.Wait's answer, valid once done is closed

	// mu orders signals to the group against reaping: until the leader is
	// reaped its pid (the group's id) cannot be reused, so -pid names
	// this group and no other.
	mu     sync.Mutex
	reaped bool
}

// Start starts cmd as a Proc and stops it when t ends; it fails t when
// cmd cannot start. Set cmd's Stdout and Stderr before (a *SyncBuffer, or
// use StartReading), not with cmd.StdoutPipe: Proc reaps the process as
// soon as it exits, which closes such a pipe before it is read.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p, err := start(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(p.Stop)
	return p
}

// StartReading is Start with the command's standard output readable from
// p.Stdout() to EOF, also after the process has exited.
func StartReading(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	if cmd.Stdout != nil {
		t.Fatal("StartReading: cmd.Stdout is already set")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	p, err := start(cmd)
	_ = w.Close() // the child holds its own copy
	if err != nil {
		_ = r.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p.stdout = r
	t.Cleanup(func() {
		p.Stop()
		_ = r.Close()
	})
	return p
}

// Run starts cmd as Start does and waits for it to exit: for a command
// expected to end by itself. It returns cmd.Wait's error (an
// *exec.ExitError for a non-zero exit).
func Run(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	return Start(t, cmd).Wait()
}

// Stdout reads the standard output of a process started by StartReading
// (nil otherwise).
func (p *Proc) Stdout() io.Reader {
	if p.stdout == nil {
		return nil
	}
	return p.stdout
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns cmd.Wait's error.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// ExitCode is the exit code once Done is closed (-1 for a signal).
func (p *Proc) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process only (say SIGTERM, to test a graceful
// shutdown); it is an error once the process is gone.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop kills the process, its group and its descendants, and waits until
// it is reaped. It is safe to call more than once and after the process
// exited by itself.
func (p *Proc) Stop() {
	p.mu.Lock()
	if !p.reaped {
		killTree(p.Pid())
	}
	p.mu.Unlock()
	<-p.done
}

func start(cmd *exec.Cmd) (*Proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setDieWithParent(cmd.SysProcAttr)
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error)
	go p.run(started)
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// run forks the child and reaps it on one locked OS thread (see Proc).
func (p *Proc) run(started chan<- error) {
	// Never unlocked: the runtime ends the thread when this goroutine
	// returns, which is harmless once the child is reaped.
	runtime.LockOSThread()
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	pid := p.cmd.Process.Pid
	exited := waitExited(pid)
	p.mu.Lock()
	if exited {
		// Whatever the leader left behind in its group goes with it.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	p.reaped = true
	p.mu.Unlock()
	p.err = p.cmd.Wait()
	close(p.done)
}

// String names the process in test logs.
func (p *Proc) String() string { return fmt.Sprintf("%s (pid %d)", p.cmd.Path, p.Pid()) }
