package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

func trnContent() []Rule {
	return []Rule{
		{ID: "TRN-10", Level: Must, Section: "RFC6109 §3.1.5", Kinds: kinds(pec.KindTrasporto), Needs: []need{hasOriginal},
			Title: "postacert.eml is the original with the PEC msgid and X-Riferimento-Message-ID",
			check: func(x *Msg) outcome {
				orig := x.original()
				switch {
				case x.M.Original == nil:
					return fail("no message/rfc822 part (%s) among the parts (%s)", nPostacert, partTypes(x.M.Mixed))
				case orig == nil:
					return fail("the %s part cannot be read", nPostacert)
				case normID(orig.Header.Get("Message-ID")) != normID(x.header("Message-ID")):
					return fail("inner Message-ID %q, envelope %q", orig.Header.Get("Message-ID"), x.header("Message-ID"))
				case len(orig.Header.Values("Message-ID")) != 1:
					return fail("inner message has %d Message-ID fields", len(orig.Header.Values("Message-ID")))
				}
				return pass("original carried with the PEC msgid")
			}},
		trnRule("TRN-11", "RFC6109 §2.2.1", "Inner Message-ID = envelope Message-ID = daticert identificativo",
			func(x *Msg, orig *pec.Entity) outcome {
				env, inner, id := normID(x.header("Message-ID")), normID(orig.Header.Get("Message-ID")), x.identificativo()
				if env != inner || env != id {
					return fail("envelope %q, inner %q, identificativo %q", env, inner, id)
				}
				return pass("%s", id)
			}, needDaticert),
		{ID: "TRN-12", Level: Must, Section: "RFC6109 §4.4", Kinds: kinds(pec.KindTrasporto), Needs: []need{needDaticert},
			Title: "daticert posta-certificata, errore nessuno, ricevuta consistent with X-TipoRicevuta",
			check: func(x *Msg) outcome {
				d := x.dc
				want := x.header(hTipoRicevuta)
				if want == "" {
					want = rCompleta
				}
				switch {
				case d.Tipo != vPostaCertificata:
					return fail("tipo %q", d.Tipo)
				case d.errore() != eNessuno:
					return fail("errore %q", d.Errore)
				case d.Ricevuta == nil:
					return fail("no <ricevuta>")
				case d.ricevuta() != want:
					return fail("ricevuta %q, %s implies %q", d.ricevuta(), hTipoRicevuta, want)
				}
				return pass("ricevuta %s", want)
			}},
		trnRule("TRN-13", "RFC6109 §4.4", "daticert mittente, destinatari, oggetto, risposte match the original",
			func(x *Msg, orig *pec.Entity) outcome {
				d := x.dc
				from := addrs(orig, "From")
				reply := addrs(orig, "Reply-To")
				if len(reply) == 0 {
					reply = from
				}
				switch {
				case len(from) != 1 || !strings.EqualFold(d.Mittente, from[0]):
					return fail("mittente %q, original From %v", d.Mittente, from)
				case !sameSet(d.addrs(), append(addrs(orig, "To"), addrs(orig, "Cc")...)):
					return fail("destinatari %v, original To+Cc %v", d.addrs(), append(addrs(orig, "To"), addrs(orig, "Cc")...))
				case !sameSubject(deref(d.Oggetto), originalSubject(orig.Header.Get("Subject"))):
					return fail("oggetto %q, original subject %q", deref(d.Oggetto), originalSubject(orig.Header.Get("Subject")))
				case !sameSet([]string{strings.ToLower(d.Risposte)}, reply):
					return fail("risposte %q, want %v", d.Risposte, reply)
				}
				return pass("matches the original")
			}, needDaticert),
		trnRule("TRN-14", "RFC6109 §3.1.5", "Text gives date, time, zone, subject, sender, recipients and identificativo",
			func(x *Msg, orig *pec.Entity) outcome {
				if subj := originalSubject(orig.Header.Get("Subject")); !containsSubject(x.text, subj) {
					return fail("text lacks %q%s", subj, faultNote(x.textFault))
				}
				items := append([]string{x.identificativo()}, addrs(orig, "From")...)
				items = append(items, addrs(orig, "To")...)
				lower := strings.ToLower(x.text)
				for _, it := range items {
					if !strings.Contains(lower, strings.ToLower(it)) {
						return fail("text lacks %q%s", it, faultNote(x.textFault))
					}
				}
				if !reTextDate.MatchString(x.text) || !reTextTime.MatchString(x.text) {
					return fail("text lacks the date or time")
				}
				return pass("text carries the data items")
			}, needText),
		trnRule("TRN-15", "RFC6109 §3.1.5", "SMTP MAIL FROM of the envelope is the original sender; RCPT TO unchanged",
			func(x *Msg, orig *pec.Entity) outcome {
				rp := addrs(x.M.Outer, "Return-Path")
				if len(rp) == 0 {
					return na("no Return-Path recorded: the SMTP reverse-path is not visible in the message")
				}
				sender := addrs(orig, "From")
				if len(sender) != 1 {
					return na("the original has no single From to compare the reverse-path with (TRN-13)")
				}
				if rp[0] != sender[0] {
					return fail("Return-Path %s, the original's sender %s", rp[0], sender[0])
				}
				return pass("Return-Path %s", rp[0])
			}),
	}
}
