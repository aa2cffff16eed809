package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec/smime"
)

// gradePKI is a CA, a provider certificate it issued (RFC 6109 §5.5), a
// self-signed forgery with the provider's subject and address, and files
// for --trust and --index.
type gradePKI struct {
	dir, trust, other, index string
	cert, forged             *x509.Certificate
	key, forgedKey           *ecdsa.PrivateKey
}

func newGradePKI(t *testing.T) *gradePKI {
	t.Helper()
	p := &gradePKI{dir: t.TempDir()}
	key := func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return k }
	now := time.Now()
	ca := func(name string) (*x509.Certificate, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte(name)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	caCert, caKey := ca("Prova PEC CA")
	otherCA, _ := ca("Altra CA")
	p.key, p.forgedKey = key(), key()
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{"Alpha PEC S.p.A."},
		CommonName: "Alpha PEC S.p.A."}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		EmailAddresses: []string{"posta-certificata@pec.alpha.test"}, SubjectKeyId: []byte("alpha")}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &p.key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.cert, _ = x509.ParseCertificate(der)
	leaf.SerialNumber, leaf.AuthorityKeyId = big.NewInt(3), []byte("looks like the CA's")
	der, err = x509.CreateCertificate(rand.Reader, leaf, leaf, &p.forgedKey.PublicKey, p.forgedKey)
	if err != nil {
		t.Fatal(err)
	}
	p.forged, _ = x509.ParseCertificate(der)
	p.trust, p.other = p.write("ca.pem", pemOf(caCert)), p.write("other.pem", pemOf(otherCA))
	h := sha1.Sum(p.cert.Raw)
	p.index = p.write("index.ldif", fmt.Sprintf("dn: providerName=Alpha PEC S.p.A.,o=postacert\nobjectClass: provider\n"+
		"providerName: Alpha PEC S.p.A.\nproviderCertificateHash: %x\nproviderCertificate;binary:: %s\n"+
		"mailReceipt: ricevute@pec.alpha.test\nmanagedDomains: pec.alpha.test\n\n", h, base64.StdEncoding.EncodeToString(p.cert.Raw)))
	return p
}

func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func (p *gradePKI) write(name, data string) string {
	f := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
		panic(err)
	}
	return f
}

const gradeSubject = "Prova"

// instant renders t for the Date header, the daticert and the text (RFC
// 6109 §4.2), in Italian legal time.
func instant(t time.Time) (date, zona, giorno, ora string) {
	rome, _ := time.LoadLocation("Europe/Rome")
	l := t.In(rome)
	return l.Format("Mon, 02 Jan 2006 15:04:05 -0700"), l.Format("-0700"), l.Format("02/01/2006"), l.Format("15:04:05")
}

// message signs a PEC message of the type given by its identifying header
// with cert: the text, the daticert and, for an envelope, the original.
func message(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey, ident smime.Field, envelope bool) []byte {
	t.Helper()
	date, zona, giorno, ora := instant(time.Now().Truncate(time.Second))
	const id = "opec1@pec.alpha.test"
	tipo, prefix, ricevuta, from := "accettazione", "ACCETTAZIONE: ", "", "posta-certificata@pec.alpha.test"
	to, parts := "alice@pec.alpha.test", ""
	if envelope {
		tipo, prefix, ricevuta = "posta-certificata", "POSTA CERTIFICATA: ", `<ricevuta tipo="completa"/>`
		from, to = `"Per conto di: alice@pec.alpha.test" <posta-certificata@pec.alpha.test>`, "bob@pec.alpha.test"
		parts = "--m\r\nContent-Type: message/rfc822; name=\"postacert.eml\"\r\n\r\n" +
			"From: alice@pec.alpha.test\r\nTo: bob@pec.alpha.test\r\nSubject: " + gradeSubject + "\r\nDate: " + date + "\r\n" +
			"Message-ID: <" + id + ">\r\nX-Riferimento-Message-ID: <c1@mua>\r\n\r\nCiao.\r\n"
	}
	xml := `<?xml version="1.0" encoding="UTF-8"?><postacert tipo="` + tipo + `" errore="nessuno"><intestazione>` +
		`<mittente>alice@pec.alpha.test</mittente><destinatari tipo="certificato">bob@pec.alpha.test</destinatari>` +
		`<risposte>alice@pec.alpha.test</risposte><oggetto>` + gradeSubject + `</oggetto></intestazione><dati>` +
		`<gestore-emittente>Alpha PEC S.p.A.</gestore-emittente><data zona="` + zona + `"><giorno>` + giorno + `</giorno><ora>` + ora +
		`</ora></data><identificativo>` + id + `</identificativo><msgid>&lt;c1@mua&gt;</msgid>` + ricevuta + `</dati></postacert>`
	text := fmt.Sprintf("Il giorno %s alle ore %s (%s) il messaggio \"%s\" proveniente da \"alice@pec.alpha.test\"\r\n"+
		"ed indirizzato a:\r\nbob@pec.alpha.test (\"posta certificata\")\r\ne' stato accettato dal sistema ed inoltrato.\r\n"+
		"Il messaggio originale e' incluso in allegato.\r\nIdentificativo messaggio: %s\r\n", giorno, ora, zona, gradeSubject, id)
	content := "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\n" + text +
		"--m\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(xml)) + "\r\n" + parts + "--m--\r\n"
	outer := []smime.Field{{Name: "Date", Value: date}, {Name: "From", Value: from}, {Name: "To", Value: to},
		{Name: "Subject", Value: prefix + gradeSubject}, {Name: "Message-ID", Value: "<" + id + ">"},
		{Name: "X-Riferimento-Message-ID", Value: "<c1@mua>"}}
	if envelope {
		outer = append(outer, smime.Field{Name: "Reply-To", Value: "alice@pec.alpha.test"}, smime.Field{Name: "Return-Path", Value: "<alice@pec.alpha.test>"})
	}
	if ident.Name != "" {
		outer = append(outer, ident)
	}
	raw, err := smime.Sign(outer, []byte(content), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// runGrade runs `pecspec grade` as main would, returning its exit code and
// what it wrote.
func runGrade(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	done := make(chan [2]string)
	go func() {
		o, _ := io.ReadAll(outR)
		e, _ := io.ReadAll(errR)
		done <- [2]string{string(o), string(e)}
	}()
	code := cmdGrade(args)
	os.Stdout, os.Stderr = stdout, stderr
	outW.Close()
	errW.Close()
	got := <-done
	return code, got[0], got[1]
}

var (
	accettazione = smime.Field{Name: "X-Ricevuta", Value: "accettazione"}
	trasporto    = smime.Field{Name: "X-Trasporto", Value: "posta-certificata"}
)

// TestGradeForgedReceipt: a receipt signed by a self-signed certificate
// with the provider's subject and address never exits 0 without --no-trust;
// the genuine one passes with --trust or --index.
func TestGradeForgedReceipt(t *testing.T) {
	p := newGradePKI(t)
	genuine := p.write("genuine.eml", string(message(t, p.cert, p.key, accettazione, false)))
	forged := p.write("forged.eml", string(message(t, p.forged, p.forgedKey, accettazione, false)))
	for _, tc := range []struct {
		name string
		args []string
		want int
		says string
	}{
		{"genuine, --trust", []string{"--trust", p.trust, genuine}, exitOK, "0 fail"},
		{"genuine, --index", []string{genuine, "--index", p.index}, exitOK, "0 fail"},
		{"genuine, no anchors", []string{genuine}, exitHarness, "no trust anchors: give --trust or --index, or --no-trust"},
		{"genuine, another CA", []string{genuine, "--trust", p.other}, exitHarness, "SIG-05 unknown"},
		{"forged, no anchors", []string{forged}, exitHarness, "no trust anchors"},
		{"forged, --trust", []string{"--trust", p.trust, forged}, exitFail, "self-signed"},
		{"forged, --index", []string{"--index", p.index, forged}, exitFail, "self-signed"},
		{"forged, --no-trust", []string{"--no-trust", forged}, exitOK, "chains not verified (--no-trust)"},
		{"--no-trust with --trust", []string{"--no-trust", "--trust", p.trust, forged}, exitHarness, "choose one"},
	} {
		code, out, errs := runGrade(t, tc.args...)
		if code != tc.want || !strings.Contains(out+errs, tc.says) {
			t.Errorf("%s: exit %d, want %d, saying %q:\n%s%s", tc.name, code, tc.want, tc.says, out, errs)
		}
	}
	if _, out, _ := runGrade(t, "--no-trust", forged); !strings.HasPrefix(out, "chains not verified") {
		t.Errorf("--no-trust is not said on the first line:\n%s", out)
	}
}

// TestGradeEnvelopeWithoutTrasporto: a correct envelope passes; the same,
// signed again without its X-Trasporto header, is sconosciuto and fails
// GEN-12 (exit 1).
func TestGradeEnvelopeWithoutTrasporto(t *testing.T) {
	p := newGradePKI(t)
	with := p.write("with.eml", string(message(t, p.cert, p.key, trasporto, true)))
	without := p.write("without.eml", string(message(t, p.cert, p.key, smime.Field{}, true)))
	if code, out, errs := runGrade(t, "--trust", p.trust, with); code != exitOK {
		t.Fatalf("the envelope itself: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ := runGrade(t, "--trust", p.trust, without)
	if code != exitFail || !strings.Contains(out, "sconosciuto") || !strings.Contains(out, "FAIL    GEN-12") {
		t.Errorf("without X-Trasporto: exit %d\n%s", code, out)
	}
}

// TestGradePaths: directories skip the probe's own sent-*.eml unless named;
// nothing to grade is exit 2; --transaction on a run's evidence folder
// grades each transaction under it; flags come after paths; -h is usage.
func TestGradePaths(t *testing.T) {
	p := newGradePKI(t)
	good := string(message(t, p.cert, p.key, accettazione, false))
	for _, d := range []string{"evidence/one", "evidence/two"} {
		p.write(d+"/01-accettazione.eml", good)
		p.write(d+"/sent-1.eml", "From: alice@pec.alpha.test\r\nX-Ricevuta: ACCETTAZIONE\r\nSubject: deliberately broken\r\n\r\nx")
	}
	evidence := filepath.Join(p.dir, "evidence")
	docs := filepath.Dir(p.write("docs/README.md", "# nothing to grade\n"))
	for _, tc := range []struct {
		name string
		args []string
		want int
		says string
	}{
		{"folder", []string{evidence, "--trust", p.trust}, exitOK, "2 files"},
		{"sent named", []string{"--trust", p.trust, filepath.Join(evidence, "one", "sent-1.eml")}, exitFail, "GEN-12"},
		{"nothing", []string{"--trust", p.trust, docs}, exitHarness, "no .eml file"},
		{"transactions", []string{"--transaction", evidence, "--trust", p.trust}, exitOK, "== transaction " + filepath.Join(evidence, "two")},
		{"no transaction", []string{"--transaction", docs, "--trust", p.trust}, exitHarness, "no transaction folder"},
		{"flags after --", []string{"--trust", p.trust, "--", evidence}, exitOK, "2 files"},
		{"unknown flag", []string{"--trst", p.trust, evidence}, exitHarness, "flag provided but not defined"},
	} {
		code, out, errs := runGrade(t, tc.args...)
		if code != tc.want || !strings.Contains(out+errs, tc.says) {
			t.Errorf("%s: exit %d, want %d, saying %q:\n%s%s", tc.name, code, tc.want, tc.says, out, errs)
		}
	}
}
