package load

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// runPhase offers rate messages per second for d on a fixed schedule (open
// loop: message i is due at start + i/rate whatever happened to the ones
// before), then waits up to the drain timeout for the receipts.
func (s *session) runPhase(ctx context.Context, rate float64, d time.Duration) *Phase {
	start := time.Now().Add(50 * time.Millisecond)
	p := newPhase(rate, start, d)
	cpu0 := selfCPU()
	s.phase.Store(p)
	s.series.setRate(rate)
	total := max(int64(math.Floor(rate*d.Seconds())), 1)
	p.Scheduled = total
	interval := time.Duration(float64(time.Second) / rate)
	// A message due in the window may still start a little after it (a
	// busy generator's own jitter); one still waiting after the grace is
	// unsent: the connections were all busy, the target did not keep up.
	end := start.Add(d + max(time.Second, d/10))
	// Nothing of the phase outlives the drain: a submission still going
	// then is cut, its message refused ("no reply").
	deadline := end.Add(s.opts.Drain)
	sendCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, sub := range s.subs {
		wg.Go(func() {
			for sendCtx.Err() == nil {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				intended := start.Add(time.Duration(i) * interval)
				if !sleepUntil(sendCtx, intended) || time.Now().After(end) {
					return // the window and its grace are over: what is left is unsent
				}
				s.submit(sendCtx, sub, p, intended)
			}
		})
	}
	wg.Wait()
	s.series.setRate(0)
	p.mu.Lock()
	p.Unsent = total - p.Sent
	p.mu.Unlock()
	s.drain(ctx, p, deadline)
	p.GeneratorCPU = selfCPU() - cpu0
	p.finish()
	return p
}

// sleepUntil waits until t or ctx is done; false when ctx is.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// submit sends one message due at intended over sub and tracks it.
func (s *session) submit(ctx context.Context, sub *submitter, p *Phase, intended time.Time) {
	seq := s.seq.Add(1)
	m := &outMsg{seq: seq, from: sub.acct.Address, to: s.recipientsOf(seq), intended: intended}
	m.data = build(s.run, seq, m.from, m.to, s.opts.Size, s.opts.ReceiptType)
	t := &tracked{seq: seq, phase: p, intended: intended, want: s.want}
	s.mu.Lock()
	s.table[seq] = t
	s.mu.Unlock()
	p.opened()
	p.mu.Lock()
	p.Sent++
	p.mu.Unlock()
	eod, reply, err := sub.send(ctx, m, func(at time.Time) {
		s.mu.Lock()
		t.eod = at
		s.mu.Unlock()
	})
	p.recordSubmit(intended, eod, reply, err)
	if err != nil {
		// Refused: no receipt will come (a non-accettazione answers an
		// accepted submission, never a refused one).
		s.mu.Lock()
		_, still := s.table[seq]
		delete(s.table, seq)
		s.mu.Unlock()
		if still {
			p.mu.Lock()
			p.open--
			p.mu.Unlock()
		}
		return
	}
	s.series.record(Submit, reply.Sub(intended))
}

// recipientsOf spreads the messages over the recipients' pool: message seq
// goes to Recipients consecutive accounts of it, all distinct.
func (s *session) recipientsOf(seq int64) []string {
	n, l := s.opts.Recipients, int64(len(s.rcpts))
	out := make([]string, n)
	for j := range n {
		out[j] = s.rcpts[(seq*int64(n)+int64(j))%l].Address
	}
	return out
}

// drain waits until every message of p is complete, or the deadline; what
// is still open then is lost.
func (s *session) drain(ctx context.Context, p *Phase, deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for p.openCount() > 0 {
		select {
		case <-p.idle:
		case <-timer.C:
			s.loseOpen(p)
			return
		case <-ctx.Done():
			s.loseOpen(p)
			return
		}
	}
}

// loseOpen ends p's open messages as lost.
func (s *session) loseOpen(p *Phase) {
	s.mu.Lock()
	var lost []*tracked
	for seq, t := range s.table {
		if t.phase == p {
			lost = append(lost, t)
			delete(s.table, seq)
		}
	}
	s.mu.Unlock()
	for _, t := range lost {
		p.closed(false, time.Time{}, t.missing())
		s.observe(t, true)
	}
}
