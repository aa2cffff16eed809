package tracker

import "time"

// due12 reports whether the 12 h notice is owed at now: neither a presa in
// carico nor an outcome came within 12 h (RFC 6109 §3.1.6 cases b, c; TIM-02).
func (f *follow) due12(start, now time.Time) bool {
	return !f.Sent12 && !f.Sent24 && !f.Taken && !f.Done && !now.Before(start.Add(Warn))
}

// due24 reports whether the 24 h notice is owed at now: no outcome within
// 24 h, with or without a presa in carico (cases a, c; pec-rules A13, TIM-04).
func (f *follow) due24(start, now time.Time) bool {
	return !f.Sent24 && !f.Done && !now.Before(start.Add(Deadline))
}

// next is the next instant something may be owed for f, false when nothing can.
func (f *follow) next(start time.Time) (time.Time, bool) {
	switch {
	case f.Done || f.Sent24:
		return time.Time{}, false
	case !f.Sent12 && !f.Taken:
		return start.Add(Warn), true
	}
	return start.Add(Deadline), true
}

// NextDue is the earliest deadline still pending, false when none is.
func (t *Tracker) NextDue() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first time.Time
	found := false
	for _, r := range t.recs {
		for i := range r.Follow {
			if at, ok := r.Follow[i].next(r.Dispatch.Instant); ok && (!found || at.Before(first)) {
				first, found = at, true
			}
		}
	}
	return first, found
}

type job struct {
	r     *record
	i     int
	hours int
}

// Process emits every notice owed at the clock's now: the 12 h one before
// the 24 h one, each marked sent on disk once it is durable (TIM-05: at most
// one per phase and recipient). A failed emission is retried at the next run.
func (t *Tracker) Process() {
	t.run.Lock()
	defer t.run.Unlock()
	now := t.o.Clock()
	t.mu.Lock()
	var jobs []job
	for _, r := range t.recs {
		for i := range r.Follow {
			f := &r.Follow[i]
			if f.due12(r.Dispatch.Instant, now) {
				jobs = append(jobs, job{r, i, 12})
			}
			if f.due24(r.Dispatch.Instant, now) {
				jobs = append(jobs, job{r, i, 24})
			}
		}
	}
	t.mu.Unlock()
	for _, j := range jobs {
		t.mu.Lock()
		f := j.r.Follow[j.i]
		owed := (j.hours == 12 && f.due12(j.r.Dispatch.Instant, now)) || (j.hours == 24 && f.due24(j.r.Dispatch.Instant, now))
		t.mu.Unlock()
		if !owed {
			continue // an outcome arrived meanwhile
		}
		if err := t.o.Emit(j.r.Dispatch, f.Address, j.hours); err != nil {
			t.o.Log.Error("timeout notice failed", "role", "tracker", "pec_id", j.r.Dispatch.ID,
				"rcpt", f.Address, "hours", j.hours, "err", err)
			continue
		}
		t.mu.Lock()
		if j.hours == 12 {
			j.r.Follow[j.i].Sent12 = true
		} else {
			j.r.Follow[j.i].Sent24 = true
		}
		t.mu.Unlock()
		if err := t.save(j.r); err != nil {
			t.o.Log.Error("tracker state not saved", "role", "tracker", "pec_id", j.r.Dispatch.ID, "err", err)
		}
		t.o.Log.Info("timeout notice", "role", "tracker", "pec_id", j.r.Dispatch.ID, "rcpt", f.Address,
			"hours", j.hours)
	}
}

// AdvanceThrough moves a controllable clock forward by d in steps that stop
// at every pending deadline and process it there, as if the time had really
// passed: a notice is dated when it fell due, never later (TIM-03, TIM-04).
// advance moves the clock by a positive duration.
func (t *Tracker) AdvanceThrough(d time.Duration, advance func(time.Duration)) {
	end := t.o.Clock().Add(d)
	for {
		next, ok := t.NextDue()
		if !ok || next.After(end) {
			break
		}
		if now := t.o.Clock(); next.After(now) {
			advance(next.Sub(now))
		}
		t.Process()
		if again, ok := t.NextDue(); ok && !again.After(next) {
			break // a notice could not be emitted (logged): the next run retries it
		}
	}
	if now := t.o.Clock(); end.After(now) {
		advance(end.Sub(now))
	}
	t.Process()
}
