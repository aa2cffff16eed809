package smime

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the detached SignedData (RFC 5652, RFC 5754, RFC 8017).
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSASHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// detached returns a DER CMS ContentInfo holding a SignedData (RFC 5652 §5)
// without its content: SHA-256 over content, the signer certificate, signed
// attributes contentType, signingTime and messageDigest (§11.1–11.3), signed
// with key (RSA PKCS #1 v1.5 or ECDSA). It reads content in place: a large
// message is hashed where it is, never wrapped in an OCTET STRING copy.
func detached(content []byte, cert *x509.Certificate, key crypto.Signer, at time.Time) ([]byte, error) {
	digest := sha256.Sum256(content)
	return detachedDigest(digest[:], cert, key, at)
}

// detachedDigest is detached for a content already hashed (SHA-256): the
// content itself may have been streamed and never held (SignTo).
func detachedDigest(digest []byte, cert *x509.Certificate, key crypto.Signer, at time.Time) ([]byte, error) {
	var sigAlg asn1.ObjectIdentifier
	switch key.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = oidRSASHA256
	case *ecdsa.PublicKey:
		sigAlg = oidECDSASHA256
	default:
		return nil, fmt.Errorf("unsupported key type %T", key.Public())
	}
	attrs, err := signedAttributes(digest, at)
	if err != nil {
		return nil, err
	}
	// The signature covers the attributes DER-encoded as a SET OF (§5.4).
	set := cryptobyte.NewBuilder(nil)
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAll(b, attrs) })
	toSign, err := set.Bytes()
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(toSign)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}

	out := cryptobyte.NewBuilder(nil)
	out.AddASN1(cbasn1.SEQUENCE, func(ci *cryptobyte.Builder) { // ContentInfo
		ci.AddASN1ObjectIdentifier(oidSignedData)
		ci.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(ex *cryptobyte.Builder) {
			ex.AddASN1(cbasn1.SEQUENCE, func(sd *cryptobyte.Builder) { // SignedData
				sd.AddASN1Int64(1)
				sd.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algorithm(b, oidSHA256) })
				sd.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				sd.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.Raw)
				})
				sd.AddASN1(cbasn1.SET, func(set *cryptobyte.Builder) {
					set.AddASN1(cbasn1.SEQUENCE, func(si *cryptobyte.Builder) { // SignerInfo
						si.AddASN1Int64(1)
						si.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						algorithm(si, oidSHA256)
						si.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							addAll(b, attrs)
						})
						if sigAlg.Equal(oidRSASHA256) {
							// RFC 5754 §3.2: NULL parameters for the RSA signature algorithms.
							si.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(sigAlg)
								b.AddASN1NULL()
							})
						} else {
							algorithm(si, sigAlg) // RFC 5758 §3.2: ECDSA parameters absent
						}
						si.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return out.Bytes()
}

// signedAttributes are contentType, signingTime and messageDigest, each
// DER-encoded and sorted by encoding, as DER orders a SET OF.
func signedAttributes(digest []byte, at time.Time) ([][]byte, error) {
	when, err := asn1.Marshal(at.UTC()) // UTCTime until 2049 (RFC 5652 §11.3)
	if err != nil {
		return nil, err
	}
	var attrs [][]byte
	for _, a := range []struct {
		oid   asn1.ObjectIdentifier
		value func(*cryptobyte.Builder)
	}{
		{oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }},
		{oidSigningTime, func(b *cryptobyte.Builder) { b.AddBytes(when) }},
		{oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }},
	} {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(attr *cryptobyte.Builder) {
			attr.AddASN1ObjectIdentifier(a.oid)
			attr.AddASN1(cbasn1.SET, a.value)
		})
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, der)
	}
	slices.SortFunc(attrs, bytes.Compare)
	return attrs, nil
}

// algorithm adds an AlgorithmIdentifier with absent parameters (RFC 5754 §2:
// implementations generate SHA-2 identifiers without them).
func algorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}

func addAll(b *cryptobyte.Builder, ders [][]byte) {
	for _, d := range ders {
		b.AddBytes(d)
	}
}
