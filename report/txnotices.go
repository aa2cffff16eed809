package report

import (
	"slices"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// recipientOf is the recipient a per-recipient notice is about: consegna, or
// the first ricezione (rilevazione-virus, pec-rules A15).
func recipientOf(m *Msg) string {
	d := m.dc
	if d == nil {
		return ""
	}
	if c := deref(d.Consegna); c != "" {
		return strings.ToLower(c)
	}
	if len(d.Ricezione) > 0 {
		return strings.ToLower(d.Ricezione[0])
	}
	return ""
}

// instant is the certified time of a message: daticert data, else Date.
func instant(m *Msg) (time.Time, bool) {
	if t, ok := daticertInstant(m); ok {
		return t, true
	}
	return m.date()
}

// refID is the PEC msgid of the submission: the accettazione identificativo,
// else the envelope's Message-ID; "" when neither was captured.
func (tx *Tx) refID() string {
	if acc := tx.one(pec.KindAccettazione); acc != nil && acc.identificativo() != "" {
		return acc.identificativo()
	}
	if env := tx.one(pec.KindTrasporto); env != nil {
		return normID(env.header("Message-ID"))
	}
	return ""
}

// onlyForEnvelopes judges a notice that must follow a correct transport
// envelope only (PIC-06, ERR-04): it must refer to the submission's PEC
// msgid, and there must have been one (not an ordinary message delivered in
// a busta di anomalia).
func onlyForEnvelopes(k pec.Kind) func(*Tx) outcome {
	return func(tx *Tx) outcome {
		ms := tx.of(k)
		if len(ms) == 0 {
			return na("no %s captured", k)
		}
		ref := tx.refID()
		if ref == "" {
			if len(tx.of(pec.KindAnomalia)) > 0 {
				return fail("%s for a message delivered only in a busta di anomalia", k)
			}
			return na("neither accettazione nor envelope captured to refer to")
		}
		for _, m := range ms {
			if id := m.identificativo(); id != ref {
				return fail("%s identificativo %q, the envelope is %q", k, id, ref)
			}
		}
		return pass("%d %s for envelope %s", len(ms), k, ref)
	}
}

func init() {
	register(
		multi("ACC-10", "RFC6109 §2.2.1", "No accettazione for a rejected submission",
			func(tx *Tx) outcome {
				if len(tx.of(pec.KindNonAccettazione)) == 0 {
					return na("submission not rejected")
				}
				if n := len(tx.of(pec.KindAccettazione)); n > 0 {
					return fail("%d accettazione besides the non-accettazione", n)
				}
				return pass("non-accettazione only")
			}),
		multi("NAC-05", "RFC6109 §3.1.1", "No busta di trasporto for a non-accepted message",
			func(tx *Tx) outcome {
				if len(tx.of(pec.KindNonAccettazione)) == 0 {
					return na("submission not rejected")
				}
				for _, k := range []pec.Kind{pec.KindTrasporto, pec.KindPresaInCarico, pec.KindAvvenutaConsegna} {
					if n := len(tx.of(k)); n > 0 {
						return fail("%d %s for a non-accepted message", n, k)
					}
				}
				return pass("nothing entered the PEC system")
			}),
		multi("PIC-06", "RFC6109 §2.2.2", "Presa in carico only for correct transport envelopes", onlyForEnvelopes(pec.KindPresaInCarico)),
		multi("ERR-04", "RFC6109 §2.2.3", "Mancata consegna only for correct transport envelopes, never for non-PEC mail",
			onlyForEnvelopes(pec.KindErroreConsegna)),
		multi("CON-07", "RFC6109 §3.3.2.1", "A recipient in both To and Cc is treated as primary (original included)",
			func(tx *Tx) outcome {
				env := tx.one(pec.KindTrasporto)
				if env == nil {
					return na("needs the envelope to see To and Cc")
				}
				to, cc := addrs(env.M.Outer, "To"), addrs(env.M.Outer, "Cc")
				n := 0
				for _, m := range tx.of(pec.KindAvvenutaConsegna) {
					r := recipientOf(m)
					if !slices.Contains(to, r) || !slices.Contains(cc, r) {
						continue
					}
					n++
					if receiptTipo(m) == rSintetica && requested(env) != rSintetica {
						return fail("%s is in To and Cc but got a sintetica receipt (%s requested)", r, requested(env))
					}
				}
				if n == 0 {
					return na("no recipient in both To and Cc")
				}
				return pass("%d recipients in To and Cc treated as primary", n)
			}),
		multi("ANO-07", "RFC6109 §2.2.2", "Busta di anomalia never wraps a correct transport envelope or notice",
			func(tx *Tx) outcome {
				anos := tx.of(pec.KindAnomalia)
				if len(anos) == 0 {
					return na("no busta di anomalia captured")
				}
				for _, a := range anos {
					orig := a.original()
					if orig == nil {
						continue
					}
					g := Grade(orig.Raw, a.Opts)
					if g.Kind != pec.KindOrdinaria && g.Kind != pec.KindSconosciuto && len(g.MustFailures()) == 0 {
						return fail("a correct %s was delivered as an anomaly", g.Kind)
					}
				}
				return pass("%d anomalies, each for ordinary or malformed mail", len(anos))
			}),
		multi("ANO-08", "RFC6109 §3.3.2", "No avvenuta consegna for anomaly deliveries",
			func(tx *Tx) outcome {
				anos := tx.of(pec.KindAnomalia)
				if len(anos) == 0 {
					return na("no busta di anomalia captured")
				}
				cons := tx.of(pec.KindAvvenutaConsegna)
				if len(cons) > 0 && tx.refID() == "" {
					return fail("%d avvenuta consegna for a message delivered only as an anomaly", len(cons))
				}
				for _, a := range anos {
					id := normID(a.header("Message-ID"))
					for _, c := range cons {
						if id != "" && (c.identificativo() == id || normID(c.header(hRiferimento)) == id) {
							return fail("avvenuta consegna for the anomaly of %s", id)
						}
					}
				}
				return pass("none for %d anomalies", len(anos))
			}),
	)
	register(virTx()...)
	register(timTx()...)
}

// requested is the receipt type the envelope asked for (absent ⇒ completa).
func requested(env *Msg) string {
	switch t := strings.TrimSpace(env.header(hTipoRicevuta)); t {
	case rCompleta, rBreve, rSintetica:
		return t
	}
	if t := receiptTipo(env); t != "" {
		return t
	}
	return rCompleta
}
