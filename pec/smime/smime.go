// Package smime builds and verifies S/MIME v3 multipart/signed messages with a
// detached CMS signature (RFC 5751 §3.4.3; RFC 6109 §2.1): what every PEC
// system message is. The signing key is any crypto.Signer, so a PKCS#11 key
// that never leaves its token signs as well as a software key. The reference
// and the probe's peer use this package; the grader verifies on its own.
package smime

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/pecspec/pecspec/pec"
)

// Field is one outer header field; Value is written as given (the caller
// encodes non-ASCII values per RFC 2047 and may fold with CRLF + space).
type Field struct{ Name, Value string }

// Sentinel errors.
var (
	ErrSign   = errors.New("smime: sign")
	ErrVerify = errors.New("smime: verify")
)

// Sign returns the complete message: the outer fields, then the
// multipart/signed whose first part is content byte for byte (a complete MIME
// entity, CRLF) and whose second part is the detached CMS SignedData over it
// (SHA-256, signer certificate included, signed attributes contentType,
// signingTime, messageDigest).
func Sign(outer []Field, content []byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	return SignWith(outer, len(content), func(b *bytes.Buffer) { b.Write(content) }, cert, key)
}

// SignWith is Sign for a content that write puts straight into the message
// being built (size is its expected length): a large content then exists
// once, in the message, where it is hashed and signed.
func SignWith(outer []Field, size int, write func(*bytes.Buffer), cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	boundary := newBoundary()
	var b bytes.Buffer
	b.Grow(size + len(cert.Raw)*4/3 + 8192) // one allocation for a large message
	hasMIME := false
	for _, f := range outer {
		if strings.EqualFold(f.Name, "MIME-Version") {
			hasMIME = true
		}
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	if !hasMIME {
		b.WriteString("MIME-Version: 1.0\r\n")
	}
	b.WriteString(`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg="sha-256"; boundary="` +
		boundary + "\"\r\n\r\n")
	b.WriteString("This is an S/MIME signed message\r\n\r\n--" + boundary + "\r\n")
	start := b.Len()
	write(&b)
	if content := b.Bytes()[start:]; !pec.IsCanonical(content) {
		canon := pec.Canonical(content) // a bare LF: the copy is the canonical form
		b.Truncate(start)
		b.Write(canon)
	}
	der, err := detached(b.Bytes()[start:], cert, key, time.Now())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSign, err)
	}
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

func newBoundary() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return "----pecsig-" + hex.EncodeToString(r[:])
}

// Verify checks the detached signature sigDER over content (canonicalised to
// CRLF first, RFC 5751 §3.1.1) and the signer's chain to roots at time at, and
// returns the signer certificate.
func Verify(content, sigDER []byte, roots *x509.CertPool, at time.Time) (*x509.Certificate, error) {
	p7, err := pkcs7.Parse(sigDER)
	if err != nil {
		return nil, fmt.Errorf("%w: not a CMS SignedData: %v", ErrVerify, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", ErrVerify, len(p7.Signers))
	}
	if len(p7.Content) > 0 {
		return nil, fmt.Errorf("%w: signature is not detached", ErrVerify)
	}
	p7.Content = pec.Canonical(content)
	if roots == nil {
		return nil, fmt.Errorf("%w: no trust roots", ErrVerify)
	}
	if err := p7.VerifyWithChainAtTime(roots, at); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	cert := p7.GetOnlySigner()
	if cert == nil {
		return nil, fmt.Errorf("%w: signer certificate not included", ErrVerify)
	}
	return cert, nil
}

// VerifyMessage splits a raw multipart/signed message and verifies it.
func VerifyMessage(raw []byte, roots *x509.CertPool, at time.Time) (*x509.Certificate, *pec.Signed, error) {
	e, err := pec.ReadEntity(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	s, err := pec.SplitSigned(e)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	sig, err := s.Signature.Decoded()
	if err != nil {
		return nil, s, fmt.Errorf("%w: signature part: %v", ErrVerify, err)
	}
	cert, err := Verify(s.Content.Raw, sig, roots, at)
	return cert, s, err
}
