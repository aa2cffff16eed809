package report

import (
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// receiptTipo is the ricevuta/@tipo of a delivery receipt, "" when absent.
func receiptTipo(x *Msg) string {
	if x.dc == nil {
		return ""
	}
	return x.dc.ricevuta()
}

// completaToRecipients is CON-04 over a transaction, where the submission
// tells To from Cc: each To recipient whose receipt is completa gets the
// original (one in To and Cc too is primary, CON-07).
func completaToRecipients(tx *Tx) outcome {
	to := lower(tx.Sub.To)
	n := 0
	for r, list := range tx.consegne() {
		if !slices.Contains(to, r) {
			continue
		}
		for _, m := range list {
			if receiptTipo(m) != rCompleta {
				continue
			}
			n++
			if m.original() == nil {
				return fail("%s, a To recipient, got a completa receipt without postacert.eml", r)
			}
		}
	}
	if n == 0 {
		return na("no completa receipt for a To recipient")
	}
	return pass("%d completa receipts for To recipients carry the original", n)
}

func init() {
	con := kinds(pec.KindAvvenutaConsegna)
	register(
		Rule{ID: "CON-01", Level: Must, Section: "RFC6109 §3.3.2", Kinds: con, Needs: []need{needDaticert},
			Title: "X-Ricevuta avvenuta-consegna; Subject CONSEGNA: <subject>; To the original sender",
			check: func(x *Msg) outcome {
				if !strings.HasPrefix(x.subject(), sAvvenutaConsegna) {
					return fail("Subject %q", x.subject())
				}
				return all(x, toSender, fromService)
			}},
		Rule{ID: "CON-03", Level: Must, Section: "RFC6109 §4.4", Kinds: con, Needs: []need{needDaticert},
			Title: "daticert avvenuta-consegna, errore nessuno, consegna = the recipient, ricevuta/@tipo present",
			check: func(x *Msg) outcome {
				d := x.dc
				switch {
				case d.Tipo != vAvvenutaConsegna:
					return fail("tipo %q", d.Tipo)
				case d.errore() != eNessuno:
					return fail("errore %q", d.Errore)
				case deref(d.Consegna) == "":
					return fail("no <consegna>")
				case d.Ricevuta == nil:
					return fail("no <ricevuta>")
				case !d.lists(deref(d.Consegna)):
					return fail("consegna %s is not among the destinatari", deref(d.Consegna))
				}
				return pass("consegna %s, ricevuta %s", deref(d.Consegna), d.ricevuta())
			}},
		Rule{ID: "CON-04", Level: Must, Section: "RFC6109 §3.3.2.1", Kinds: con, Needs: []need{needDaticert},
			Title: "completa receipt for a To recipient carries the original (postacert.eml) with all its attachments",
			Note:  "one receipt cannot tell a To recipient from a Cc one, who gets a sintetica (§3.3.2.1): without postacert.eml this is na; the transaction rules CON-05 and CON-07 judge with the submission's To and Cc",
			check: func(x *Msg) outcome {
				switch {
				case receiptTipo(x) != rCompleta:
					return na("ricevuta %q", receiptTipo(x))
				case x.original() != nil:
					return pass("postacert.eml present")
				case x.M.Original != nil:
					return fail("postacert.eml present but unreadable")
				}
				return na("no postacert.eml: whether %s was a To recipient (owed the original) or a Cc one (owed a sintetica) cannot be told from the receipt", deref(x.dc.Consegna))
			},
			txCheck: completaToRecipients},
		Rule{ID: "CON-06", Level: Must, Section: "RFC6109 §3.3.2.3", Kinds: con, Needs: []need{needDaticert},
			Title: "sintetica receipt carries no original",
			check: func(x *Msg) outcome {
				if receiptTipo(x) != rSintetica {
					return na("ricevuta %q", receiptTipo(x))
				}
				if x.M.Original != nil {
					return fail("sintetica receipt carries %s", x.M.Original.Filename())
				}
				return pass("no original")
			}},
		Rule{ID: "CON-10", Level: Must, Section: "RFC6109 §3.3.2", Kinds: con, Needs: []need{needText, needDaticert},
			Title: "Text names the recipient, the delivery and the identificativo",
			check: func(x *Msg) outcome {
				rcpt := deref(x.dc.Consegna)
				switch {
				case !containsFold(x.text, rcpt):
					return fail("text does not name the recipient %s", rcpt)
				case !strings.Contains(x.text, x.dc.ID):
					return fail("text lacks identificativo %s", x.dc.ID)
				}
				return pass("recipient %s", rcpt)
			}},
	)
}
