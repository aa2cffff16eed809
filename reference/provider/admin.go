package provider

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/receptionpoint"
)

// admin is the loopback HTTP API of a reference instance: health, and in the
// lab the controllable clock (DESIGN.md rule 3). Everything but /health needs
// the bearer token.
type admin struct {
	name  string
	token string
	clock clock.Clock
	// advance moves the controllable clock by d, stopping at each timer
	// deadline on the way (tracker.AdvanceThrough).
	advance func(d time.Duration)
	holds   *holds
	// health checks the dependencies (health.go); nil checks none.
	health func(context.Context) (map[string]string, bool)
	delays *delays // lab only, with holds (delay.go)
}

func (a *admin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", a.getHealth)
	mux.HandleFunc("GET /clock", a.authed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.clockState())
	}))
	mux.HandleFunc("POST /clock/advance", a.authed(a.advanceClock))
	mux.HandleFunc("GET /holds", a.withHolds(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.holds.state())
	}))
	mux.HandleFunc("POST /holds", a.withHolds(a.addHold))
	mux.HandleFunc("POST /holds/release", a.withHolds(a.releaseHolds))
	mux.HandleFunc("POST /delay", a.withHolds(a.setDelay))
	mux.HandleFunc("GET /delay", a.withHolds(a.showDelay))
	mux.HandleFunc("DELETE /holds", a.withHolds(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"dropped": a.holds.drop()})
	}))
	return mux
}

// getHealth answers GET /health: 200 and status ok when the token, clamd and
// the index answer, else 503, status degraded and the failing ones named
// (issue 15); each dependency's state either way. It answers within seconds
// whatever the dependencies do.
func (a *admin) getHealth(w http.ResponseWriter, r *http.Request) {
	st := map[string]any{"name": a.name, "status": "ok", "time": a.clock.Now()}
	code := http.StatusOK
	if a.health != nil {
		deps, ok := a.health(r.Context())
		st["dependencies"] = deps
		if !ok {
			st["status"], st["failing"], code = "degraded", failing(deps), http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, st)
}

func (a *admin) clockState() map[string]any {
	st := map[string]any{"now": a.clock.Now(), "controllable": false}
	if o, ok := a.clock.(*clock.Offset); ok {
		st["controllable"] = true
		st["offset"] = o.Offset().String()
	}
	return st
}

// advanceClock moves the controllable clock: POST /clock/advance?by=12h. The
// timers that fall due on the way fire at their instant, and their notices
// are durable when the reply comes.
func (a *admin) advanceClock(w http.ResponseWriter, r *http.Request) {
	o, ok := a.clock.(*clock.Offset)
	if !ok {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "this instance's clock is not controllable"})
		return
	}
	d, err := time.ParseDuration(r.URL.Query().Get("by"))
	if err != nil || d <= 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "by must be a positive duration, e.g. 12h"})
		return
	}
	if a.advance != nil {
		a.advance(d)
	} else {
		o.Advance(d)
	}
	writeJSON(w, http.StatusOK, a.clockState())
}

// withHolds guards the lab controls: only an instance with a controllable
// clock has them.
func (a *admin) withHolds(h http.HandlerFunc) http.HandlerFunc {
	return a.authed(func(w http.ResponseWriter, r *http.Request) {
		if a.holds == nil {
			writeJSON(w, http.StatusConflict, map[string]any{"error": "this instance has no lab controls"})
			return
		}
		h(w, r)
	})
}

func (a *admin) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if a.token == "" || subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+a.token)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "bearer token required"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// addHold adds a rule: POST /holds {"step":"consegna","subject":"...","recipient":"..."}.
func (a *admin) addHold(w http.ResponseWriter, r *http.Request) {
	var rule holdRule
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad rule: " + err.Error()})
		return
	}
	if rule.Step != receptionpoint.StepPresaInCarico && rule.Step != receptionpoint.StepConsegna {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "step must be presa-in-carico or consegna"})
		return
	}
	a.holds.add(rule)
	writeJSON(w, http.StatusOK, a.holds.state())
}

// releaseHolds does the withheld work now and removes the rules that held
// it: POST /holds/release[?step=consegna][&subject=...].
func (a *admin) releaseHolds(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	n, err := a.holds.release(ctx, receptionpoint.Step(r.URL.Query().Get("step")),
		r.URL.Query().Get("subject"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"released": n, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"released": n})
}
