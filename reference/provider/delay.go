package provider

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/accesspoint"
	"github.com/pecspec/pecspec/reference/compose"
)

// delays is a lab control (only with a controllable clock, through the
// admin API): the instance waits a set time before storing each of its
// ricevute di accettazione (RFC 6109 §3.1.4), so a measurement of its
// service levels (pecspec load) can be checked against a known added
// latency. The submission's SMTP reply waits too: the receipt is durable
// before the reply, as always (DESIGN.md rule 5). In memory, not provider state.
type delays struct{ accettazione atomic.Int64 }

// delayedOut is the access point's Output with the delay in front of the
// acceptance receipts.
type delayedOut struct {
	accesspoint.Output
	d *delays
}

// Deliver waits the delay (or until ctx ends) before an accettazione.
func (o delayedOut) Deliver(ctx context.Context, address string, msg []byte) error {
	if d := time.Duration(o.d.accettazione.Load()); d > 0 {
		h, _ := compose.SplitMessage(msg)
		if strings.EqualFold(strings.TrimSpace(h.Get(pec.HeaderRicevuta)), string(pec.RicevutaAccettazione)) {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
	return o.Output.Deliver(ctx, address, msg)
}

// setDelay sets the delay: POST /delay?accettazione=2s (0 removes it);
// GET /delay shows it.
func (a *admin) setDelay(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("accettazione"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Minute {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "accettazione must be a duration from 0 to 10m, e.g. 2s"})
			return
		}
		a.delays.accettazione.Store(int64(d))
	}
	a.showDelay(w, r)
}

func (a *admin) showDelay(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"accettazione": time.Duration(a.delays.accettazione.Load()).String()})
}
