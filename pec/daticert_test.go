package pec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// namirial is the daticert of pec-rules §3.4 (a real busta di trasporto),
// completed with the elements a receipt carries.
const namirial = `<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="posta-certificata" errore="nessuno">
  <intestazione>
    <mittente>sender@namirialpec.example</mittente>
    <destinatari tipo="esterno">someone@example.ch</destinatari>
    <destinatari tipo="certificato">other@pec.example.it</destinatari>
    <risposte>sender@namirialpec.example</risposte>
    <oggetto>Prova &amp; verifica è</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Namirial S.p.A.</gestore-emittente>
    <data zona="+0100"><giorno>05/12/2024</giorno><ora>00:02:10</ora></data>
    <identificativo>opec21192.20241205000210.24820.46.1.184@sicurezzapostale.it</identificativo>
    <msgid>&lt;2839ed57@email.android.com&gt;</msgid>
    <ricevuta tipo="completa" />
    <consegna>other@pec.example.it</consegna>
    <ricezione>a@pec.example.it</ricezione>
    <ricezione>b@pec.example.it</ricezione>
    <errore-esteso>5.1.1 - utente sconosciuto</errore-esteso>
  </dati>
</postacert>
`

// TestParseDaticert reads every element and attribute of a literal document.
func TestParseDaticert(t *testing.T) {
	p, err := ParseDaticert(strings.NewReader(namirial))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{string(p.Tipo), string(p.Errore), p.Intestazione.Mittente,
		p.Intestazione.Destinatari[0].Tipo, p.Intestazione.Destinatari[0].Indirizzo,
		p.Intestazione.Destinatari[1].Tipo, p.Intestazione.Destinatari[1].Indirizzo,
		p.Intestazione.Risposte, *p.Intestazione.Oggetto, p.Dati.GestoreEmittente,
		p.Dati.Data.Zona, p.Dati.Data.Giorno, p.Dati.Data.Ora, p.Dati.Identificativo, *p.Dati.Msgid,
		string(p.Dati.Ricevuta.Tipo), *p.Dati.Consegna, strings.Join(p.Dati.Ricezione, ","), *p.Dati.ErroreEsteso}
	want := []string{"posta-certificata", "nessuno", "sender@namirialpec.example",
		"esterno", "someone@example.ch", "certificato", "other@pec.example.it",
		"sender@namirialpec.example", "Prova & verifica è", "Namirial S.p.A.",
		"+0100", "05/12/2024", "00:02:10", "opec21192.20241205000210.24820.46.1.184@sicurezzapostale.it",
		"<2839ed57@email.android.com>", "completa", "other@pec.example.it", "a@pec.example.it,b@pec.example.it",
		"5.1.1 - utente sconosciuto"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
	at, err := p.Dati.Data.Instant()
	if err != nil || !at.Equal(time.Date(2024, 12, 4, 23, 2, 10, 0, time.UTC)) {
		t.Errorf("Instant = %v, %v", at, err)
	}
	minimal, err := ParseDaticert(strings.NewReader(`<postacert tipo="accettazione"><intestazione><mittente>a@x</mittente>` +
		`</intestazione><dati/></postacert>`))
	if err != nil || minimal.Intestazione.Oggetto != nil || minimal.Dati.Msgid != nil || minimal.Dati.Ricevuta != nil ||
		minimal.Dati.Consegna != nil || minimal.Errore != "" {
		t.Errorf("absent optional elements: %+v %v", minimal, err)
	}
}

func TestParseDaticertRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"doctype":   `<?xml version="1.0"?><!DOCTYPE postacert SYSTEM "daticert.dtd"><postacert tipo="accettazione"/>`,
		"entity":    `<postacert tipo="accettazione"><!ENTITY x "y"></postacert>`,
		"latin1":    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><postacert tipo=\"accettazione\">\xe8</postacert>",
		"unclosed":  `<postacert tipo="accettazione"><intestazione>`,
		"too-large": `<postacert tipo="accettazione">` + strings.Repeat(" ", MaxDaticertSize) + `</postacert>`,
		"not-xml":   "Subject: hello\r\n\r\n",
	} {
		if _, err := ParseDaticert(strings.NewReader(doc)); !errors.Is(err, ErrDaticert) {
			t.Errorf("%s: err %v, want ErrDaticert", name, err)
		}
	}
}

// TestMarshalDaticert writes the element names and order of the DTD (RFC
// 6109 §4.4) byte for byte.
func TestMarshalDaticert(t *testing.T) {
	p := &Postacert{Tipo: "avvenuta-consegna", Errore: "nessuno",
		Intestazione: Intestazione{Mittente: "a@pec.alpha.test", Destinatari: []Destinatario{{Tipo: "certificato", Indirizzo: "b@pec.beta.test"}},
			Risposte: "a@pec.alpha.test", Oggetto: Str("Prova <1>")},
		Dati: Dati{GestoreEmittente: "Beta", Data: Data{Zona: "+0100", Giorno: "15/11/2026", Ora: "18:20:38"},
			Identificativo: "opec1@pec.alpha.test", Msgid: Str("<x@mua>"), Ricevuta: &RicevutaTipo{Tipo: "breve"},
			Consegna: Str("b@pec.beta.test"), Ricezione: []string{"c@pec.beta.test"}, ErroreEsteso: Str("none")}}
	got, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="avvenuta-consegna" errore="nessuno">
  <intestazione>
    <mittente>a@pec.alpha.test</mittente>
    <destinatari tipo="certificato">b@pec.beta.test</destinatari>
    <risposte>a@pec.alpha.test</risposte>
    <oggetto>Prova &lt;1&gt;</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Beta</gestore-emittente>
    <data zona="+0100">
      <giorno>15/11/2026</giorno>
      <ora>18:20:38</ora>
    </data>
    <identificativo>opec1@pec.alpha.test</identificativo>
    <msgid>&lt;x@mua&gt;</msgid>
    <ricevuta tipo="breve"></ricevuta>
    <consegna>b@pec.beta.test</consegna>
    <ricezione>c@pec.beta.test</ricezione>
    <errore-esteso>none</errore-esteso>
  </dati>
</postacert>
`
	if string(got) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseDaticert(bytes.NewReader(got))
	if err != nil || *back.Intestazione.Oggetto != "Prova <1>" || back.Dati.Ricezione[0] != "c@pec.beta.test" {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

// TestDateFormats: the Italian legal time renderings of RFC 6109 §4.2.
func TestDateFormats(t *testing.T) {
	winter := time.Date(2026, 1, 15, 17, 20, 38, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 16, 20, 38, 0, time.UTC)
	if d := DataOf(winter); d != (Data{Zona: "+0100", Giorno: "15/01/2026", Ora: "18:20:38"}) {
		t.Errorf("DataOf(winter) = %+v", d)
	}
	if d := DataOf(summer); d != (Data{Zona: "+0200", Giorno: "15/07/2026", Ora: "18:20:38"}) {
		t.Errorf("DataOf(summer) = %+v", d)
	}
	if g, o, z := TextInstant(summer); g+" "+o+" "+z != "15/07/2026 18:20:38 (+0200)" {
		t.Errorf("TextInstant = %s %s %s", g, o, z)
	}
	if h := DateHeader(winter); h != "Thu, 15 Jan 2026 18:20:38 +0100" {
		t.Errorf("DateHeader = %q", h)
	}
}
