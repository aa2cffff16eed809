package scenarios

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// registerControlSteps binds the steps that use the admin API of the
// reference (DESIGN.md rule 3): the target's controllable clock, for the
// cases a, b and c of RFC 6109 §3.1.6 (gamma withholds what each case
// needs). Scenarios using them carry @exclusive: they run alone.
func registerControlSteps(sc stepRegistrar) {
	sc.Step(`^the target's clock advances by (\d+) hours$`, advances)
}

// clockControllable asks the target's admin API, once per run, whether its
// clock can be advanced; a target without admin API cannot.
func (r *runner) clockControllable(ctx context.Context) (bool, error) {
	r.mu.Lock()
	known := r.controllable
	r.mu.Unlock()
	if known != nil {
		return *known, nil
	}
	ok := false
	if t := r.opts.Target; t.Admin != nil && t.Admin.URL != "" && r.declares("controllable-clock") {
		var st struct {
			Controllable bool `json:"controllable"`
		}
		if err := r.adminCall(ctx, t, http.MethodGet, "/clock", nil, &st); err != nil {
			return false, err
		}
		if !st.Controllable {
			return false, harnessf("%s declares controllable-clock but its admin API says the clock is not controllable", t.Name)
		}
		ok = true
	}
	r.mu.Lock()
	r.controllable = &ok
	r.mu.Unlock()
	return ok, nil
}

// advances moves the target's clock; the reply comes when the timers due on
// the way have fired and their notices are durable. A target whose clock
// cannot be advanced is waited for in real time (resume.go). A counterpart with a
// controllable clock moves with it first (and in a matrix every other
// provider, Options.MoveClocks), so that the instants the providers write
// stay comparable (CON-09, TIM-02 compare them) in this and later scenarios.
func advances(ctx context.Context, hours int) error {
	w := world(ctx)
	d := time.Duration(hours) * time.Hour
	if ok, err := w.r.clockControllable(ctx); err != nil {
		return err
	} else if !ok {
		return w.waitRealTime(d)
	}
	q := url.Values{"by": {d.String()}}
	for _, cp := range w.r.clockCompanions() {
		var st struct {
			Controllable bool `json:"controllable"`
		}
		if err := w.adminCall(ctx, cp, http.MethodGet, "/clock", nil, &st); err == nil && st.Controllable {
			if err := w.adminCall(ctx, cp, http.MethodPost, "/clock/advance?"+q.Encode(), nil, nil); err != nil {
				return err
			}
		}
	}
	if err := w.adminCall(ctx, w.r.opts.Target, http.MethodPost, "/clock/advance?"+q.Encode(), nil, nil); err != nil {
		return err
	}
	return w.r.syncPeerClock(ctx)
}

// syncPeerClock reads the target's clock when it is controllable (it may
// have been advanced by this run or an earlier one): how far it is ahead of
// real time goes into the reports, and gamma's clock is set to it; else
// gamma's clock is the run's (real-time mode).
func (r *runner) syncPeerClock(ctx context.Context) error {
	ok, err := r.clockControllable(ctx)
	if err != nil {
		return err
	}
	if !ok {
		if r.peer != nil {
			r.peer.SetClock(r.now())
		}
		return nil
	}
	var st struct {
		Now time.Time `json:"now"`
	}
	if err := r.adminCall(ctx, r.opts.Target, http.MethodGet, "/clock", nil, &st); err != nil {
		return err
	}
	// Seconds: the reply's latency and the clocks' granularity are noise.
	ahead := st.Now.Sub(r.now()).Round(time.Second)
	if ahead < 2*time.Second && ahead > -2*time.Second {
		ahead = 0
	}
	r.mu.Lock()
	r.clockOffset = ahead
	r.mu.Unlock()
	if r.peer != nil {
		r.peer.SetClock(st.Now)
	}
	return nil
}

// adminCall calls p's admin API with its bearer token; a JSON body in, a
// JSON reply decoded into out when out is not nil.
func (w *World) adminCall(ctx context.Context, p *probe.Target, method, path string, in, out any) error {
	return w.r.adminCall(ctx, p, method, path, in, out)
}

func (r *runner) adminCall(ctx context.Context, p *probe.Target, method, path string, in, out any) error {
	if p == nil || p.Admin == nil || p.Admin.URL == "" {
		return harnessf("the target file names no admin API for this provider")
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return harnessf("%v", err)
		}
		body = strings.NewReader(string(data))
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.StepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(p.Admin.URL, "/")+path, body)
	if err != nil {
		return harnessf("%s admin API: %w", p.Name, err)
	}
	req.Header.Set("Authorization", "Bearer "+p.Admin.Token)
	resp, err := targetHTTP.Do(req)
	if err != nil {
		return harnessf("%s admin API: %w", p.Name, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body, adminBodyMax, p.Name+" admin API "+method+" "+path)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return harnessf("%s admin API %s %s: %s: %s", p.Name, method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return harnessf("%s admin API %s %s: %w", p.Name, method, path, err)
		}
	}
	return nil
}
