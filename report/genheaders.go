package report

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// canonicalNames are the PEC header names as RFC 6109 Appendix A spells them.
var canonicalNames = []string{hRicevuta, hTrasporto, hVerifica, hTipoRicevuta, hRiferimento, hMittente}

func genHeaders() []Rule {
	return []Rule{
		{ID: "GEN-12", Level: Must, Section: "RFC6109 §2.1", Kinds: identified,
			Title: "Exactly one identifying header (X-Ricevuta or X-Trasporto) with an allowed value",
			Note:  "values are compared exactly (RFC 6109 Appendix A); a message shaped like PEC without the header, and input that is no RFC 5322 message, are sconosciuto and fail here",
			check: func(x *Msg) outcome {
				ric, tra := x.M.Outer.Header.Values(hRicevuta), x.M.Outer.Header.Values(hTrasporto)
				switch {
				case x.Kind == pec.KindSconosciuto:
					return fail("%s", x.why)
				case len(ric)+len(tra) != 1:
					return fail("%d %s and %d %s headers", len(ric), hRicevuta, len(tra), hTrasporto)
				}
				return pass("%s", x.Kind)
			}},
		{ID: "GEN-13", Level: Observed, Section: "RFC5322 §1.2.2", Kinds: anyPEC,
			Title: "PEC header names are read case-insensitively; look-alike names are noted",
			Note:  "a case variant (X-Tiporicevuta, S-ARU14-ENV) is the same header and passes; a name that differs otherwise (X-Tipo-Ricevuta) is another header, noted with its value",
			check: checkHeaderNames},
		{ID: "GEN-14", Level: Must, Section: "RFC6109 §3.1.4", Kinds: allPEC,
			Title: "Subject is the exact Italian prefix for the type followed by the original subject",
			check: func(x *Msg) outcome {
				want, got := prefix(x), x.subject()
				if !strings.HasPrefix(got, want) {
					return fail("Subject %q does not start with %q", got, want)
				}
				// The envelope's subject is TRN-01's and TRN-13's to compare,
				// a non-ASCII one DAT-20's.
				if x.dc != nil && x.dc.Oggetto != nil && x.Kind != pec.KindTrasporto && isASCII([]byte(got)) {
					if rest := strings.TrimSpace(strings.TrimPrefix(got, want)); rest != *x.dc.Oggetto {
						return fail("Subject after the prefix is %q, daticert oggetto is %q", rest, *x.dc.Oggetto)
					}
				}
				return pass("%q", got)
			}},
		{ID: "GEN-15", Level: Must, Section: "RFC6109 §2.2.1", Kinds: dataPEC, Needs: []need{needDaticert},
			Title: "X-Riferimento-Message-ID present (on the envelope when the original had a Message-ID)",
			Note:  "its equality with daticert msgid (pec-rules A20, brackets normalised) is DAT-12's finding, not repeated here",
			check: func(x *Msg) outcome {
				ref := x.header(hRiferimento)
				switch {
				case ref == "" && deref(x.dc.Msgid) == "" && x.Kind == pec.KindTrasporto:
					return na("the original had no Message-ID")
				case ref == "":
					return fail("no %s", hRiferimento)
				}
				return pass("%s (DAT-12 compares it with msgid)", ref)
			}},
		{ID: "GEN-16", Level: Must, Section: "RFC6109 §4.1", Kinds: dataPEC, Needs: []need{needDaticert},
			Title: "Date equals the daticert data (same instant)",
			check: func(x *Msg) outcome {
				d, ok := x.date()
				if !ok {
					return fail("Date %q missing or unparsable", x.header("Date"))
				}
				t, err := x.dc.instant()
				if err != nil {
					return fail("daticert data unreadable: %v", err)
				}
				if !t.Equal(d) {
					return fail("Date %s, daticert %s", d.Format("2006-01-02 15:04:05 -0700"), t.Format("2006-01-02 15:04:05 -0700"))
				}
				return pass("%s", d.Format("2006-01-02 15:04:05 -0700"))
			}},
		{ID: "GEN-20", Level: Must, Section: "RFC6109 §3.3.2", Kinds: notEnvelopes,
			Title: "X-TipoRicevuta, where a message carries it, is completa, breve or sintetica",
			Note:  "grader addition (pec-rules §2.2 header registry): TRN-09 judges the envelope's; this rule every other message's",
			check: checkTipoRicevuta},
	}
}

// checkHeaderNames is GEN-13: a PEC header spelt in another case is read as
// itself (header names are case-insensitive) and passes; a name equal to a
// PEC header but for hyphens (X-Tipo-Ricevuta) is another header, which the
// grader notes with its value.
func checkHeaderNames(x *Msg) outcome {
	var variants []string
	for f := x.M.Outer.Header.Fields(); f.Next(); {
		raw, err := f.Raw() // Key() is canonicalised ("Id"): the wire name is in Raw
		if err != nil {
			continue
		}
		name, value, _ := strings.Cut(string(raw), ":")
		for _, c := range canonicalNames {
			switch {
			case strings.EqualFold(name, c) && name != c:
				variants = append(variants, name)
			case !strings.EqualFold(name, c) && strings.EqualFold(strings.ReplaceAll(name, "-", ""), strings.ReplaceAll(c, "-", "")):
				return warn("header %s: %s is not %s (RFC 6109 Appendix A): a look-alike name, not read as the PEC header",
					name, strings.TrimSpace(value), c)
			}
		}
	}
	if len(variants) > 0 {
		return pass("%s read case-insensitively", strings.Join(variants, ", "))
	}
	return pass("canonical spelling")
}

// checkTipoRicevuta is GEN-20: on every message but the envelope (TRN-09),
// an X-TipoRicevuta header carries one of the three receipt types.
func checkTipoRicevuta(x *Msg) outcome {
	vs := x.M.Outer.Header.Values(hTipoRicevuta)
	if len(vs) == 0 {
		return pass("no %s (none is required here)", hTipoRicevuta)
	}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != rCompleta && v != rBreve && v != rSintetica {
			return fail("%s %q is not %s, %s or %s (RFC 6109 Appendix A; values are exact)", hTipoRicevuta, v, rCompleta, rBreve, rSintetica)
		}
	}
	return pass("%s %s", hTipoRicevuta, strings.TrimSpace(vs[0]))
}

func genText() []Rule {
	return []Rule{
		{ID: "GEN-17", Level: Must, Section: "RFC6109 §4.2", Kinds: anyPEC, Needs: []need{needText},
			Title: "Text gives date dd/mm/yyyy, time hh:mm:ss and the zone in parentheses",
			Note:  "pec-rules A5: (+0100) and (+01:00) both accepted",
			check: func(x *Msg) outcome {
				switch {
				case x.text == "":
					return fail("the text part is empty or unreadable%s", faultNote(x.textFault))
				case !reTextDate.MatchString(x.text):
					return fail("no dd/mm/yyyy date in the text")
				case !reTextTime.MatchString(x.text):
					return fail("no hh:mm:ss time in the text")
				case !reTextZone.MatchString(x.text):
					return fail("no (+hhmm) zone in the text")
				}
				return pass("%s %s %s", reTextDate.FindString(x.text), reTextTime.FindString(x.text), reTextZone.FindString(x.text))
			}},
		{ID: "GEN-18", Level: Must, Section: "RFC6109 §3.1.4", Kinds: dataPEC, Needs: []need{needText, needDaticert},
			Title: "Text contains the message identifier equal to daticert identificativo",
			check: func(x *Msg) outcome {
				id := x.identificativo()
				switch {
				case id == "":
					return fail("daticert identificativo is empty (DAT-11): nothing to find in the text")
				case !strings.Contains(x.text, id):
					return fail("text does not contain identificativo %s%s", id, faultNote(x.textFault))
				}
				return pass("%s", id)
			}},
	}
}

// faultNote tells that a text decoded only in part.
func faultNote(fault string) string {
	if fault == "" {
		return ""
	}
	return " (the text part decodes only in part: " + fault + ")"
}
