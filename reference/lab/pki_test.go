package lab

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSigningCertificateProfile: RFC 6109 §5.5 — KeyUsage critical with
// digitalSignature, AKI = the CA's SKI, SKI, SAN rfc822Name (non-critical), no
// BasicConstraints, no other critical extension, providerName in O and CN.
func TestSigningCertificateProfile(t *testing.T) {
	ca, err := NewCA("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	c, err := ca.IssueSigning("Reference Alpha", "posta-certificata@pec.alpha.test", key.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	exts := map[string]bool{} // OID -> critical
	for _, e := range c.Extensions {
		exts[e.Id.String()] = e.Critical
	}
	if crit, ok := exts["2.5.29.15"]; !ok || !crit || c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("Key Usage present=%v critical=%v usage=%v", ok, crit, c.KeyUsage)
	}
	if _, ok := exts["2.5.29.19"]; ok {
		t.Error("Basic Constraints present")
	}
	for oid, crit := range exts {
		if crit && oid != "2.5.29.15" {
			t.Errorf("extension %s is critical", oid)
		}
	}
	if string(c.AuthorityKeyId) != string(ca.Cert.SubjectKeyId) || len(c.SubjectKeyId) == 0 {
		t.Error("AKI/SKI missing or not chained")
	}
	if len(c.EmailAddresses) != 1 || c.EmailAddresses[0] != "posta-certificata@pec.alpha.test" {
		t.Errorf("SAN %v", c.EmailAddresses)
	}
	if c.Subject.Organization[0] != "Reference Alpha" || !strings.Contains(c.Subject.CommonName, "Reference Alpha") {
		t.Errorf("subject %s", c.Subject)
	}
	for _, n := range c.Subject.Names {
		if n.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}) {
			t.Error("e-mail address in the Subject DN")
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: poolOf(ca.Cert), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("does not chain to the CA: %v", err)
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		f := filepath.Join(t.TempDir(), "c.pem")
		os.WriteFile(f, CertPEM(c), 0o600)
		out, err := exec.Command("openssl", "x509", "-in", f, "-noout", "-text").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "X509v3 Key Usage: critical") || strings.Contains(string(out), "Basic Constraints") {
			t.Errorf("openssl x509 -text: %v\n%s", err, out)
		}
	}
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

// TestTLSCertificate: a loopback handshake verifies against the lab CA.
func TestTLSCertificate(t *testing.T) {
	ca, _ := NewCA("test CA", time.Now())
	certPEM, keyPEM, err := ca.IssueTLS([]string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: poolOf(ca.Cert), ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.Close()
}
