package report

import (
	"regexp"
	"time"
	_ "time/tzdata" // Europe/Rome on machines without tzdata

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
		Rule{ID: "TIM-06", Level: Must, Section: "RFC6109 §3.1.6", Kinds: tim, Needs: []need{needDaticert},
			Title: "Timeout notice to the sender, for one recipient (consegna), without the original",
			Note:  "pec-rules A4: RFC 6109 prints To: [original recipient]; the notice goes to the sender",
			check: func(x *Msg) outcome {
				if o := fromServiceTo(x); o.status != Pass {
					return o
				}
				if o := noOriginal(x); o.status != Pass {
					return o
				}
				return consegnaIsRecipient(x.dc)
			}},
		Rule{ID: "TIM-07", Level: Must, Section: "RFC6109 §3.1.6", Kinds: tim, Needs: []need{needText},
			Title: "The 12 h and 24 h texts can be told apart (12 h promises another notice, 24 h declares failure)",
			check: func(x *Msg) outcome {
				if p := timeoutPhase(x); p != 0 {
					return pass("the %d h notice", p)
				}
				return fail("the text speaks neither of 12 nor of 24 hours")
			}},
		Rule{ID: "TIM-10", Level: Must, Section: "RFC6109 §4.4", Kinds: dataPEC, Needs: []need{needDaticert},
			Title: "daticert zona is the Italian legal-time offset at that date (+0100 CET, +0200 CEST)",
			check: func(x *Msg) outcome {
				// Read the instant with its own zona and render it back in Italian
				// legal time: both agree only when zona was Rome's offset then
				// (this also accepts either offset in the repeated autumn hour).
				d := x.dc
				const layout = "02/01/2006 15:04:05 -0700"
				t, err := time.Parse(layout, d.Giorno+" "+d.Ora+" "+d.Zona)
				if err != nil {
					return na("giorno/ora/zona unreadable (DAT-08…10 judge them): %v", err)
				}
				if got := t.In(rome).Format(layout); got != d.Giorno+" "+d.Ora+" "+d.Zona {
					return fail("zona %q on %s %s: Italian legal time then is %s", d.Zona, d.Giorno, d.Ora, got)
				}
				return pass("zona %s", d.Zona)
			}},
	)
}

// rome is Italian legal time (RFC 6109 §4.2); time/tzdata embeds the zone.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic("report: Europe/Rome: " + err.Error()) // embedded tzdata: cannot fail
	}
	return loc
}()
