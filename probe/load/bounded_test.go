package load

import (
	"context"
	"testing"
	"time"
)

// TestBoundedAgainstAHungTarget: a target that stops answering for longer
// than the run does not keep the generator: it ends by itself at the window,
// its grace and the drain, with every message refused (no reply) or lost.
func TestBoundedAgainstAHungTarget(t *testing.T) {
	f := startFake(t, 3, 8*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Options{Target: f.target, Rate: 10, Duration: time.Second, Drain: time.Second, Connections: 2})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// window 1 s + grace 1 s + drain 1 s, and the closing of the sessions
	if took > 5*time.Second {
		t.Errorf("the run took %v against a hung target, want it to end by itself after about 3 s", took)
	}
	p := res.Phases[0]
	if p.Complete+p.Lost+p.Refused+p.Unsent != p.Scheduled || p.Refused == 0 || p.Errors["smtp no reply"] == 0 {
		t.Errorf("scheduled %d: complete %d, lost %d, refused %d, unsent %d, errors %v; want the hung ones refused with no reply",
			p.Scheduled, p.Complete, p.Lost, p.Refused, p.Unsent, p.Errors)
	}
	if res.Pass() {
		t.Error("a run against a hung target passes its SLAs")
	}
}
