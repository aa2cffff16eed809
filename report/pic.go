package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

func init() {
	pic := kinds(pec.KindPresaInCarico)
	register(
		Rule{ID: "PIC-01", Level: Must, Section: "RFC6109 §3.2.1", Kinds: pic,
			Title: "X-Ricevuta presa-in-carico; Subject PRESA IN CARICO: <subject>",
			check: func(x *Msg) outcome {
				if !strings.HasPrefix(x.subject(), sPresaInCarico) {
					return fail("Subject %q", x.subject())
				}
				return pass("presa-in-carico")
			}},
		Rule{ID: "PIC-02", Level: Must, Section: "RFC6109 §4.5.4", Kinds: pic, Needs: []need{needDaticert},
			Title: "To is the sender provider's mailReceipt",
			check: toMailReceipt},
		Rule{ID: "PIC-04", Level: Must, Section: "RFC6109 §3.2.1", Kinds: pic, Needs: []need{needDaticert},
			Title: "daticert presa-in-carico lists all recipients and at least one ricezione",
			check: func(x *Msg) outcome {
				d := x.dc
				switch {
				case d.Tipo != vPresaInCarico:
					return fail("tipo %q", d.Tipo)
				case len(d.Ricezione) == 0:
					return fail("no <ricezione>")
				}
				for _, r := range d.Ricezione {
					if !d.lists(r) {
						return fail("ricezione %s is not among the destinatari", r)
					}
				}
				return pass("%d destinatari, %d ricezione", len(d.Destinatari), len(d.Ricezione))
			}},
	)
}
