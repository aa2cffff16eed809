package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab/labtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// pecspecBinary builds this command once per test process: the lifecycle
// tests signal the real program, as a user's shell or CI does.
func pecspecBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pecspec-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "pecspec")
		binOut, binErr = exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("build pecspec: %v\n%s", binErr, binOut)
	}
	return binPath
}

// TestLifecycle: however `pecspec run` ends — its standard output closed
// (`pecspec run | head -1`), SIGINT, SIGTERM, SIGKILL — no process of the
// lab it started survives it; interrupted (not killed) it exits 2 saying
// so, with the reports of the scenarios that ended written.
func TestLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	bin, pecref := pecspecBinary(t), labtest.Pecref(t)
	for _, tc := range []struct {
		name string
		// stop acts once the run has printed the line wait matches.
		wait string
		stop func(cmd *exec.Cmd, stdout io.Closer)
		code int
	}{
		{"stdout closed", "lab up in", func(_ *exec.Cmd, stdout io.Closer) { stdout.Close() }, exitHarness},
		{"SIGINT", "[", func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGINT) }, exitHarness},
		{"SIGTERM", "[", func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGTERM) }, exitHarness},
		{"SIGKILL", "[", func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Kill() }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := os.MkdirTemp("", "pecspec-life-")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(out)
			cmd := exec.Command(bin, "run", "--out", out, "--pecref", pecref, "--concurrency", "2")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			if err := waitLine(stdout, tc.wait, 60*time.Second); err != nil {
				t.Fatalf("%v; stderr: %s", err, stderr.String())
			}
			lab := labProcesses(out)
			if len(lab) < 5 { // slapd, clamd, dnsmasq, two pecref
				t.Fatalf("the lab's processes before the stop: %v, want at least 5", lab)
			}
			tc.stop(cmd, stdout)
			go io.Copy(io.Discard, stdout) // a signalled run may still print its tables
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("pecspec did not end within 60 s of the stop; stderr: %s", stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if tc.code == exitHarness {
				if !strings.Contains(stderr.String(), "interrupted by") {
					t.Errorf("stderr does not say it was interrupted: %s", stderr.String())
				}
				for _, f := range []string{"summary.json", "report.html", "junit.xml"} {
					if _, err := os.Stat(filepath.Join(out, f)); err != nil {
						t.Errorf("the interrupted run left no %s: %v", f, err)
					}
				}
			}
			if left := waitGone(lab, 15*time.Second); len(left) > 0 {
				t.Errorf("lab processes survived pecspec: %v", left)
				for pid := range left {
					syscall.Kill(pid, syscall.SIGKILL) // ours: leave nothing behind
				}
			}
			if now := labProcesses(out); len(now) > 0 {
				t.Errorf("processes of the lab in %s after pecspec ended: %v", out, now)
			}
		})
	}
}

// waitLine reads r until a line starting with prefix, within limit.
func waitLine(r io.Reader, prefix string, limit time.Duration) error {
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				found <- nil
				return
			}
		}
		found <- errors.New("the run's output ended before a line starting with " + strconv.Quote(prefix))
	}()
	select {
	case err := <-found:
		return err
	case <-time.After(limit):
		return errors.New("no line starting with " + strconv.Quote(prefix) + " within " + limit.String())
	}
}

// labProcesses are the live processes whose command line names dir (every
// lab process is started with its configuration under the lab directory).
func labProcesses(dir string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir+"/")) && !bytes.HasPrefix(cmdline, []byte(binPath)) {
			out[pid] = string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
	return out
}

// alive: the process exists and is no zombie (a killed child whose new
// parent has not reaped it yet has ended).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitGone polls until none of procs is alive (a real condition: the
// kernel delivers the parent-death signal asynchronously), and returns
// those still alive at the limit.
func waitGone(procs map[int]string, limit time.Duration) map[int]string {
	deadline := time.Now().Add(limit)
	for {
		left := map[int]string{}
		for pid, cmd := range procs {
			if alive(pid) {
				left[pid] = cmd
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}
