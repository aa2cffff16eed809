package receptionpoint

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
)

// eicarScanner finds EICAR in the bytes as given (no decoding): enough to
// tell which messages the reception point sends to the scanner at all.
var eicarScanner = antivirus.Func(func(_ context.Context, r io.Reader) (antivirus.Result, error) {
	data, err := io.ReadAll(r)
	if bytes.Contains(data, fixtures.EICAR) {
		return antivirus.Result{Infected: true, Signature: "EICAR"}, err
	}
	return antivirus.Result{}, err
})

type keptViruses struct{ n int }

func (k *keptViruses) Keep(io.Reader) error { k.n++; return nil }

// TestScanEverythingDelivered: no message reaches a mailbox unscanned. A
// correct envelope too deep to scan gets the rilevazione virus flow; ordinary
// mail too deep, and a malformed PEC message or a notice carrying a virus, are
// kept in the virus store and refused (issue 15).
func TestScanEverythingDelivered(t *testing.T) {
	p := testpki.NewCA(t)
	alpha, beta := sealer(t, p, "pec.alpha.test"), sealer(t, p, "pec.beta.test")
	dir := index.NewMemory(index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test",
		Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{alpha.Cert}})
	good := envelope(t, alpha)
	deep := string(fixtures.NestedMultipart("", antivirus.MaxDepthReception+1))
	malformed := bytes.Replace(good, []byte("X-Trasporto: posta-certificata"), []byte("X-Trasporto: forse"), 1)
	for name, tc := range map[string]struct {
		data    []byte
		refused bool
		notice  string // the errore-esteso of the rilevazione virus sent, if any
	}{
		"deep ordinary":      {[]byte("From: x@example.org\r\nTo: bob@pec.beta.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\n" + deep), true, ""},
		"malformed, virus":   {append(malformed[:len(malformed):len(malformed)], fixtures.EICAR...), true, ""},
		"notice with virus":  {noticeWith(t, alpha, string(fixtures.EICAR)), true, ""},
		"clean notice":       {noticeWith(t, alpha, "nulla"), false, ""},
		"envelope too deep":  {envelopeWith(t, alpha, "MIME-Version: 1.0\r\n"+deep), false, antivirus.SignatureNesting},
		"envelope at limits": {envelopeWith(t, alpha, "MIME-Version: 1.0\r\n"+string(fixtures.NestedMultipart("", antivirus.MaxDepthSubmission))), false, ""},
	} {
		d, out, kept := &fakeDelivery{}, &fakeOut{}, &keptViruses{}
		rp := &Point{Sealer: beta, Directory: dir, Trust: p.Pool, Delivery: d, Out: out, Clock: clock.System{},
			Domains: []string{"pec.beta.test"}, Scanner: eicarScanner, Viruses: kept}
		err := rp.Receive(context.Background(), Incoming{From: "alice@pec.alpha.test", To: []string{"bob@pec.beta.test"}, Data: tc.data})
		if tc.refused != errors.Is(err, ErrRefused) || (!tc.refused && err != nil) {
			t.Errorf("%s: err = %v, refused want %v", name, err, tc.refused)
			continue
		}
		delivered := len(d.envelopes) + len(d.plain)
		if tc.refused && (delivered != 0 || kept.n != 1) {
			t.Errorf("%s: refused but %d delivered, %d kept in the virus store", name, delivered, kept.n)
		}
		if !tc.refused && tc.notice == "" && (delivered != 1 || kept.n != 0) {
			t.Errorf("%s: %d delivered, %d kept in the virus store; want it delivered", name, delivered, kept.n)
		}
		if tc.notice == "" {
			continue
		}
		if delivered != 0 || len(out.sent) != 1 || kept.n != 1 {
			t.Fatalf("%s: %d delivered, %d sent, %d kept; want the rilevazione virus only", name, delivered, len(out.sent), kept.n)
		}
		m := pec.Parse(out.sent[0])
		if m.Kind() != pec.KindRilevazioneVirus || !strings.Contains(pec.Deref(m.Postacert.Dati.ErroreEsteso), tc.notice) {
			t.Errorf("%s: sent a %s with errore-esteso %q", name, m.Kind(), pec.Deref(m.Postacert.Dati.ErroreEsteso))
		}
	}
}

// noticeWith is a correct ricevuta di presa in carico signed by s whose text is text.
func noticeWith(t *testing.T, s *compose.Sealer, text string) []byte {
	f := compose.Facts{Instant: time.Now(), Subject: "Prova", Sender: "alice@pec.alpha.test", ID: s.NewID(time.Now()),
		Recipients: []compose.Recipient{{Address: "bob@pec.beta.test", Certified: true}}}
	d := s.Postacert(pec.TipoPresaInCarico, pec.ErroreNessuno, f, "", "<c@client>")
	d.Dati.Ricezione = []string{"bob@pec.beta.test"}
	msg, err := s.Seal(compose.Notice{Ricevuta: pec.RicevutaPresaInCarico, Prefix: pec.SubjectPresaInCarico,
		To: "ricevute@pec.beta.test", Text: text, Daticert: d, RefMsgID: "<c@client>", Subject: f.Subject, Instant: f.Instant})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestSimulatedVirus: a correct, clean envelope for an outcome-simulation
// mailbox (SimulatesVirus) takes the rilevazione virus flow, as if the
// antivirus had found a virus the sender's missed; for any other mailbox
// it is taken in charge and delivered.
func TestSimulatedVirus(t *testing.T) {
	p := testpki.NewCA(t)
	alpha, beta := sealer(t, p, "pec.alpha.test"), sealer(t, p, "pec.beta.test")
	dir := index.NewMemory(index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test",
		Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{alpha.Cert}})
	for rcpt, infected := range map[string]bool{"infetto@pec.beta.test": true, "bob@pec.beta.test": false} {
		d, out, kept := &fakeDelivery{}, &fakeOut{}, &keptViruses{}
		rp := &Point{Sealer: beta, Directory: dir, Trust: p.Pool, Delivery: d, Out: out, Clock: clock.System{},
			Domains: []string{"pec.beta.test"}, Scanner: eicarScanner, Viruses: kept,
			SimulatesVirus: func(a string) bool { return a == "infetto@pec.beta.test" }}
		err := rp.Receive(context.Background(), Incoming{From: "alice@pec.alpha.test", To: []string{rcpt}, Data: envelope(t, alpha)})
		if err != nil {
			t.Fatalf("%s: %v", rcpt, err)
		}
		if len(out.sent) != 1 {
			t.Fatalf("%s: %d notices sent, want 1", rcpt, len(out.sent))
		}
		m := pec.Parse(out.sent[0])
		want := pec.KindPresaInCarico
		if infected {
			want = pec.KindRilevazioneVirus
		}
		if m.Kind() != want || (len(d.envelopes) == 0) == !infected || (kept.n == 1) != infected {
			t.Errorf("%s: sent a %s, %d delivered, %d kept; want a %s", rcpt, m.Kind(), len(d.envelopes), kept.n, want)
		}
		if infected && !strings.Contains(pec.Deref(m.Postacert.Dati.ErroreEsteso), SimulatedSignature) {
			t.Errorf("%s: errore-esteso %q does not name %s", rcpt, pec.Deref(m.Postacert.Dati.ErroreEsteso), SimulatedSignature)
		}
	}
}

// TestVirusNoticeWithoutReference: a rilevazione virus that lacks
// X-Riferimento-Message-ID (a faulty receiving provider) still gives the
// sender's user a mancata consegna per virus that has it (GEN-15), from the
// daticert msgid of the rilevazione.
func TestVirusNoticeWithoutReference(t *testing.T) {
	p := testpki.NewCA(t)
	alpha, beta := sealer(t, p, "pec.alpha.test"), sealer(t, p, "pec.beta.test")
	dir := index.NewMemory(
		index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test", Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{alpha.Cert}},
		index.Provider{Name: "Beta", MailReceipt: "ricevute@pec.beta.test", Domains: []string{"pec.beta.test"}, Certificates: []*x509.Certificate{beta.Cert}})
	out := &fakeOut{}
	rp := &Point{Sealer: beta, Directory: dir, Trust: p.Pool, Delivery: &fakeDelivery{}, Out: out, Clock: clock.System{},
		Domains: []string{"pec.beta.test"}, Scanner: eicarScanner, Viruses: &keptViruses{},
		SimulatesVirus: func(string) bool { return true }}
	if err := rp.Receive(context.Background(), Incoming{From: "alice@pec.alpha.test", To: []string{"bob@pec.beta.test"}, Data: envelope(t, alpha)}); err != nil || len(out.sent) != 1 {
		t.Fatalf("beta: %v, %d sent", err, len(out.sent))
	}
	rv := regexp.MustCompile(`(?m)^X-Riferimento-Message-ID:.*\r\n`).ReplaceAll(out.sent[0], nil)
	d := &fakeDelivery{}
	ap := &Point{Sealer: alpha, Directory: dir, Trust: p.Pool, Delivery: d, Out: &fakeOut{}, Clock: clock.System{},
		Domains: []string{"pec.alpha.test"}, Scanner: eicarScanner}
	if err := ap.Receive(context.Background(), Incoming{From: beta.ServiceAddress, To: []string{"ricevute@pec.alpha.test"}, Data: rv}); err != nil {
		t.Fatal(err)
	}
	for _, raw := range d.plain {
		if m := pec.Parse(raw); m.Kind() == pec.KindErroreConsegna {
			if got := m.Header(pec.HeaderRiferimentoMsgID); got != "<c@client>" {
				t.Errorf("mancata consegna per virus: X-Riferimento-Message-ID %q, want <c@client>", got)
			}
			return
		}
	}
	t.Errorf("no mancata consegna per virus among %d messages delivered", len(d.plain))
}
