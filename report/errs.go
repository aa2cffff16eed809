package report

import (
	"regexp"

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
func consegnaIsRecipient(d *certData) outcome {
	c := deref(d.Consegna)
	if c == "" {
		return fail("no <consegna>")
	}
	if d.lists(c) {
		return pass("consegna %s", c)
	}
	return fail("consegna %s is not among the destinatari", c)
}

func init() {
	errc := kinds(pec.KindErroreConsegna)
	register(
		Rule{ID: "ERR-01", Level: Must, Section: "RFC6109 §3.3.3", Kinds: errc, Needs: []need{needDaticert},
			Title: "X-Ricevuta errore-consegna; Subject AVVISO DI MANCATA CONSEGNA: <subject>; To the original sender",
			check: func(x *Msg) outcome { return all(x, subjectPrefixed, fromServiceTo) }},
		Rule{ID: "ERR-02", Level: Must, Section: "RFC6109 §4.4", Kinds: errc, Needs: []need{needDaticert},
			Title: "daticert errore-consegna, errore in no-dest/no-dominio/virus/altro, consegna, errore-esteso",
			check: func(x *Msg) outcome {
				d := x.dc
				switch e := d.Errore; {
				case d.Tipo != vErroreConsegna:
					return fail("tipo %q", d.Tipo)
				case e != eNoDest && e != eNoDominio && e != eVirus && e != eAltro:
					return fail("errore %q", e)
				case erroreEsteso(x) == "":
					return fail("no errore-esteso")
				}
				return consegnaIsRecipient(d)
			}},
		Rule{ID: "ERR-03", Level: Must, Section: "RFC6109 §3.3.3", Kinds: errc, Needs: []need{needText},
			Title: "Text states the error and that the message was refused by the system",
			Note:  "pec-rules A23: the description and the outcome are required, not the exact sentence",
			check: func(x *Msg) outcome { return statesReason(x, reRefused, "was refused / not delivered") }},
		Rule{ID: "ERR-05", Level: Observed, Section: "RFC6109 §4.4", Kinds: errc, Needs: []need{needDaticert},
			Title: "errore agrees with errore-esteso (unknown user is no-dest, unknown domain no-dominio)",
			Note:  "pec-rules A24/A25: errore-esteso has no normative format and Aruba uses altro for an unknown mailbox; a warning only",
			check: func(x *Msg) outcome {
				e, ext := x.dc.Errore, erroreEsteso(x)
				switch {
				case reNoDest.MatchString(ext) && e != eNoDest:
					return warn("errore %q for %q, which reads as %s", e, ext, eNoDest)
				case reNoDominio.MatchString(ext) && e != eNoDominio:
					return warn("errore %q for %q, which reads as %s", e, ext, eNoDominio)
				case e == eAltro:
					return warn("errore %s: %q", eAltro, ext)
				}
				return pass("errore %s: %q", e, ext)
			}},
		Rule{ID: "VIR-06", Level: Must, Section: "RFC6109 §3.2.4", Kinds: errc,
			Title: "Mancata consegna per virus: X-VerificaSicurezza errore, Subject AVVISO DI MANCATA CONSEGNA PER VIRUS:, errore virus",
			check: func(x *Msg) outcome { return virusCase(x, sErroreConsegnaVir) }},
	)
}
