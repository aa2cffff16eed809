package peer

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestWaitMatchesEachArrivalOnce: gamma's inbox is shared by every scenario
// of a run; a Wait woken by each new arrival checks that arrival, not the
// whole inbox again.
func TestWaitMatchesEachArrivalOnce(t *testing.T) {
	p := &Peer{taken: map[int]bool{}, arrived: make(chan struct{})}
	msg := func(i int) Received { return Received{Raw: []byte("X-N: " + strconv.Itoa(i))} }
	for i := range 3 {
		p.deliver(msg(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := map[string]int{}
	next := 3
	got, err := p.Wait(ctx, func(r Received) bool {
		calls[string(r.Raw)]++
		if string(r.Raw) == "X-N: 6" {
			return true
		}
		if next <= 6 && string(r.Raw) == "X-N: "+strconv.Itoa(next-1) {
			go p.deliver(msg(next)) // arrives while Wait waits
			next++
		}
		return false
	})
	if err != nil || string(got.Raw) != "X-N: 6" {
		t.Fatalf("Wait = %q, %v; want X-N: 6", got.Raw, err)
	}
	for i := range 7 {
		if n := calls[string(msg(i).Raw)]; n != 1 {
			t.Errorf("message %d matched %d times, want once", i, n)
		}
	}
	// What one Wait passed over is there for the next.
	if got, err := p.Wait(ctx, func(r Received) bool { return string(r.Raw) == "X-N: 1" }); err != nil || string(got.Raw) != "X-N: 1" {
		t.Errorf("a later Wait for message 1 = %q, %v", got.Raw, err)
	}
}
