package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process of the lab: its output goes to a log file, it runs
// in its own process group, and Stop ends it (SIGTERM, then SIGKILL).
//
// A lab process never outlives the program that started it: its own process
// group keeps a terminal's Ctrl-C for the harness (which stops the lab in
// order), and the parent-death signal (prctl PR_SET_PDEATHSIG, SIGKILL)
// ends it when the harness dies however it dies — SIGKILL, a crash, SIGPIPE
// on a closed standard output. Linux sends that signal when the thread that
// started the child exits; Go never ends a thread of its own accord (only
// one left locked by runtime.LockOSThread), and the syscall package checks,
// in the child, that the parent did not die before the signal was armed.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	err  error
	logf *os.File
	// how it was started, for again
	logPath   string
	env, argv []string
}

// StartProc starts argv with env added to this process's environment.
func StartProc(ctx context.Context, name, logPath string, env []string, argv ...string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %s log: %v", ErrLab, name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%w: start %s: %v", ErrLab, name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), logf: logf, logPath: logPath, env: env, argv: argv}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// again starts the same program again, with the same arguments,
// environment and log file (appended to): `pecspec lab start` (control.go).
func (p *Proc) again() (*Proc, error) {
	return StartProc(context.Background(), p.Name, p.logPath, p.env, p.argv...)
}

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// Err is the exit status once Exited is closed.
func (p *Proc) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGTERM to the process group, waits up to grace, then SIGKILL.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%w: %s did not stop within %v; killed", ErrLab, p.Name, grace)
}

// Kill sends SIGKILL to the process group and waits for the process to end.
func (p *Proc) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) { return freePortAt("127.0.0.1") }

// waitUntil calls ready until it succeeds, the process exits or the deadline
// passes. Readiness checks are real connection attempts, not sleeps for time.
func waitUntil(ctx context.Context, p *Proc, limit time.Duration, ready func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%w: %s exited during start-up: %v", ErrLab, p.Name, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not ready after %v: %v", ErrLab, p.Name, limit, errors.Join(last, ctx.Err()))
		case <-tick.C:
		}
	}
}
