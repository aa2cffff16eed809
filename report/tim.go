package report

import (
	"regexp"
	"time"

	"github.com/pecspec/pecspec/pec"
)

var (
	re24h = regexp.MustCompile(`\b24 ?(ore|hours|h)\b|ventiquattro ore|twenty-four hours`)
	re12h = regexp.MustCompile(`\b12 ?(ore|hours|h)\b|dodici ore|twelve hours`)
)

// timeoutPhase tells the 12 h notice from the 24 h one by its text (TIM-07):
// 24 when the text speaks of 24 hours, 12 when only of 12, 0 when of neither.
func timeoutPhase(x *Msg) int {
	t := collapse(x.text)
	switch {
	case re24h.MatchString(t):
		return 24
	case re12h.MatchString(t):
		return 12
	}
	return 0
}

func init() {
	tim := kinds(pec.KindPreavvisoErroreConsegna)
	register(
		Rule{ID: "TIM-01", Level: Must, Section: "RFC6109 §3.1.6", Kinds: tim,
			Title: "X-Ricevuta preavviso-errore-consegna; Subject AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: <subject>",
			Note:  "pec-rules A6: one space in \"SUP. TEMPO\"",
			check: subjectPrefixed},
		Rule{ID: "TIM-06", Level: Must, Section: "RFC6109 §3.1.6", Kinds: tim,
			Title: "Timeout notice to the sender, for one recipient (consegna), without the original",
			Note:  "pec-rules A4: RFC 6109 prints To: [original recipient]; the notice goes to the sender",
			check: func(x *Msg) outcome {
				if o := fromServiceTo(x); o.status != Pass {
					return o
				}
				if o := noOriginal(x); o.status != Pass {
					return o
				}
				if x.M.Postacert == nil {
					return fail("daticert unreadable")
				}
				return consegnaIsRecipient(x.M.Postacert)
			}},
		Rule{ID: "TIM-07", Level: Must, Section: "RFC6109 §3.1.6", Kinds: tim,
			Title: "The 12 h and 24 h texts can be told apart (12 h promises another notice, 24 h declares failure)",
			check: func(x *Msg) outcome {
				if p := timeoutPhase(x); p != 0 {
					return pass("the %d h notice", p)
				}
				return fail("the text speaks neither of 12 nor of 24 hours")
			}},
		Rule{ID: "TIM-10", Level: Must, Section: "RFC6109 §4.4", Kinds: withDaticert,
			Title: "daticert zona is the Italian legal-time offset at that date (+0100 CET, +0200 CEST)",
			check: func(x *Msg) outcome {
				p := x.M.Postacert
				if p == nil {
					return errored("daticert unreadable")
				}
				// Read the instant with its own zona and render it back in Italian
				// legal time: both agree only when zona was Rome's offset then
				// (this also accepts either offset in the repeated autumn hour).
				d := p.Dati.Data
				layout := pec.LayoutGiorno + " " + pec.LayoutOra + " " + pec.LayoutZona
				t, err := time.Parse(layout, d.Giorno+" "+d.Ora+" "+d.Zona)
				if err != nil {
					return errored("giorno/ora/zona unreadable: %v", err)
				}
				if got := t.In(pec.Rome).Format(layout); got != d.Giorno+" "+d.Ora+" "+d.Zona {
					return fail("zona %q on %s %s: Italian legal time then is %s", d.Zona, d.Giorno, d.Ora, got)
				}
				return pass("zona %s", p.Dati.Data.Zona)
			}},
	)
}
