package accesspoint

import (
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
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
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

func point(t *testing.T, scan antivirus.Func) (*Point, *out) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alpha"},
		EmailAddresses: []string{"posta-certificata@pec.alpha.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	o := &out{}
	if scan == nil {
		scan = func(context.Context, io.Reader) (antivirus.Result, error) { return antivirus.Result{}, nil }
	}
	return &Point{
		Sealer: &compose.Sealer{ProviderName: "Alpha", ServiceAddress: "posta-certificata@pec.alpha.test",
			Domain: "pec.alpha.test", Cert: cert, Key: key},
		Directory: index.NewMemory(index.Provider{Name: "Beta", Domains: []string{"pec.beta.test"}}),
		Scanner:   scan, Out: o, Clock: clock.System{}, MaxTotal: 1 << 20,
	}, o
}

const orig = "From: alice@pec.alpha.test\r\nTo: bob@pec.beta.test\r\nCc: carol@example.org\r\nSubject: Prova\r\nMessage-ID: <m1@client>\r\n\r\nciao\r\n"

func TestAcceptEmitsReceiptAndEnvelope(t *testing.T) {
	p, o := point(t, nil)
	sub := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Data: []byte(orig)}
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

func TestFormalChecks(t *testing.T) {
	p, o := point(t, nil)
	base := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
		To: []string{"bob@pec.beta.test", "carol@example.org"}, Data: []byte(orig)}
	for rule, mutate := range map[string]func(*Submission){
		"APC-03": func(s *Submission) { s.Data = []byte(strings.Replace(orig, "From: alice@pec.alpha.test\r\n", "", 1)) },
		"APC-04": func(s *Submission) { s.Data = []byte(strings.Replace(orig, "To: bob@pec.beta.test\r\n", "", 1)) },
		"APC-05": func(s *Submission) { s.From = "mallory@pec.alpha.test"; s.User = s.From },
		"APC-06": func(s *Submission) { s.To = []string{"bob@pec.beta.test"} },
		"APC-07": func(s *Submission) {
			s.Data = []byte(strings.Replace(orig, "Subject:", "Bcc: eve@x.test\r\nSubject:", 1))
		},
		"APC-08": func(s *Submission) { s.Data = append([]byte(orig), make([]byte, 1<<20)...) },
		"APC-11": func(s *Submission) { s.User = "bob@pec.alpha.test" },
	} {
		sub := base
		mutate(&sub)
		var rej *Rejection
		if err := p.Accept(context.Background(), sub); !errors.As(err, &rej) || rej.Rule != rule {
			t.Errorf("%s: err = %v", rule, err)
		}
	}
	if len(o.delivered)+len(o.sent) != 0 {
		t.Errorf("a rejected submission produced %d messages (ACC-10, NAC-05)", len(o.delivered)+len(o.sent))
	}
	virus, o2 := point(t, func(context.Context, io.Reader) (antivirus.Result, error) {
		return antivirus.Result{Infected: true, Signature: "Test"}, nil
	})
	var rej *Rejection
	if err := virus.Accept(context.Background(), base); !errors.As(err, &rej) || rej.Rule != "APC-09" || len(o2.sent) != 0 {
		t.Errorf("virus: err = %v, %d envelopes", err, len(o2.sent))
	}
	down, _ := point(t, func(context.Context, io.Reader) (antivirus.Result, error) {
		return antivirus.Result{}, antivirus.ErrClamd
	})
	if err := down.Accept(context.Background(), base); !errors.Is(err, ErrTemporary) {
		t.Errorf("antivirus down: err = %v, want ErrTemporary", err)
	}
}
