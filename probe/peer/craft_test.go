package peer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/probe"
)

// testPeer is gamma with software keys (a unit test of this package; the
// suite runs it on its SoftHSM token).
func testPeer(t *testing.T) (*Peer, *x509.CertPool) {
	ca := testpki.NewCA(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ukey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := &Peer{Cfg: probe.Peer{Name: "gamma", ProviderName: "Gamma", Domain: "pec.gamma.test",
		ServiceAddress: "posta-certificata@pec.gamma.test", ReceiptsAddress: "ricevute@pec.gamma.test"},
		key: key, cert: ca.Leaf(t, "Gamma", key.Public(), "posta-certificata@pec.gamma.test"),
		unlisted: ukey, ucert: ca.Leaf(t, "Delta", ukey.Public(), "posta-certificata@pec.delta.test")}
	return p, ca.Pool
}

func TestEnvelopes(t *testing.T) {
	p, pool := testPeer(t)
	id, original := probe.Original{From: "carol@pec.gamma.test", To: []string{"alice@pec.alpha.test"},
		Subject: "prova", Body: "testo\n"}.Build()
	build := func(c Craft) (*pec.Message, []byte) {
		raw, err := p.Envelope(c, "carol@pec.gamma.test", []string{"alice@pec.alpha.test"}, "prova", id, original, []byte("EICAR-LIKE"))
		if err != nil {
			t.Fatal(err)
		}
		return pec.Parse(raw), raw
	}
	m, raw := build(Correct)
	cert, _, err := smime.VerifyMessage(raw, pool, time.Now())
	if err != nil || cert.EmailAddresses[0] != p.Cfg.ServiceAddress {
		t.Fatalf("correct envelope: signer %v, err %v", cert, err)
	}
	if m.Kind() != pec.KindTrasporto || m.Postacert == nil || m.Postacert.Tipo != pec.TipoPostaCertificata || m.Original == nil {
		t.Fatalf("correct envelope: kind %s, problems %v", m.Kind(), m.Problems)
	}
	envID := strings.Trim(m.Header("Message-ID"), "<>")
	inner, err := pec.ReadEntity(m.Original.Body)
	if err != nil {
		t.Fatal(err)
	}
	if envID != m.Postacert.Dati.Identificativo || strings.Trim(inner.Header.Get("Message-ID"), "<>") != envID ||
		inner.Header.Get(pec.HeaderRiferimentoMsgID) != id || m.Header(pec.HeaderRiferimentoMsgID) != id {
		t.Errorf("ids: envelope %s, identificativo %s, inner %s / %s, client %s", envID, m.Postacert.Dati.Identificativo,
			inner.Header.Get("Message-ID"), inner.Header.Get(pec.HeaderRiferimentoMsgID), id)
	}
	if m, _ := build(Malformed); m.Daticert != nil {
		t.Errorf("malformed envelope has a daticert")
	}
	_, tampered := build(Tampered)
	if _, _, err := smime.VerifyMessage(tampered, pool, time.Now()); err == nil {
		t.Errorf("tampered envelope still verifies")
	}
	_, unlisted := build(Unlisted)
	if cert, _, err := smime.VerifyMessage(unlisted, pool, time.Now()); err != nil || cert.EmailAddresses[0] != "posta-certificata@pec.delta.test" {
		t.Errorf("unlisted envelope: signer %v, err %v", cert, err)
	}
	if m, _ := build(MalformedNotice); m.Kind() != pec.KindAvvenutaConsegna || m.Daticert != nil || m.Original != nil {
		t.Errorf("malformed notice: kind %s, daticert %v, original %v", m.Kind(), m.Daticert != nil, m.Original != nil)
	}
	if m, _ := build(Virus); !bytes.Contains(m.Original.Body, []byte("EICAR-LIKE")) {
		t.Errorf("virus envelope: the original does not carry the test string")
	}
	notice, err := p.VirusNotice(m, "alice@pec.alpha.test", "ricevute@pec.alpha.test")
	if err != nil {
		t.Fatal(err)
	}
	n := pec.Parse(notice)
	if n.Kind() != pec.KindRilevazioneVirus || n.Postacert == nil || n.Postacert.Errore != pec.ErroreVirus ||
		*n.Postacert.Dati.Consegna != "alice@pec.alpha.test" || n.Header("To") != "ricevute@pec.alpha.test" {
		t.Errorf("virus notice: kind %s, daticert %+v", n.Kind(), n.Postacert)
	}
}
