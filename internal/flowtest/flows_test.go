package flowtest

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/report"
)

// TestFlows runs every flow of the reference pair on one lab, in an order
// that lets the clock be advanced last (the timers see every earlier
// transaction closed), then checks that the run produced every X-Ricevuta
// value of RFC 6109 Appendix A and both X-Trasporto values.
func TestFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab")
	}
	h := newHarness(t)
	for _, f := range []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"receipt-types", receiptTypes},
		{"multi-recipient", multiRecipient},
		{"non-delivery", nonDelivery},
		{"non-acceptance", nonAcceptance},
		{"virus-at-acceptance", virusAtAcceptance},
		{"anomaly", anomaly},
		{"virus-at-reception", virusAtReception},
		{"timeouts", timeouts},
		{"registro", registro},
		{"signed-index", signedIndex},
	} {
		if !t.Run(f.name, func(t *testing.T) { f.run(t, h) }) && f.name == "receipt-types" {
			t.FailNow()
		}
	}
	for _, r := range []pec.Ricevuta{pec.RicevutaAccettazione, pec.RicevutaNonAccettazione, pec.RicevutaPresaInCarico,
		pec.RicevutaAvvenutaConsegna, pec.RicevutaErroreConsegna, pec.RicevutaPreavvisoErroreConsegna,
		pec.RicevutaRilevazioneVirus} {
		if h.kinds[pec.KindOfRicevuta(r)] == 0 {
			t.Errorf("no flow produced X-Ricevuta: %s", r)
		}
	}
	for _, x := range []pec.Trasporto{pec.TrasportoPostaCertificata, pec.TrasportoErrore} {
		if h.trasp[string(x)] == 0 {
			t.Errorf("no flow produced X-Trasporto: %s", x)
		}
	}
	t.Log(h)
}

func names(l *lab.Lab) (a, b *lab.Instance, alice, bob, bAlice, bBob lab.Account) {
	a, b = l.Provider("alpha"), l.Provider("beta")
	return a, b, a.Accounts[0], a.Accounts[1], b.Accounts[0], b.Accounts[1]
}

const withAttachment = "From: %s\r\nTo: %s\r\nCc: %s\r\nSubject: %s\r\nMessage-ID: %s\r\nX-TipoRicevuta: %s\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIn allegato l'atto.\r\n" +
	"--b1\r\nContent-Type: application/pdf; name=\"atto.pdf\"\r\nContent-Disposition: attachment; filename=\"atto.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==\r\n--b1--\r\n"

// receiptTypes: completa, breve and sintetica to a To recipient, sintetica to
// a Cc recipient (RFC 6109 §3.3.2.1–3), each transaction graded whole.
func receiptTypes(t *testing.T, h *harness) {
	a, b, alice, _, bAlice, bBob := names(h.l)
	for _, tipo := range []string{"completa", "breve", "sintetica"} {
		id := "<" + tipo + "." + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "@client.test>"
		subject := "Ricevuta " + tipo
		raw := []byte(sprintf(withAttachment, alice.Address, bBob.Address, bAlice.Address, subject, id, tipo))
		if err := h.submit(t, a, alice, []string{bBob.Address, bAlice.Address}, raw); err != nil {
			t.Fatalf("%s: submit: %v", tipo, err)
		}
		acc := h.wait(t, a, alice, "accettazione", refersTo(pec.KindAccettazione, id))
		envTo := h.wait(t, b, bBob, "envelope", refersTo(pec.KindTrasporto, id))
		envCc := h.wait(t, b, bAlice, "envelope", refersTo(pec.KindTrasporto, id))
		pic := h.wait(t, a, a.Receipts, "presa in carico", refersTo(pec.KindPresaInCarico, id))
		var cons [][]byte
		for _, r := range []string{bBob.Address, bAlice.Address} {
			c := h.wait(t, a, alice, "consegna for "+r, func(m *pec.Message) bool {
				return refersTo(pec.KindAvvenutaConsegna, id)(m) && m.Postacert != nil &&
					m.Postacert.Dati.Consegna != nil && strings.EqualFold(*m.Postacert.Dati.Consegna, r)
			})
			cons = append(cons, c)
		}
		wantTo := pec.TipoRicevuta(tipo)
		for i, want := range []pec.TipoRicevuta{wantTo, pec.TipoSintetica} {
			m := pec.Parse(cons[i])
			if got := m.Postacert.Dati.Ricevuta; got == nil || got.Tipo != want {
				t.Errorf("%s: consegna %d has ricevuta %+v, want %s", tipo, i, got, want)
			}
			if (want == pec.TipoSintetica) != (m.Original == nil) {
				t.Errorf("%s: consegna %d (%s) carries original=%v", tipo, i, want, m.Original != nil)
			}
		}
		if tipo == "breve" && !bytes.Contains(cons[0], []byte("atto.pdf.hash")) {
			t.Errorf("breve consegna without atto.pdf.hash")
		}
		h.judge(t, acc, envTo, envCc, pic, cons[0], cons[1])
		caps := append(captured(alice.Address, false, acc, cons[0], cons[1]), captured(bBob.Address, false, envTo)...)
		caps = append(caps, captured(bAlice.Address, false, envCc)...)
		caps = append(caps, captured(a.Receipts.Address, true, pic)...)
		h.tx(t, report.Submission{Sender: alice.Address, To: []string{bBob.Address}, Cc: []string{bAlice.Address},
			MessageID: id}, caps)
	}
}

// multiRecipient: two PEC providers (one the sender's own), external
// recipients in To and Cc (RFC 6109 §3.1.4, §3.2.1; pec-rules §7.4).
func multiRecipient(t *testing.T, h *harness) {
	a, b, alice, bob, _, bBob := names(h.l)
	x := h.l.External
	to := []string{bBob.Address, bob.Address, x.Accounts[0].Address}
	cc := []string{x.Accounts[1].Address}
	id, raw := original(alice.Address, to, cc, "Destinatari misti")
	if err := h.submit(t, a, alice, append(to, cc...), raw); err != nil {
		t.Fatal(err)
	}
	acc := h.wait(t, a, alice, "accettazione", refersTo(pec.KindAccettazione, id))
	m := pec.Parse(acc)
	types := map[string]string{}
	for _, d := range m.Postacert.Intestazione.Destinatari {
		types[strings.TrimSpace(d.Indirizzo)] = d.Tipo
	}
	for _, r := range to[:2] {
		if types[r] != pec.DestCertificato {
			t.Errorf("accettazione lists %s as %q, want certificato", r, types[r])
		}
	}
	for _, r := range []string{to[2], cc[0]} {
		if types[r] != pec.DestEsterno {
			t.Errorf("accettazione lists %s as %q, want esterno", r, types[r])
		}
	}
	envB := h.wait(t, b, bBob, "envelope at beta", refersTo(pec.KindTrasporto, id))
	envA := h.wait(t, a, bob, "envelope at alpha (same domain)", refersTo(pec.KindTrasporto, id))
	var picA, picB []byte
	for _, prov := range []string{"Reference Alpha", "Reference Beta"} {
		p := h.wait(t, a, a.Receipts, "presa in carico of "+prov, func(m *pec.Message) bool {
			return refersTo(pec.KindPresaInCarico, id)(m) && m.Postacert.Dati.GestoreEmittente == prov
		})
		if prov == "Reference Alpha" {
			picA = p
		} else {
			picB = p
		}
	}
	var cons [][]byte
	for _, r := range to[:2] {
		cons = append(cons, h.wait(t, a, alice, "consegna for "+r, func(m *pec.Message) bool {
			return refersTo(pec.KindAvvenutaConsegna, id)(m) && strings.EqualFold(*m.Postacert.Dati.Consegna, r)
		}))
	}
	ext := waitExternal(t, x, x.Accounts[0].Address, id)
	extCc := waitExternal(t, x, x.Accounts[1].Address, id)
	if e := pec.Parse(ext); e.Kind() != pec.KindTrasporto {
		t.Errorf("the external recipient got a %s, want the busta di trasporto", e.Kind())
	}
	h.judge(t, acc, envA, envB, picA, picB, ext, extCc)
	h.judge(t, cons...)
	caps := append(captured(alice.Address, false, append([][]byte{acc}, cons...)...),
		captured(a.Receipts.Address, true, picA, picB)...)
	caps = append(caps, captured(bBob.Address, false, envB)...)
	caps = append(caps, captured(bob.Address, false, envA)...)
	h.tx(t, report.Submission{Sender: alice.Address, To: to, Cc: cc, MessageID: id}, caps)
}

// waitExternal polls the ordinary domain's store (it is not a PEC system and
// has no notification to wait on; the bound is the test's).
func waitExternal(t *testing.T, x *lab.External, addr, msgid string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs, err := x.Messages(addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if bytes.Contains(m, []byte(msgid)) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never received %s", addr, msgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nonDelivery: an unknown mailbox (no-dest) and a full one (altro) give an
// avviso di mancata consegna (RFC 6109 §3.3.3).
func nonDelivery(t *testing.T, h *harness) {
	a, b, alice, _, _, _ := names(h.l)
	for _, c := range []struct {
		rcpt string
		want pec.Errore
	}{{"nessuno@" + b.Domain, pec.ErroreNoDest}, {lab.FullMailbox + "@" + b.Domain, pec.ErroreAltro}} {
		id, raw := original(alice.Address, []string{c.rcpt}, nil, "Mancata consegna "+string(c.want))
		if err := h.submit(t, a, alice, []string{c.rcpt}, raw); err != nil {
			t.Fatal(err)
		}
		acc := h.wait(t, a, alice, "accettazione", refersTo(pec.KindAccettazione, id))
		pic := h.wait(t, a, a.Receipts, "presa in carico", refersTo(pec.KindPresaInCarico, id))
		errc := h.wait(t, a, alice, "errore-consegna", refersTo(pec.KindErroreConsegna, id))
		if got := pec.Parse(errc).Postacert.Errore; got != c.want {
			t.Errorf("%s: errore %q, want %q", c.rcpt, got, c.want)
		}
		h.judge(t, acc, pic, errc)
		h.tx(t, report.Submission{Sender: alice.Address, To: []string{c.rcpt}, MessageID: id},
			append(captured(alice.Address, false, acc, errc), captured(a.Receipts.Address, true, pic)...))
	}
}

// nonAcceptance: each formal fault of RFC 6109 §3.1.1 (APC-03…08) gives one
// avviso di non accettazione and no envelope.
func nonAcceptance(t *testing.T, h *harness) {
	a, _, alice, _, _, bBob := names(h.l)
	big := strings.Repeat(strings.Repeat("x", 76)+"\r\n", 16<<20/78)
	cases := []struct {
		rule  string
		rcpt  []string
		build func(id string) string
	}{
		{"APC-03", []string{bBob.Address}, func(id string) string {
			return "To: " + bBob.Address + "\r\nSubject: senza mittente\r\nMessage-ID: " + id + "\r\n\r\nciao\r\n"
		}},
		{"APC-04", []string{bBob.Address}, func(id string) string {
			return "From: " + alice.Address + "\r\nSubject: senza destinatari\r\nMessage-ID: " + id + "\r\n\r\nciao\r\n"
		}},
		{"APC-05", []string{bBob.Address}, func(id string) string {
			return "From: altro@" + a.Domain + "\r\nTo: " + bBob.Address + "\r\nSubject: mittente diverso\r\nMessage-ID: " + id + "\r\n\r\nciao\r\n"
		}},
		{"APC-06", []string{bBob.Address, "terzo@pec.beta.test"}, func(id string) string {
			return "From: " + alice.Address + "\r\nTo: " + bBob.Address + "\r\nSubject: destinatari diversi\r\nMessage-ID: " + id + "\r\n\r\nciao\r\n"
		}},
		{"APC-07", []string{bBob.Address}, func(id string) string {
			return "From: " + alice.Address + "\r\nTo: " + bBob.Address + "\r\nBcc: nascosto@pec.beta.test\r\nSubject: con Bcc\r\nMessage-ID: " + id + "\r\n\r\nciao\r\n"
		}},
		{"APC-08", []string{bBob.Address, alice.Address}, func(id string) string {
			return "From: " + alice.Address + "\r\nTo: " + bBob.Address + ", " + alice.Address + "\r\nSubject: troppo grande\r\nMessage-ID: " + id + "\r\n\r\n" + big + "\r\n"
		}},
	}
	for _, c := range cases {
		id := "<" + strings.ToLower(c.rule) + "." + time.Now().Format("150405.000000") + "@client.test>"
		if err := h.submit(t, a, alice, c.rcpt, []byte(c.build(id))); err != nil {
			t.Errorf("%s: submission refused at SMTP level: %v", c.rule, err)
			continue
		}
		nac := h.wait(t, a, alice, c.rule+" non-accettazione", refersTo(pec.KindNonAccettazione, id))
		m := pec.Parse(nac)
		if m.Postacert.Errore != pec.ErroreAltro || m.Original != nil {
			t.Errorf("%s: errore %q, original included %v", c.rule, m.Postacert.Errore, m.Original != nil)
		}
		h.judge(t, nac)
		h.tx(t, report.Submission{Sender: alice.Address, To: c.rcpt[:1], MessageID: id},
			captured(alice.Address, false, h.all(t, a, alice, id)...))
	}
}

// virusAtAcceptance: EICAR in a submission gives the avviso di non
// accettazione per virus and the original lands in the virus store.
func virusAtAcceptance(t *testing.T, h *harness) {
	a, _, alice, _, _, bBob := names(h.l)
	id, raw := original(alice.Address, []string{bBob.Address}, nil, "Allegato infetto")
	raw = append(raw, append(fixtures.EICAR, "\r\n"...)...)
	if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
		t.Fatal(err)
	}
	nac := h.wait(t, a, alice, "non-accettazione per virus", refersTo(pec.KindNonAccettazione, id))
	m := pec.Parse(nac)
	if m.Postacert.Errore != pec.ErroreVirus || m.Header(pec.HeaderVerificaSicurezza) != "errore" {
		t.Errorf("virus notice: errore %q, X-VerificaSicurezza %q", m.Postacert.Errore, m.Header(pec.HeaderVerificaSicurezza))
	}
	h.judge(t, nac)
	if !inVirusStore(t, a, id) {
		t.Errorf("the infected submission is not in alpha's virus store")
	}
}

func inVirusStore(t *testing.T, in *lab.Instance, needle string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(in.Dir, "data", "virus", "*.eml"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(needle)) {
			return true
		}
	}
	return false
}

// anomaly: ordinary mail gives a busta di anomalia (RFC 6109 §3.2.2) and no
// receipt; a mailbox that refuses ordinary mail refuses it at SMTP level.
func anomaly(t *testing.T, h *harness) {
	_, b, _, _, _, bBob := names(h.l)
	x := h.l.External
	id, raw := original(x.Accounts[0].Address, []string{bBob.Address}, nil, "Posta ordinaria")
	if err := plainMX(mxAddr(b), x.Accounts[0].Address, []string{bBob.Address}, raw); err != nil {
		t.Fatalf("ordinary mail to beta's MX: %v", err)
	}
	ano := h.wait(t, b, bBob, "anomalia", func(m *pec.Message) bool {
		return m.Kind() == pec.KindAnomalia && m.Original != nil && bytes.Contains(m.Original.Body, []byte(id))
	})
	h.judge(t, ano)
	err := plainMX(mxAddr(b), x.Accounts[0].Address, []string{lab.PECOnlyMailbox + "@" + b.Domain}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("ordinary mail to a PEC-only mailbox: err = %v, want a 550 refusal", err)
	}
	// A message signed by a listed provider but not a correct envelope or
	// notice: an envelope stripped of its daticert.xml.
	forged := h.signAs(t, "alpha", []string{"From: \"Per conto di: " + bBob.Address + "\" <posta-certificata@pec.alpha.test>",
		"To: " + bBob.Address, "Subject: POSTA CERTIFICATA: senza dati", "Message-ID: <malformato.1@pec.alpha.test>",
		"X-Trasporto: posta-certificata", "Date: " + time.Now().Format(time.RFC1123Z)},
		"Content-Type: text/plain; charset=utf-8\r\n\r\nbusta senza dati di certificazione\r\n")
	if err := h.mx(t, b, "posta-certificata@pec.alpha.test", []string{bBob.Address}, forged); err != nil {
		t.Fatal(err)
	}
	ano2 := h.wait(t, b, bBob, "anomalia for a malformed envelope", func(m *pec.Message) bool {
		return m.Kind() == pec.KindAnomalia && m.Original != nil && bytes.Contains(m.Original.Body, []byte("<malformato.1@"))
	})
	h.judge(t, ano2)
}

// virusAtReception: an envelope alpha signed that carries a virus reaches
// beta: beta keeps it, does not deliver it, sends alpha one rilevazione virus
// per recipient; alpha tells its user with a mancata consegna per virus (RFC
// 6109 §3.2.3–4).
func virusAtReception(t *testing.T, h *harness) {
	a, b, alice, _, _, bBob := names(h.l)
	id, raw := original(alice.Address, []string{bBob.Address}, nil, "Busta da infettare")
	if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
		t.Fatal(err)
	}
	env := h.wait(t, b, bBob, "envelope", refersTo(pec.KindTrasporto, id))
	infected := h.resign(t, "alpha", env, "prova del flusso.", string(fixtures.EICAR))
	if err := h.mx(t, b, alice.Address, []string{bBob.Address}, infected); err != nil {
		t.Fatal(err)
	}
	rv := h.wait(t, a, a.Receipts, "rilevazione virus", refersTo(pec.KindRilevazioneVirus, id))
	errv := h.wait(t, a, alice, "mancata consegna per virus", refersTo(pec.KindErroreConsegna, id))
	if m := pec.Parse(errv); m.Postacert.Errore != pec.ErroreVirus {
		t.Errorf("mancata consegna per virus with errore %q", m.Postacert.Errore)
	}
	h.judge(t, rv, errv)
	if !inVirusStore(t, b, string(fixtures.EICAR)) {
		t.Errorf("the infected envelope is not in beta's virus store")
	}
	for _, m := range h.all(t, b, bBob, id) {
		if bytes.Contains(m, fixtures.EICAR) {
			t.Errorf("the infected envelope was delivered to %s", bBob.Address)
		}
	}
}

// timeouts: RFC 6109 §3.1.6 cases a, b and c on the advanced clock, beta
// withholding what each case needs.
func timeouts(t *testing.T, h *harness) {
	a, b, alice, _, _, bBob := names(h.l)
	hold := func(step, subject string) {
		h.admin(t, b, http.MethodPost, "/holds", `{"step":"`+step+`","subject":"`+subject+`"}`)
	}
	hold("consegna", "Caso A")
	hold("presa-in-carico", "Caso B")
	hold("consegna", "Caso B")
	hold("presa-in-carico", "Caso C")
	hold("consegna", "Caso C")
	defer h.admin(t, b, http.MethodDelete, "/holds", "")
	ids := map[string]string{}
	for _, c := range []string{"Caso A", "Caso B", "Caso C"} {
		id, raw := original(alice.Address, []string{bBob.Address}, nil, c)
		if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
			t.Fatal(err)
		}
		ids[c] = id
		h.wait(t, a, alice, "accettazione", refersTo(pec.KindAccettazione, id))
	}
	h.wait(t, a, a.Receipts, "presa in carico (case a)", refersTo(pec.KindPresaInCarico, ids["Caso A"]))
	h.advance(t, 13*time.Hour)
	h.admin(t, b, http.MethodPost, "/holds/release?step=consegna&subject=Caso+B", "")
	h.wait(t, a, alice, "consegna (case b)", refersTo(pec.KindAvvenutaConsegna, ids["Caso B"]))
	h.advance(t, 12*time.Hour)
	want := map[string][]int{"Caso A": {24}, "Caso B": {12}, "Caso C": {12, 24}}
	for c, phases := range want {
		id := ids[c]
		msgs := h.all(t, a, alice, id)
		var got []int
		for _, raw := range msgs {
			m := pec.Parse(raw)
			if m.Kind() != pec.KindPreavvisoErroreConsegna {
				continue
			}
			txt, _ := m.PlainText()
			if bytes.Contains(txt, []byte("24 ore")) {
				got = append(got, 24)
			} else {
				got = append(got, 12)
			}
		}
		if sprintf("%v", got) != sprintf("%v", phases) {
			t.Errorf("%s: timeout notices %v, want %v (RFC 6109 §3.1.6)", c, got, phases)
		}
		h.judge(t, msgs...)
		caps := captured(alice.Address, false, msgs...)
		caps = append(caps, captured(a.Receipts.Address, true, h.all(t, a, a.Receipts, id)...)...)
		h.tx(t, report.Submission{Sender: alice.Address, To: []string{bBob.Address}, MessageID: id}, caps)
	}
}
