package report

import (
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

var (
	reRefused = regexp.MustCompile(`rifiutato|non (è|e'|e|é) stato consegnato|non consegnat|refused|not (been )?delivered`)
	// reNoDest and reNoDominio recognise the usual errore-esteso wordings of an
	// unknown mailbox and an unknown domain (RFC 3463 codes, Italian and English).
	reNoDest    = regexp.MustCompile(`(?i)\b5\.1\.1\b|user unknown|unknown user|utente (non|in)esistente|casella (non|in)esistente|indirizzo non valido|mailbox unavailable|no such user`)
	reNoDominio = regexp.MustCompile(`(?i)\b5\.1\.2\b|dominio (non|in)esistente|unknown domain|domain not found`)
)

// consegnaIsRecipient checks daticert consegna names one of the destinatari.
func consegnaIsRecipient(p *pec.Postacert) outcome {
	c := deref(p.Dati.Consegna)
	if c == "" {
		return fail("no <consegna>")
	}
	for _, d := range p.Intestazione.Destinatari {
		if strings.EqualFold(strings.TrimSpace(d.Indirizzo), c) {
			return pass("consegna %s", c)
		}
	}
	return fail("consegna %s is not among the destinatari", c)
}

func init() {
	errc := kinds(pec.KindErroreConsegna)
	register(
		Rule{ID: "ERR-01", Level: Must, Section: "RFC6109 §3.3.3", Kinds: errc,
			Title: "X-Ricevuta errore-consegna; Subject AVVISO DI MANCATA CONSEGNA: <subject>; To the original sender",
			check: func(x *Msg) outcome { return all(x, subjectPrefixed, fromServiceTo) }},
		Rule{ID: "ERR-02", Level: Must, Section: "RFC6109 §4.4", Kinds: errc,
			Title: "daticert errore-consegna, errore in no-dest/no-dominio/virus/altro, consegna, errore-esteso",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				switch {
				case p == nil:
					return fail("daticert unreadable")
				case p.Tipo != pec.TipoErroreConsegna:
					return fail("tipo %q", p.Tipo)
				case p.Errore != pec.ErroreNoDest && p.Errore != pec.ErroreNoDominio &&
					p.Errore != pec.ErroreVirus && p.Errore != pec.ErroreAltro:
					return fail("errore %q", p.Errore)
				case erroreEsteso(x) == "":
					return fail("no errore-esteso")
				}
				return consegnaIsRecipient(p)
			}},
		Rule{ID: "ERR-03", Level: Must, Section: "RFC6109 §3.3.3", Kinds: errc,
			Title: "Text states the error and that the message was refused by the system",
			Note:  "pec-rules A23: the description and the outcome are required, not the exact sentence",
			check: func(x *Msg) outcome { return statesReason(x, reRefused, "was refused / not delivered") }},
		Rule{ID: "ERR-05", Level: Observed, Section: "RFC6109 §4.4", Kinds: errc,
			Title: "errore agrees with errore-esteso (unknown user is no-dest, unknown domain no-dominio)",
			Note:  "pec-rules A24/A25: errore-esteso has no normative format and Aruba uses altro for an unknown mailbox; a warning only",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				if p == nil {
					return errored("daticert unreadable")
				}
				ext := erroreEsteso(x)
				switch {
				case reNoDest.MatchString(ext) && p.Errore != pec.ErroreNoDest:
					return warn("errore %q for %q, which reads as no-dest", p.Errore, ext)
				case reNoDominio.MatchString(ext) && p.Errore != pec.ErroreNoDominio:
					return warn("errore %q for %q, which reads as no-dominio", p.Errore, ext)
				case p.Errore == pec.ErroreAltro:
					return warn("errore altro: %q", ext)
				}
				return pass("errore %s: %q", p.Errore, ext)
			}},
		Rule{ID: "VIR-06", Level: Must, Section: "RFC6109 §3.2.4", Kinds: errc,
			Title: "Mancata consegna per virus: X-VerificaSicurezza errore, Subject AVVISO DI MANCATA CONSEGNA PER VIRUS:, errore virus",
			check: func(x *Msg) outcome { return virusCase(x, pec.SubjectErroreConsegnaVir) }},
	)
}
