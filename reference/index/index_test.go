package index_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/lab"
)

func selfSigned(t *testing.T, cn string) *x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func providers(t *testing.T) []index.Provider {
	a, b := selfSigned(t, "alpha"), selfSigned(t, "beta")
	return []index.Provider{
		{Name: "Reference Alpha", MailReceipt: "ricevute@pec.alpha.test", Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{a}},
		{Name: "Reference Beta", MailReceipt: "ricevute@pec.beta.test", Domains: []string{"pec.beta.test", "beta2.test"}, Certificates: []*x509.Certificate{b}},
	}
}

// check runs the lookups every Directory must answer alike (IDX-13: case-insensitive).
func check(t *testing.T, d index.Directory, ps []index.Provider) {
	ctx := context.Background()
	if p, err := d.ByDomain(ctx, "PEC.Beta.TEST"); err != nil || p.Name != "Reference Beta" || p.MailReceipt != "ricevute@pec.beta.test" {
		t.Errorf("ByDomain = %+v, %v", p, err)
	}
	h := strings.ToUpper(index.CertHash(ps[0].Certificates[0]))
	if p, err := d.ByCertHash(ctx, h); err != nil || p.Name != "Reference Alpha" || len(p.Certificates) != 1 {
		t.Errorf("ByCertHash(upper hex) = %+v, %v", p, err)
	}
	if _, err := d.ByDomain(ctx, "example.org"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("unknown domain: err = %v, want ErrNotFound", err)
	}
	if _, err := d.ByCertHash(ctx, strings.Repeat("0", 40)); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("unknown hash: err = %v, want ErrNotFound", err)
	}
}

func TestMemory(t *testing.T) {
	ps := providers(t)
	check(t, index.NewMemory(ps...), ps)
}

func TestLDAPOnSlapd(t *testing.T) {
	if _, err := exec.LookPath("slapd"); err != nil {
		t.Fatal("slapd not installed (make setup)")
	}
	dir, _ := os.MkdirTemp("", "slapd-")
	defer os.RemoveAll(dir)
	s, err := lab.StartSlapd(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ps := providers(t)
	if err := index.Load(context.Background(), s.URL, s.BindDN, s.Password, ps...); err != nil {
		t.Fatal(err)
	}
	check(t, index.NewLDAP(s.URL, "", nil), ps)
	out, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", s.URL, "-b", "o=postacert", "(managedDomains=pec.beta.test)", "providerCertificateHash").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "providerCertificateHash: "+index.CertHash(ps[1].Certificates[0])) {
		t.Errorf("ldapsearch: %v\n%s", err, out)
	}
}

func TestEntryLDIF(t *testing.T) {
	ps := providers(t)
	l := index.EntryLDIF(ps[1])
	for _, want := range []string{"dn: providerName=Reference Beta,o=postacert", "objectClass: provider",
		"providerCertificateHash: " + index.CertHash(ps[1].Certificates[0]), "providerCertificate;binary:: ",
		"mailReceipt: ricevute@pec.beta.test", "managedDomains: beta2.test"} {
		if !strings.Contains(l, want) {
			t.Errorf("LDIF lacks %q:\n%s", want, l)
		}
	}
}
