package smime_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
)

// TestSignedAttributes: the SignedData carries the content's SHA-256 as
// messageDigest, a signingTime of now and the signer certificate, and no
// content (detached), read back by an independent parser.
func TestSignedAttributes(t *testing.T) {
	leaf, key, _, pool := testPKI(t)
	before := time.Now().Add(-time.Second)
	msg, err := smime.Sign(nil, []byte(content), leaf, key)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := smime.VerifyMessage(msg, pool, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := s.Signature.Decoded()
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(p7.Content) != 0 || len(p7.Certificates) != 1 || !p7.Certificates[0].Equal(leaf) || len(p7.Signers) != 1 {
		t.Fatalf("content %d bytes, %d certificates, %d signers", len(p7.Content), len(p7.Certificates), len(p7.Signers))
	}
	var digest []byte
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &digest); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(content))
	if !bytes.Equal(digest, want[:]) {
		t.Errorf("messageDigest %x, want %x", digest, want)
	}
	var at time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &at); err != nil {
		t.Fatal(err)
	}
	if at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("signingTime %v, not now", at)
	}
	if !p7.Signers[0].DigestAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA256) ||
		!p7.Signers[0].DigestEncryptionAlgorithm.Algorithm.Equal(pkcs7.OIDEncryptionAlgorithmRSASHA256) {
		t.Errorf("algorithms %v / %v", p7.Signers[0].DigestAlgorithm.Algorithm, p7.Signers[0].DigestEncryptionAlgorithm.Algorithm)
	}
}

// TestSignECDSA: an ECDSA P-256 signer works too, checked by openssl.
func TestSignECDSA(t *testing.T) {
	ca := testpki.NewCA(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := ca.Leaf(t, "Posta Certificata Test", key.Public(), "posta-certificata@pec.test")
	msg, err := smime.Sign([]smime.Field{{Name: "Subject", Value: "x"}}, []byte(content), leaf, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := smime.VerifyMessage(msg, ca.Pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	openssl(t, msg, bytes.Replace(msg, []byte("ciao"), []byte("ciaO"), 1), ca.Cert)
}

// TestSignBareLF: a content with bare LF line ends is signed, and written,
// in its canonical CRLF form (RFC 5751 §3.1.1).
func TestSignBareLF(t *testing.T) {
	leaf, key, _, pool := testPKI(t)
	lf := bytes.ReplaceAll([]byte(content), []byte("\r\n"), []byte("\n"))
	msg, err := smime.Sign(nil, lf, leaf, key)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := smime.VerifyMessage(msg, pool, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Content.Raw, []byte(content)) || !pec.IsCanonical(msg) {
		t.Errorf("content written as %q", s.Content.Raw)
	}
}

// TestSignOneCopy: signing a large content allocates about one copy of it
// (the message), not one for the body, one for the CMS encoder and one for
// the output.
func TestSignOneCopy(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	leaf, key, _, _ := testPKI(t)
	const size = 8 << 20
	body := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678901234\r\n"), size/80)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	msg, err := smime.SignWith(nil, len(body), func(b *bytes.Buffer) { b.Write(body) }, leaf, key)
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > uint64(len(msg))*3/2 {
		t.Errorf("signing %d bytes allocated %d", len(body), got)
	}
}
