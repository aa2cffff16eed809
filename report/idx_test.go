package report

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// idxFixture is a provider's certificate and key and an LDIF writer.
type idxFixture struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newIdxFixture(t *testing.T) *idxFixture {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Posta Certificata Prova"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, EmailAddresses: []string{"posta-certificata@pec.prova.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &idxFixture{cert: cert, key: key, pool: pool}
}

// ldif writes the main record of "Prova" with edits applied to its lines.
func (f *idxFixture) ldif(edit func([]string) []string) string {
	lines := []string{"dn: providerName=Prova,o=postacert", "objectClass: top", "objectClass: provider",
		"providerName: Prova", "providerCertificateHash: " + strings.ToUpper(certHash(f.cert.Raw)),
		"providerCertificate;binary:: " + base64.StdEncoding.EncodeToString(f.cert.Raw),
		"mailReceipt: ricevute@pec.prova.test", "managedDomains: pec.prova.test"}
	if edit != nil {
		lines = edit(lines)
	}
	return strings.Join(lines, "\n") + "\n"
}

func replace(old, new string) func([]string) []string {
	return func(ls []string) []string {
		var out []string
		for _, l := range ls {
			if strings.HasPrefix(l, old) {
				if new == "" {
					continue
				}
				l = new
			}
			out = append(out, l)
		}
		return out
	}
}

func idxStatus(t *testing.T, vs []Verdict, id string) Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Rule == id {
			if v.Level == "" || v.Section == "" {
				t.Errorf("%s has no level or section", id)
			}
			return v
		}
	}
	t.Fatalf("no verdict for %s", id)
	return Verdict{}
}

// TestIndexEntryRules: the correct record passes IDX-01…08 and IDX-12; each
// spoilt record fails the rule it breaks.
func TestIndexEntryRules(t *testing.T) {
	f := newIdxFixture(t)
	grade := func(ldif string, domains ...string) []Verdict {
		ix, err := ParseLDIF(strings.NewReader(ldif))
		if err != nil {
			t.Fatal(err)
		}
		return GradeIndexEntry(ix, "Prova", domains)
	}
	good := grade(f.ldif(nil), "pec.prova.test")
	for _, id := range []string{"IDX-01", "IDX-02", "IDX-03", "IDX-04", "IDX-05", "IDX-06", "IDX-07", "IDX-08", "IDX-12"} {
		if v := idxStatus(t, good, id); v.Status != Pass {
			t.Errorf("correct record: %s %s %s", id, v.Status, v.Detail)
		}
	}
	if v := idxStatus(t, good, "IDX-11"); v.Status != NA {
		t.Errorf("one certificate: IDX-11 %s", v.Status)
	}
	for _, c := range []struct {
		rule string
		edit func([]string) []string
		dom  string
	}{
		{"IDX-01", replace("dn:", "dn: cn=Prova,o=postacert"), ""},
		{"IDX-02", replace("mailReceipt:", ""), ""},
		{"IDX-03", replace("providerCertificateHash:", "providerCertificateHash: 00"), ""},
		{"IDX-04", func(ls []string) []string { return append(ls, "providerName: Prova Due") }, ""},
		{"IDX-05", replace("mailReceipt:", "mailReceipt: Ricevute <ricevute@pec.prova.test>"), ""},
		{"IDX-06", replace("managedDomains:", "managedDomains: pec prova"), ""},
		{"IDX-07", func(ls []string) []string { return append(ls, "LDIFLocationURL: http://pec.prova.test/ix.ldif") }, ""},
		{"IDX-08", func(ls []string) []string {
			return append(ls, "", "dn: providerUnit=dr,providerName=Prova,o=postacert", "objectClass: provider",
				"providerName: Prova", "providerUnit: dr", "LDIFLocationURL: https://x.test/a.ldif")
		}, ""},
		{"IDX-12", nil, "altro.test"},
	} {
		dom := "pec.prova.test"
		if c.dom != "" {
			dom = c.dom
		}
		if v := idxStatus(t, grade(f.ldif(c.edit), dom), c.rule); v.Status != Fail {
			t.Errorf("spoilt for %s: %s %s", c.rule, v.Status, v.Detail)
		}
	}
}

// TestSignedLDIFRules: the LDIF signed by the provider's key, DER PKCS#7
// with the content inside, passes IDX-09 and IDX-10; a detached signature,
// a signer that is not the provider, and an LDIF missing a record fail.
func TestSignedLDIFRules(t *testing.T) {
	f := newIdxFixture(t)
	index := f.ldif(func(ls []string) []string {
		return append(ls, "", "dn: providerUnit=dr,providerName=Prova,o=postacert", "objectClass: provider",
			"providerName: Prova", "providerUnit: dr", "providerCertificateHash: "+certHash(f.cert.Raw),
			"providerCertificate;binary:: "+base64.StdEncoding.EncodeToString(f.cert.Raw),
			"mailReceipt: ricevute@pec.prova.test", "managedDomains: pec.prova.test")
	})
	ix, err := ParseLDIF(strings.NewReader(index))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(content string, cert *x509.Certificate, key *ecdsa.PrivateKey, detach bool) []byte {
		sd, err := pkcs7.NewSignedData([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
			t.Fatal(err)
		}
		if detach {
			sd.Detach()
		}
		der, err := sd.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	vs := GradeSignedLDIF(sign(index, f.cert, f.key, false), ix, "Prova", f.pool)
	for _, id := range []string{"IDX-09", "IDX-10"} {
		if v := idxStatus(t, vs, id); v.Status != Pass {
			t.Errorf("correct LDIF: %s %s %s", id, v.Status, v.Detail)
		}
	}
	if v := idxStatus(t, GradeSignedLDIF(sign(index, f.cert, f.key, true), ix, "Prova", f.pool), "IDX-09"); v.Status != Fail {
		t.Errorf("detached: IDX-09 %s", v.Status)
	}
	other := newIdxFixture(t)
	f.pool.AddCert(other.cert)
	if v := idxStatus(t, GradeSignedLDIF(sign(index, other.cert, other.key, false), ix, "Prova", f.pool), "IDX-09"); v.Status != Fail {
		t.Errorf("signed by another provider: IDX-09 %s %s", v.Status, v.Detail)
	}
	if v := idxStatus(t, GradeSignedLDIF(sign(f.ldif(nil), f.cert, f.key, false), ix, "Prova", f.pool), "IDX-10"); v.Status != Fail {
		t.Errorf("LDIF without the secondary record: IDX-10 %s %s", v.Status, v.Detail)
	}
	if v := idxStatus(t, GradeSignedLDIF([]byte("not der"), ix, "Prova", f.pool), "IDX-09"); v.Status != Fail {
		t.Errorf("garbage: IDX-09 %s", v.Status)
	}
}
