package lab

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeLab serves a control socket over real processes that are not the
// lab's: "calm" (sleep, ends at SIGTERM) and "stubborn" (ignores SIGTERM).
// events records the stops and starts in order.
type fakeLab struct {
	dir    string
	ctl    *Control
	mu     sync.Mutex
	events []string
	gate   chan struct{} // calm is not ready until it is closed
}

func newFakeLab(t *testing.T) *fakeLab {
	f := &fakeLab{dir: t.TempDir(), gate: make(chan struct{})}
	close(f.gate)
	var comps []*component
	for name, trap := range map[string]string{"calm": "", "stubborn": `trap "" TERM; `} {
		ready := filepath.Join(f.dir, name+".ready") // the shell set its trap
		p, err := StartProc(context.Background(), name, filepath.Join(f.dir, name+".log"), nil, "sh", "-c",
			trap+"echo > "+ready+"; exec sleep 60")
		if err != nil {
			t.Fatal(err)
		}
		f.until(t, func() bool { _, err := os.Stat(ready); return err == nil })
		cur := new(*Proc)
		*cur = p
		check := func() error {
			select {
			case <-f.gate:
				return nil
			default:
				return errors.New("the gate is closed")
			}
		}
		comps = append(comps, &component{name: name, kind: "sleep", proc: cur, check: check,
			limit: 5 * time.Second, grace: 200 * time.Millisecond, log: p.logPath,
			before: func() error { f.record("start " + name); return nil }, after: func() { f.record("stop " + name) }})
		t.Cleanup(func() { (*cur).Kill() })
	}
	ctl, err := serveControl(context.Background(), filepath.Join(f.dir, ControlSocket), comps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	f.ctl = ctl
	return f
}

func (f *fakeLab) record(e string) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

func (f *fakeLab) ask(t *testing.T, action, name string) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Ask(ctx, f.dir, Request{Action: action, Name: name})
}

func alivePID(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestControlActions: stop ends the process (SIGKILL for one ignoring
// SIGTERM), start runs it again, restart does both; status reports each
// state; the socket is the owner's alone.
func TestControlActions(t *testing.T) {
	f := newFakeLab(t)
	if st, err := os.Stat(f.ctl.Path()); err != nil || st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("control socket: %v, mode %v; want a socket, 0600", err, st.Mode())
	}
	resp, err := f.ask(t, ActionStatus, "")
	if err != nil || len(resp.Components) != 2 {
		t.Fatalf("status: %+v, %v", resp, err)
	}
	pids := map[string]int{}
	for _, c := range resp.Components {
		if c.State != StateUp || c.PID == 0 {
			t.Errorf("status before any action: %+v, want up with a pid", c)
		}
		pids[c.Name] = c.PID
	}
	resp, err = f.ask(t, ActionStop, "calm")
	if err != nil || resp.Components[0].State != StateDown || alivePID(pids["calm"]) {
		t.Fatalf("stop calm: %+v, %v; process alive %v", resp, err, alivePID(pids["calm"]))
	}
	if resp, err = f.ask(t, ActionStop, "calm"); err != nil || !strings.Contains(resp.Message, "already down") {
		t.Errorf("stop calm again: %+v, %v", resp, err)
	}
	resp, err = f.ask(t, ActionStart, "calm")
	if err != nil || resp.Components[0].State != StateUp || resp.Components[0].PID == pids["calm"] {
		t.Fatalf("start calm: %+v, %v", resp, err)
	}
	resp, err = f.ask(t, ActionRestart, "stubborn")
	if err != nil || !strings.Contains(resp.Message, "killed") || resp.Components[0].State != StateUp || alivePID(pids["stubborn"]) {
		t.Fatalf("restart stubborn: %+v, %v", resp, err)
	}
	(*f.ctl.lookup("calm").proc).Kill() // a crash, not a stop
	if resp, err = f.ask(t, ActionStatus, "calm"); err != nil || resp.Components[0].State != StateExited {
		t.Errorf("status of a crashed component: %+v, %v; want exited", resp, err)
	}
}

// TestControlSerialized: a restart asked while another restart of the same
// component is starting it waits for that one to end.
func TestControlSerialized(t *testing.T) {
	f := newFakeLab(t)
	f.gate = make(chan struct{}) // calm's start waits for the gate
	var wg sync.WaitGroup
	restart := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := f.ask(t, ActionRestart, "calm"); err != nil {
				t.Errorf("restart: %+v, %v", resp, err)
			}
		}()
	}
	restart()
	f.until(t, func() bool { s := f.ctl.lookup("calm").status(); return s.State == StateStarting })
	restart()
	f.until(t, func() bool { f.ctl.mu.Lock(); defer f.ctl.mu.Unlock(); return len(f.ctl.conns) == 2 })
	close(f.gate)
	wg.Wait()
	want := "stop calm,start calm,stop calm,start calm"
	if got := strings.Join(f.events, ","); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
}

// TestControlRefusals: an unknown name lists the names; a bad action, a
// missing name, bad JSON, an over-long or a missing request line are
// refused in one line; a directory without a lab is ErrNoLab.
func TestControlRefusals(t *testing.T) {
	f := newFakeLab(t)
	_, err := f.ask(t, ActionStop, "zeta")
	if !errors.Is(err, ErrControl) || !strings.Contains(err.Error(), `"zeta"`) || !strings.Contains(err.Error(), "calm") ||
		!strings.Contains(err.Error(), "stubborn") {
		t.Errorf("unknown name: %v; want ErrControl listing the names", err)
	}
	for _, tc := range []struct{ action, name, want string }{
		{"reboot", "calm", "unknown action"}, {ActionRestart, "", "needs a component name"},
	} {
		if _, err := f.ask(t, tc.action, tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want %q", tc.action, tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ send, want string }{
		{"{\"action\":\"status\",\"x\":1}\n", "bad request"},
		{"status\n", "bad request"},
		{strings.Repeat("x", 4*MaxRequest), "over 1024 bytes"},
		{"", "no request line"},
	} {
		if got := raw(t, f.ctl.Path(), tc.send); !strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1 {
			t.Errorf("send %.20q: answer %q, want one line with %q", tc.send, got, tc.want)
		}
	}
	if _, err := Ask(context.Background(), t.TempDir(), Request{Action: ActionStatus}); !errors.Is(err, ErrNoLab) {
		t.Errorf("Ask in an empty directory: %v, want ErrNoLab", err)
	}
}

// until polls cond (the server's state), for at most 5 s.
func (f *fakeLab) until(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
	}
}

// raw sends data as is and returns the answer.
func raw(t *testing.T, path, data string) string {
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * requestWait))
	conn.Write([]byte(data))
	conn.(*net.UnixConn).CloseWrite()
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	return string(buf[:n])
}

// TestControlClose: Close returns at once though a client sent nothing,
// and removes the socket.
func TestControlClose(t *testing.T) {
	f := newFakeLab(t)
	conn, err := net.Dial("unix", f.ctl.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f.until(t, func() bool { f.ctl.mu.Lock(); defer f.ctl.mu.Unlock(); return len(f.ctl.conns) == 1 })
	start := time.Now()
	f.ctl.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v with an idle client", took)
	}
	if _, err := os.Stat(f.ctl.Path()); !os.IsNotExist(err) {
		t.Errorf("the socket outlived Close: %v", err)
	}
}
