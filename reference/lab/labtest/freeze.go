package labtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Freeze stops pid with SIGSTOP, as a hung dependency, and waits until
// every thread of it is stopped: kill returns before the signal is handled,
// and on a loaded machine a thread of the process may still answer a request
// meanwhile. The test's cleanup continues it whatever happens; Thaw
// continues it earlier.
func Freeze(tb testing.TB, pid int) {
	tb.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	deadline := time.Now().Add(5 * time.Second)
	for !stopped(pid) {
		if time.Now().After(deadline) {
			tb.Fatalf("process %d not stopped 5 s after SIGSTOP", pid)
		}
		runtime.Gosched()
	}
}

// Thaw continues pid (SIGCONT).
func Thaw(tb testing.TB, pid int) {
	tb.Helper()
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		tb.Fatal(err)
	}
}

// stopped reports whether every thread of pid is in the stopped state (T).
func stopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// comm is in parentheses and may hold spaces: the state follows the last ')'.
		if fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:])); len(fields) == 0 || fields[0] != "T" {
			return false
		}
	}
	return true
}
