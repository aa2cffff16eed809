package report

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// A small, independent builder of PEC messages for the rule tests: it writes
// the wire format of pec-rules §2 and §3 directly, every wire string
// literally here (never a constant of pec/ or a helper of the grader: a
// wrong string there must not be shared with the tests, issue 14), so that
// every rule can be shown one message it passes and one it fails.

// ident is a signing provider of the fixtures.
type ident struct {
	name, domain string
	cert         *x509.Certificate
	key          crypto.Signer
}

func (id *ident) service() string { return "posta-certificata@" + id.domain }

type world struct {
	ca           *x509.Certificate
	trust        *x509.CertPool
	alpha, beta  *ident
	gamma        *ident // in the index, but its certificate's domain is not managed
	delta        *ident // in the index, certificate subject without the providerName
	rogue        *ident // not in the index, and revoked
	caKey, key   crypto.Signer
	crl          *x509.RevocationList
	ix           *Index
	t0           time.Time
	sender, rcpt string
}

var (
	worldOnce sync.Once
	theWorld  *world
)

// fixtures returns the shared CA, provider identities, index and CRL.
func fixtures(tb testing.TB) *world {
	tb.Helper()
	worldOnce.Do(func() { theWorld = newWorld() })
	return theWorld
}

func newWorld() *world {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	now := time.Now().Truncate(time.Second)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fixture PEC CA"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3, 4}}
	ca := mustCert(x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key))
	w := &world{ca: ca, caKey: key, key: key, trust: x509.NewCertPool(), t0: now, sender: "alice@pec.alpha.test", rcpt: "bob@pec.beta.test"}
	w.trust.AddCert(ca)
	w.alpha = w.issue("Alpha PEC S.p.A.", "pec.alpha.test", nil)
	w.beta = w.issue("Beta PEC S.p.A.", "pec.beta.test", nil)
	w.gamma = w.issue("Gamma PEC S.p.A.", "pec.gamma.test", nil)
	w.delta = w.issue("Delta PEC S.p.A.", "pec.delta.test", func(c *x509.Certificate) {
		c.Subject = pkix.Name{CommonName: "mail signer", Organization: []string{"Unrelated Ltd"}}
	})
	w.rogue = w.issue("Rogue PEC S.p.A.", "pec.rogue.test", nil)
	var ldif strings.Builder
	record := func(id *ident, domain string) {
		fmt.Fprintf(&ldif, "dn: providerName=%s,o=postacert\nobjectClass: top\nobjectClass: provider\n"+
			"providerName: %s\nproviderCertificateHash: %s\nproviderCertificate;binary:: %s\n"+
			"mailReceipt: %s\nmanagedDomains: %s\n\n", id.name, id.name, strings.ToUpper(sha1hex(string(id.cert.Raw))),
			base64.StdEncoding.EncodeToString(id.cert.Raw), id.service(), domain)
	}
	record(w.alpha, w.alpha.domain)
	record(w.beta, w.beta.domain)
	record(w.gamma, "pec.other.test") // its certificate's domain is not among its managedDomains (SIG-10)
	record(w.delta, w.delta.domain)   // its certificate does not name it (CRT-01)
	ix, err := ParseLDIF(strings.NewReader(ldif.String()))
	if err != nil {
		panic(err)
	}
	ix.Source = "fixture.ldif"
	w.ix = ix
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-24 * time.Hour), NextUpdate: now.Add(48 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: w.rogue.cert.SerialNumber, RevocationTime: now.Add(-time.Hour)}}},
		ca, key)
	if err != nil {
		panic(err)
	}
	w.crl, err = x509.ParseRevocationList(crlDER)
	if err != nil {
		panic(err)
	}
	return w
}

var serialNo atomic.Int64

// issue makes a provider signing certificate with the RFC 6109 §5.5 profile,
// then lets mod spoil it; the key is shared (RSA-2048), the issuer is the CA.
func (w *world) issue(name, domain string, mod func(*x509.Certificate)) *ident {
	der, _ := x509.MarshalPKIXPublicKey(w.key.Public())
	ski := sha1.Sum(der)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serialNo.Add(1) + 1),
		Subject:   pkix.Name{Country: []string{"IT"}, Organization: []string{name}, CommonName: name},
		NotBefore: w.t0.Add(-48 * time.Hour), NotAfter: w.t0.Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, EmailAddresses: []string{"posta-certificata@" + domain},
		SubjectKeyId: ski[:], AuthorityKeyId: w.ca.SubjectKeyId}
	parent, key := w.ca, crypto.Signer(w.key)
	if mod != nil {
		mod(tmpl)
		if tmpl.Issuer.CommonName != "" { // a parent without SKI, so no AKI (CRT-05)
			parent = &x509.Certificate{Subject: tmpl.Issuer}
		}
	}
	cert := mustCert(x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), key))
	return &ident{name: name, domain: domain, cert: cert, key: key}
}

func mustCert(der []byte, err error) *x509.Certificate {
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

// field is one header field of a fixture, in order.
type field struct{ name, value string }

// fx is one message to build: outer fields in order, the parts of the signed
// multipart/mixed, the signer.
type fx struct {
	kind    string // the test's label: an X-Ricevuta value, "trasporto" or "anomalia"
	hdr     []field
	text    string
	html    string // when set, the text part is multipart/alternative
	dc      *dat
	dcRaw   string // replaces dc when set
	dcName  string
	orig    []byte // message/rfc822 part (postacert.eml or the anomaly's original)
	extra   []string
	signer  *ident
	chain   []*x509.Certificate // issuers the CMS carries besides the signer's certificate
	unsign  bool
	sha1    bool                // CMS digest SHA-1 (SIG-12)
	attach  bool                // CMS encapsulates the content (SIG-02)
	noCert  bool                // CMS without certificates (SIG-03)
	lead    string              // a part before the text (GEN-03)
	mid     string              // a part between the text and daticert (GEN-19)
	textCT  string              // Content-Type of the text part
	htmlCT  string              // Content-Type of the HTML alternative
	origCT  string              // header of the original part
	after   func([]byte) []byte // edits the signed bytes
	mailbox string              // where a transaction test captured it
	service bool
}

func (f *fx) get(name string) string {
	for _, h := range f.hdr {
		if strings.EqualFold(h.name, name) {
			return h.value
		}
	}
	return ""
}

// set replaces (or appends) a header; an empty value deletes it.
func (f *fx) set(name, value string) *fx {
	out := f.hdr[:0:0]
	done := false
	for _, h := range f.hdr {
		if strings.EqualFold(h.name, name) {
			if !done && value != "" {
				out = append(out, field{name, value})
			}
			done = true
			continue
		}
		out = append(out, h)
	}
	if !done && value != "" {
		out = append(out, field{name, value})
	}
	f.hdr = out
	return f
}

const crlf = "\r\n"

func lines(s ...string) string { return strings.Join(s, crlf) + crlf }

func b64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(enc) > 76 {
		out.WriteString(enc[:76] + crlf)
		enc = enc[76:]
	}
	return out.String() + enc + crlf
}

func sha1hex(s string) string { h := sha1.Sum([]byte(s)); return fmt.Sprintf("%x", h[:]) }

// bytes builds the message.
func (f *fx) bytes(tb testing.TB) []byte {
	tb.Helper()
	mixed := multipart("multipart/mixed", "mixed-b", f.parts())
	if f.unsign {
		return []byte(f.header() + "MIME-Version: 1.0" + crlf + mixed)
	}
	raw := f.sign(tb, []byte(mixed))
	if f.after != nil {
		raw = f.after(raw)
	}
	return raw
}

func (f *fx) header() string {
	var b strings.Builder
	for _, h := range f.hdr {
		b.WriteString(h.name + ": " + h.value + crlf)
	}
	return b.String()
}

// parts are the parts of the multipart/mixed: text, daticert, original.
func (f *fx) parts() []string {
	ct := "text/plain; charset=ISO-8859-1"
	if f.textCT != "" {
		ct = f.textCT
	}
	textPart := "Content-Type: " + ct + crlf + "Content-Transfer-Encoding: 7bit" + crlf + crlf + f.text
	if f.html != "" {
		hct := "text/html; charset=ISO-8859-1"
		if f.htmlCT != "" {
			hct = f.htmlCT
		}
		alt := []string{textPart, "Content-Type: " + hct + crlf + "Content-Transfer-Encoding: 7bit" + crlf + crlf + f.html}
		textPart = multipart("multipart/alternative", "alt-b", alt)
	}
	var parts []string
	if f.lead != "" {
		parts = append(parts, f.lead)
	}
	parts = append(parts, textPart)
	if f.mid != "" {
		parts = append(parts, f.mid)
	}
	xml := f.dcRaw
	if xml == "" && f.dc != nil {
		xml = f.dc.xml()
	}
	if xml != "" {
		name := f.dcName
		if name == "" {
			name = "daticert.xml"
		}
		parts = append(parts, fmt.Sprintf("Content-Type: application/xml; name=%q"+crlf+"Content-Transfer-Encoding: base64"+crlf+
			"Content-Disposition: inline; filename=%q"+crlf+crlf, name, name)+b64([]byte(xml)))
	}
	if f.orig != nil {
		h := f.origCT
		if h == "" {
			h = "Content-Type: message/rfc822; name=\"postacert.eml\"" + crlf + "Content-Disposition: inline; filename=\"postacert.eml\""
		}
		parts = append(parts, h+crlf+crlf+string(f.orig))
	}
	return append(parts, f.extra...)
}

var boundaryNo atomic.Int64

func multipart(ct, boundary string, parts []string) string {
	boundary = fmt.Sprintf("%s-%d", boundary, boundaryNo.Add(1))
	var b strings.Builder
	b.WriteString("Content-Type: " + ct + "; boundary=\"" + boundary + "\"" + crlf + crlf)
	for _, p := range parts {
		b.WriteString("--" + boundary + crlf + p)
		if !strings.HasSuffix(p, crlf) {
			b.WriteString(crlf)
		}
	}
	b.WriteString("--" + boundary + "--" + crlf)
	return b.String()
}

// toCRLF ends every line with CRLF (RFC 5751 §3.1.1), the test's own.
func toCRLF(b []byte) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
}

// sign wraps the mixed content in a multipart/signed with a CMS signature
// made as the fixture says (RFC 5751 §3.4.3).
func (f *fx) sign(tb testing.TB, content []byte) []byte {
	tb.Helper()
	content = toCRLF(content)
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		tb.Fatal(err)
	}
	micalg := "sha-256"
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if f.sha1 {
		micalg = "sha-1"
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA1)
	}
	if err := sd.AddSigner(f.signer.cert, f.signer.key, pkcs7.SignerInfoConfig{}); err != nil {
		tb.Fatal(err)
	}
	for _, c := range f.chain {
		sd.AddCertificate(c)
	}
	if !f.attach {
		sd.Detach()
	}
	der, err := sd.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	if f.noCert {
		der = withoutCertificates(tb, der)
	}
	return signedEnvelope(f.header(), micalg, content, der)
}

// signedEnvelope writes a multipart/signed: header, content, smime.p7s.
func signedEnvelope(header, micalg string, content, der []byte) []byte {
	sb := fmt.Sprintf("sig-b-%d", boundaryNo.Add(1))
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("MIME-Version: 1.0" + crlf + `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg="` +
		micalg + `"; boundary="` + sb + `"` + crlf + crlf + "--" + sb + crlf)
	b.Write(content)
	b.WriteString(crlf + "--" + sb + crlf + `Content-Type: application/pkcs7-signature; name="smime.p7s"` + crlf +
		"Content-Transfer-Encoding: base64" + crlf + `Content-Disposition: attachment; filename="smime.p7s"` + crlf + crlf)
	b.WriteString(b64(der) + crlf + "--" + sb + "--" + crlf)
	return []byte(b.String())
}

// withoutCertificates drops the [0] certificates field of a CMS SignedData
// (RFC 5652 §5.1), leaving the signature itself intact.
func withoutCertificates(tb testing.TB, der []byte) []byte {
	tb.Helper()
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		tb.Fatal(err)
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		tb.Fatal(err)
	}
	var body []byte
	for rest := sd.Bytes; len(rest) > 0; {
		var v asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			tb.Fatal(err)
		}
		if !(v.Class == asn1.ClassContextSpecific && v.Tag == 0) {
			body = append(body, v.FullBytes...)
		}
	}
	sdDER, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	out, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}{ci.Type, asn1.RawValue{FullBytes: sdDER}})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
