package chaos

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// The faults' bounds.
const (
	gateSlack      = 30               // messages the clients may start past a fault's point before it fires
	reachWithin    = 5 * time.Minute  // for the accepted count to reach a fault's point
	restartWithin  = 60 * time.Second // for a killed process to answer again
	recoverWithin  = 2 * time.Minute  // for /health and the first accepted submission after a fault
	inFlightWithin = 5 * time.Second  // for a submission to be in flight when an instance is killed
	// freezeShare is the percentage of the messages the clients may start
	// while slapd is frozen: 300 of 1,000 keep the traffic going for most of
	// the 30 s at 15 a second and leave the rest for the other faults.
	freezeShare = 30
	// halfOpenAfter picks the reply to a message's data (the 250 after
	// DATA) for the half-open connection: commands under TLS are a few
	// dozen bytes, a certified message several KiB.
	halfOpenAfter = 2048
)

// inject fires the planned faults in order, each once the clients have
// had that many messages accepted, and measures the recovery from each
// before the next. It runs in the test's goroutine (labtest.Freeze may end
// the test).
func (r *run) inject(c *client) {
	for i, e := range r.events {
		c.gate.Store(int64(e.at + gateSlack))
		if !r.waitAccepted(c, e.at) {
			r.t.Errorf("fault %d (%s of %s) never fired: %d of %d messages accepted after %v", i+1, e.kind,
				e.target, c.accepted.Load(), e.at, reachWithin)
			break
		}
		switch {
		case e.kind == kindFreeze:
			c.gate.Store(c.started.Load() + int64(len(r.msgs)*freezeShare/100))
		case i+1 == len(r.events):
			c.gate.Store(math.MaxInt64)
		default:
			c.gate.Store(int64(r.events[i+1].at + gateSlack))
		}
		r.fire(c, e)
		if e.kind == kindFreeze {
			respace(r.events[i+1:], int(c.accepted.Load()), len(r.msgs))
		}
		r.t.Logf("fault %2d at %4d accepted: %s of %s; back %s, /health %s, first accepted submission %s %s", i+1,
			e.at, e.kind, e.target, dur(e.back), dur(e.health), dur(e.firstOK), e.detail)
	}
	c.gate.Store(math.MaxInt64)
}

func (r *run) fire(c *client, e *event) {
	switch {
	case e.kind == kindKill && r.l.Provider(e.target) != nil:
		r.killInstance(c, e)
	case e.kind == kindKill:
		r.killDaemon(c, e)
	case e.kind == kindFreeze:
		r.freeze(c, e)
	case e.kind == kindReset:
		e.t0 = time.Now()
		e.detail = fmt.Sprintf("%d connections reset", r.proxies[e.target].Reset())
	case e.kind == kindHalfOpen:
		e.t0 = time.Now()
		r.proxies[e.target].HalfOpen(halfOpenAfter)
	}
}

// killInstance kills a pecref with SIGKILL while a submission to it is in
// flight, and restarts it, as a supervisor would: back and health are both
// the restart until /health is ok (lab.Restart).
func (r *run) killInstance(c *client, e *event) {
	in := r.l.Provider(e.target)
	r.mem.sample()
	e.detail = r.duringSubmission(c, e.target)
	r.live[e.target].down()
	e.t0 = time.Now()
	r.l.Kill(in)
	ctx, cancel := context.WithTimeout(context.Background(), restartWithin)
	defer cancel()
	if err := r.l.Restart(ctx, in); err != nil {
		r.t.Fatalf("restart %s: %v", e.target, err)
	}
	e.back = time.Since(e.t0)
	e.health = e.back
	r.mem.track(e.target, in.Pid())
	r.live[e.target].back()
	e.firstOK = r.waitFirstOK(c, []string{e.target}, e.t0)
}

// duringSubmission waits, up to inFlightWithin, until a submission to
// instance is in flight, then a random 0–40 ms more — the kill then lands
// anywhere from the TLS handshake to the commit after DATA — and says what
// it found.
func (r *run) duringSubmission(c *client, instance string) string {
	deadline := time.Now().Add(inFlightWithin)
	for c.inFlight[instance].Load() == 0 {
		if time.Now().After(deadline) {
			return "no submission in flight"
		}
		time.Sleep(time.Millisecond) // polling the clients
	}
	n, d := c.inFlight[instance].Load(), time.Duration(r.rng.IntN(41))*time.Millisecond
	time.Sleep(d)
	return fmt.Sprintf("killed %v after %d submissions were seen in flight", d, n)
}

// killDaemon kills slapd or clamd with SIGKILL and restarts it; the
// instances are left alone and must find it again by themselves.
func (r *run) killDaemon(c *client, e *event) {
	r.mem.sample()
	e.t0 = time.Now()
	if err := r.l.KillDaemon(e.target); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), restartWithin)
	defer cancel()
	if err := r.l.RestartDaemon(ctx, e.target); err != nil {
		r.t.Fatalf("restart %s: %v", e.target, err)
	}
	e.back = time.Since(e.t0)
	r.mem.track(e.target, r.l.DaemonPid(e.target))
	affected := dependents(e.target)
	e.health = r.waitHealthy(affected, e.t0)
	e.firstOK = r.waitFirstOK(c, affected, e.t0)
}

// dependents are the instances that use daemon: alpha reads the index from
// slapd (beta from the signed LDIF files); both scan with clamd.
func dependents(daemon string) []string {
	if daemon == lab.DaemonSlapd {
		return []string{"alpha"}
	}
	return []string{"alpha", "beta"}
}

// freeze stops slapd with SIGSTOP for freezeFor while the traffic goes on,
// then continues it; recovery is measured from the thaw (t0), and what the
// clients met during the freeze is in the attempt log (print).
func (r *run) freeze(c *client, e *event) {
	pid := r.l.DaemonPid(lab.DaemonSlapd)
	labtest.Freeze(r.t, pid)
	e.from = time.Now()
	time.Sleep(freezeFor) // the fault's length, as the issue sets it
	labtest.Thaw(r.t, pid)
	e.t0 = time.Now()
	e.back = 0
	e.health = r.waitHealthy(dependents(lab.DaemonSlapd), e.t0)
	e.firstOK = r.waitFirstOK(c, dependents(lab.DaemonSlapd), e.t0)
}
