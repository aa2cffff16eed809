package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodEnrolment = `name: acme
provider_name: ACME
domains: [pec.acme.test]
service_address: posta-certificata@pec.acme.test
receipts_mailbox: {address: ricevute@pec.acme.test, password: r}
submission: {host: 127.0.0.9, port: 20465, tls: implicit}
imap: {host: 127.0.0.9, port: 20993}
mx: {host: 127.0.0.9, port: 20025}
accounts: [{address: alice@pec.acme.test, password: a}, {address: bob@pec.acme.test, password: b}]
issue: {signing_key: true, tls: [127.0.0.9]}
`

// TestLoadEnrolment: every problem of an enrolment file is reported at
// once, in words that say what to change.
func TestLoadEnrolment(t *testing.T) {
	dir := t.TempDir()
	load := func(body string) error {
		p := filepath.Join(dir, "put.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadEnrolment(p)
		return err
	}
	if err := load(goodEnrolment); err != nil {
		t.Fatalf("good enrolment: %v", err)
	}
	for name, tc := range map[string]struct{ edit, want string }{
		"unknown key":        {"submision: {}\n", `unknown key "submision"`},
		"lab's domain":       {"domains: [pec.beta.test]\n", `"pec.beta.test" is the lab's own`},
		"counterpart":        {"counterpart: {name: x}\n", "counterpart: the lab provides it"},
		"two certificates":   {"certificate: c.pem\ntrust: t.pem\n", "exactly one of certificate"},
		"no alice":           {"accounts: [{address: x@pec.acme.test, password: a}, {address: bob@pec.acme.test, password: b}]\n", `handle "alice"`},
		"implicit MX":        {"mx: {host: 127.0.0.9, port: 25, tls: implicit}\n", "tls: starttls"},
		"service elsewhere":  {"service_address: posta@pec.other.test\n", "service_address"},
		"no way to TLS":      {"issue: {signing_key: true}\n", "cannot verify the PUT's TLS certificate"},
		"no receipts secret": {"receipts_mailbox: {address: ricevute@pec.acme.test}\n", "receipts_mailbox needs a password"},
	} {
		err := load(replaceKey(goodEnrolment, tc.edit))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one containing %q", name, err, tc.want)
		}
	}
}

// replaceKey replaces the top-level key of edit in body (or adds it).
func replaceKey(body, edit string) string {
	key, _, _ := strings.Cut(edit, ":")
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, key+":") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + edit
}

// TestLayout: the MX addresses follow the lab address; a BASE out of range
// or an address without room after it is refused.
func TestLayout(t *testing.T) {
	ly, err := newLayout("127.0.0.1", 30000)
	if err != nil {
		t.Fatal(err)
	}
	if ly.mxPort != 30002 || ly.mx["alpha"] != "127.0.0.2" || ly.mx["external"] != "127.0.0.5" {
		t.Errorf("layout %+v", ly)
	}
	if p, _ := ly.port(offBeta + slotAdmin); p != 30023 {
		t.Errorf("beta admin port %d, want 30023", p)
	}
	for _, bad := range []struct {
		listen string
		base   int
	}{{"127.0.0.1", 80}, {"127.0.0.1", 65530}, {"::1", 0}, {"127.0.0.253", 0}, {"localhost", 0}} {
		if _, err := newLayout(bad.listen, bad.base); err == nil {
			t.Errorf("newLayout(%q, %d) accepted", bad.listen, bad.base)
		}
	}
}

// TestDNSRecords: one local zone, MX and A record per domain; a host the lab
// does not know gets no A record.
func TestDNSRecords(t *testing.T) {
	got := dnsmasqRecords([]DNSRecord{{Domain: "pec.b.test", MXHost: "mx.pec.b.test", IP: "127.0.0.3"},
		{Domain: "pec.x.test", MXHost: "mx.pec.x.test"}})
	want := "host-record=mx.pec.b.test,127.0.0.3\nlocal=/pec.b.test/\nlocal=/pec.x.test/\n" +
		"mx-host=pec.b.test,mx.pec.b.test,10\nmx-host=pec.x.test,mx.pec.x.test,10\n"
	if got != want {
		t.Errorf("dnsmasq records:\n%s\nwant:\n%s", got, want)
	}
}

// TestOwnCertificate: a PUT that brings its own signing certificate gets it
// checked against its own trust (not the lab CA's), and its CAs join the
// bundle the lab's providers trust.
func TestOwnCertificate(t *testing.T) {
	now := time.Now()
	labCA, _ := NewCA("lab CA", now)
	own, _ := NewCA("ACME CA", now)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := own.IssueSigning("ACME", "posta-certificata@pec.acme.test", key.Public(), now)
	if err != nil {
		t.Fatal(err)
	}
	l := &Lab{CA: labCA}
	p := &PUT{Enrolment: &Enrolment{Certificate: "signer.pem", Trust: "ca.pem"}, certPEM: CertPEM(cert), trustPEM: own.CertPEM}
	if err := l.signingCertificate(p); err != nil || !p.Cert.Equal(cert) {
		t.Fatalf("own certificate: %v", err)
	}
	if _, err := p.Cert.Verify(x509.VerifyOptions{Roots: l.trustPool(p), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the lab's bundle does not verify the PUT's certificate: %v", err)
	}
	p.trustPEM = labCA.CertPEM
	if err := l.signingCertificate(p); err == nil || !strings.Contains(err.Error(), "does not chain to trust") {
		t.Errorf("a certificate outside its trust: %v", err)
	}
}

// TestFreePortNeverRepeats: two picks in a row never return the same port,
// even when the kernel hands out the one just released.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 200; i++ {
		p, err := freePortAt("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
