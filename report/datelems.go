package report

import (
	"slices"
	"strings"
	"unicode/utf8"
)

func datElements() []Rule {
	return []Rule{
		datRule("DAT-12", Must, "RFC6109 §2.2.1", "msgid equals X-Riferimento-Message-ID (brackets normalised)",
			func(x *Msg, d *certData) outcome {
				m, ref := deref(d.Msgid), x.header(hRiferimento)
				switch {
				case m == "" && ref == "":
					return na("no msgid and no %s", hRiferimento)
				case ref == "":
					return na("no %s to compare msgid with (GEN-15 judges its absence)", hRiferimento)
				case normID(m) != normID(ref):
					return fail("msgid %q, %s %q", m, hRiferimento, ref)
				}
				return pass("%s", m)
			}),
		datRule("DAT-13", Must, "RFC6109 §4.4", "ricevuta present for posta-certificata and avvenuta-consegna",
			func(x *Msg, d *certData) outcome {
				needs := d.Tipo == vPostaCertificata || d.Tipo == vAvvenutaConsegna
				switch {
				case needs && d.Ricevuta == nil:
					return fail("no <ricevuta> in a %s", d.Tipo)
				case !needs && d.Ricevuta != nil:
					return warn("<ricevuta> in a %s (not expected)", d.Tipo)
				case needs:
					return pass("ricevuta tipo %s", d.ricevuta())
				}
				return pass("absent, as expected")
			}),
		datRule("DAT-14", Must, "RFC6109 §4.4", "consegna present exactly for delivery, non-delivery, timeout and virus-detection types",
			func(x *Msg, d *certData) outcome {
				needs := slices.Contains(withConsegna, d.Tipo)
				has := d.Consegna != nil
				switch {
				case needs && !has && d.Tipo == vRilevazioneVirus && len(d.Ricezione) > 0:
					return warn("rilevazione-virus with <ricezione> instead of <consegna> (observed, pec-rules A15)")
				case needs && !has:
					return fail("no <consegna> in a %s", d.Tipo)
				case !needs && has:
					return fail("<consegna> in a %s", d.Tipo)
				}
				return pass("consegna %s", map[bool]string{true: "present", false: "absent"}[has])
			}),
		datRule("DAT-15", Must, "RFC6109 §4.4", "ricezione only in presa-in-carico",
			func(x *Msg, d *certData) outcome {
				if len(d.Ricezione) > 0 && d.Tipo != vPresaInCarico && d.Tipo != vRilevazioneVirus {
					return fail("<ricezione> in a %s", d.Tipo)
				}
				return pass("%d ricezione", len(d.Ricezione))
			}),
		datRule("DAT-16", Must, "RFC6109 §4.4", "errore-esteso present iff errore is not nessuno",
			func(x *Msg, d *certData) outcome {
				errs := d.errore() != eNessuno
				has := deref(d.Esteso) != ""
				switch {
				case errs && !has:
					return fail("errore %q without errore-esteso", d.Errore)
				case !errs && has:
					return warn("errore-esteso with errore nessuno")
				}
				return pass("consistent")
			}),
		datRule("DAT-17", Must, "RFC6109 §4.4", "errore virus only with errore-consegna, non-accettazione, rilevazione-virus",
			func(x *Msg, d *certData) outcome {
				ok := []string{vErroreConsegna, vNonAccettazione, vRilevazioneVirus}
				if d.Errore == eVirus && !slices.Contains(ok, d.Tipo) {
					return fail("errore virus in a %s", d.Tipo)
				}
				return pass("consistent")
			}),
		datRule("DAT-18", Observed, "RFC6109 §4.4", "gestore-emittente non-empty; with an index, the signer's providerName",
			func(x *Msg, d *certData) outcome {
				if d.Gestore == "" {
					return warn("empty gestore-emittente")
				}
				if prov, _ := x.signerProvider(); prov != nil && !strings.EqualFold(d.Gestore, prov.Name) {
					return warn("gestore-emittente %q, providerName %q", d.Gestore, prov.Name)
				}
				return pass("%s", d.Gestore)
			}),
		{ID: "DAT-19", Level: Must, Section: "RFC6109 §3.1.4", Kinds: dataPEC, Needs: []need{needText, needDaticert},
			Title: "XML content matches the text (date, time, zone, sender)",
			Note:  "the identificativo in the text is GEN-18's finding, not repeated here",
			check: func(x *Msg) outcome {
				d := x.dc
				for _, item := range []string{d.Giorno, d.Ora, d.Zona, d.Mittente} {
					if item != "" && !strings.Contains(x.text, item) {
						if item == d.Zona && len(item) == 5 && strings.Contains(x.text, item[:3]+":"+item[3:]) {
							continue // (+01:00) form, pec-rules A5
						}
						return fail("text lacks %q from daticert%s", item, faultNote(x.textFault))
					}
				}
				return pass("text and XML agree")
			}},
		datRule("DAT-20", Must, "RFC6109 §4.3.3", "Non-ASCII subjects preserved in oggetto (decoded RFC 2047 → UTF-8)",
			func(x *Msg, d *certData) outcome {
				raw, rest := x.header("Subject"), strings.TrimSpace(strings.TrimPrefix(x.subject(), prefix(x)))
				ascii := isASCII([]byte(x.subject())) && isASCII([]byte(deref(d.Oggetto))) && !strings.Contains(deref(d.Oggetto), "=?")
				switch {
				case d.Oggetto == nil:
					return na("no oggetto")
				case ascii && rest == *d.Oggetto:
					return pass("%q (ASCII, nothing to decode)", *d.Oggetto)
				case ascii:
					return na("an ASCII subject that differs from oggetto: GEN-14 (or TRN-13 on the envelope) reports it")
				case strings.Contains(*d.Oggetto, "=?") && strings.Contains(*d.Oggetto, "?="):
					return fail("oggetto %q is still RFC 2047-encoded", *d.Oggetto)
				case !utf8.ValidString(*d.Oggetto):
					return fail("oggetto is not UTF-8")
				case rest != *d.Oggetto:
					return fail("oggetto %q, the Subject (%q) decodes to %q", *d.Oggetto, raw, rest)
				}
				return pass("%q", *d.Oggetto)
			}),
	}
}

// orderRule checks one element's content model, apart from the whole DTD.
func orderRule(id, elem, title string) Rule {
	return Rule{ID: id, Level: Must, Section: "RFC6109 §4.4", Kinds: dataPEC, Title: title, Needs: []need{needDaticert},
		check: func(x *Msg) outcome {
			root, _, _ := x.daticertXML()
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
