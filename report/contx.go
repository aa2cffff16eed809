package report

import (
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// consegne maps each recipient to its avvenuta-consegna receipts.
func (tx *Tx) consegne() map[string][]*Msg {
	out := map[string][]*Msg{}
	for _, m := range tx.of(pec.KindAvvenutaConsegna) {
		if m.dc != nil {
			r := strings.ToLower(deref(m.dc.Consegna))
			out[r] = append(out[r], m)
		}
	}
	return out
}

// delivered are the PEC (certificato) mailboxes where the envelope was
// captured.
func (tx *Tx) delivered() []string {
	var out []string
	cert := tx.certified()
	for i, m := range tx.Msgs {
		// An esterno recipient gets the envelope and no receipt (RFC 6109
		// §2.2.1; DM2005 art.6 c.7 covers PEC mailboxes only).
		if m.Kind == pec.KindTrasporto && !tx.Caps[i].AtMX && slices.Contains(cert, strings.ToLower(tx.Caps[i].Mailbox)) {
			out = append(out, strings.ToLower(tx.Caps[i].Mailbox))
		}
	}
	return out
}

func lower(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}

func conTx() []Rule {
	return []Rule{
		multi("CON-02", "DM2005 art.6 c.7", "one avvenuta-consegna per delivered recipient",
			func(tx *Tx) outcome {
				cons := tx.consegne()
				for _, r := range tx.delivered() {
					if n := len(cons[r]); n != 1 {
						return fail("%d avvenuta-consegna for %s, which received the envelope", n, r)
					}
				}
				for r, list := range cons {
					if len(list) > 1 {
						return fail("%d avvenuta-consegna for %s", len(list), r)
					}
				}
				return pass("%d receipts for %d deliveries", len(cons), len(tx.delivered()))
			}),
		multi("CON-05", "RFC6109 §3.3.2.1", "a Cc recipient gets a sintetica receipt",
			func(tx *Tx) outcome {
				to, cc := lower(tx.Sub.To), lower(tx.Sub.Cc)
				checked := 0
				for r, list := range tx.consegne() {
					if !slices.Contains(cc, r) || slices.Contains(to, r) {
						continue
					}
					checked++
					if t := receiptTipo(list[0]); t != rSintetica {
						return fail("Cc recipient %s got a %q receipt", r, t)
					}
				}
				if checked == 0 {
					return na("no receipt for a Cc-only recipient")
				}
				return pass("%d Cc receipts are sintetica", checked)
			}),
		multi("CON-08", "RFC6109 §2.2.3", "no avvenuta-consegna for anomaly envelopes or notices",
			func(tx *Tx) outcome {
				delivered := tx.delivered()
				for r := range tx.consegne() {
					if !slices.Contains(delivered, r) && len(delivered) > 0 {
						return fail("avvenuta-consegna for %s, which did not receive the envelope", r)
					}
				}
				for i, m := range tx.Msgs {
					mb := strings.ToLower(tx.Caps[i].Mailbox)
					if m.Kind == pec.KindAnomalia && !slices.Contains(delivered, mb) && len(tx.consegne()[mb]) > 0 {
						return fail("avvenuta-consegna for %s, which got a busta di anomalia", mb)
					}
				}
				return pass("receipts only for delivered envelopes")
			}),
		multi("CON-09", "DM2005 art.9 c.2", "delivery time is not before acceptance (±2 s for two clocks)",
			func(tx *Tx) outcome {
				acc := tx.one(pec.KindAccettazione)
				if acc == nil {
					return na("no accettazione")
				}
				a, ok := daticertInstant(acc)
				if !ok {
					return errored("accettazione time unreadable")
				}
				for _, c := range tx.of(pec.KindAvvenutaConsegna) {
					if t, ok := daticertInstant(c); ok && t.Before(a.Add(-2*1e9)) {
						return fail("delivered at %s, accepted at %s", t, a)
					}
				}
				return pass("deliveries after acceptance")
			}),
	}
}
