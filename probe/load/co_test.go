package load

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestStallShowsInEveryMessageScheduledDuringIt: the target stops answering
// DATA for 2 s once. The generator is open loop and measures from each
// message's intended send time, so every message scheduled during the stall
// shows it: its acceptance receipt cannot have come before the stall ended.
// Measured from the end of DATA (what a closed-loop client sees) most of
// them would not: they were still waiting for one of the 4 connections.
func TestStallShowsInEveryMessageScheduledDuringIt(t *testing.T) {
	const stall = 2 * time.Second
	f := startFake(t, 30, stall)
	var mu sync.Mutex
	var msgs []MessageResult
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Target: f.target, Rate: 50, Duration: 5 * time.Second, Drain: 10 * time.Second,
		Connections: 4, OnMessage: func(m MessageResult) {
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Phases[0]
	if p.Lost != 0 || p.Complete != p.Scheduled || p.Unsent != 0 {
		t.Fatalf("scheduled %d, complete %d, lost %d, unsent %d: want every message complete",
			p.Scheduled, p.Complete, p.Lost, p.Unsent)
	}
	start, end := f.stalled()
	if start.IsZero() {
		t.Fatal("the fake target never stalled")
	}
	during, hidden := 0, 0
	for _, m := range msgs {
		if m.Intended.Before(start) || m.Intended.After(end) {
			continue
		}
		during++
		acc := m.First[Accettazione]
		if want := end.Sub(m.Intended); acc.Sub(m.Intended) < want {
			t.Errorf("message %d scheduled %v into the stall: latency %v from its intended time, want ≥ %v",
				m.Seq, m.Intended.Sub(start), acc.Sub(m.Intended), want)
		}
		if acc.Sub(m.EOD) < stall/2 {
			hidden++
		}
	}
	t.Logf("stall %v: %d messages scheduled during it, %d hide it when measured from the end of DATA", end.Sub(start), during, hidden)
	if min := int(stall.Seconds()*50) - 5; during < min {
		t.Errorf("%d messages scheduled during the stall, want ≥ %d", during, min)
	}
	if hidden < during/2 {
		t.Errorf("measured from the end of DATA only %d of %d messages hide the stall: the connections did not queue them", hidden, during)
	}
	if got := p.Stats[Accettazione].Intended.P99; got < float64(stall/time.Millisecond)*0.9 {
		t.Errorf("accettazione p99 from the intended time %.0f ms, want ≥ %v", got, stall)
	}
	for _, k := range []Kind{PresaInCarico, Consegna, Trasporto} {
		if n := p.Stats[k].Intended.Count; n != p.Scheduled {
			t.Errorf("%s: %d arrivals, want %d", k, n, p.Scheduled)
		}
	}
	if p.Stats[Accettazione].Daticert.Count != p.Scheduled || p.Stats[Trasporto].NoDaticert != p.Scheduled {
		t.Errorf("daticert read on %d acceptance receipts (want %d), missing on %d envelopes (want all)",
			p.Stats[Accettazione].Daticert.Count, p.Scheduled, p.Stats[Trasporto].NoDaticert)
	}
}
