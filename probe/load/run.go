package load

import (
	"context"
	"fmt"
	"time"
)

// Result is a run: its settings, its phases (one, or one per ramp step), the
// knee of a ramp and the per-second series.
type Result struct {
	Target      string    `json:"target"`
	Counterpart string    `json:"counterpart"`
	RunID       string    `json:"run_id"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Settings    Settings  `json:"settings"`
	SLAs        []string  `json:"sla"`
	Phases      []*Phase  `json:"phases"`
	Knee        *Knee     `json:"knee,omitempty"`
	Series      []Point   `json:"series"`
	// Expunged counts the matched messages deleted from the mailboxes;
	// CleanupError is the first failure doing it (the run goes on).
	Expunged     int    `json:"expunged"`
	CleanupError string `json:"cleanup_error,omitempty"`
}

// Settings are the options a result was made with.
type Settings struct {
	Rate        float64 `json:"rate"`
	Duration    string  `json:"duration"`
	Drain       string  `json:"drain"`
	Connections int     `json:"connections"`
	Senders     int     `json:"senders"`
	Recipients  int     `json:"recipients"`
	Size        int     `json:"size"`
	ReceiptType string  `json:"receipt_type,omitempty"`
	GradeSample float64 `json:"grade_sample"`
	Ramp        *Ramp   `json:"ramp,omitempty"`
}

// Knee is where a ramp stopped: the highest offered rate whose step met
// every SLA, and the step that broke one.
type Knee struct {
	Found   bool     `json:"found"`
	Rate    float64  `json:"rate"`
	BrokeAt float64  `json:"broke_at,omitempty"`
	BrokeBy []string `json:"broke_by,omitempty"`
}

// Pass reports whether every phase met every SLA (a ramp: whether a knee
// was found) and no graded sample failed a MUST rule.
func (r *Result) Pass() bool {
	for _, p := range r.Phases {
		if p.Graded.Failures > 0 {
			return false
		}
	}
	if r.Knee != nil {
		return r.Knee.Found
	}
	for _, p := range r.Phases {
		if !p.pass() {
			return false
		}
	}
	return len(r.Phases) > 0
}

func (p *Phase) pass() bool {
	for _, s := range p.SLA {
		if !s.Pass {
			return false
		}
	}
	return true
}

// setupTimeout bounds opening every session before the first message.
const setupTimeout = time.Minute

// Run measures the target: one steady phase, or a ramp. It ends by itself
// after the sending window(s) and their drains. A *HarnessError means the
// set-up failed (nothing measured, or a watched session died: the result
// holds what was measured until then).
func Run(ctx context.Context, opts Options) (*Result, error) {
	setup, cancelSetup := context.WithTimeout(ctx, setupTimeout)
	s, err := newSession(setup, opts)
	cancelSetup()
	if err != nil {
		return nil, err
	}
	defer s.close()
	o := s.opts
	s.t0 = time.Now()
	s.series = newSeries(s.t0)
	res := &Result{Target: o.Target.Name, Counterpart: o.Target.Counterpart.Name, RunID: s.run, Started: s.t0,
		Settings: Settings{Rate: o.Rate, Duration: o.Duration.String(), Drain: o.Drain.String(),
			Connections: o.Connections, Senders: len(s.senders), Recipients: o.Recipients, Size: o.Size,
			ReceiptType: o.ReceiptType, GradeSample: o.GradeSample, Ramp: o.Ramp}}
	for _, sla := range o.SLAs {
		res.SLAs = append(res.SLAs, sla.Expr)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	wg := s.watch(watchCtx, errc)
	stopTicks := s.ticks(runCtx)
	go func() {
		select {
		case <-errc:
			cancel()
		case <-runCtx.Done():
		}
	}()
	if o.Ramp == nil {
		res.Phases = []*Phase{s.evaluated(s.runPhase(runCtx, o.Rate, o.Duration), s.slasFor())}
	} else {
		res.Phases, res.Knee = s.ramp(runCtx)
	}
	stopTicks()
	stopWatch()
	wg.Wait()
	if s.grading != nil {
		s.grading.stop()
		for _, p := range res.Phases { // the last grades land after finish
			p.SLA = s.evaluated(p, s.slasFor()).SLA
		}
	}
	res.Finished, res.Series = time.Now(), s.series.all()
	for _, j := range s.janitors {
		res.Expunged += j.Expunged
		if j.Failed != nil && res.CleanupError == "" {
			res.CleanupError = j.Failed.Error()
		}
	}
	select {
	case err := <-errc:
		return res, err
	default:
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w: %v", errStopped, ctx.Err())
	}
	return res, nil
}

// slasFor are the SLAs every phase is judged on (a ramp adds RampSLAs).
func (s *session) slasFor() []SLA {
	if s.opts.Ramp == nil {
		return s.opts.SLAs
	}
	extra, _ := ParseSLAs(RampSLAs)
	return append(append([]SLA(nil), s.opts.SLAs...), extra...)
}

func (s *session) evaluated(p *Phase, slas []SLA) *Phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.SLA = nil
	for _, sla := range slas {
		p.SLA = append(p.SLA, sla.Eval(p))
	}
	return p
}

// ramp steps the rate up by Factor until a step breaks an SLA (the ramp
// SLAs included: unsent messages or a completion rate below 95 % of the
// offered one mean saturation).
func (s *session) ramp(ctx context.Context) ([]*Phase, *Knee) {
	r := s.opts.Ramp
	knee := &Knee{}
	var phases []*Phase
	rate := s.opts.Rate
	for step := 0; step < r.MaxSteps && ctx.Err() == nil; step++ {
		p := s.evaluated(s.runPhase(ctx, rate, s.opts.Duration), s.slasFor())
		phases = append(phases, p)
		s.progressf("step %d: %.4g msg/s offered, %.4g/s achieved: %s\n", step+1, rate, p.AchievedRate, verdict(p))
		if !p.pass() {
			knee.BrokeAt = rate
			for _, v := range p.SLA {
				if !v.Pass {
					knee.BrokeBy = append(knee.BrokeBy, v.Expr+" ("+v.Value+")")
				}
			}
			break
		}
		knee.Found, knee.Rate = true, rate
		rate *= r.Factor
		if r.MaxRate > 0 && rate > r.MaxRate {
			break
		}
	}
	return phases, knee
}

func verdict(p *Phase) string {
	if p.pass() {
		return "every SLA met"
	}
	out := "broke"
	for _, v := range p.SLA {
		if !v.Pass {
			out += " " + v.Expr + " (" + v.Value + ")"
		}
	}
	return out
}
