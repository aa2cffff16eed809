package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// receiptHeaders checks the common headers of a receipt: identifying header
// value, subject prefix, and From = the service address without display name.
func fromService(x *Msg) outcome {
	addr, name := x.fromAddr()
	switch {
	case addr == "":
		return fail("From %q unreadable", x.header("From"))
	case strings.Contains(strings.ToLower(name), "per conto di"):
		return fail("From %q is an envelope's, not the service address", x.header("From"))
	}
	return pass("From %s", addr)
}

// toSender checks To = the original sender (daticert mittente) — notices go
// to the reverse-path sender, not to Reply-To (RFC 6109 §2.1).
func toSender(x *Msg) outcome {
	if x.M.Postacert == nil {
		return errored("daticert unreadable")
	}
	to := addrs(x.M.Outer, "To")
	sender := strings.ToLower(strings.TrimSpace(x.M.Postacert.Intestazione.Mittente))
	if len(to) != 1 || to[0] != sender {
		return fail("To %v, original sender %s", to, sender)
	}
	return pass("To %s", sender)
}

func init() {
	acc := kinds(pec.KindAccettazione)
	register(
		Rule{ID: "ACC-01", Level: Must, Section: "RFC6109 §3.1.4", Kinds: acc,
			Title: "X-Ricevuta accettazione; Subject ACCETTAZIONE: <subject>",
			check: func(x *Msg) outcome {
				if !strings.HasPrefix(x.subject(), pec.SubjectAccettazione) {
					return fail("Subject %q", x.subject())
				}
				return pass("accettazione")
			}},
		Rule{ID: "ACC-02", Level: Must, Section: "RFC6109 §3.1.4", Kinds: acc,
			Title: "From is the provider service address, no \"Per conto di\"", check: fromService},
		Rule{ID: "ACC-03", Level: Must, Section: "RFC6109 §2.1", Kinds: acc,
			Title: "To is the original sender (reverse-path), not Reply-To", check: toSender},
		Rule{ID: "ACC-04", Level: Must, Section: "RFC6109 §3.1.4", Kinds: acc,
			Title: "Text lists every recipient with its posta certificata / posta ordinaria marker",
			check: func(x *Msg) outcome {
				if x.M.Postacert == nil {
					return errored("daticert unreadable")
				}
				lower := strings.ToLower(x.text)
				for _, d := range x.M.Postacert.Intestazione.Destinatari {
					addr := strings.ToLower(strings.TrimSpace(d.Indirizzo))
					i := strings.Index(lower, addr)
					if i < 0 {
						return fail("text does not list %s", addr)
					}
					line := lower[i:]
					if nl := strings.IndexByte(line, '\n'); nl >= 0 {
						line = line[:nl]
					}
					word := pec.WordCertificata
					if d.Tipo == pec.DestEsterno {
						word = pec.WordOrdinaria
					}
					if !strings.Contains(line, word) {
						return fail("%s is not marked %q in the text", addr, word)
					}
				}
				return pass("%d recipients listed with their type", len(x.M.Postacert.Intestazione.Destinatari))
			}},
		Rule{ID: "ACC-05", Level: Must, Section: "RFC6109 §2.2.1", Kinds: acc,
			Title: "Recipient type agrees with the managedDomains lookup",
			Note:  "pec-rules A7: domains compared case-insensitively",
			check: func(x *Msg) outcome {
				if x.Opts.Index == nil {
					return na("needs the provider index (--index)")
				}
				if x.M.Postacert == nil {
					return errored("daticert unreadable")
				}
				for _, d := range x.M.Postacert.Intestazione.Destinatari {
					want := pec.DestEsterno
					if x.Opts.Index.ByDomain(domainOf(strings.TrimSpace(d.Indirizzo))) != nil {
						want = pec.DestCertificato
					}
					if d.Tipo != want {
						return fail("%s is %q, the index says %s", strings.TrimSpace(d.Indirizzo), d.Tipo, want)
					}
				}
				return pass("%d recipients typed as the index says", len(x.M.Postacert.Intestazione.Destinatari))
			}},
		Rule{ID: "ACC-06", Level: Must, Section: "RFC6109 §4.4", Kinds: acc,
			Title: "daticert tipo accettazione, errore nessuno, destinatari with certificato/esterno",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				switch {
				case p == nil:
					return fail("daticert unreadable")
				case p.Tipo != pec.TipoAccettazione:
					return fail("tipo %q", p.Tipo)
				case p.Errore != "" && p.Errore != pec.ErroreNessuno:
					return fail("errore %q", p.Errore)
				case len(p.Intestazione.Destinatari) == 0:
					return fail("no destinatari")
				}
				return pass("%d destinatari", len(p.Intestazione.Destinatari))
			}},
	)
}
