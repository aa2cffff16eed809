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
// reference (DESIGN.md rule 3): the target's controllable clock, and the
// counterpart withholding presa in carico or consegna, which produce the
// cases a, b and c of RFC 6109 §3.1.6. Scenarios using them carry
// @exclusive: they run alone.
func registerControlSteps(sc stepRegistrar) {
	sc.Step(`^the target's clock can be advanced$`, clockControllable)
	sc.Step(`^the counterpart withholds the (take-charge receipt|delivery) of this scenario's messages$`, withholds)
	sc.Step(`^the counterpart releases the withheld delivery$`, releases)
	sc.Step(`^the target's clock advances by (\d+) hours$`, advances)
}

var holdSteps = map[string]string{"take-charge receipt": "presa-in-carico", "delivery": "consegna"}

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

func withholds(ctx context.Context, what string) error {
	w := world(ctx)
	rule := map[string]string{"step": holdSteps[what], "subject": w.token}
	if err := w.adminCall(ctx, w.r.opts.Target.Counterpart, http.MethodPost, "/holds", rule, nil); err != nil {
		return err
	}
	w.holds = true
	return nil
}

func releases(ctx context.Context) error {
	w := world(ctx)
	q := url.Values{"step": {"consegna"}, "subject": {w.token}}
	var res struct {
		Released int `json:"released"`
	}
	if err := w.adminCall(ctx, w.r.opts.Target.Counterpart, http.MethodPost, "/holds/release?"+q.Encode(), nil, &res); err != nil {
		return err
	}
	if res.Released == 0 {
		return fmt.Errorf("the counterpart had no withheld delivery for this scenario")
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
	return w.adminCall(ctx, w.r.opts.Target, http.MethodPost, "/clock/advance?"+q.Encode(), nil, nil)
}

// dropHolds removes the counterpart's holds at the end of the scenario.
func (w *World) dropHolds(ctx context.Context) {
	if err := w.adminCall(context.WithoutCancel(ctx), w.r.opts.Target.Counterpart, http.MethodDelete, "/holds", nil, nil); err != nil {
		fmt.Fprintf(w.r.console, "warning: %v\n", err)
	}
}

// adminCall calls p's admin API with its bearer token; a JSON body in, a
// JSON reply decoded into out when out is not nil.
func (w *World) adminCall(ctx context.Context, p *probe.Target, method, path string, in, out any) error {
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
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
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
