package report

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// prefix is the subject prefix a kind must carry (pec-rules §2.2); the virus
// variants of non-accettazione and errore-consegna carry X-VerificaSicurezza.
func prefix(x *Msg) string {
	virus := strings.EqualFold(x.header(pec.HeaderVerificaSicurezza), pec.VerificaSicurezzaErrore)
	switch x.Kind {
	case pec.KindAccettazione:
		return pec.SubjectAccettazione
	case pec.KindNonAccettazione:
		if virus {
			return pec.SubjectNonAccettazioneVir
		}
		return pec.SubjectNonAccettazione
	case pec.KindTrasporto:
		return pec.SubjectTrasporto
	case pec.KindPreavvisoErroreConsegna:
		return pec.SubjectPreavviso
	case pec.KindPresaInCarico:
		return pec.SubjectPresaInCarico
	case pec.KindAnomalia:
		return pec.SubjectAnomalia
	case pec.KindRilevazioneVirus:
		return pec.SubjectRilevazioneVirus
	case pec.KindErroreConsegna:
		if virus {
			return pec.SubjectErroreConsegnaVir
		}
		return pec.SubjectErroreConsegna
	case pec.KindAvvenutaConsegna:
		return pec.SubjectAvvenutaConsegna
	}
	return ""
}

var (
	reTextDate = regexp.MustCompile(`\b\d{2}/\d{2}/\d{4}\b`)
	reTextTime = regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`)
	reTextZone = regexp.MustCompile(`\((?:\+|-)\d{2}:?\d{2}\)`) // (+0100) or (+01:00), pec-rules A5
	reHTMLRef  = regexp.MustCompile(`(?i)(\bsrc\s*=|\bbackground\s*=|cid:|url\s*\(|<link\b|@import|<img\b)`)
	reHTMLAct  = regexp.MustCompile(`(?i)(<script\b|<object\b|<embed\b|<applet\b|<iframe\b|\bon[a-z]+\s*=|javascript:)`)
	htmlTag    = regexp.MustCompile(`<[^>]*>`)
)

func init() {
	register(genStructure()...)
	register(genHeaders()...)
	register(genText()...)
}

func genStructure() []Rule {
	return []Rule{
		{ID: "GEN-01", Level: Must, Section: "RFC6109 §2.1", Kinds: allPEC,
			Title: "Top-level Content-Type is multipart/signed",
			check: func(x *Msg) outcome {
				if x.M.Signed == nil {
					t := "unreadable"
					if x.M.Outer != nil {
						t, _ = x.M.Outer.MediaType()
					}
					return fail("top-level type is %s", t)
				}
				return pass("multipart/signed")
			}},
		{ID: "GEN-02", Level: Must, Section: "RFC6109 §4.3", Kinds: allPEC,
			Title: "Signed content is multipart/mixed",
			check: func(x *Msg) outcome {
				if x.M.Signed == nil {
					return fail("no signed content")
				}
				if t, _ := x.M.Signed.Content.MediaType(); t != "multipart/mixed" {
					return fail("signed content is %s", t)
				}
				if x.M.Mixed == nil {
					return fail("multipart/mixed unreadable: %s", strings.Join(x.M.Problems, "; "))
				}
				return pass("multipart/mixed with %d parts", len(x.M.Mixed))
			}},
		{ID: "GEN-03", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "First part is the human-readable text (text/plain or multipart/alternative)",
			check: func(x *Msg) outcome {
				if len(x.M.Mixed) == 0 {
					return fail("no parts")
				}
				if x.M.Text == nil {
					t, _ := x.M.Mixed[0].MediaType()
					return fail("first part is %s", t)
				}
				t, _ := x.M.Text.MediaType()
				return pass("first part %s", t)
			}},
		{ID: "GEN-04", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "multipart/alternative holds exactly one text/plain and one text/html",
			check: func(x *Msg) outcome {
				if x.M.Text == nil {
					return na("no text part")
				}
				if t, _ := x.M.Text.MediaType(); t != "multipart/alternative" {
					return na("text part is %s", t)
				}
				parts, err := x.M.Text.Parts()
				if err != nil {
					return fail("multipart/alternative unreadable: %v", err)
				}
				var types []string
				for _, p := range parts {
					t, _ := p.MediaType()
					types = append(types, t)
				}
				if len(types) != 2 || !(types[0] == "text/plain" && types[1] == "text/html") {
					return fail("alternative parts are %v, want [text/plain text/html]", types)
				}
				return pass("text/plain + text/html")
			}},
		{ID: "GEN-05", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "HTML part references no internal or external resources",
			check: func(x *Msg) outcome {
				if x.html == "" {
					return na("no HTML part")
				}
				if m := reHTMLRef.FindString(x.html); m != "" {
					return fail("HTML references a resource: %q", m)
				}
				return pass("no resource references")
			}},
		{ID: "GEN-06", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "HTML part carries no active content",
			check: func(x *Msg) outcome {
				if x.html == "" {
					return na("no HTML part")
				}
				if m := reHTMLAct.FindString(x.html); m != "" {
					return fail("HTML has active content: %q", m)
				}
				return pass("no active content")
			}},
		{ID: "GEN-07", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "HTML part carries the same information as the text part",
			check: func(x *Msg) outcome {
				if x.html == "" {
					return na("no HTML part")
				}
				plain := htmlTag.ReplaceAllString(x.html, " ")
				for _, item := range append(reTextDate.FindAllString(x.text, 1), reTextTime.FindAllString(x.text, 1)...) {
					if !strings.Contains(plain, item) {
						return fail("HTML lacks %q found in the text part", item)
					}
				}
				if id := x.identificativo(); id != "" && strings.Contains(x.text, id) && !strings.Contains(plain, id) {
					return fail("HTML lacks the identificativo %s", id)
				}
				return pass("HTML carries the text's date, time and identificativo")
			}},
		{ID: "GEN-08", Level: Must, Section: "RFC6109 §4.3.1", Kinds: allPEC,
			Title: "Text part charset is ISO-8859-1", Note: "UTF-8 is accepted with a warning (observed)",
			check: func(x *Msg) outcome {
				if x.M.Text == nil {
					return fail("no text part")
				}
				e := x.M.Text
				if t, _ := e.MediaType(); t == "multipart/alternative" {
					if parts, err := e.Parts(); err == nil && len(parts) > 0 {
						e = parts[0]
					}
				}
				_, p := e.MediaType()
				switch cs := strings.ToLower(p["charset"]); cs {
				case "iso-8859-1", "latin1":
					return pass("charset %s", cs)
				case "utf-8", "us-ascii", "":
					return warn("charset %q, RFC 6109 §4.3.1 says ISO-8859-1", cs)
				default:
					return fail("charset %q", cs)
				}
			}},
		{ID: "GEN-09", Level: Must, Section: "RFC6109 §4.3", Kinds: allPEC,
			Title: "Parts with non-ASCII content use a 7-bit-safe transfer encoding",
			check: func(x *Msg) outcome {
				for i, p := range x.M.Mixed {
					t, _ := p.MediaType()
					cte := strings.ToLower(p.Header.Get("Content-Transfer-Encoding"))
					if t == "message/rfc822" || strings.HasPrefix(t, "multipart/") {
						continue // cannot be encoded (RFC 2046 §5.2.1); the nested parts are the original's
					}
					if !isASCII(p.Body) && cte != "base64" && cte != "quoted-printable" {
						return fail("part %d (%s) has 8-bit content with encoding %q", i+1, t, cte)
					}
				}
				return pass("7-bit safe")
			}},
		{ID: "GEN-10", Level: Must, Section: "RFC6109 §4.3.3", Kinds: allPEC,
			Title: "Certification data part is application/xml named daticert.xml (not in the busta di anomalia)",
			Note:  "pec-rules A1: daticert.xml is conformant; certdata.xml (RFC text) is accepted with a warning",
			check: checkDaticertPart},
		{ID: "GEN-11", Level: Must, Section: "RFC6109 §4.3.2", Kinds: withDaticert,
			Title: "Original-message part, when present, is message/rfc822 named postacert.eml",
			check: func(x *Msg) outcome {
				if x.M.Original == nil {
					return na("no original message part")
				}
				if name := x.M.Original.Filename(); !strings.EqualFold(name, pec.PostacertName) {
					return fail("original part is named %q", name)
				}
				return pass("message/rfc822 postacert.eml")
			}},
		{ID: "GEN-19", Level: Must, Section: "RFC6109 §4.3", Kinds: withDaticert,
			Title: "Extra parts do not replace or precede the standard parts",
			check: func(x *Msg) outcome {
				std := 0
				for i, p := range x.M.Mixed {
					if p == x.M.Text || p == x.M.Daticert || p == x.M.Original {
						if i != std {
							return fail("standard part found at position %d after a provider's extra part", i+1)
						}
						std++
					}
				}
				return pass("%d standard parts first, %d extra", std, len(x.M.Mixed)-std)
			}},
	}
}

func checkDaticertPart(x *Msg) outcome {
	if x.Kind == pec.KindAnomalia {
		for _, p := range x.M.Mixed {
			if t, _ := p.MediaType(); t == "application/xml" {
				return fail("busta di anomalia carries an XML part %q", p.Filename())
			}
		}
		return pass("no certification data, as an anomaly requires")
	}
	if x.M.Daticert == nil {
		return fail("no application/xml daticert.xml part")
	}
	t, p := x.M.Daticert.MediaType()
	if t != "application/xml" {
		return fail("certification data is %s", t)
	}
	if cs := strings.ToLower(p["charset"]); cs != "" && cs != "utf-8" {
		return fail("certification data charset %q", cs)
	}
	if strings.EqualFold(x.M.Daticert.Filename(), pec.CertdataName) {
		return warn("named certdata.xml (RFC text); providers use daticert.xml")
	}
	return pass("application/xml daticert.xml")
}

// identificativo is the daticert identificativo, "" when unknown.
func (x *Msg) identificativo() string {
	if x.M.Postacert == nil {
		return ""
	}
	return strings.TrimSpace(x.M.Postacert.Dati.Identificativo)
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }
