package report

import (
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// Timeouts (RFC 6109 §3.1.6, §2.1.1.1.2): the sender's provider owes, per
// recipient, a 12 h notice when neither presa in carico nor consegna came
// within 12 h, and a 24 h notice (not before 22 h) when no consegna came
// within 24 h (pec-rules A13: §3.1.6 case a wins).

// lateSlack is how late past 24 h the 24 h notice may be dated: the time a
// provider needs to notice the deadline and sign.
const lateSlack = time.Minute

type timeline struct {
	t0       time.Time // dispatch: the accettazione / envelope instant
	until    time.Time // the latest instant observed in the transaction
	notices  map[string][]*Msg
	ok       bool
	whyNotOK string
}

func (tx *Tx) timeline() timeline {
	tl := timeline{notices: map[string][]*Msg{}}
	if tx.Sub.Relayed {
		// The timers are the sending provider's (RFC 6109 §3.1.6): here the
		// probe's peer, not the graded provider.
		tl.whyNotOK = "the sender's provider is the probe's peer, whose timers are not graded"
		return tl
	}
	src := tx.one(pec.KindAccettazione)
	if src == nil {
		src = tx.one(pec.KindTrasporto)
	}
	if src == nil {
		tl.whyNotOK = "needs the accettazione or the envelope for the dispatch time"
		return tl
	}
	if tl.t0, tl.ok = instant(src); !tl.ok {
		tl.whyNotOK = "dispatch time unreadable"
		return tl
	}
	for _, m := range tx.Msgs {
		if t, ok := instant(m); ok && t.After(tl.until) {
			tl.until = t
		}
		if m.Kind == pec.KindPreavvisoErroreConsegna {
			tl.notices[recipientOf(m)] = append(tl.notices[recipientOf(m)], m)
		}
	}
	return tl
}

// firstFor is the earliest instant a message of kind k covering recipient r
// was issued (presa in carico by ricezione, the others by consegna).
func (tx *Tx) firstFor(k pec.Kind, r string) (time.Time, bool) {
	var first time.Time
	found := false
	for _, m := range tx.of(k) {
		covers := recipientOf(m) == r
		if k == pec.KindPresaInCarico && m.dc != nil {
			covers = false
			for _, x := range m.dc.Ricezione {
				covers = covers || equalFoldTrim(x, r)
			}
		}
		if t, ok := instant(m); covers && ok && (!found || t.Before(first)) {
			first, found = t, true
		}
	}
	return first, found
}

func (tl timeline) phase(r string, p int) []*Msg {
	var out []*Msg
	for _, m := range tl.notices[r] {
		if timeoutPhase(m) == p {
			out = append(out, m)
		}
	}
	return out
}

func within(t time.Time, ok bool, deadline time.Time) bool { return ok && !t.After(deadline) }

func timTx() []Rule {
	return []Rule{
		multi("TIM-02", "RFC6109 §3.1.6", "12 h notice iff neither presa in carico nor consegna came within 12 h",
			func(tx *Tx) outcome {
				tl := tx.timeline()
				if !tl.ok {
					return na("%s", tl.whyNotOK)
				}
				d := tl.t0.Add(12 * time.Hour)
				judged := 0
				for _, r := range tx.certified() {
					pic, okP := tx.firstFor(pec.KindPresaInCarico, r)
					con, okC := tx.firstFor(pec.KindAvvenutaConsegna, r)
					early := within(pic, okP, d) || within(con, okC, d)
					has := len(tl.phase(r, 12)) > 0
					switch {
					case has && early:
						return fail("12 h notice for %s, though a presa in carico or consegna came within 12 h", r)
					case !has && !early && !tl.until.Before(d):
						return fail("no 12 h notice for %s: nothing came within 12 h", r)
					case has || early || !tl.until.Before(d):
						judged++
					}
				}
				if judged == 0 {
					return na("transaction not observed past 12 h")
				}
				return pass("%d recipients judged", judged)
			}),
		multi("TIM-03", "RFC6109 §2.1.1.1.2", "The 12 h notice is not emitted before 12 h",
			func(tx *Tx) outcome {
				tl := tx.timeline()
				if !tl.ok {
					return na("%s", tl.whyNotOK)
				}
				n := 0
				for r := range tl.notices {
					for _, m := range tl.phase(r, 12) {
						t, _ := instant(m)
						if t.Before(tl.t0.Add(12 * time.Hour)) {
							return fail("12 h notice for %s after %s", r, t.Sub(tl.t0))
						}
						n++
					}
				}
				if n == 0 {
					return na("no 12 h notice")
				}
				return pass("%d notices at or after 12 h", n)
			}),
		multi("TIM-04", "RFC6109 §3.1.6", "24 h notice iff no consegna within 24 h, dated between 22 h and 24 h",
			func(tx *Tx) outcome {
				tl := tx.timeline()
				if !tl.ok {
					return na("%s", tl.whyNotOK)
				}
				d := tl.t0.Add(24 * time.Hour)
				judged := 0
				for _, r := range tx.certified() {
					con, okC := tx.firstFor(pec.KindAvvenutaConsegna, r)
					delivered := within(con, okC, d)
					notices := tl.phase(r, 24)
					for _, m := range notices {
						t, _ := instant(m)
						if delivered {
							return fail("24 h notice for %s, delivered after %s", r, con.Sub(tl.t0))
						}
						if age := t.Sub(tl.t0); age < 22*time.Hour || age > 24*time.Hour+lateSlack {
							return fail("24 h notice for %s dated %s after dispatch (22 h – 24 h)", r, age)
						}
					}
					switch {
					case len(notices) == 0 && !delivered && !tl.until.Before(d):
						return fail("no 24 h notice for %s: no consegna within 24 h", r)
					case len(notices) > 0 || delivered || !tl.until.Before(d):
						judged++
					}
				}
				if judged == 0 {
					return na("transaction not observed past 24 h")
				}
				return pass("%d recipients judged", judged)
			}),
		multi("TIM-05", "RFC6109 §2.1.1.1.2", "No further timeout notice after the 24 h one",
			func(tx *Tx) outcome {
				tl := tx.timeline()
				if len(tl.notices) == 0 {
					return na("no timeout notice")
				}
				for r, ms := range tl.notices {
					if n12, n24 := len(tl.phase(r, 12)), len(tl.phase(r, 24)); n12 > 1 || n24 > 1 {
						return fail("%s got %d 12 h and %d 24 h notices", r, n12, n24)
					}
					for _, last := range tl.phase(r, 24) {
						lt, _ := instant(last)
						for _, m := range ms {
							if t, _ := instant(m); t.After(lt) {
								return fail("a notice for %s came %s after the 24 h one", r, t.Sub(lt))
							}
						}
					}
				}
				return pass("%d recipients, at most one notice per phase", len(tl.notices))
			}),
	}
}

func equalFoldTrim(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
