package lab

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// stopGrace is how long a stopped process has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// A component is one process of a running lab that `pecspec lab
// stop|start|restart NAME` acts on (control.go): a reference instance, a
// Dovecot, slapd, clamd or dnsmasq. It starts again from the configuration
// the lab wrote, so on the same ports, data and passwords.
type component struct {
	name, kind string
	proc       **Proc        // the field that holds its current process
	check      func() error  // one readiness check: a real connection
	limit      time.Duration // bound of a start
	log        string        // where to look when it does not start
	grace      time.Duration // between SIGTERM and SIGKILL
	before     func() error  // before a start (clamd: its scratch directory), or nil
	after      func()        // after a stop, or nil

	op      sync.Mutex // one stop, start or restart at a time
	mu      sync.Mutex // guards busy and stopped
	busy    string     // "stopping" or "starting" while op is held
	stopped bool       // down on purpose, not exited on its own
}

// ComponentStatus is one component in a control response.
type ComponentStatus struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`          // pecref, dovecot, slapd, clamd, dnsmasq
	PID   int    `json:"pid,omitempty"` // while up
	State string `json:"state"`         // up, down, exited, starting, stopping
	Exit  string `json:"exit,omitempty"`
}

// Component states. Exited is a process that ended on its own (a crash);
// down one that was stopped.
const (
	StateUp       = "up"
	StateDown     = "down"
	StateExited   = "exited"
	StateStarting = "starting"
	StateStopping = "stopping"
)

func (c *component) set(busy string, stopped bool) {
	c.mu.Lock()
	c.busy, c.stopped = busy, stopped
	c.mu.Unlock()
}

func (c *component) status() ComponentStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ComponentStatus{Name: c.name, Kind: c.kind, State: c.busy}
	if c.busy != "" {
		return s
	}
	p := *c.proc
	select {
	case <-p.Exited():
		s.State = StateDown
		if !c.stopped {
			s.State, s.Exit = StateExited, fmt.Sprint(p.Err())
		}
	default:
		s.State, s.PID = StateUp, p.Pid()
	}
	return s
}

func (c *component) running() bool {
	select {
	case <-(*c.proc).Exited():
		return false
	default:
		return true
	}
}

// stop ends the process: SIGTERM to its process group, SIGKILL after grace.
// A component already down stays down.
func (c *component) stop() string {
	if !c.running() {
		c.set("", true)
		return c.name + " is already down"
	}
	p := *c.proc
	c.set(StateStopping, false)
	err := p.Stop(c.grace)
	if c.after != nil {
		c.after()
	}
	c.set("", true)
	if err != nil {
		return fmt.Sprintf("%s stopped (pid %d): it did not end within %v of SIGTERM and was killed", c.name, p.Pid(), c.grace)
	}
	return fmt.Sprintf("%s stopped (pid %d)", c.name, p.Pid())
}

// start runs the process again and waits until it is ready; one that does
// not get ready within its bound is stopped again.
func (c *component) start(ctx context.Context) (string, error) {
	if c.running() {
		return fmt.Sprintf("%s is already up (pid %d)", c.name, (*c.proc).Pid()), nil
	}
	c.set(StateStarting, true)
	if c.before != nil {
		if err := c.before(); err != nil {
			c.set("", true)
			return "", fmt.Errorf("%w: start %s: %v", ErrLab, c.name, err)
		}
	}
	p, err := (*c.proc).again()
	if err != nil {
		c.set("", true)
		return "", err
	}
	*c.proc = p
	if err := waitUntil(ctx, p, c.limit, c.check); err != nil {
		p.Stop(c.grace)
		if c.after != nil {
			c.after()
		}
		c.set("", true)
		return "", fmt.Errorf("%w (see %s)", err, c.log)
	}
	c.set("", false)
	return fmt.Sprintf("%s started (pid %d)", c.name, p.Pid()), nil
}

// components are the lab's processes, in the order status lists them: the
// instances, their Dovecots and the external domain's, slapd, clamd, the
// DNS. Gamma has no process of the lab (pecspec run serves its MX) and the
// external domain's MX runs inside the lab's own process.
func (l *Lab) components() []*component {
	var cs []*component
	add := func(c *component) {
		if c.grace == 0 {
			c.grace = stopGrace
		}
		cs = append(cs, c)
	}
	for _, p := range l.Providers {
		add(&component{name: p.Name, kind: "pecref", proc: &p.proc, check: p.healthy, limit: 20 * time.Second,
			log: filepath.Join(p.Dir, "pecref.log")})
	}
	dovecot := func(name, dir string, d *Dovecot) {
		if d != nil && d.proc != nil {
			add(&component{name: "dovecot-" + name, kind: "dovecot", proc: &d.proc, check: d.check,
				limit: dovecotReady, log: filepath.Join(dir, "dovecot", "dovecot.log")})
		}
	}
	for _, p := range l.Providers {
		dovecot(p.Name, p.Dir, p.dovecot)
	}
	if x := l.External; x != nil {
		dovecot("external", x.dir, x.dovecot)
	}
	if s := l.slapd; s != nil {
		add(&component{name: "slapd", kind: "slapd", proc: &s.proc, check: s.check, limit: slapdReady,
			log: filepath.Join(l.Dir, "slapd", "slapd.log")})
	}
	if c := l.clamd; c != nil {
		add(&component{name: "clamd", kind: "clamd", proc: &c.proc, check: c.check, limit: clamdReady,
			log: filepath.Join(l.Dir, "clamd", "clamd.log"), after: c.removeScratch,
			before: func() error { return os.MkdirAll(c.scratch, 0o700) }})
	}
	if d := l.DNS; d != nil && d.proc != nil {
		add(&component{name: "dns", kind: "dnsmasq", proc: &d.proc, check: d.check, limit: dnsReady,
			log: filepath.Join(l.Dir, "dns", "dnsmasq.log")})
	}
	return cs
}

// healthy asks the instance's admin /health once.
func (p *Instance) healthy() error {
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(p.Ports.Admin) + "/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/health answered %s", resp.Status)
	}
	return nil
}
