package report

import (
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// prefix is the subject prefix a kind must carry (pec-rules §2.2); the virus
// variants of non-accettazione and errore-consegna carry X-VerificaSicurezza.
func prefix(x *Msg) string {
	if p, ok := virusPrefixes[x.Kind]; ok && strings.TrimSpace(x.header(hVerifica)) == vErrore {
		return p
	}
	return prefixes[x.Kind]
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
		{ID: "GEN-01", Level: Must, Section: "RFC6109 §2.1", Kinds: anyPEC,
			Title: "Top-level Content-Type is multipart/signed", check: checkSigned},
		{ID: "GEN-02", Level: Must, Section: "RFC6109 §4.3", Kinds: anyPEC, Needs: []need{needWholeContent},
			Title: "Signed content is multipart/mixed",
			check: func(x *Msg) outcome {
				t, _ := x.M.Content.MediaType()
				switch {
				case t != "multipart/mixed":
					return fail("the content is %s, not multipart/mixed", t)
				case len(x.M.Mixed) == 0:
					return fail("multipart/mixed unreadable: %s", strings.Join(x.M.Problems, "; "))
				case x.M.MixedFault != "":
					return fail("%s; the %d parts up to the end were read and are judged", x.M.MixedFault, len(x.M.Mixed))
				}
				return pass("multipart/mixed with %d parts", len(x.M.Mixed))
			}},
		{ID: "GEN-03", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needMixed},
			Title: "First part is the human-readable text (text/plain or multipart/alternative)",
			check: func(x *Msg) outcome {
				if x.M.Text == nil {
					return fail("the first part is %s, not text/plain or multipart/alternative", partTypes(x.M.Mixed[:1]))
				}
				t, _ := x.M.Text.MediaType()
				return pass("first part %s", t)
			}},
		{ID: "GEN-04", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needText},
			Title: "multipart/alternative holds exactly one text/plain and one text/html",
			check: func(x *Msg) outcome {
				if t, _ := x.M.Text.MediaType(); t != "multipart/alternative" {
					return na("text part is %s", t)
				}
				parts, err := x.M.Text.PartsLenient()
				if parts == nil {
					return fail("multipart/alternative unreadable: %v", err)
				}
				if err != nil {
					return fail("multipart/alternative: %v", err)
				}
				if types := partTypes(parts); types != "text/plain, text/html" {
					return fail("alternative parts are %s, want text/plain, text/html", types)
				}
				return pass("text/plain + text/html")
			}},
		{ID: "GEN-05", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needText},
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
		{ID: "GEN-06", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needText},
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
		{ID: "GEN-07", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needText},
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
		{ID: "GEN-08", Level: Must, Section: "RFC6109 §4.3.1", Kinds: anyPEC, Needs: []need{needText},
			Title: "Text part charset is ISO-8859-1", Note: "UTF-8 is accepted with a warning (observed)",
			check: func(x *Msg) outcome {
				e := x.M.Text
				if t, _ := e.MediaType(); t == "multipart/alternative" {
					if parts, _ := e.PartsLenient(); len(parts) > 0 {
						e = parts[0]
					}
				}
				_, p := e.MediaType()
				switch cs := strings.ToLower(p["charset"]); cs {
				case charsetLatin1, "latin1":
					return pass("charset %s", cs)
				case "utf-8", "us-ascii", "":
					return warn("charset %q, RFC 6109 §4.3.1 says ISO-8859-1", cs)
				default:
					return fail("charset %q", cs)
				}
			}},
		{ID: "GEN-09", Level: Must, Section: "RFC6109 §4.3", Kinds: anyPEC, Needs: []need{needMixed},
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
		{ID: "GEN-10", Level: Must, Section: "RFC6109 §4.3.3", Kinds: anyPEC, Needs: []need{hasDaticert},
			Title: "Certification data part is application/xml named daticert.xml (not in the busta di anomalia)",
			Note:  "pec-rules A1: daticert.xml is conformant; certdata.xml (RFC text) is accepted with a warning",
			check: checkDaticertPart},
		{ID: "GEN-11", Level: Must, Section: "RFC6109 §4.3.2", Kinds: dataPEC, Needs: []need{hasOriginal},
			Title: "Original-message part, when present, is message/rfc822 named postacert.eml",
			check: func(x *Msg) outcome {
				if x.M.Original == nil {
					return na("no original message part")
				}
				if name := x.M.Original.Filename(); !strings.EqualFold(name, nPostacert) {
					return fail("original part is named %q", name)
				}
				return pass("message/rfc822 postacert.eml")
			}},
		{ID: "GEN-19", Level: Must, Section: "RFC6109 §4.3", Kinds: dataPEC, Needs: []need{needText},
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

// checkSigned is GEN-01: the message is a multipart/signed, read whole. The
// finding for a missing close delimiter or a mailing list's wrapper is this
// one; the parts recovered are still judged by the other rules.
func checkSigned(x *Msg) outcome {
	top, _ := x.M.Outer.MediaType()
	switch {
	case x.M.Wrapper != nil:
		return fail("the multipart/signed is part %d of a top-level %s (a mailing-list wrapper%s): graded as found inside",
			x.M.WrapperPart+1, top, listName(x))
	case x.M.Signed == nil && x.M.SignedFault != "":
		return fail("%s: no signature part", x.M.SignedFault)
	case x.M.Signed == nil && top == "multipart/signed":
		return fail("multipart/signed unreadable: %s", strings.Join(x.M.Problems, "; "))
	case x.M.Signed == nil:
		return fail("the top-level type is %s, not multipart/signed: the message is not signed", top)
	case x.M.SignedFault != "":
		return fail("%s; the parts up to the end were read and are judged", x.M.SignedFault)
	}
	return pass("multipart/signed")
}

// listName names the mailing list of a wrapped message, from List-Id.
func listName(x *Msg) string {
	if id := x.header("List-Id"); id != "" {
		return " of " + id
	}
	return ""
}

// partTypes lists the media types of parts.
func partTypes(parts []*pec.Entity) string {
	types := make([]string, 0, len(parts))
	for _, p := range parts {
		t, _ := p.MediaType()
		types = append(types, t)
	}
	return strings.Join(types, ", ")
}

func checkDaticertPart(x *Msg) outcome {
	if x.Kind == pec.KindAnomalia {
		for _, p := range x.M.Mixed {
			if t, _ := p.MediaType(); t == ctXML {
				return fail("busta di anomalia carries an XML part %q", p.Filename())
			}
		}
		return pass("no certification data, as an anomaly requires")
	}
	if x.M.Daticert == nil && x.Kind == pec.KindSconosciuto {
		return na("no %s part, and the kind is unknown (GEN-12): whether one is owed cannot be told", nDaticert)
	}
	if x.M.Daticert == nil {
		return fail("no application/xml part named %s among the parts (%s)", nDaticert, partTypes(x.M.Mixed))
	}
	t, p := x.M.Daticert.MediaType()
	if t != ctXML {
		return fail("certification data is %s", t)
	}
	if cs := strings.ToLower(p["charset"]); cs != "" && cs != "utf-8" {
		return fail("certification data charset %q", cs)
	}
	if strings.EqualFold(x.M.Daticert.Filename(), nCertdata) {
		return warn("named %s (RFC text); providers use %s", nCertdata, nDaticert)
	}
	return pass("%s %s", ctXML, nDaticert)
}

// identificativo is the daticert identificativo, "" when unknown.
func (x *Msg) identificativo() string {
	if x.dc == nil {
		return ""
	}
	return x.dc.ID
}
