package report

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
)

// The grader checks the SignerInfo itself (RFC 5652 §5.4), on the ASN.1
// smallstep/pkcs7 parses: the messageDigest attribute against the digest of
// the content, then the signature value over the DER of the signed
// attributes. Unlike pkcs7's Verify it tells these two apart (SIG-04 is the
// digest and the value) and keeps the signing time for SIG-06 instead of
// failing the signature for it.

var (
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASHA1       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSASHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECDSASHA1     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// digests maps a digest algorithm to its hash and name; some signers write
// the RSA-with-hash OID in the digest field, which readers accept.
var digests = []struct {
	oids []asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{[]asn1.ObjectIdentifier{oidSHA1, oidRSASHA1}, crypto.SHA1, "sha1"},
	{[]asn1.ObjectIdentifier{oidSHA224}, crypto.SHA224, "sha224"},
	{[]asn1.ObjectIdentifier{oidSHA256, oidRSASHA256}, crypto.SHA256, "sha256"},
	{[]asn1.ObjectIdentifier{oidSHA384, oidRSASHA384}, crypto.SHA384, "sha384"},
	{[]asn1.ObjectIdentifier{oidSHA512, oidRSASHA512}, crypto.SHA512, "sha512"},
}

func digestOf(oid asn1.ObjectIdentifier) (crypto.Hash, string, bool) {
	for _, d := range digests {
		for _, o := range d.oids {
			if o.Equal(oid) {
				return d.hash, d.name, true
			}
		}
	}
	return 0, oid.String(), false
}

func digestName(oid asn1.ObjectIdentifier) string { _, n, _ := digestOf(oid); return n }

// errDigest is a messageDigest that does not match the content; errValue a
// signature value the signer's key does not verify; errAlgorithm an
// algorithm the grader cannot check (no finding against the provider).
var (
	errDigest    = errors.New("message digest mismatch")
	errValue     = errors.New("signature value does not verify")
	errAlgorithm = errors.New("algorithm not supported by the grader")
)

// signerResult is what checkSigner found: the error (nil when the signature
// verifies) and the signing time when signed.
type signerResult struct {
	err         error
	signingTime time.Time
}

// attribute mirrors a CMS Attribute (RFC 5652 §5.3) for re-encoding the
// signed attributes exactly as a verifier must (DER SET OF, §5.4).
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// checkSigner verifies the first SignerInfo of p7 over content with cert.
func checkSigner(p7 *pkcs7.PKCS7, cert *x509.Certificate, content []byte) signerResult {
	var r signerResult
	if len(p7.Signers) == 0 {
		r.err = errors.New("no SignerInfo")
		return r
	}
	si := p7.Signers[0]
	hash, name, ok := digestOf(si.DigestAlgorithm.Algorithm)
	if !ok || !hash.Available() {
		r.err = fmt.Errorf("%w: digest %s", errAlgorithm, name)
		return r
	}
	h := hash.New()
	h.Write(content)
	computed := h.Sum(nil)
	signed := content
	if len(si.AuthenticatedAttributes) > 0 {
		attrs := make([]attribute, 0, len(si.AuthenticatedAttributes))
		var digest []byte
		for _, a := range si.AuthenticatedAttributes {
			attrs = append(attrs, attribute{Type: a.Type, Value: a.Value})
			switch {
			case a.Type.Equal(oidMessageDigest):
				asn1.Unmarshal(a.Value.Bytes, &digest)
			case a.Type.Equal(oidSigningTime):
				asn1.Unmarshal(a.Value.Bytes, &r.signingTime)
			}
		}
		if !bytes.Equal(digest, computed) {
			r.err = fmt.Errorf("%w: the signed attribute says %s, the %d signed bytes hash to %s (%s)", errDigest,
				hex.EncodeToString(digest), len(content), hex.EncodeToString(computed), name)
			return r
		}
		enc, err := asn1.Marshal(struct {
			A []attribute `asn1:"set"`
		}{attrs})
		var seq asn1.RawValue
		if err == nil {
			_, err = asn1.Unmarshal(enc, &seq)
		}
		if err != nil {
			r.err = fmt.Errorf("%w: signed attributes cannot be re-encoded: %v", errValue, err)
			return r
		}
		signed = seq.Bytes
	}
	alg, err := signatureAlgorithm(si.DigestEncryptionAlgorithm.Algorithm, hash)
	if err != nil {
		r.err = err
		return r
	}
	if err := cert.CheckSignature(alg, signed, si.EncryptedDigest); err != nil {
		r.err = fmt.Errorf("%w with the signer's key: %v", errValue, err)
	}
	return r
}

// signatureAlgorithm maps the SignerInfo's signature algorithm with its
// digest to x509's (RSA PKCS #1 v1.5 and ECDSA, RFC 5754).
func signatureAlgorithm(oid asn1.ObjectIdentifier, hash crypto.Hash) (x509.SignatureAlgorithm, error) {
	rsa := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA1: x509.SHA1WithRSA, crypto.SHA256: x509.SHA256WithRSA,
		crypto.SHA384: x509.SHA384WithRSA, crypto.SHA512: x509.SHA512WithRSA}
	ec := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA1: x509.ECDSAWithSHA1, crypto.SHA256: x509.ECDSAWithSHA256,
		crypto.SHA384: x509.ECDSAWithSHA384, crypto.SHA512: x509.ECDSAWithSHA512}
	var table map[crypto.Hash]x509.SignatureAlgorithm
	switch {
	case oid.Equal(oidRSA), oid.Equal(oidRSASHA1), oid.Equal(oidRSASHA256), oid.Equal(oidRSASHA384), oid.Equal(oidRSASHA512):
		table = rsa
	case oid.Equal(oidECPublicKey), oid.Equal(oidECDSASHA1), oid.Equal(oidECDSASHA256), oid.Equal(oidECDSASHA384), oid.Equal(oidECDSASHA512):
		table = ec
	}
	if alg, ok := table[hash]; ok {
		return alg, nil
	}
	return 0, fmt.Errorf("%w: signature %s with %s", errAlgorithm, oid, hash)
}
