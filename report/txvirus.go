package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// virusRecipients maps each recipient named by a rilevazione-virus to its notices.
func (tx *Tx) virusRecipients() map[string]int {
	out := map[string]int{}
	for _, m := range tx.of(pec.KindRilevazioneVirus) {
		out[recipientOf(m)]++
	}
	return out
}

func virTx() []Rule {
	return []Rule{
		multi("VIR-03", "RFC6109 §3.2.3", "One rilevazione-virus per affected recipient",
			func(tx *Tx) outcome {
				rs := tx.virusRecipients()
				if len(rs) == 0 {
					return na("no rilevazione-virus captured")
				}
				for r, n := range rs {
					switch {
					case r == "":
						return fail("a rilevazione-virus names no recipient (consegna)")
					case n > 1:
						return fail("%d rilevazione-virus for %s", n, r)
					}
				}
				return pass("%d recipients, one notice each", len(rs))
			}),
		multi("VIR-05", "RFC6109 §3.2.3", "An infected envelope is not delivered to the recipient",
			func(tx *Tx) outcome {
				rs := tx.virusRecipients()
				if len(rs) == 0 {
					return na("no rilevazione-virus captured")
				}
				for i, m := range tx.Msgs {
					if m.Kind == pec.KindTrasporto && !tx.Caps[i].AtMX && rs[strings.ToLower(strings.TrimSpace(tx.Caps[i].Mailbox))] > 0 {
						return fail("the infected envelope reached %s", tx.Caps[i].Mailbox)
					}
				}
				for _, c := range tx.of(pec.KindAvvenutaConsegna) {
					if rs[recipientOf(c)] > 0 {
						return fail("avvenuta consegna for %s, whose copy had a virus", recipientOf(c))
					}
				}
				return pass("not delivered to %d recipients", len(rs))
			}),
		multi("VIR-07", "RFC6109 §3.2.4", "The sender provider sends the mancata consegna per virus after a rilevazione-virus",
			func(tx *Tx) outcome {
				if tx.Sub.Relayed {
					return na("the sender's provider is the probe's peer, not the graded provider")
				}
				rs := tx.virusRecipients()
				if len(rs) == 0 {
					return na("no rilevazione-virus captured")
				}
				notified := map[string]bool{}
				for _, m := range tx.of(pec.KindErroreConsegna) {
					if _, _, v := virusMarked(m); v {
						notified[recipientOf(m)] = true
					}
				}
				for r := range rs {
					if !notified[r] {
						return fail("no avviso di mancata consegna per virus for %s", r)
					}
				}
				return pass("%d recipients notified", len(rs))
			}),
	}
}
