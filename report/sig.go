package report

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"github.com/smallstep/pkcs7"

	"github.com/pecspec/pecspec/pec"
)

// sigInfo is the signature of a message, parsed once.
type sigInfo struct {
	partType string
	p7       *pkcs7.PKCS7
	parseErr error
	cert     *x509.Certificate
	verify   error // signature value over the content, without the chain
}

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

func digestName(oid asn1.ObjectIdentifier) string {
	switch {
	case oid.Equal(oidSHA1):
		return "sha1"
	case oid.Equal(oidSHA256):
		return "sha256"
	case oid.Equal(oidSHA384):
		return "sha384"
	case oid.Equal(oidSHA512):
		return "sha512"
	}
	return oid.String()
}

// signature parses the CMS of the signature part and verifies its value over
// the exact signed bytes, canonicalised to CRLF (RFC 5751 §3.1.1).
func (x *Msg) signature() *sigInfo {
	if x.sig != nil {
		return x.sig
	}
	s := &sigInfo{}
	x.sig = s
	if x.M.Signed == nil {
		s.parseErr = fmt.Errorf("not multipart/signed")
		return s
	}
	s.partType, _ = x.M.Signed.Signature.MediaType()
	der, err := x.M.Signed.Signature.Decoded()
	if err != nil {
		s.parseErr = err
		return s
	}
	if s.p7, err = pkcs7.Parse(der); err != nil {
		s.parseErr = err
		return s
	}
	s.cert = s.p7.GetOnlySigner()
	if len(s.p7.Content) > 0 {
		return s // encapsulated: SIG-02 says so; verify would check the wrong bytes
	}
	check := *s.p7
	check.Content = pec.Canonical(x.M.Signed.Content.Raw)
	s.verify = check.Verify()
	return s
}

func init() {
	register(
		Rule{ID: "SIG-01", Level: Must, Section: "RFC6109 §2.1", Kinds: allPEC,
			Title: "Signature part is application/(x-)pkcs7-signature and parses as CMS SignedData",
			check: func(x *Msg) outcome {
				s := x.signature()
				if x.M.Signed == nil {
					return fail("no multipart/signed structure")
				}
				if s.partType != pec.SignatureProtocol && s.partType != pec.SignatureProtocolLegacy {
					return fail("signature part is %q", s.partType)
				}
				if s.parseErr != nil {
					return fail("signature does not parse as CMS: %v", s.parseErr)
				}
				return pass("%s, CMS SignedData", s.partType)
			}},
		Rule{ID: "SIG-02", Level: Must, Section: "RFC6109 §2.1", Kinds: allPEC,
			Title: "CMS is detached and covers exactly the multipart/mixed entity",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.p7 == nil {
					return fail("no CMS to examine: %v", s.parseErr)
				}
				if len(s.p7.Content) > 0 {
					return fail("CMS encapsulates %d bytes of content: not detached", len(s.p7.Content))
				}
				return pass("detached")
			}},
		Rule{ID: "SIG-03", Level: Must, Section: "RFC6109 §2.1", Kinds: allPEC,
			Title: "CMS contains the signer's X.509v3 certificate",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.p7 == nil {
					return fail("no CMS: %v", s.parseErr)
				}
				if s.cert == nil {
					return fail("signer certificate not included (%d certificates, %d signers)",
						len(s.p7.Certificates), len(s.p7.Signers))
				}
				if s.cert.Version != 3 {
					return fail("signer certificate is X.509 v%d", s.cert.Version)
				}
				return pass("signer %q", s.cert.Subject.String())
			}},
		Rule{ID: "SIG-04", Level: Must, Section: "RFC6109 §2.2.2", Kinds: allPEC,
			Title: "Signature value verifies over the signed content",
			check: func(x *Msg) outcome {
				s := x.signature()
				switch {
				case s.p7 == nil:
					return fail("no usable signature: %v", s.parseErr)
				case len(s.p7.Content) > 0:
					return fail("signature is not detached; the signed entity is not what it covers")
				case s.verify != nil:
					return fail("signature does not verify over the signed content: %v", s.verify)
				}
				return pass("signature verifies")
			}},
		Rule{ID: "SIG-05", Level: Must, Section: "RFC6109 §2.2.2", Kinds: allPEC,
			Title: "Certificate chain validates to the accepted PEC CA",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.cert == nil {
					return fail("no signer certificate")
				}
				if x.Opts.Trust == nil {
					return na("no trust store given (--trust)")
				}
				inter := x509.NewCertPool()
				for _, c := range s.p7.Certificates {
					inter.AddCert(c)
				}
				_, err := s.cert.Verify(x509.VerifyOptions{Roots: x.Opts.Trust, Intermediates: inter,
					CurrentTime: x.at(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
				if err != nil {
					return fail("chain of %q: %v", s.cert.Subject.CommonName, err)
				}
				return pass("chains to a trusted CA at %s", x.at().Format("2006-01-02"))
			}},
		Rule{ID: "SIG-06", Level: Must, Section: "RFC6109 §2.2.2", Kinds: allPEC,
			Title: "Signer certificate valid at the message Date",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.cert == nil {
					return fail("no signer certificate")
				}
				at := x.at()
				if at.Before(s.cert.NotBefore) || at.After(s.cert.NotAfter) {
					return fail("Date %s outside validity %s – %s", at.Format("2006-01-02"),
						s.cert.NotBefore.Format("2006-01-02"), s.cert.NotAfter.Format("2006-01-02"))
				}
				return pass("valid at %s (until %s)", at.Format("2006-01-02"), s.cert.NotAfter.Format("2006-01-02"))
			}},
		Rule{ID: "SIG-07", Level: Must, Section: "RFC6109 §2.2.2", Kinds: allPEC,
			Title: "Signer certificate not revoked (CRL/OCSP, fresh)",
			Note:  "judged against the CRLs given (--crl); the grader does not fetch CRLs or query OCSP itself",
			check: revocation},
		Rule{ID: "SIG-08", Level: Must, Section: "RFC6109 §2.1", Kinds: allPEC,
			Title: "From address equals the certificate's rfc822Name",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.cert == nil {
					return fail("no signer certificate")
				}
				from, _ := x.fromAddr()
				for _, e := range s.cert.EmailAddresses {
					if strings.EqualFold(e, from) {
						return pass("From %s is in the certificate", from)
					}
				}
				return fail("From %q not among the certificate's addresses %v", from, s.cert.EmailAddresses)
			}},
		Rule{ID: "SIG-09", Level: Must, Section: "RFC6109 §2.2.2", Kinds: allPEC,
			Title: "SHA-1 of the signer certificate matches a providerCertificateHash in the index",
			check: func(x *Msg) outcome {
				if x.Opts.Index == nil {
					return na("needs the provider index (--index)")
				}
				c := x.signature().cert
				if c == nil {
					return fail("no signer certificate to look up")
				}
				if p := x.Opts.Index.ByCertHash(certHash(c.Raw)); p != nil {
					return pass("certificate %s belongs to %q", certHash(c.Raw), p.Name)
				}
				return fail("certificate hash %s is in no providerCertificateHash of %s", certHash(c.Raw), x.Opts.Index.Source)
			}},
		Rule{ID: "SIG-10", Level: Should, Section: "RFC6109 §7", Kinds: allPEC,
			Title: "Domain of From is in managedDomains of the certificate's provider",
			check: func(x *Msg) outcome {
				p, o := x.signerProvider()
				if p == nil {
					return o
				}
				from, _ := x.fromAddr()
				if !p.Manages(domainOf(from)) {
					return warn("From domain %q is not among %q's managedDomains %v", domainOf(from), p.Name, p.Domains)
				}
				return pass("%s managed by %q", domainOf(from), p.Name)
			}},
		Rule{ID: "SIG-11", Level: Must, Section: "RFC5751 §3.4.3", Kinds: allPEC,
			Title: "micalg parameter matches the SignerInfo digest algorithm",
			Note:  "sha1/sha-1 and sha256/sha-256 spellings are both accepted (RFC 3851 vs RFC 5751)",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.p7 == nil || len(s.p7.Signers) == 0 {
					return fail("no SignerInfo")
				}
				got := digestName(s.p7.Signers[0].DigestAlgorithm.Algorithm)
				micalg := strings.ReplaceAll(x.M.Signed.Micalg, "-", "")
				if micalg != got {
					return fail("micalg %q but SignerInfo digest %s", x.M.Signed.Micalg, got)
				}
				return pass("micalg %s", x.M.Signed.Micalg)
			}},
		Rule{ID: "SIG-12", Level: Observed, Section: "observed S-NAM24", Kinds: allPEC,
			Title: "CMS digest algorithm SHA-256 preferred; SHA-1 accepted with a warning",
			Note:  "pec-rules A18/§8.3: real providers still sign with SHA-1 digests (2024)",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.p7 == nil || len(s.p7.Signers) == 0 {
					return na("no SignerInfo")
				}
				if d := digestName(s.p7.Signers[0].DigestAlgorithm.Algorithm); d == "sha1" {
					return warn("SHA-1 digest (accepted, still common in 2024; SHA-256 recommended)")
				} else {
					return pass("%s digest", d)
				}
			}},
		Rule{ID: "SIG-13", Level: Observed, Section: "observed S-NAM24", Kinds: allPEC,
			Title: "Signer RSA key at least 2048 bits",
			check: func(x *Msg) outcome {
				s := x.signature()
				if s.cert == nil {
					return na("no signer certificate")
				}
				if k, ok := s.cert.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
					return warn("RSA key of %d bits", k.N.BitLen())
				}
				return pass("key size adequate")
			}},
	)
}
