package report

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sha1Chain is a DigitPA-era chain built here: a root, an intermediate and
// a provider certificate, each signed sha1WithRSA, valid in 2014 only.
type sha1Chain struct {
	root, inter, leaf *x509.Certificate
	leafKey           *rsa.PrivateKey
	at                time.Time // a Date when all three are valid
}

func newSHA1Chain(t *testing.T, org string) *sha1Chain {
	t.Helper()
	key := func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k }
	rootKey, interKey, leafKey := key(), key(), key()
	from, to := time.Date(2013, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	ca := func(serial int64, name string, pub *rsa.PublicKey, parent *x509.Certificate, pk *rsa.PrivateKey) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{org}, CommonName: name},
			NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			SignatureAlgorithm: x509.SHA1WithRSA, SubjectKeyId: []byte(name)}
		if parent == nil {
			parent = tmpl
		}
		return mustCert(x509.CreateCertificate(rand.Reader, tmpl, parent, pub, pk))
	}
	c := &sha1Chain{leafKey: leafKey, at: time.Date(2014, 11, 14, 17, 26, 32, 0, time.UTC)}
	c.root = ca(1, "Prova Root CA", &rootKey.PublicKey, nil, rootKey)
	c.inter = ca(2, "Prova CA1", &interKey.PublicKey, c.root, rootKey)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{"Alpha PEC S.p.A."}, CommonName: "Alpha PEC S.p.A."},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature, EmailAddresses: []string{"posta-certificata@pec.alpha.test"},
		SignatureAlgorithm: x509.SHA1WithRSA, SubjectKeyId: []byte("leaf")}
	c.leaf = mustCert(x509.CreateCertificate(rand.Reader, leaf, c.inter, &leafKey.PublicKey, interKey))
	return c
}

// receipt is an accettazione signed by the chain's leaf, dated c.at, with
// the intermediate inter in the CMS as real providers send it.
func (c *sha1Chain) receipt(t *testing.T, w *world, inter *x509.Certificate) []byte {
	t.Helper()
	f := w.msg(A)
	f.set("Date", dateHeader(c.at))
	f.dc.setTime(c.at)
	f.text = w.text(A, c.at)
	f.signer = &ident{name: "Alpha PEC S.p.A.", domain: "pec.alpha.test", cert: c.leaf, key: c.leafKey}
	f.sha1, f.chain = true, []*x509.Certificate{inter}
	return f.bytes(t)
}

func verdictOf(t *testing.T, g Graded, id string) Verdict {
	t.Helper()
	v, ok := verdict(g.Verdicts, id)
	if !ok {
		t.Fatalf("no %s verdict", id)
	}
	return v
}

// TestSHA1ChainVerifies: a chain signed with SHA-1, which Go's x509 refuses,
// verifies against its root by the grader's own check, with SIG-12 warning
// of the algorithm and SIG-14 noting the expiry since; the root unknown is
// unknown, the intermediate tampered with is a failure; openssl agrees.
func TestSHA1ChainVerifies(t *testing.T) {
	w := fixtures(t)
	c := newSHA1Chain(t, "Prova")
	if _, err := c.leaf.Verify(x509.VerifyOptions{Roots: poolOf(c.root), Intermediates: poolOf(c.inter), CurrentTime: c.at}); err == nil {
		t.Fatal("Go's x509 verified a SHA-1 chain: the test no longer shows the grader's own check")
	}
	raw := c.receipt(t, w, c.inter)
	opts := Options{Trust: poolOf(c.root), Anchors: []*x509.Certificate{c.root}}
	g := Grade(raw, opts)
	if v := verdictOf(t, g, "SIG-05"); v.Status != Pass || !strings.Contains(v.Detail, "own check") {
		t.Errorf("SIG-05 %s: %s", v.Status, v.Detail)
	}
	if v := verdictOf(t, g, "SIG-12"); v.Status != Warn || !strings.Contains(v.Detail, `"Prova CA1"`) {
		t.Errorf("SIG-12 %s: %s", v.Status, v.Detail)
	}
	if v := verdictOf(t, g, "SIG-14"); v.Status != Warn || !strings.Contains(v.Detail, "2016-01-01") {
		t.Errorf("SIG-14 %s: %s", v.Status, v.Detail)
	}
	stranger := newSHA1Chain(t, "Altra").root
	if v := verdictOf(t, Grade(raw, Options{Trust: poolOf(stranger), Anchors: []*x509.Certificate{stranger}}), "SIG-05"); v.Status != Unknown {
		t.Errorf("root not among the anchors: SIG-05 %s: %s", v.Status, v.Detail)
	}
	other := newSHA1Chain(t, "Prova")
	if v := verdictOf(t, Grade(c.receipt(t, w, other.inter), opts), "SIG-05"); v.Status != Fail {
		t.Errorf("an intermediate of that name that did not sign the leaf: SIG-05 %s: %s", v.Status, v.Detail)
	}
	opensslVerifies(t, c, true)
	opensslVerifies(t, &sha1Chain{root: c.root, inter: other.inter, leaf: c.leaf, at: c.at}, false)
	opensslSMIME(t, c, raw, true)
	opensslSMIME(t, c, c.receipt(t, w, other.inter), false)
}

func poolOf(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

// opensslVerifies checks `openssl verify -attime` gives the verdict the
// grader gives the chain (SHA-1 allowed at security level 0).
func opensslVerifies(t *testing.T, c *sha1Chain, want bool) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not installed (make setup)")
	}
	dir := t.TempDir()
	write := func(name string, cs ...*x509.Certificate) string {
		var b []byte
		for _, c := range cs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out, err := exec.Command(openssl, "verify", "-auth_level", "0", "-attime", strconv.FormatInt(c.at.Unix(), 10),
		"-CAfile", write("root.pem", c.root), "-untrusted", write("inter.pem", c.inter), write("leaf.pem", c.leaf)).CombinedOutput()
	if got := err == nil; got != want {
		t.Errorf("openssl verify = %v, the grader says %v:\n%s", got, want, out)
	}
}

// opensslSMIME checks `openssl smime -verify -attime` (signature and chain
// to the root, SHA-1 allowed) agrees with the grader on a whole receipt.
func opensslSMIME(t *testing.T, c *sha1Chain, raw []byte, want bool) {
	t.Helper()
	dir := t.TempDir()
	root, msg := filepath.Join(dir, "root.pem"), filepath.Join(dir, "m.eml")
	os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.root.Raw}), 0o600)
	os.WriteFile(msg, raw, 0o600)
	out, err := exec.Command("openssl", "smime", "-verify", "-auth_level", "0", "-attime", strconv.FormatInt(c.at.Unix(), 10),
		"-CAfile", root, "-in", msg, "-out", os.DevNull).CombinedOutput()
	if got := err == nil; got != want {
		t.Errorf("openssl smime -verify = %v, the grader says %v:\n%s", got, want, out)
	}
}

// TestForgedSignerNeverPasses: a receipt signed by a self-signed certificate
// with the provider's subject and address fails SIG-05 against the CA and
// against the index, is an error without anchors, and passes only when
// --no-trust says chains are not verified.
func TestForgedSignerNeverPasses(t *testing.T) {
	w := fixtures(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := *w.alpha.cert
	tmpl.SerialNumber, tmpl.AuthorityKeyId, tmpl.PublicKey = big.NewInt(777), nil, &key.PublicKey
	forged := mustCert(x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key))
	f := w.msg(A)
	f.signer = &ident{name: w.alpha.name, domain: w.alpha.domain, cert: forged, key: key}
	raw := f.bytes(t)
	for name, tc := range map[string]struct {
		opts Options
		want Status
	}{
		"trust":    {Options{Trust: w.trust, Anchors: []*x509.Certificate{w.ca}}, Fail},
		"pool":     {Options{Trust: w.trust}, Fail},
		"index":    {Options{Index: w.ix}, Fail},
		"nothing":  {Options{}, Error},
		"no-trust": {Options{NoTrust: true}, NA},
	} {
		g := Grade(raw, tc.opts)
		if v := verdictOf(t, g, "SIG-05"); v.Status != tc.want {
			t.Errorf("%s: SIG-05 %s: %s", name, v.Status, v.Detail)
		}
		if decided := len(g.MustFailures()) > 0 || len(g.Undecided()) > 0; !decided && tc.want != NA {
			t.Errorf("%s: a forged receipt grades clean", name)
		}
	}
}

// TestTrustAnchors: the fixture CA as anchor (pool and certificates), the
// index's certificates as anchors (pinned), a bundle without the issuing CA
// (unknown, not fail), no anchors (error, saying what to give), --no-trust.
func TestTrustAnchors(t *testing.T) {
	w := fixtures(t)
	raw := w.msg(A).bytes(t)
	stranger := newSHA1Chain(t, "Altra").root
	for name, tc := range map[string]struct {
		opts   Options
		want   Status
		detail string
	}{
		"ca":          {Options{Trust: w.trust}, Pass, "chains to"},
		"ca-certs":    {Options{Anchors: []*x509.Certificate{w.ca}}, Pass, "chains to"},
		"index":       {Options{Index: w.ix}, Pass, "chains to"},
		"other-ca":    {Options{Trust: poolOf(stranger), Anchors: []*x509.Certificate{stranger}}, Unknown, "not among the anchors"},
		"other-pool":  {Options{Trust: poolOf(stranger)}, Unknown, "not among the anchors"},
		"no-anchors":  {Options{}, Error, "give --trust or --index, or --no-trust"},
		"no-trust":    {Options{NoTrust: true}, NA, "--no-trust"},
		"empty-pool":  {Options{Trust: x509.NewCertPool()}, Unknown, "not among the anchors"},
		"strict-warn": {Options{Trust: w.trust, Strict: true}, Pass, "chains to"},
	} {
		v := verdictOf(t, Grade(raw, tc.opts), "SIG-05")
		if v.Status != tc.want || !strings.Contains(v.Detail, tc.detail) {
			t.Errorf("%s: SIG-05 %s: %s", name, v.Status, v.Detail)
		}
	}
}

// TestCRT08NoExemption: a critical Basic Constraints is "another extension
// marked critical" too (RFC 6109 §5.5.2 makes Key Usage the only one).
func TestCRT08NoExemption(t *testing.T) {
	w := fixtures(t)
	f := w.msg(A)
	certWith(func(c *x509.Certificate) { c.BasicConstraintsValid = true })(w, f) // x509 writes it critical
	if v := verdictOf(t, Grade(f.bytes(t), w.opts()), "CRT-08"); v.Status != Fail || !strings.Contains(v.Detail, "Basic Constraints") {
		t.Errorf("CRT-08 %s: %s", v.Status, v.Detail)
	}
}
