package report

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
)

// daticertXML parses the daticert.xml part on the grader's own terms, once
// per message (the DAT rules share the tree).
func (x *Msg) daticertXML() (*node, outcome, bool) {
	if x.xml == nil {
		root, info, o, ok := x.parseDaticert()
		x.xml = &xmlResult{root, info, o, ok}
	}
	return x.xml.root, x.xml.o, x.xml.ok
}

type xmlResult struct {
	root *node
	info xmlInfo
	o    outcome // DAT-01's finding when the document cannot be read
	ok   bool    // the document was read (it may still not be UTF-8)
}

func (x *Msg) parseDaticert() (*node, xmlInfo, outcome, bool) {
	if x.M.Daticert == nil {
		return nil, xmlInfo{}, fail("no %s part", nDaticert), false
	}
	data, err := x.M.Daticert.DecodedLenient()
	if err != nil {
		return nil, xmlInfo{}, fail("%s cannot be decoded (%d bytes read): %v", nDaticert, len(data), err), false
	}
	root, info, err := parseXML(data)
	switch {
	case errors.Is(err, errEntity):
		return nil, info, errored("%s: %v", nDaticert, err), false
	case err != nil:
		return nil, info, fail("%s: %v", nDaticert, err), false
	}
	return root, info, outcome{}, true
}

// datRule builds a DAT rule that judges the certification data.
func datRule(id string, lvl Level, sec, title string, f func(*Msg, *certData) outcome) Rule {
	return Rule{ID: id, Level: lvl, Section: sec, Kinds: dataPEC, Title: title, Needs: []need{needDaticert},
		check: func(x *Msg) outcome { return f(x, x.dc) }}
}

var (
	reZona  = regexp.MustCompile(`^[+-]\d{4}$`)
	reOra   = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)$`)
	reLocal = regexp.MustCompile(`^[^@\s<>]+@[A-Za-z0-9.-]+$`)

	withConsegna = []string{vAvvenutaConsegna, vErroreConsegna, vPreavviso, vRilevazioneVirus}
)

func init() {
	register(
		Rule{ID: "DAT-01", Level: Must, Section: "RFC6109 §4.3.3", Kinds: dataPEC, Needs: []need{needDaticertPart},
			Title: "daticert.xml is well-formed UTF-8 XML with root postacert",
			Note:  "XML 1.0 as a non-validating processor reads it: a byte order mark and a DOCTYPE are legal; nothing is loaded or expanded (an entity reference is an error verdict)",
			check: checkWellFormed},
		Rule{ID: "DAT-02", Level: Must, Section: "RFC6109 §4.4", Kinds: dataPEC, Needs: []need{needDaticert},
			Title: "daticert.xml is valid against the RFC 6109 DTD",
			Note:  "validity as xmllint --dtdvalid judges it (tested against it), including white space in an EMPTY ricevuta and CDATA in element content",
			check: func(x *Msg) outcome {
				root, _, _ := x.daticertXML()
				if errs := validateDaticert(root); len(errs) > 0 {
					return fail("%s", strings.Join(errs, "; "))
				}
				return pass("valid")
			}},
		datRule("DAT-03", Must, "RFC6109 §4.4", "postacert/@tipo valid and matching the identifying header",
			func(x *Msg, d *certData) outcome {
				want, ok := tipi[x.Kind]
				switch {
				case !ok:
					return na("the identifying header names no tipo (%s)", x.Kind)
				case d.Tipo != want:
					return fail("tipo %q, the %s header says %q", d.Tipo, x.Kind, want)
				}
				return pass("tipo %s", d.Tipo)
			}),
		datRule("DAT-04", Must, "RFC6109 §4.4", "postacert/@errore valid; nessuno for success types",
			func(x *Msg, d *certData) outcome {
				e := d.errore()
				valid := []string{eNessuno, eNoDest, eNoDominio, eVirus, eAltro}
				success := []string{vAccettazione, vPresaInCarico, vAvvenutaConsegna, vPostaCertificata}
				switch {
				case !slices.Contains(valid, e):
					return fail("errore %q", e)
				case slices.Contains(success, d.Tipo) && e != eNessuno:
					return fail("errore %q on a %s", e, d.Tipo)
				}
				return pass("errore %s", e)
			}),
		datRule("DAT-06", Must, "RFC6109 §4.4", "destinatari/@tipo is certificato or esterno",
			func(x *Msg, d *certData) outcome {
				for _, r := range d.Destinatari {
					if r.Tipo != "" && r.Tipo != dCertificato && r.Tipo != dEsterno {
						return fail("destinatari %s has tipo %q", r.Addr, r.Tipo)
					}
				}
				return pass("%d recipients", len(d.Destinatari))
			}),
		datRule("DAT-08", Must, "RFC6109 §4.4", "data/@zona is [+-]hhmm",
			func(x *Msg, d *certData) outcome {
				if !reZona.MatchString(d.Zona) {
					return fail("zona %q", d.Zona)
				}
				return pass("%s", d.Zona)
			}),
		datRule("DAT-09", Must, "RFC6109 §4.4", "giorno is dd/mm/yyyy and a real date",
			func(x *Msg, d *certData) outcome {
				if _, err := time.Parse("02/01/2006", d.Giorno); err != nil || len(d.Giorno) != 10 {
					return fail("giorno %q", d.Giorno)
				}
				return pass("%s", d.Giorno)
			}),
		datRule("DAT-10", Must, "RFC6109 §4.2", "ora is hh:mm:ss",
			func(x *Msg, d *certData) outcome {
				if !reOra.MatchString(d.Ora) {
					return fail("ora %q", d.Ora)
				}
				return pass("%s", d.Ora)
			}),
		datRule("DAT-11", Must, "RFC6109 §2.2.1", "identificativo non-empty, local@domain",
			func(x *Msg, d *certData) outcome {
				if !reLocal.MatchString(d.ID) {
					return fail("identificativo %q", d.ID)
				}
				return pass("%s", d.ID)
			}),
	)
	register(datElements()...)
}

// checkWellFormed is DAT-01: the document reads as XML 1.0, in UTF-8, with
// the root postacert. A document declared in ISO-8859-1 is read (and judged
// by the other rules) but fails here for its encoding.
func checkWellFormed(x *Msg) outcome {
	root, o, ok := x.daticertXML()
	if !ok {
		return o
	}
	info := x.xml.info
	var notes []string
	if info.bom {
		notes = append(notes, "a UTF-8 byte order mark")
	}
	if info.doctype {
		notes = append(notes, "a DOCTYPE (not loaded)")
	}
	switch {
	case !info.utf8():
		return fail("encoding %q declared: RFC 6109 §4.3.3 requires UTF-8 (the document is otherwise well-formed)", info.encoding)
	case root.name != "postacert":
		return fail("root element <%s>", root.name)
	case len(notes) > 0:
		return pass("well-formed UTF-8, root <postacert>, with %s", strings.Join(notes, " and "))
	}
	return pass("well-formed UTF-8, root <postacert>")
}
