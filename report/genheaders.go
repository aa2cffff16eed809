package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// canonicalNames are the PEC header names as RFC 6109 Appendix A spells them.
var canonicalNames = []string{pec.HeaderRicevuta, pec.HeaderTrasporto, pec.HeaderVerificaSicurezza,
	pec.HeaderTipoRicevuta, pec.HeaderRiferimentoMsgID, pec.HeaderMittente}

func genHeaders() []Rule {
	return []Rule{
		{ID: "GEN-12", Level: Must, Section: "RFC6109 §2.1", Kinds: identified,
			Title: "Exactly one identifying header (X-Ricevuta or X-Trasporto) with an allowed value",
			check: func(x *Msg) outcome {
				ric := x.M.Outer.Header.Values(pec.HeaderRicevuta)
				tra := x.M.Outer.Header.Values(pec.HeaderTrasporto)
				switch {
				case len(ric)+len(tra) != 1:
					return fail("%d X-Ricevuta and %d X-Trasporto headers", len(ric), len(tra))
				case x.Kind == pec.KindSconosciuto:
					return fail("unknown value %q", strings.TrimSpace(strings.Join(append(ric, tra...), "")))
				}
				return pass("%s", x.Kind)
			}},
		{ID: "GEN-13", Level: Observed, Section: "RFC5322 §1.2.2", Kinds: allPEC,
			Title: "PEC header names: matched case-insensitively; non-canonical spelling noted",
			Note:  "the grader matches names case-insensitively (X-Tiporicevuta == X-TipoRicevuta, S-ARU14-ENV); a spelling other than Appendix A's is reported as observed practice",
			check: func(x *Msg) outcome {
				for f := x.M.Outer.Header.Fields(); f.Next(); {
					raw, err := f.Raw() // Key() is canonicalised ("Id"): the wire name is in Raw
					if err != nil {
						continue
					}
					name, _, _ := strings.Cut(string(raw), ":")
					for _, c := range canonicalNames {
						if strings.EqualFold(name, c) && name != c {
							return warn("header spelled %q (Appendix A: %q)", name, c)
						}
					}
				}
				return pass("canonical spelling")
			}},
		{ID: "GEN-14", Level: Must, Section: "RFC6109 §3.1.4", Kinds: allPEC,
			Title: "Subject is the exact Italian prefix for the type followed by the original subject",
			check: func(x *Msg) outcome {
				want, got := prefix(x), x.subject()
				if !strings.HasPrefix(got, want) {
					return fail("Subject %q does not start with %q", got, want)
				}
				if x.M.Postacert != nil && x.M.Postacert.Intestazione.Oggetto != nil {
					orig := strings.TrimSpace(*x.M.Postacert.Intestazione.Oggetto)
					if rest := strings.TrimSpace(strings.TrimPrefix(got, want)); rest != orig {
						return fail("Subject after the prefix is %q, daticert oggetto is %q", rest, orig)
					}
				}
				return pass("%q", got)
			}},
		{ID: "GEN-15", Level: Must, Section: "RFC6109 §2.2.1", Kinds: withDaticert,
			Title: "X-Riferimento-Message-ID present and equal to daticert msgid",
			Note:  "pec-rules A20: angle brackets are normalised before comparing",
			check: func(x *Msg) outcome {
				ref := x.header(pec.HeaderRiferimentoMsgID)
				var msgid string
				if x.M.Postacert != nil {
					msgid = deref(x.M.Postacert.Dati.Msgid)
				}
				switch {
				case ref == "" && msgid == "" && x.Kind == pec.KindTrasporto:
					return na("the original had no Message-ID")
				case ref == "":
					return fail("no X-Riferimento-Message-ID")
				case x.M.Postacert == nil:
					return errored("daticert unreadable; cannot compare")
				case normID(ref) != normID(msgid):
					return fail("X-Riferimento-Message-ID %s but daticert msgid %q", ref, msgid)
				}
				return pass("%s", ref)
			}},
		{ID: "GEN-16", Level: Must, Section: "RFC6109 §4.1", Kinds: withDaticert,
			Title: "Date equals the daticert data (same instant)",
			check: func(x *Msg) outcome {
				d, ok := x.date()
				if !ok {
					return fail("Date %q missing or unparsable", x.header("Date"))
				}
				if x.M.Postacert == nil {
					return errored("daticert unreadable")
				}
				t, err := x.M.Postacert.Dati.Data.Instant()
				if err != nil {
					return fail("daticert data unreadable: %v", err)
				}
				if !t.Equal(d) {
					return fail("Date %s, daticert %s", d.Format("2006-01-02 15:04:05 -0700"), t.Format("2006-01-02 15:04:05 -0700"))
				}
				return pass("%s", d.Format("2006-01-02 15:04:05 -0700"))
			}},
	}
}

func genText() []Rule {
	return []Rule{
		{ID: "GEN-17", Level: Must, Section: "RFC6109 §4.2", Kinds: allPEC,
			Title: "Text gives date dd/mm/yyyy, time hh:mm:ss and the zone in parentheses",
			Note:  "pec-rules A5: (+0100) and (+01:00) both accepted",
			check: func(x *Msg) outcome {
				switch {
				case x.text == "":
					return fail("no readable text part")
				case !reTextDate.MatchString(x.text):
					return fail("no dd/mm/yyyy date in the text")
				case !reTextTime.MatchString(x.text):
					return fail("no hh:mm:ss time in the text")
				case !reTextZone.MatchString(x.text):
					return fail("no (+hhmm) zone in the text")
				}
				return pass("%s %s %s", reTextDate.FindString(x.text), reTextTime.FindString(x.text), reTextZone.FindString(x.text))
			}},
		{ID: "GEN-18", Level: Must, Section: "RFC6109 §3.1.4", Kinds: withDaticert,
			Title: "Text contains the message identifier equal to daticert identificativo",
			check: func(x *Msg) outcome {
				id := x.identificativo()
				switch {
				case id == "":
					return errored("daticert identificativo unknown")
				case !strings.Contains(x.text, id):
					return fail("text does not contain identificativo %s", id)
				}
				return pass("%s", id)
			}},
	}
}
