package queue

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestFailureNeverSilent: a recipient refused for good (5xx, no route) is
// told to OnFailure with the message and the server's reply; when OnFailure
// cannot tell it yet (a notice that could not be made), the recipient stays
// queued and is told again at its next try, then removed (issue 15).
func TestFailureNeverSilent(t *testing.T) {
	m, addr, pool := startMX(t, true)
	m.reply = func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	type told struct {
		it  Item
		err error
	}
	calls := make(chan told, 8)
	var refuse atomic.Bool
	refuse.Store(true)
	clk := &clock{now: time.Now()}
	q := open(t, t.TempDir(), addr, pool, clk, func(o *Options) {
		o.Backoff = func(int) time.Duration { return time.Minute }
		o.OnFailure = func(it Item, err error) error {
			calls <- told{it, err}
			if refuse.Load() {
				return errors.New("token away")
			}
			return nil
		}
	})
	run(t, q)
	q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test", "x@nowhere.test"}, Data: []byte(msg)})
	first := map[string]told{}
	for range 2 {
		c := wait(t, calls)
		first[c.it.To[0]] = c
	}
	var se *smtp.SMTPError
	if c := first["b@pec.beta.test"]; !errors.Is(c.err, ErrPermanent) || !errors.As(c.err, &se) || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
		t.Errorf("5xx told as %v", c.err)
	}
	if c := first["x@nowhere.test"]; !errors.Is(c.err, ErrNoRoute) || string(c.it.Data) != msg {
		t.Errorf("no route told as %v with message %q", c.err, c.it.Data)
	}
	if q.Len() != 1 {
		t.Fatalf("%d items queued after an untold failure, want 1", q.Len())
	}
	refuse.Store(false)
	clk.add(2 * time.Minute)
	q.Kick()
	for range 2 {
		wait(t, calls)
	}
	for deadline := time.Now().Add(10 * time.Second); q.Len() != 0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if q.Len() != 0 {
		t.Errorf("item still queued after its failures were told")
	}
}
