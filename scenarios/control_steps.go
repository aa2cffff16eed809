package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
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
	sc.Step(`^the target's clock can be advanced$`, clockControllable)
	sc.Step(`^the target's clock advances by (\d+) hours$`, advances)
}

func clockControllable(ctx context.Context) error {
	w := world(ctx)
	var st struct {
		Controllable bool `json:"controllable"`
	}
	if err := w.adminCall(ctx, w.r.opts.Target, http.MethodGet, "/clock", nil, &st); err != nil {
		return err
	}
	if !st.Controllable {
		return fmt.Errorf("the clock of %s cannot be advanced", w.r.opts.Target.Name)
	}
	return nil
}

// advances moves the target's clock; the reply comes when the timers due on
// the way have fired and their notices are durable. A counterpart with a
// controllable clock moves with it first, so that the instants the two
// providers write stay comparable (CON-09, TIM-02 compare them) in this and
// later scenarios.
func advances(ctx context.Context, hours int) error {
	w := world(ctx)
	q := url.Values{"by": {(time.Duration(hours) * time.Hour).String()}}
	if cp := w.r.opts.Target.Counterpart; cp != nil && cp.Admin != nil {
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

// syncPeerClock sets gamma's clock to the target's when the target's is
// controllable (it may have been advanced by this run or an earlier one).
func (r *runner) syncPeerClock(ctx context.Context) error {
	t := r.opts.Target
	if r.peer == nil || t.Admin == nil || t.Admin.URL == "" {
		return nil
	}
	var st struct {
		Now          time.Time `json:"now"`
		Controllable bool      `json:"controllable"`
	}
	if err := r.adminCall(ctx, t, http.MethodGet, "/clock", nil, &st); err != nil {
		return err
	}
	if st.Controllable {
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
		return fmt.Errorf("the target file names no admin API for this provider")
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(data))
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.StepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(p.Admin.URL, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.Admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s admin API: %w", p.Name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s admin API %s %s: %s: %s", p.Name, method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
