package report

import (
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

func datElements() []Rule {
	return []Rule{
		datRule("DAT-12", Must, "RFC6109 §2.2.1", "msgid equals X-Riferimento-Message-ID (brackets normalised)",
			func(x *Msg, p *pec.Postacert) outcome {
				m, ref := deref(p.Dati.Msgid), x.header(pec.HeaderRiferimentoMsgID)
				switch {
				case m == "" && ref == "":
					return na("no msgid and no X-Riferimento-Message-ID")
				case normID(m) != normID(ref):
					return fail("msgid %q, X-Riferimento-Message-ID %q", m, ref)
				}
				return pass("%s", m)
			}),
		datRule("DAT-13", Must, "RFC6109 §4.4", "ricevuta present for posta-certificata and avvenuta-consegna",
			func(x *Msg, p *pec.Postacert) outcome {
				needs := p.Tipo == pec.TipoPostaCertificata || p.Tipo == pec.TipoAvvenutaConsegna
				switch {
				case needs && p.Dati.Ricevuta == nil:
					return fail("no <ricevuta> in a %s", p.Tipo)
				case !needs && p.Dati.Ricevuta != nil:
					return warn("<ricevuta> in a %s (not expected)", p.Tipo)
				case needs:
					return pass("ricevuta tipo %s", p.Dati.Ricevuta.Tipo)
				}
				return pass("absent, as expected")
			}),
		datRule("DAT-14", Must, "RFC6109 §4.4", "consegna present exactly for delivery, non-delivery, timeout and virus-detection types",
			func(x *Msg, p *pec.Postacert) outcome {
				needs := slices.Contains(withConsegna, p.Tipo)
				has := p.Dati.Consegna != nil
				switch {
				case needs && !has && p.Tipo == pec.TipoRilevazioneVirus && len(p.Dati.Ricezione) > 0:
					return warn("rilevazione-virus with <ricezione> instead of <consegna> (observed, pec-rules A15)")
				case needs && !has:
					return fail("no <consegna> in a %s", p.Tipo)
				case !needs && has:
					return fail("<consegna> in a %s", p.Tipo)
				}
				return pass("consegna %s", map[bool]string{true: "present", false: "absent"}[has])
			}),
		datRule("DAT-15", Must, "RFC6109 §4.4", "ricezione only in presa-in-carico",
			func(x *Msg, p *pec.Postacert) outcome {
				if len(p.Dati.Ricezione) > 0 && p.Tipo != pec.TipoPresaInCarico && p.Tipo != pec.TipoRilevazioneVirus {
					return fail("<ricezione> in a %s", p.Tipo)
				}
				return pass("%d ricezione", len(p.Dati.Ricezione))
			}),
		datRule("DAT-16", Must, "RFC6109 §4.4", "errore-esteso present iff errore is not nessuno",
			func(x *Msg, p *pec.Postacert) outcome {
				errs := p.Errore != "" && p.Errore != pec.ErroreNessuno
				has := deref(p.Dati.ErroreEsteso) != ""
				switch {
				case errs && !has:
					return fail("errore %q without errore-esteso", p.Errore)
				case !errs && has:
					return warn("errore-esteso with errore nessuno")
				}
				return pass("consistent")
			}),
		datRule("DAT-17", Must, "RFC6109 §4.4", "errore virus only with errore-consegna, non-accettazione, rilevazione-virus",
			func(x *Msg, p *pec.Postacert) outcome {
				ok := []pec.Tipo{pec.TipoErroreConsegna, pec.TipoNonAccettazione, pec.TipoRilevazioneVirus}
				if p.Errore == pec.ErroreVirus && !slices.Contains(ok, p.Tipo) {
					return fail("errore virus in a %s", p.Tipo)
				}
				return pass("consistent")
			}),
		datRule("DAT-18", Observed, "RFC6109 §4.4", "gestore-emittente non-empty; with an index, the signer's providerName",
			func(x *Msg, p *pec.Postacert) outcome {
				if strings.TrimSpace(p.Dati.GestoreEmittente) == "" {
					return warn("empty gestore-emittente")
				}
				if prov, _ := x.signerProvider(); prov != nil && !strings.EqualFold(strings.TrimSpace(p.Dati.GestoreEmittente), prov.Name) {
					return warn("gestore-emittente %q, providerName %q", p.Dati.GestoreEmittente, prov.Name)
				}
				return pass("%s", p.Dati.GestoreEmittente)
			}),
		datRule("DAT-19", Must, "RFC6109 §3.1.4", "XML content matches the text (date, time, zone, sender, identificativo)",
			func(x *Msg, p *pec.Postacert) outcome {
				d := p.Dati.Data
				for _, item := range []string{d.Giorno, d.Ora, d.Zona, strings.TrimSpace(p.Intestazione.Mittente), p.Dati.Identificativo} {
					if item = strings.TrimSpace(item); item != "" && !strings.Contains(x.text, item) {
						if item == d.Zona && strings.Contains(x.text, item[:3]+":"+item[3:]) {
							continue // (+01:00) form, pec-rules A5
						}
						return fail("text lacks %q from daticert", item)
					}
				}
				return pass("text and XML agree")
			}),
		datRule("DAT-20", Must, "RFC6109 §4.3.3", "oggetto equals the original subject, decoded",
			func(x *Msg, p *pec.Postacert) outcome {
				if p.Intestazione.Oggetto == nil {
					return na("no oggetto")
				}
				o := strings.TrimSpace(*p.Intestazione.Oggetto)
				if strings.Contains(o, "=?") && strings.Contains(o, "?=") {
					return fail("oggetto %q is still RFC 2047-encoded", o)
				}
				if rest := strings.TrimSpace(strings.TrimPrefix(x.subject(), prefix(x))); rest != o {
					return fail("oggetto %q, Subject carries %q", o, rest)
				}
				return pass("%q", o)
			}),
	}
}

// orderRule checks one element's content model, apart from the whole DTD.
func orderRule(id, elem, title string) Rule {
	return Rule{ID: id, Level: Must, Section: "RFC6109 §4.4", Kinds: withDaticert, Title: title,
		check: func(x *Msg) outcome {
			root, o, ok := x.daticertXML()
			if !ok {
				return o
			}
			for _, c := range root.children {
				if c.name == elem {
					if msg := matchSequence(daticertDTD[elem].children, c.children); msg != "" {
						return fail("<%s>: %s", elem, msg)
					}
					return pass("<%s> in DTD order", elem)
				}
			}
			return fail("no <%s>", elem)
		}}
}

func init() {
	register(
		orderRule("DAT-05", "intestazione", "intestazione has mittente, destinatari+, risposte, oggetto? in order"),
		orderRule("DAT-07", "dati", "dati has gestore-emittente, data, identificativo, msgid?, ricevuta?, consegna?, ricezione*, errore-esteso? in order"),
	)
}
