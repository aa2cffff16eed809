package accesspoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/spool"
)

type out struct {
	delivered, sent [][]byte
	sentTo          [][]string
}

func (o *out) Deliver(_ context.Context, _ string, m []byte) error {
	o.delivered = append(o.delivered, m)
	return nil
}
func (o *out) Send(_ context.Context, _ string, to []string, m []byte) error {
	o.sent, o.sentTo = append(o.sent, m), append(o.sentTo, to)
	return nil
}
func (o *out) SendFile(ctx context.Context, from string, to []string, m *spool.Message) error {
	f, err := m.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	m.Release()
	return o.Send(ctx, from, to, data)
}

// spooled is data as the SMTP server hands a submission over: in a spool file.
func spooled(t *testing.T, data []byte) *spool.Message {
	t.Helper()
	d, err := spool.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Receive(nil, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func point(t *testing.T, scan antivirus.Func) (*Point, *out) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alpha"},
		EmailAddresses: []string{"posta-certificata@pec.alpha.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	o := &out{}
	sp, err := spool.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if scan == nil {
		scan = func(context.Context, io.Reader) (antivirus.Result, error) { return antivirus.Result{}, nil }
	}
	return &Point{
		Sealer: &compose.Sealer{ProviderName: "Alpha", ServiceAddress: "posta-certificata@pec.alpha.test",
			Domain: "pec.alpha.test", Cert: cert, Key: key},
		Directory: index.NewMemory(index.Provider{Name: "Beta", Domains: []string{"pec.beta.test"}}),
		Scanner:   scan, Out: o, Clock: clock.System{}, MaxTotal: 1 << 20, Spool: sp,
	}, o
}

const orig = "From: alice@pec.alpha.test\r\nTo: bob@pec.beta.test\r\nCc: carol@example.org\r\nSubject: Prova\r\nMessage-ID: <m1@client>\r\n\r\nciao\r\n"

func TestAcceptEmitsReceiptAndEnvelope(t *testing.T) {
	p, o := point(t, nil)
	sub := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Message: spooled(t, []byte(orig))}
	if err := p.Accept(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	if len(o.delivered) != 1 || len(o.sent) != 1 {
		t.Fatalf("%d receipts, %d envelopes; want one each", len(o.delivered), len(o.sent))
	}
	acc, env := pec.Parse(o.delivered[0]), pec.Parse(o.sent[0])
	if acc.Kind() != pec.KindAccettazione || env.Kind() != pec.KindTrasporto {
		t.Fatalf("kinds %s, %s", acc.Kind(), env.Kind())
	}
	// One identificativo and one instant for the transaction (ACC-07, ACC-08).
	if acc.Postacert.Dati.Identificativo != strings.Trim(env.Header("Message-ID"), "<>") ||
		acc.Postacert.Dati.Data != env.Postacert.Dati.Data {
		t.Errorf("accettazione %+v and envelope %s / %+v differ", acc.Postacert.Dati, env.Header("Message-ID"), env.Postacert.Dati.Data)
	}
	// carol@example.org is not in the index: esterno (RFC 6109 §2.2.1).
	types := map[string]string{}
	for _, d := range acc.Postacert.Intestazione.Destinatari {
		types[d.Indirizzo] = d.Tipo
	}
	if types["bob@pec.beta.test"] != pec.DestCertificato || types["carol@example.org"] != pec.DestEsterno {
		t.Errorf("recipient types %v", types)
	}
	inner, _ := env.Original.Decoded()
	if !strings.Contains(string(inner), "X-Riferimento-Message-ID: <m1@client>") ||
		!strings.Contains(string(inner), "Message-ID: "+env.Header("Message-ID")) {
		t.Errorf("postacert.eml does not carry the PEC msgid (APC-10):\n%s", inner)
	}
}

type viruses struct{ kept [][]byte }

func (v *viruses) Keep(r io.Reader) error {
	m, err := io.ReadAll(r)
	v.kept = append(v.kept, m)
	return err
}

// TestFormalChecks: each formal fault of RFC 6109 §3.1.1 gives the sender one
// avviso di non accettazione (errore altro, the reason in errore-esteso) and
// nothing else (NAC-05); APC-11 and a message alone over the limit are SMTP
// refusals with no message at all.
func TestFormalChecks(t *testing.T) {
	base := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Message: spooled(t, []byte(orig))}
	notices := map[string]func(*Submission){
		"APC-03": func(s *Submission) {
			s.Message = spooled(t, []byte(strings.Replace(orig, "From: alice@pec.alpha.test\r\n", "", 1)))
		},
		"APC-04": func(s *Submission) {
			s.Message = spooled(t, []byte(strings.Replace(orig, "To: bob@pec.beta.test\r\n", "", 1)))
		},
		"APC-05": func(s *Submission) { s.From = "mallory@pec.alpha.test"; s.User = s.From },
		"APC-06": func(s *Submission) { s.To = []string{"bob@pec.beta.test"} },
		"APC-07": func(s *Submission) {
			s.Message = spooled(t, []byte(strings.Replace(orig, "Subject:", "Bcc: eve@x.test\r\nSubject:", 1)))
		},
		"APC-08": func(s *Submission) { s.Message = spooled(t, append([]byte(orig), make([]byte, 600<<10)...)) },
	}
	for rule, mutate := range notices {
		p, o := point(t, nil)
		sub := base
		mutate(&sub)
		if err := p.Accept(context.Background(), sub); err != nil {
			t.Errorf("%s: err = %v, want a notice", rule, err)
			continue
		}
		if len(o.sent) != 0 || len(o.delivered) != 1 {
			t.Errorf("%s: %d sent, %d delivered; want only the notice", rule, len(o.sent), len(o.delivered))
			continue
		}
		m := pec.Parse(o.delivered[0])
		if m.Kind() != pec.KindNonAccettazione || m.Postacert == nil || m.Postacert.Errore != pec.ErroreAltro ||
			m.Postacert.Dati.ErroreEsteso == nil || m.Original != nil {
			t.Errorf("%s: notice kind %s, daticert %+v", rule, m.Kind(), m.Postacert)
		}
	}
	for rule, mutate := range map[string]func(*Submission){
		"APC-08": func(s *Submission) { s.Message = spooled(t, append([]byte(orig), make([]byte, 1<<20)...)) },
		"APC-11": func(s *Submission) { s.User = "bob@pec.alpha.test" },
	} {
		p, o := point(t, nil)
		sub := base
		mutate(&sub)
		var rej *Rejection
		if err := p.Accept(context.Background(), sub); !errors.As(err, &rej) || rej.Rule != rule {
			t.Errorf("%s: err = %v, want an SMTP refusal", rule, err)
		}
		if len(o.delivered)+len(o.sent) != 0 {
			t.Errorf("%s: a refused submission produced %d messages", rule, len(o.delivered)+len(o.sent))
		}
	}
}

// TestVirusAtAcceptance: an infected submission is kept in the virus store and
// answered with the avviso di non accettazione per virus (RFC 6109 §3.1.3).
func TestVirusAtAcceptance(t *testing.T) {
	base := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Message: spooled(t, []byte(orig))}
	p, o := point(t, func(context.Context, io.Reader) (antivirus.Result, error) {
		return antivirus.Result{Infected: true, Signature: "Eicar-Test-Signature"}, nil
	})
	store := &viruses{}
	p.Viruses = store
	if err := p.Accept(context.Background(), base); err != nil || len(o.sent) != 0 || len(o.delivered) != 1 {
		t.Fatalf("virus: err = %v, %d sent, %d delivered", err, len(o.sent), len(o.delivered))
	}
	m := pec.Parse(o.delivered[0])
	if m.Header(pec.HeaderVerificaSicurezza) != pec.VerificaSicurezzaErrore || m.Postacert == nil ||
		m.Postacert.Errore != pec.ErroreVirus || !strings.HasPrefix(m.Header("Subject"), pec.SubjectNonAccettazioneVir) {
		t.Errorf("virus notice: %s, %+v", m.Header("Subject"), m.Postacert)
	}
	if len(store.kept) != 1 || string(store.kept[0]) != orig {
		t.Errorf("virus store holds %d messages, want the original as it was", len(store.kept))
	}
	down, _ := point(t, func(context.Context, io.Reader) (antivirus.Result, error) {
		return antivirus.Result{}, antivirus.ErrClamd
	})
	if err := down.Accept(context.Background(), base); !errors.Is(err, ErrTemporary) {
		t.Errorf("antivirus down: err = %v, want ErrTemporary", err)
	}
}

// TestLargeSubmissionStreamed: a submission above compose.Large is enveloped
// from its spool file (the body streamed, bare LFs made CRLF, the signature
// over the streamed bytes) and queued by reference; the envelope carries the
// original byte for byte and verifies.
func TestLargeSubmissionStreamed(t *testing.T) {
	p, o := point(t, nil)
	p.MaxTotal = 8 << 20
	body := strings.Repeat("riga di testo abbastanza lunga per il messaggio grande\r\n", (compose.Large/50)+10)
	data := []byte(orig[:strings.Index(orig, "\r\n\r\n")+4] + body)
	sub := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Message: spooled(t, data)}
	if err := p.Accept(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	if len(o.sent) != 1 {
		t.Fatalf("%d envelopes sent, want 1", len(o.sent))
	}
	env := pec.Parse(o.sent[0])
	if env.Original == nil || !bytes.HasSuffix(env.Original.Body, []byte(body)) {
		t.Fatal("the envelope does not carry the original's body")
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.Sealer.Cert)
	if _, _, err := smime.VerifyMessage(o.sent[0], roots, time.Now()); err != nil {
		t.Errorf("streamed envelope: %v", err)
	}
}
