package report

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/pecspec/pecspec/pec"
)

// sigInfo is the signature of a message, parsed and checked once.
type sigInfo struct {
	partType    string
	der         []byte
	p7          *pkcs7.PKCS7
	parseErr    error
	cert        *x509.Certificate
	attached    bool  // the CMS encapsulates its content (SIG-02)
	covers      bool  // the encapsulated content is the signed multipart/mixed
	verify      error // checkSigner's result over the content the CMS covers
	signingTime time.Time
}

// signature parses the CMS of the signature part and verifies its value
// over the exact signed bytes, canonicalised to CRLF (RFC 5751 §3.1.1); an
// attached signature is verified over the content it encapsulates.
func (x *Msg) signature() *sigInfo {
	if x.sig != nil {
		return x.sig
	}
	s := &sigInfo{}
	x.sig = s
	if x.M.Signed == nil {
		s.parseErr = errors.New("not multipart/signed")
		return s
	}
	s.partType, _ = x.M.Signed.Signature.MediaType()
	der, err := x.M.Signed.Signature.DecodedLenient()
	s.der = der
	if err != nil {
		s.parseErr = fmt.Errorf("its transfer encoding breaks after %d bytes: %v", len(der), err)
		return s
	}
	if s.p7, err = pkcs7.Parse(der); err != nil {
		s.parseErr = err
		return s
	}
	s.cert = s.p7.GetOnlySigner()
	content := pec.Canonical(x.M.Signed.Content.Raw)
	if s.attached = len(s.p7.Content) > 0; s.attached {
		s.covers = bytes.Equal(pec.Canonical(s.p7.Content), content)
		content = s.p7.Content
	}
	if s.cert != nil {
		r := checkSigner(s.p7, s.cert, content)
		s.verify, s.signingTime = r.err, r.signingTime
	}
	return s
}

// sigRule builds a SIG rule on the signature with its needs.
func sigRule(id string, lvl Level, sec, title string, needs []need, check func(*Msg) outcome) Rule {
	return Rule{ID: id, Level: lvl, Section: sec, Kinds: anyPEC, Title: title, Needs: needs, check: check}
}

var (
	cmsNeeds  = []need{needCMS}
	certNeeds = []need{needCert}
)

func init() {
	register(
		sigRule("SIG-01", Must, "RFC6109 §2.1", "Signature part is application/(x-)pkcs7-signature and parses as CMS SignedData",
			[]need{needSigned}, checkSignaturePart),
		sigRule("SIG-02", Must, "RFC6109 §2.1", "CMS is detached and covers exactly the multipart/mixed entity", cmsNeeds,
			func(x *Msg) outcome {
				s := x.signature()
				switch {
				case s.attached && s.covers:
					return fail("the CMS encapsulates its content (%d bytes, the signed multipart/mixed itself): not detached", len(s.p7.Content))
				case s.attached:
					return fail("the CMS encapsulates %d bytes that are not the signed multipart/mixed: not detached", len(s.p7.Content))
				}
				return pass("detached")
			}),
		sigRule("SIG-03", Must, "RFC6109 §2.1", "CMS contains the signer's X.509v3 certificate", cmsNeeds,
			func(x *Msg) outcome {
				s := x.signature()
				if s.cert == nil {
					return fail("signer certificate not included (%d certificates, %d signers)", len(s.p7.Certificates), len(s.p7.Signers))
				}
				if s.cert.Version != 3 {
					return fail("signer certificate is X.509 v%d", s.cert.Version)
				}
				return pass("signer %q", s.cert.Subject.String())
			}),
		sigRule("SIG-04", Must, "RFC6109 §2.2.2", "Signature value verifies over the signed content", certNeeds,
			func(x *Msg) outcome {
				s := x.signature()
				switch {
				case errors.Is(s.verify, errAlgorithm):
					return errored("%v", s.verify)
				case s.verify != nil:
					return fail("%v", s.verify)
				case s.attached:
					return pass("signature verifies over the content it encapsulates (SIG-02 judges the form)")
				}
				return pass("signature verifies")
			}),
		sigRule("SIG-05", Must, "RFC6109 §2.2.2", "Certificate chain validates to the accepted PEC CA",
			[]need{needCert, needValidAtDate}, func(x *Msg) outcome {
				c := x.chain()
				return outcome{c.status, c.detail}
			}),
		sigRule("SIG-06", Must, "RFC6109 §2.2.2", "Signer certificate valid at the message Date", certNeeds,
			func(x *Msg) outcome {
				c, at := x.signature().cert, x.at()
				if at.Before(c.NotBefore) || at.After(c.NotAfter) {
					return fail("Date %s outside validity %s – %s", at.Format("2006-01-02"),
						c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
				}
				return pass("valid at %s (until %s)", at.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
			}),
		Rule{ID: "SIG-07", Level: Must, Section: "RFC6109 §2.2.2", Kinds: anyPEC, Needs: certNeeds,
			Title: "Signer certificate not revoked (CRL/OCSP, fresh)",
			Note:  "judged against the CRLs given (--crl); the grader does not fetch CRLs or query OCSP itself",
			check: revocation},
		sigRule("SIG-08", Must, "RFC6109 §2.1", "From address equals the certificate's rfc822Name", certNeeds,
			func(x *Msg) outcome {
				c := x.signature().cert
				from, _ := x.fromAddr()
				for _, e := range c.EmailAddresses {
					if strings.EqualFold(e, from) {
						return pass("From %s is in the certificate", from)
					}
				}
				return fail("From %q not among the certificate's addresses %v", from, c.EmailAddresses)
			}),
		sigRule("SIG-09", Must, "RFC6109 §2.2.2", "SHA-1 of the signer certificate matches a providerCertificateHash in the index", certNeeds,
			func(x *Msg) outcome {
				if x.Opts.Index == nil {
					return na("needs the provider index (--index)")
				}
				c := x.signature().cert
				if p := x.Opts.Index.ByCertHash(certHash(c.Raw)); p != nil {
					return pass("certificate %s belongs to %q", certHash(c.Raw), p.Name)
				}
				return fail("certificate hash %s is in no providerCertificateHash of %s", certHash(c.Raw), x.Opts.Index.Source)
			}),
		sigRule("SIG-10", Should, "RFC6109 §7", "Domain of From is in managedDomains of the certificate's provider", certNeeds,
			func(x *Msg) outcome {
				p, o := x.signerProvider()
				if p == nil {
					return o
				}
				from, _ := x.fromAddr()
				if !p.Manages(domainOf(from)) {
					return warn("From domain %q is not among %q's managedDomains %v", domainOf(from), p.Name, p.Domains)
				}
				return pass("%s managed by %q", domainOf(from), p.Name)
			}),
		Rule{ID: "SIG-11", Level: Must, Section: "RFC5751 §3.4.3", Kinds: anyPEC, Needs: cmsNeeds,
			Title: "micalg parameter matches the SignerInfo digest algorithm",
			Note:  "sha1/sha-1 and sha256/sha-256 spellings are both accepted (RFC 3851 vs RFC 5751)",
			check: func(x *Msg) outcome {
				s := x.signature()
				if len(s.p7.Signers) == 0 {
					return fail("no SignerInfo")
				}
				got := digestName(s.p7.Signers[0].DigestAlgorithm.Algorithm)
				if micalg := strings.ReplaceAll(x.M.Signed.Micalg, "-", ""); micalg != got {
					return fail("micalg %q but SignerInfo digest %s", x.M.Signed.Micalg, got)
				}
				return pass("micalg %s", x.M.Signed.Micalg)
			}},
	)
	register(sigObserved()...)
}

// checkSignaturePart is SIG-01: the signature part's type, and its CMS.
func checkSignaturePart(x *Msg) outcome {
	s := x.signature()
	cut := ""
	if x.M.SignedFault != "" {
		cut = " (the multipart/signed was cut, GEN-01)"
	}
	switch {
	case s.parseErr != nil:
		return fail("the %s part does not parse as CMS%s: %v", s.partType, cut, s.parseErr)
	case s.partType != ctSignature && s.partType != ctSignatureX:
		return fail("signature part is %q (its CMS parses)", s.partType)
	}
	return pass("%s, CMS SignedData", s.partType)
}

// needValidAtDate: the signer certificate is valid at the message Date
// (SIG-06); the chain (SIG-05) is judged at that instant only then.
func needValidAtDate(x *Msg) (string, bool) {
	c, at := x.signature().cert, x.at()
	if at.Before(c.NotBefore) || at.After(c.NotAfter) {
		return "SIG-06", false
	}
	return "", true
}

func sigObserved() []Rule {
	return []Rule{
		sigRule("SIG-12", Observed, "observed S-NAM24", "SHA-256 preferred; SHA-1 (CMS digest or certificate signatures) accepted with a warning",
			cmsNeeds, checkSHA1),
		sigRule("SIG-13", Observed, "observed S-NAM24", "Signer RSA key at least 2048 bits", certNeeds,
			func(x *Msg) outcome {
				if k, ok := x.signature().cert.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
					return warn("RSA key of %d bits", k.N.BitLen())
				}
				return pass("key size adequate")
			}),
		sigRule("SIG-14", Observed, "observed S-ARU14-CONS", "Certificates valid at the message Date but expired today are noted",
			certNeeds, checkExpiredToday),
	}
}

// checkSHA1 is SIG-12 (pec-rules A18, §8.3): a SHA-1 CMS digest, and SHA-1
// certificate signatures in the chain the message carries (DigitPA era),
// which SIG-05 verifies with the grader's own check.
func checkSHA1(x *Msg) outcome {
	s := x.signature()
	var notes []string
	if len(s.p7.Signers) > 0 && digestName(s.p7.Signers[0].DigestAlgorithm.Algorithm) == "sha1" {
		notes = append(notes, "SHA-1 CMS digest")
	}
	certs := s.p7.Certificates
	if x.ch != nil && x.ch.path != nil {
		certs = x.ch.path[:len(x.ch.path)-1] // an anchor's own signature is not relied on
	}
	if signed := sha1Signed(certs); len(signed) > 0 {
		how := ""
		if x.ch != nil && x.ch.ownSHA {
			how = " (verified by the grader's own SHA-1 check)"
		}
		notes = append(notes, "SHA-1 signed certificates "+strings.Join(signed, ", ")+how)
	}
	if len(notes) > 0 {
		return warn("%s; accepted, SHA-256 recommended", strings.Join(notes, "; "))
	}
	return pass("%s digest, no SHA-1 certificate signature", digestName(s.p7.Signers[0].DigestAlgorithm.Algorithm))
}

// checkExpiredToday is SIG-14: a certificate valid when the message was
// signed (its Date) that has expired since is noted, not failed: the
// message stays valid; a verifier today needs the message Date (openssl
// -attime). SIG-06 judges validity at the Date.
func checkExpiredToday(x *Msg) outcome {
	c, at, now := x.signature().cert, x.at(), time.Now()
	if at.Before(c.NotBefore) || at.After(c.NotAfter) {
		return na("not valid at the message Date either (SIG-06)")
	}
	certs := []*x509.Certificate{c}
	if x.ch != nil && x.ch.path != nil {
		certs = x.ch.path
	}
	var expired []string
	for _, k := range certs {
		if now.After(k.NotAfter) {
			expired = append(expired, fmt.Sprintf("%q %s", k.Subject.CommonName, k.NotAfter.Format("2006-01-02")))
		}
	}
	if len(expired) > 0 {
		return warn("valid at the Date %s, expired since: %s (verify at the Date, openssl -attime)",
			at.Format("2006-01-02"), strings.Join(expired, ", "))
	}
	return pass("signer certificate valid today (until %s)", c.NotAfter.Format("2006-01-02"))
}
