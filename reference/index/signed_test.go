package index_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/lab"
)

// TestSignedLDIF: a provider's LDIF signed as a DER PKCS#7 .p7m (IDX-09)
// opens with its records intact, openssl verifies it, and a tampered file, a
// file signed by a certificate the record does not list, or by an untrusted
// signer is refused.
func TestSignedLDIF(t *testing.T) {
	ca := testpki.NewCA(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := ca.Leaf(t, "Reference Alpha", key.Public(), "posta-certificata@pec.alpha.test")
	p := index.Provider{Name: "Reference Alpha", MailReceipt: "ricevute@pec.alpha.test",
		Domains: []string{"pec.alpha.test", "Alpha2.test"}, Certificates: []*x509.Certificate{cert}}
	p7m, err := index.SignLDIF(index.ProviderLDIF(p), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := index.OpenSignedLDIF(p7m, ca.Pool, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != p.Name || got[0].MailReceipt != p.MailReceipt || len(got[0].Domains) != 2 ||
		!got[0].Certificates[0].Equal(cert) || got[0].DN != "providerName=Reference Alpha,o=postacert" {
		t.Fatalf("records = %+v", got)
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "a.p7m"), p7m, 0o600)
		os.WriteFile(filepath.Join(dir, "ca.pem"), lab.CertPEM(ca.Cert), 0o600)
		out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", filepath.Join(dir, "a.p7m"),
			"-CAfile", filepath.Join(dir, "ca.pem"), "-purpose", "any").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("managedDomains: Alpha2.test")) {
			t.Errorf("openssl cms -verify: %v\n%s", err, out)
		}
	}

	tampered := bytes.Replace(p7m, []byte("ricevute@pec.alpha.test"), []byte("ricevute@pec.evil.test"), 1)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other := ca.Leaf(t, "Someone Else", otherKey.Public())
	byOther, _ := index.SignLDIF(index.ProviderLDIF(p), other, otherKey)
	stranger := testpki.NewCA(t)
	for name, tc := range map[string]struct {
		data []byte
		pool *x509.CertPool
	}{
		"tampered content":     {tampered, ca.Pool},
		"signed by another":    {byOther, ca.Pool},
		"untrusted signer":     {p7m, stranger.Pool},
		"not PKCS#7":           {index.ProviderLDIF(p), ca.Pool},
		"expired at that time": {p7m, ca.Pool},
	} {
		at := time.Now()
		if name == "expired at that time" {
			at = at.Add(48 * time.Hour)
		}
		if _, err := index.OpenSignedLDIF(tc.data, tc.pool, at); !errors.Is(err, index.ErrSignedLDIF) {
			t.Errorf("%s: err = %v, want ErrSignedLDIF", name, err)
		}
	}
}

// TestParseLDIF reads folded lines, comments, base64 values and skips the root;
// a provider record lacking a MUST attribute or with a wrong hash is an error.
func TestParseLDIF(t *testing.T) {
	ps := providers(t)
	ldif := []byte("# index\n" + index.BaseLDIF() + "\n" + index.EntryLDIF(ps[0]) + "\n" + index.EntryLDIF(ps[1]))
	folded := bytes.Replace(ldif, []byte("mailReceipt: ricevute@pec.beta.test"), []byte("mailReceipt: ricevute@pec.\n beta.test"), 1)
	got, err := index.ParseLDIF(folded)
	if err != nil || len(got) != 2 || got[1].MailReceipt != "ricevute@pec.beta.test" || len(got[1].Domains) != 2 {
		t.Fatalf("ParseLDIF = %+v, %v", got, err)
	}
	for name, bad := range map[string][]byte{
		"no mailReceipt": bytes.Replace(ldif, []byte("mailReceipt: ricevute@pec.beta.test\n"), nil, 1),
		"wrong hash":     bytes.Replace(ldif, []byte("providerCertificateHash: "+index.CertHash(ps[1].Certificates[0])), []byte("providerCertificateHash: 00"), 1),
		"bad base64":     bytes.Replace(ldif, []byte("providerCertificate;binary:: "), []byte("providerCertificate;binary:: !!"), 1),
		"URL value":      bytes.Replace(ldif, []byte("providerName: Reference Beta"), []byte("providerName:< file:///etc/passwd"), 1),
	} {
		if _, err := index.ParseLDIF(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseLDIF: any bytes give records or an error, never a panic.
func FuzzParseLDIF(f *testing.F) {
	f.Add([]byte(index.BaseLDIF()))
	f.Add([]byte("dn: x\nobjectClass: provider\nproviderName: a\n b\nmailReceipt: r@d\nmanagedDomains: d\nproviderCertificate:: AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := index.ParseLDIF(data)
		if err == nil {
			for _, p := range ps {
				if p.Name == "" || len(p.Certificates) == 0 {
					t.Fatalf("accepted a record without name or certificate: %+v", p)
				}
			}
		}
	})
}
