package report

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// daticertXML parses the daticert.xml part on the grader's own terms, once
// per message (the DAT rules share the tree).
func (x *Msg) daticertXML() (*node, outcome, bool) {
	if x.xml == nil {
		root, o, ok := x.parseDaticert()
		x.xml = &xmlResult{root, o, ok}
	}
	return x.xml.root, x.xml.o, x.xml.ok
}

type xmlResult struct {
	root *node
	o    outcome
	ok   bool
}

func (x *Msg) parseDaticert() (*node, outcome, bool) {
	if x.M.Daticert == nil {
		return nil, fail("no daticert.xml part"), false
	}
	data, err := x.M.Daticert.Decoded()
	if err != nil {
		return nil, fail("daticert.xml cannot be decoded: %v", err), false
	}
	root, err := parseXML(data)
	if err != nil {
		return nil, fail("daticert.xml: %v", err), false
	}
	return root, outcome{}, true
}

// datRule builds a DAT rule that needs the parsed certification data.
func datRule(id string, lvl Level, sec, title string, f func(*Msg, *pec.Postacert) outcome) Rule {
	return Rule{ID: id, Level: lvl, Section: sec, Kinds: withDaticert, Title: title,
		check: func(x *Msg) outcome {
			if x.M.Postacert == nil {
				return fail("certification data unreadable: %s", strings.Join(x.M.Problems, "; "))
			}
			return f(x, x.M.Postacert)
		}}
}

// tipoOf is the daticert tipo a message kind must carry (DAT-03).
func tipoOf(k pec.Kind) pec.Tipo {
	if k == pec.KindTrasporto {
		return pec.TipoPostaCertificata
	}
	return pec.Tipo(k)
}

var (
	reZona  = regexp.MustCompile(`^[+-]\d{4}$`)
	reOra   = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)$`)
	reLocal = regexp.MustCompile(`^[^@\s<>]+@[A-Za-z0-9.-]+$`)

	withConsegna = []pec.Tipo{pec.TipoAvvenutaConsegna, pec.TipoErroreConsegna, pec.TipoPreavvisoErroreConsegna,
		pec.TipoRilevazioneVirus}
)

func init() {
	register(
		Rule{ID: "DAT-01", Level: Must, Section: "RFC6109 §4.3.3", Kinds: withDaticert,
			Title: "daticert.xml is well-formed UTF-8 XML with root postacert",
			check: func(x *Msg) outcome {
				root, o, ok := x.daticertXML()
				if !ok {
					return o
				}
				if root.name != "postacert" {
					return fail("root element <%s>", root.name)
				}
				return pass("well-formed, root <postacert>")
			}},
		Rule{ID: "DAT-02", Level: Must, Section: "RFC6109 §4.4", Kinds: withDaticert,
			Title: "daticert.xml is valid against the RFC 6109 DTD",
			check: func(x *Msg) outcome {
				root, o, ok := x.daticertXML()
				if !ok {
					return o
				}
				if errs := validateDaticert(root); len(errs) > 0 {
					return fail("%s", strings.Join(errs, "; "))
				}
				return pass("valid")
			}},
		datRule("DAT-03", Must, "RFC6109 §4.4", "postacert/@tipo valid and matching the identifying header",
			func(x *Msg, p *pec.Postacert) outcome {
				if want := tipoOf(x.Kind); p.Tipo != want {
					return fail("tipo %q, the %s header says %q", p.Tipo, x.Kind, want)
				}
				return pass("tipo %s", p.Tipo)
			}),
		datRule("DAT-04", Must, "RFC6109 §4.4", "postacert/@errore valid; nessuno for success types",
			func(x *Msg, p *pec.Postacert) outcome {
				e := p.Errore
				if e == "" {
					e = pec.ErroreNessuno // DTD default
				}
				valid := []pec.Errore{pec.ErroreNessuno, pec.ErroreNoDest, pec.ErroreNoDominio, pec.ErroreVirus, pec.ErroreAltro}
				success := []pec.Tipo{pec.TipoAccettazione, pec.TipoPresaInCarico, pec.TipoAvvenutaConsegna, pec.TipoPostaCertificata}
				switch {
				case !slices.Contains(valid, e):
					return fail("errore %q", e)
				case slices.Contains(success, p.Tipo) && e != pec.ErroreNessuno:
					return fail("errore %q on a %s", e, p.Tipo)
				}
				return pass("errore %s", e)
			}),
		datRule("DAT-06", Must, "RFC6109 §4.4", "destinatari/@tipo is certificato or esterno",
			func(x *Msg, p *pec.Postacert) outcome {
				for _, d := range p.Intestazione.Destinatari {
					if d.Tipo != "" && d.Tipo != pec.DestCertificato && d.Tipo != pec.DestEsterno {
						return fail("destinatari %s has tipo %q", d.Indirizzo, d.Tipo)
					}
				}
				return pass("%d recipients", len(p.Intestazione.Destinatari))
			}),
		datRule("DAT-08", Must, "RFC6109 §4.4", "data/@zona is [+-]hhmm",
			func(x *Msg, p *pec.Postacert) outcome {
				if !reZona.MatchString(p.Dati.Data.Zona) {
					return fail("zona %q", p.Dati.Data.Zona)
				}
				return pass("%s", p.Dati.Data.Zona)
			}),
		datRule("DAT-09", Must, "RFC6109 §4.4", "giorno is dd/mm/yyyy and a real date",
			func(x *Msg, p *pec.Postacert) outcome {
				g := strings.TrimSpace(p.Dati.Data.Giorno)
				if _, err := time.Parse(pec.LayoutGiorno, g); err != nil || len(g) != 10 {
					return fail("giorno %q", g)
				}
				return pass("%s", g)
			}),
		datRule("DAT-10", Must, "RFC6109 §4.2", "ora is hh:mm:ss",
			func(x *Msg, p *pec.Postacert) outcome {
				if o := strings.TrimSpace(p.Dati.Data.Ora); !reOra.MatchString(o) {
					return fail("ora %q", o)
				}
				return pass("%s", p.Dati.Data.Ora)
			}),
		datRule("DAT-11", Must, "RFC6109 §2.2.1", "identificativo non-empty, local@domain",
			func(x *Msg, p *pec.Postacert) outcome {
				if id := strings.TrimSpace(p.Dati.Identificativo); !reLocal.MatchString(id) {
					return fail("identificativo %q", id)
				}
				return pass("%s", p.Dati.Identificativo)
			}),
	)
	register(datElements()...)
}
