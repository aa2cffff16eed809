package report

import (
	"regexp"

	"github.com/pecspec/pecspec/pec"
)

var reNotAccepted = regexp.MustCompile(`non (è|e'|e|é) stato accettato|non accettat|not (been )?accepted`)

func init() {
	nac := kinds(pec.KindNonAccettazione)
	register(
		Rule{ID: "NAC-01", Level: Must, Section: "RFC6109 §3.1.2", Kinds: nac, Needs: []need{needDaticert},
			Title: "X-Ricevuta non-accettazione; Subject AVVISO DI NON ACCETTAZIONE: <subject>; From service, To sender",
			check: func(x *Msg) outcome { return all(x, subjectPrefixed, fromServiceTo) }},
		Rule{ID: "NAC-02", Level: Must, Section: "RFC6109 §3.1.2", Kinds: nac, Needs: []need{needMixed},
			Title: "The original message is not included", check: noOriginal},
		Rule{ID: "NAC-03", Level: Must, Section: "RFC6109 §4.4", Kinds: nac, Needs: []need{needDaticert},
			Title: "daticert tipo non-accettazione, errore not nessuno, errore-esteso present",
			check: func(x *Msg) outcome {
				d := x.dc
				switch {
				case d.Tipo != vNonAccettazione:
					return fail("tipo %q", d.Tipo)
				case d.errore() == eNessuno:
					return fail("errore %q on a non-accettazione", d.errore())
				case erroreEsteso(x) == "":
					return fail("no errore-esteso")
				}
				return pass("errore %s: %s", d.Errore, erroreEsteso(x))
			}},
		Rule{ID: "NAC-04", Level: Must, Section: "RFC6109 §3.1.2", Kinds: nac, Needs: []need{needText},
			Title: "Text states the error description and that the message was not accepted",
			Note:  "pec-rules A23: the description and the outcome are required, not the exact sentence",
			check: func(x *Msg) outcome { return statesReason(x, reNotAccepted, "was not accepted") }},
		Rule{ID: "NAC-06", Level: Must, Section: "RFC6109 §3.1.3", Kinds: nac,
			Title: "Virus case: X-VerificaSicurezza errore, Subject AVVISO DI NON ACCETTAZIONE PER VIRUS:, errore virus",
			check: func(x *Msg) outcome { return virusCase(x, sNonAccettazioneVir) }},
		Rule{ID: "NAC-07", Level: Must, Section: "RFC6109 §3.1.3", Kinds: nac, Needs: []need{needText},
			Title: "Virus case: original not included; the text names the detected content",
			check: func(x *Msg) outcome {
				if _, _, v := virusMarked(x); !v {
					return na("not a virus notice")
				}
				if o := noOriginal(x); o.status != Pass {
					return o
				}
				return statesReason(x, reNotAccepted, "was not accepted")
			}},
	)
}
