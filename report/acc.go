package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// fromService checks From is the service address without display name.
func fromService(x *Msg) outcome {
	addr, name := x.fromAddr()
	switch {
	case addr == "":
		return fail("From %q unreadable", x.header("From"))
	case strings.Contains(strings.ToLower(name), strings.ToLower(strings.TrimSpace(perContoDi))):
		return fail("From %q is an envelope's, not the service address", x.header("From"))
	}
	return pass("From %s", addr)
}

// toSender checks To = the original sender (daticert mittente) — notices go
// to the reverse-path sender, not to Reply-To (RFC 6109 §2.1).
func toSender(x *Msg) outcome {
	to := addrs(x.M.Outer, "To")
	sender := strings.ToLower(x.dc.Mittente)
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
				if !strings.HasPrefix(x.subject(), sAccettazione) {
					return fail("Subject %q", x.subject())
				}
				return pass("accettazione")
			}},
		Rule{ID: "ACC-02", Level: Must, Section: "RFC6109 §3.1.4", Kinds: acc,
			Title: "From is the provider service address, no \"Per conto di\"", check: fromService},
		Rule{ID: "ACC-03", Level: Must, Section: "RFC6109 §2.1", Kinds: acc, Needs: []need{needDaticert},
			Title: "To is the original sender (reverse-path), not Reply-To", check: toSender},
		Rule{ID: "ACC-04", Level: Must, Section: "RFC6109 §3.1.4", Kinds: acc, Needs: []need{needText, needDaticert},
			Title: "Text lists every recipient with its posta certificata / posta ordinaria marker",
			check: func(x *Msg) outcome {
				lower := strings.ToLower(x.text)
				for _, d := range x.dc.Destinatari {
					addr := strings.ToLower(d.Addr)
					i := strings.Index(lower, addr)
					if i < 0 {
						return fail("text does not list %s", addr)
					}
					line := lower[i:]
					if nl := strings.IndexByte(line, '\n'); nl >= 0 {
						line = line[:nl]
					}
					word := wCertificata
					if d.Tipo == dEsterno {
						word = wOrdinaria
					}
					if !strings.Contains(line, word) {
						return fail("%s is not marked %q in the text", addr, word)
					}
				}
				return pass("%d recipients listed with their type", len(x.dc.Destinatari))
			}},
		Rule{ID: "ACC-05", Level: Must, Section: "RFC6109 §2.2.1", Kinds: acc, Needs: []need{needDaticert},
			Title: "Recipient type agrees with the managedDomains lookup",
			Note:  "pec-rules A7: domains compared case-insensitively",
			check: func(x *Msg) outcome {
				if x.Opts.Index == nil {
					return na("needs the provider index (--index)")
				}
				for _, d := range x.dc.Destinatari {
					want := dEsterno
					if x.Opts.Index.ByDomain(domainOf(d.Addr)) != nil {
						want = dCertificato
					}
					if got := d.Tipo; got != want && !(got == "" && want == dCertificato) {
						return fail("%s is %q, the index says %s", d.Addr, got, want)
					}
				}
				return pass("%d recipients typed as the index says", len(x.dc.Destinatari))
			}},
		Rule{ID: "ACC-06", Level: Must, Section: "RFC6109 §4.4", Kinds: acc, Needs: []need{needDaticert},
			Title: "daticert tipo accettazione, errore nessuno, destinatari with certificato/esterno",
			check: func(x *Msg) outcome {
				d := x.dc
				switch {
				case d.Tipo != vAccettazione:
					return fail("tipo %q", d.Tipo)
				case d.errore() != eNessuno:
					return fail("errore %q", d.Errore)
				case len(d.Destinatari) == 0:
					return fail("no destinatari")
				}
				return pass("%d destinatari", len(d.Destinatari))
			}},
	)
}
