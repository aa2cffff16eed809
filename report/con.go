package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// receiptTipo is the ricevuta/@tipo of a delivery receipt, "" when absent.
func receiptTipo(x *Msg) pec.TipoRicevuta {
	if x.M.Postacert == nil || x.M.Postacert.Dati.Ricevuta == nil {
		return ""
	}
	return x.M.Postacert.Dati.Ricevuta.Tipo
}

func init() {
	con := kinds(pec.KindAvvenutaConsegna)
	register(
		Rule{ID: "CON-01", Level: Must, Section: "RFC6109 §3.3.2", Kinds: con,
			Title: "X-Ricevuta avvenuta-consegna; Subject CONSEGNA: <subject>; To the original sender",
			check: func(x *Msg) outcome {
				if !strings.HasPrefix(x.subject(), pec.SubjectAvvenutaConsegna) {
					return fail("Subject %q", x.subject())
				}
				if o := toSender(x); o.status != Pass {
					return o
				}
				if o := fromService(x); o.status != Pass {
					return o
				}
				return pass("avvenuta-consegna to the sender")
			}},
		Rule{ID: "CON-03", Level: Must, Section: "RFC6109 §4.4", Kinds: con,
			Title: "daticert avvenuta-consegna, errore nessuno, consegna = the recipient, ricevuta/@tipo present",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				switch {
				case p == nil:
					return fail("daticert unreadable")
				case p.Tipo != pec.TipoAvvenutaConsegna:
					return fail("tipo %q", p.Tipo)
				case p.Errore != "" && p.Errore != pec.ErroreNessuno:
					return fail("errore %q", p.Errore)
				case deref(p.Dati.Consegna) == "":
					return fail("no <consegna>")
				case p.Dati.Ricevuta == nil:
					return fail("no <ricevuta>")
				}
				for _, d := range p.Intestazione.Destinatari {
					if strings.EqualFold(strings.TrimSpace(d.Indirizzo), deref(p.Dati.Consegna)) {
						return pass("consegna %s, ricevuta %s", deref(p.Dati.Consegna), p.Dati.Ricevuta.Tipo)
					}
				}
				return fail("consegna %s is not among the destinatari", deref(p.Dati.Consegna))
			}},
		Rule{ID: "CON-04", Level: Must, Section: "RFC6109 §3.3.2.1", Kinds: con,
			Title: "completa receipt carries the original (postacert.eml) with all its attachments",
			check: func(x *Msg) outcome {
				if receiptTipo(x) != pec.TipoCompleta {
					return na("ricevuta %q", receiptTipo(x))
				}
				if x.original() == nil {
					return fail("completa receipt without postacert.eml")
				}
				return pass("postacert.eml present")
			}},
		Rule{ID: "CON-06", Level: Must, Section: "RFC6109 §3.3.2.3", Kinds: con,
			Title: "sintetica receipt carries no original",
			check: func(x *Msg) outcome {
				if receiptTipo(x) != pec.TipoSintetica {
					return na("ricevuta %q", receiptTipo(x))
				}
				if x.M.Original != nil {
					return fail("sintetica receipt carries %s", x.M.Original.Filename())
				}
				return pass("no original")
			}},
		Rule{ID: "CON-10", Level: Must, Section: "RFC6109 §3.3.2", Kinds: con,
			Title: "Text names the recipient, the delivery and the identificativo",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				if p == nil {
					return errored("daticert unreadable")
				}
				rcpt := deref(p.Dati.Consegna)
				switch {
				case !containsFold(x.text, rcpt):
					return fail("text does not name the recipient %s", rcpt)
				case !strings.Contains(x.text, p.Dati.Identificativo):
					return fail("text lacks identificativo")
				}
				return pass("recipient %s", rcpt)
			}},
	)
}
