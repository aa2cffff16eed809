package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

func trnContent() []Rule {
	return []Rule{
		trnRule("TRN-10", "RFC6109 §3.1.5", "postacert.eml is the original with the PEC msgid and X-Riferimento-Message-ID",
			func(x *Msg, orig *pec.Entity) outcome {
				switch {
				case normID(orig.Header.Get("Message-ID")) != normID(x.header("Message-ID")):
					return fail("inner Message-ID %q, envelope %q", orig.Header.Get("Message-ID"), x.header("Message-ID"))
				case len(orig.Header.Values("Message-ID")) != 1:
					return fail("inner message has %d Message-ID fields", len(orig.Header.Values("Message-ID")))
				}
				return pass("original carried with the PEC msgid")
			}),
		trnRule("TRN-11", "RFC6109 §2.2.1", "Inner Message-ID = envelope Message-ID = daticert identificativo",
			func(x *Msg, orig *pec.Entity) outcome {
				env, inner, id := normID(x.header("Message-ID")), normID(orig.Header.Get("Message-ID")), x.identificativo()
				if env != inner || env != id {
					return fail("envelope %q, inner %q, identificativo %q", env, inner, id)
				}
				return pass("%s", id)
			}),
		trnRule("TRN-12", "RFC6109 §4.4", "daticert posta-certificata, errore nessuno, ricevuta consistent with X-TipoRicevuta",
			func(x *Msg, _ *pec.Entity) outcome {
				p := x.M.Postacert
				if p == nil {
					return fail("daticert unreadable")
				}
				want := pec.TipoRicevuta(strings.ToLower(x.header(pec.HeaderTipoRicevuta)))
				if want == "" {
					want = pec.TipoCompleta
				}
				switch {
				case p.Tipo != pec.TipoPostaCertificata:
					return fail("tipo %q", p.Tipo)
				case p.Errore != "" && p.Errore != pec.ErroreNessuno:
					return fail("errore %q", p.Errore)
				case p.Dati.Ricevuta == nil:
					return fail("no <ricevuta>")
				case p.Dati.Ricevuta.Tipo != want:
					return fail("ricevuta %q, X-TipoRicevuta implies %q", p.Dati.Ricevuta.Tipo, want)
				}
				return pass("ricevuta %s", want)
			}),
		trnRule("TRN-13", "RFC6109 §4.4", "daticert mittente, destinatari, oggetto, risposte match the original",
			func(x *Msg, orig *pec.Entity) outcome {
				p := x.M.Postacert
				if p == nil {
					return fail("daticert unreadable")
				}
				from := addrs(orig, "From")
				var dest []string
				for _, d := range p.Intestazione.Destinatari {
					dest = append(dest, strings.ToLower(strings.TrimSpace(d.Indirizzo)))
				}
				reply := addrs(orig, "Reply-To")
				if len(reply) == 0 {
					reply = from
				}
				switch {
				case len(from) != 1 || !strings.EqualFold(strings.TrimSpace(p.Intestazione.Mittente), from[0]):
					return fail("mittente %q, original From %v", p.Intestazione.Mittente, from)
				case !sameSet(dest, append(addrs(orig, "To"), addrs(orig, "Cc")...)):
					return fail("destinatari %v, original To+Cc %v", dest, append(addrs(orig, "To"), addrs(orig, "Cc")...))
				case deref(p.Intestazione.Oggetto) != decoded(orig.Header.Get("Subject")):
					return fail("oggetto %q, original subject %q", deref(p.Intestazione.Oggetto), decoded(orig.Header.Get("Subject")))
				case !sameSet([]string{strings.ToLower(strings.TrimSpace(p.Intestazione.Risposte))}, reply):
					return fail("risposte %q, want %v", p.Intestazione.Risposte, reply)
				}
				return pass("matches the original")
			}),
		trnRule("TRN-14", "RFC6109 §3.1.5", "Text gives date, time, zone, subject, sender, recipients and identificativo",
			func(x *Msg, orig *pec.Entity) outcome {
				items := append([]string{decoded(orig.Header.Get("Subject")), x.identificativo()}, addrs(orig, "From")...)
				items = append(items, addrs(orig, "To")...)
				lower := strings.ToLower(x.text)
				for _, it := range items {
					if !strings.Contains(lower, strings.ToLower(it)) {
						return fail("text lacks %q", it)
					}
				}
				if !reTextDate.MatchString(x.text) || !reTextTime.MatchString(x.text) {
					return fail("text lacks the date or time")
				}
				return pass("text carries the data items")
			}),
		{ID: "TRN-15", Level: Must, Section: "RFC6109 §3.1.5", Kinds: kinds(pec.KindTrasporto),
			Title: "SMTP MAIL FROM of the envelope is the original sender; RCPT TO unchanged",
			check: func(x *Msg) outcome {
				rp := addrs(x.M.Outer, "Return-Path")
				if len(rp) == 0 {
					return na("no Return-Path recorded: the SMTP reverse-path is not visible in the message")
				}
				if p := x.M.Postacert; p != nil && rp[0] != strings.ToLower(strings.TrimSpace(p.Intestazione.Mittente)) {
					return fail("Return-Path %s, original sender %s", rp[0], p.Intestazione.Mittente)
				}
				return pass("Return-Path %s", rp[0])
			}},
	}
}
