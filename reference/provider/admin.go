package provider

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/pecspec/pecspec/reference/clock"
)

// admin is the loopback HTTP API of a reference instance: health, and in the
// lab the controllable clock (DESIGN.md rule 3). Everything but /health needs
// the bearer token.
type admin struct {
	name  string
	token string
	clock clock.Clock
	kick  func() // re-examine timers and the queue after the clock moved
}

func (a *admin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"name": a.name, "status": "ok", "time": a.clock.Now()})
	})
	mux.HandleFunc("GET /clock", a.authed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, a.clockState())
	}))
	mux.HandleFunc("POST /clock/advance", a.authed(a.advance))
	return mux
}

func (a *admin) clockState() map[string]any {
	st := map[string]any{"now": a.clock.Now(), "controllable": false}
	if o, ok := a.clock.(*clock.Offset); ok {
		st["controllable"] = true
		st["offset"] = o.Offset().String()
	}
	return st
}

// advance moves the controllable clock: POST /clock/advance?by=12h.
func (a *admin) advance(w http.ResponseWriter, r *http.Request) {
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
	o.Advance(d)
	if a.kick != nil {
		a.kick()
	}
	writeJSON(w, http.StatusOK, a.clockState())
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
