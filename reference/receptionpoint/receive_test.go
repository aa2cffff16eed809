package receptionpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/spool"
)

// fakeDelivery records what the reception point hands over.
type fakeDelivery struct {
	envelopes []Envelope
	plain     [][]byte
}

func (f *fakeDelivery) Envelope(_ context.Context, e Envelope) error {
	f.envelopes = append(f.envelopes, e)
	return nil
}
func (f *fakeDelivery) Plain(_ context.Context, _ []string, msg []byte) error {
	f.plain = append(f.plain, msg)
	return nil
}
func (f *fakeDelivery) PlainFile(ctx context.Context, to []string, msg *spool.Message) error {
	data, err := os.ReadFile(msg.Path())
	if err != nil {
		return err
	}
	return f.Plain(ctx, to, data)
}

type fakeOut struct{ sent [][]byte }

func (f *fakeOut) Send(_ context.Context, _ string, _ []string, msg []byte) error {
	f.sent = append(f.sent, msg)
	return nil
}

func sealer(t *testing.T, ca *testpki.CA, domain string) *compose.Sealer {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert := ca.Leaf(t, domain, key.Public(), "posta-certificata@"+domain)
	return &compose.Sealer{ProviderName: domain, ServiceAddress: "posta-certificata@" + domain, Domain: domain, Cert: cert, Key: key}
}

// envelope builds a minimal correct busta di trasporto signed by s.
func envelope(t *testing.T, s *compose.Sealer) []byte { return envelopeWith(t, s, "\r\nciao\r\n") }

// envelopeWith is envelope with tail (the rest of the header, the empty line
// and the body) ending the original.
func envelopeWith(t *testing.T, s *compose.Sealer, tail string) []byte {
	id := s.NewID(time.Now())
	f := compose.Facts{Instant: time.Now(), Subject: "Prova", Sender: "alice@" + s.Domain, ID: id,
		Recipients: []compose.Recipient{{Address: "bob@pec.beta.test", Certified: true}}}
	d := s.Postacert(pec.TipoPostaCertificata, pec.ErroreNessuno, f, "", "<c@client>")
	d.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: pec.TipoCompleta}
	dati, _ := d.Marshal()
	orig := "From: alice@" + s.Domain + "\r\nTo: bob@pec.beta.test\r\nSubject: Prova\r\nMessage-ID: <" + id + ">\r\n" + tail
	msg, err := s.Sign([]smime.Field{{Name: "From", Value: `"Per conto di: alice@` + s.Domain + `" <` + s.ServiceAddress + ">"},
		{Name: "To", Value: "bob@pec.beta.test"}, {Name: "Subject", Value: "POSTA CERTIFICATA: Prova"},
		{Name: "Message-ID", Value: "<" + id + ">"}, {Name: "X-Riferimento-Message-ID", Value: "<c@client>"},
		{Name: "X-Trasporto", Value: "posta-certificata"}},
		compose.Mixed{Text: compose.TextTrasporto(f), Daticert: dati, Original: []byte(orig)})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestDecisionTable drives the reception point through RFC 6109 §2.2.2
// (pec-rules §7.2) with an in-memory index and fake delivery.
func TestDecisionTable(t *testing.T) {
	p := testpki.NewCA(t)
	alpha, beta, rogue := sealer(t, p, "pec.alpha.test"), sealer(t, p, "pec.beta.test"), sealer(t, p, "pec.rogue.test")
	dir := index.NewMemory(
		index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test", Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{alpha.Cert}},
		index.Provider{Name: "Beta", MailReceipt: "ricevute@pec.beta.test", Domains: []string{"pec.beta.test"}, Certificates: []*x509.Certificate{beta.Cert}},
	)
	good := envelope(t, alpha)
	for name, tc := range map[string]struct {
		data                      []byte
		envelopes, plain, receipt int
		kind                      pec.Kind // of what reached the mailbox as plain
	}{
		"correct envelope":   {good, 1, 0, 1, ""},
		"tampered envelope":  {bytes.Replace(good, []byte("ciao"), []byte("CIAO"), 1), 0, 1, 0, pec.KindAnomalia},
		"unlisted provider":  {envelope(t, rogue), 0, 1, 0, pec.KindAnomalia},
		"ordinary mail":      {[]byte("From: x@example.org\r\nTo: bob@pec.beta.test\r\nSubject: hi\r\n\r\nhello\r\n"), 0, 1, 0, pec.KindAnomalia},
		"signed, not an env": {bytes.Replace(good, []byte("X-Trasporto: posta-certificata"), []byte("X-Trasporto: forse"), 1), 0, 1, 0, pec.KindAnomalia},
	} {
		d, out := &fakeDelivery{}, &fakeOut{}
		rp := &Point{Sealer: beta, Directory: dir, Trust: p.Pool, Delivery: d, Out: out, Clock: clock.System{},
			Domains: []string{"pec.beta.test"}}
		if err := rp.Receive(context.Background(), Incoming{From: "alice@pec.alpha.test", To: []string{"bob@pec.beta.test"}, Data: tc.data}); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(d.envelopes) != tc.envelopes || len(d.plain) != tc.plain || len(out.sent) != tc.receipt {
			t.Errorf("%s: %d envelopes, %d plain, %d receipts; want %d, %d, %d", name,
				len(d.envelopes), len(d.plain), len(out.sent), tc.envelopes, tc.plain, tc.receipt)
			continue
		}
		if tc.kind != "" {
			if k := pec.Parse(d.plain[0]).Kind(); k != tc.kind {
				t.Errorf("%s: delivered a %s, want %s", name, k, tc.kind)
			}
			if _, _, err := smime.VerifyMessage(d.plain[0], p.Pool, time.Now()); err != nil {
				t.Errorf("%s: the anomaly is not signed by the receiving provider: %v", name, err)
			}
		}
		if tc.receipt == 1 {
			m := pec.Parse(out.sent[0])
			if m.Kind() != pec.KindPresaInCarico || len(m.Postacert.Dati.Ricezione) != 1 {
				t.Errorf("%s: receipt %s with ricezione %v", name, m.Kind(), m.Postacert.Dati.Ricezione)
			}
		}
	}
}
