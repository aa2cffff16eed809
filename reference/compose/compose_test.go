package compose

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
)

const original = "Received: from client by pec.alpha.test;\r\n\tSun, 22 Nov 2026 12:00:00 +0100\r\n" +
	"From: Alice <alice@pec.alpha.test>\r\nTo: bob@pec.beta.test,\r\n carol@example.org\r\n" +
	"Cc: dave@pec.beta.test\r\nSubject: =?utf-8?q?Caff=C3=A8?=\r\nMessage-ID: <abc@client>\r\n\r\nbody\r\n"

func TestSplitMessageKeepsRawFields(t *testing.T) {
	h, body := SplitMessage([]byte(original))
	if string(body) != "body\r\n" {
		t.Errorf("body = %q", body)
	}
	if got := h.Addresses("To"); strings.Join(got, ",") != "bob@pec.beta.test,carol@example.org" {
		t.Errorf("To = %v", got)
	}
	if got := h.Subject(); got != "Caffè" {
		t.Errorf("Subject = %q, want Caffè", got)
	}
	if got := h.All("received")[0].FoldedValue(); got != "from client by pec.alpha.test;\r\n\tSun, 22 Nov 2026 12:00:00 +0100" {
		t.Errorf("Received folded = %q", got)
	}
	if !bytes.Equal(append(h.Bytes(), body...), []byte(original)) {
		t.Errorf("header round trip changed bytes:\n%q", append(h.Bytes(), body...))
	}
}

func TestSplitMessageLF(t *testing.T) {
	h, body := SplitMessage([]byte("From: a@b\nSubject: x\n\nhello\n"))
	if h.Get("subject") != "x" || string(body) != "hello\n" {
		t.Errorf("got %q / %q", h.Get("subject"), body)
	}
}

func TestMixedParsesBack(t *testing.T) {
	p := &pec.Postacert{Tipo: pec.TipoAccettazione, Errore: pec.ErroreNessuno}
	p.Intestazione.Destinatari = []pec.Destinatario{{Tipo: pec.DestCertificato, Indirizzo: "bob@pec.beta.test"}}
	p.Dati.Data = pec.DataOf(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC))
	dati, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	entity := Mixed{Text: "Il messaggio è stato accettato\n", Daticert: dati, Original: []byte(original)}.Bytes()
	m := pec.Parse(append([]byte("Subject: t\r\nMIME-Version: 1.0\r\n"), entity...))
	if len(m.Problems) > 0 {
		t.Fatalf("problems: %v", m.Problems)
	}
	if m.Text == nil || m.Daticert == nil || m.Original == nil {
		t.Fatalf("parts not found: text=%v daticert=%v original=%v", m.Text != nil, m.Daticert != nil, m.Original != nil)
	}
	text, _ := m.Text.Decoded()
	if !bytes.Contains(text, []byte("\xe8 stato")) {
		t.Errorf("text is not ISO-8859-1: %q", text)
	}
	if !bytes.Equal(m.Original.Body, []byte(original)) {
		t.Errorf("original changed:\n%q", m.Original.Body)
	}
	if m.Postacert == nil || m.Postacert.Dati.Data.Zona != "+0200" {
		t.Errorf("daticert = %+v", m.Postacert)
	}
}

func TestTextsCarryTheFacts(t *testing.T) {
	f := Facts{Instant: time.Date(2026, 1, 15, 17, 20, 38, 0, time.UTC), Subject: "Test", Sender: "alice@pec.alpha.test",
		Recipients: []Recipient{{"bob@pec.beta.test", true}, {"carol@example.org", false}}, Recipient: "bob@pec.beta.test",
		ID: "opec1@pec.alpha.test", Error: "5.1.1 - casella inesistente"}
	for name, text := range map[string]string{
		"accettazione": TextAccettazione(f), "trasporto": TextTrasporto(f), "presa": TextPresaInCarico(f),
		"consegna": TextConsegna(f, pec.TipoCompleta), "errore": TextErroreConsegna(f),
	} {
		for _, want := range []string{"15/01/2026", "18:20:38", "(+0100)", `"Test"`, f.ID} {
			if !strings.Contains(text, want) {
				t.Errorf("%s text lacks %q:\n%s", name, want, text)
			}
		}
	}
	if acc := TextAccettazione(f); !strings.Contains(acc, `carol@example.org ("posta ordinaria")`) ||
		!strings.Contains(acc, `bob@pec.beta.test ("posta certificata")`) {
		t.Errorf("accettazione lacks type words:\n%s", acc)
	}
	if a := TextAnomalia(f); strings.Contains(a, "Identificativo") || !strings.Contains(a, f.Error) {
		t.Errorf("anomalia text wrong:\n%s", a)
	}
}

// TestMixedHTMLAlternative: with HTML the text part is multipart/alternative
// of text/plain and text/html (RFC 6109 §4.3.1, GEN-04); the HTML carries
// the text's facts escaped (GEN-07) and no resource or script (GEN-05/06).
func TestMixedHTMLAlternative(t *testing.T) {
	f := Facts{Instant: time.Date(2026, 1, 15, 17, 20, 38, 0, time.UTC), Subject: `<b>Test</b> & "più"`,
		Sender: "alice@pec.alpha.test", Recipients: []Recipient{{"bob@pec.beta.test", true}}, ID: "opec1@pec.alpha.test"}
	entity := Mixed{Text: TextAccettazione(f), HTML: true}.Bytes()
	m := pec.Parse(append([]byte("Subject: t\r\nMIME-Version: 1.0\r\n"), entity...))
	if len(m.Problems) > 0 || m.Text == nil {
		t.Fatalf("problems %v, text %v", m.Problems, m.Text != nil)
	}
	if mt, _ := m.Text.MediaType(); mt != "multipart/alternative" {
		t.Fatalf("text part is %s", mt)
	}
	parts, err := m.Text.Parts()
	if err != nil || len(parts) != 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	plain, _ := m.PlainText()
	page, _ := parts[1].Decoded()
	if mt, _ := parts[1].MediaType(); mt != "text/html" {
		t.Fatalf("second part is %s", mt)
	}
	for _, want := range []string{"15/01/2026", "18:20:38", f.ID} {
		if !bytes.Contains(plain, []byte(want)) || !bytes.Contains(page, []byte(want)) {
			t.Errorf("%q missing: text %v, html %v", want, bytes.Contains(plain, []byte(want)), bytes.Contains(page, []byte(want)))
		}
	}
	if bytes.Contains(page, []byte("<b>Test")) || !bytes.Contains(page, []byte("&lt;b&gt;Test")) {
		t.Errorf("the subject is not escaped in the HTML:\n%s", page)
	}
	for _, bad := range []string{"src=", "<script", "<img", "url("} {
		if bytes.Contains(bytes.ToLower(page), []byte(bad)) {
			t.Errorf("HTML has %q", bad)
		}
	}
}
