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
				if !strings.HasPrefix(x.subject(), pec.SubjectPresaInCarico) {
					return fail("Subject %q", x.subject())
				}
				return pass("presa-in-carico")
			}},
		Rule{ID: "PIC-02", Level: Must, Section: "RFC6109 §4.5.4", Kinds: pic,
			Title: "To is the sender provider's mailReceipt",
			check: toMailReceipt},
		Rule{ID: "PIC-04", Level: Must, Section: "RFC6109 §3.2.1", Kinds: pic,
			Title: "daticert presa-in-carico lists all recipients and at least one ricezione",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				switch {
				case p == nil:
					return fail("daticert unreadable")
				case p.Tipo != pec.TipoPresaInCarico:
					return fail("tipo %q", p.Tipo)
				case len(p.Dati.Ricezione) == 0:
					return fail("no <ricezione>")
				}
				listed := map[string]bool{}
				for _, d := range p.Intestazione.Destinatari {
					listed[strings.ToLower(strings.TrimSpace(d.Indirizzo))] = true
				}
				for _, r := range p.Dati.Ricezione {
					if !listed[strings.ToLower(strings.TrimSpace(r))] {
						return fail("ricezione %s is not among the destinatari", r)
					}
				}
				return pass("%d destinatari, %d ricezione", len(listed), len(p.Dati.Ricezione))
			}},
	)
}
