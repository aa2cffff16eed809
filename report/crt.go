package report

import (
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"time"
)

var (
	oidKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidAKI       = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidSKI       = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidSAN       = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasic     = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidEmailAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// agidEra tells certificates issued under AgID CA1 (or later) from the
// DigitPA era, whose CA did not follow RFC 6109 §5.5.2 (pec-rules A11): the
// exact switchover date is unknown, so the issuer name decides, and 2016 for
// issuers that name neither.
func agidEra(c *x509.Certificate) bool {
	issuer := strings.ToLower(c.Issuer.String())
	switch {
	case strings.Contains(issuer, "agid") || strings.Contains(issuer, "agenzia per l'italia digitale"):
		return true
	case strings.Contains(issuer, "digitpa") || strings.Contains(issuer, "cnipa"):
		return false
	}
	return c.NotBefore.After(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC))
}

// extName names the extensions RFC 6109 §5.5.2 speaks of.
func extName(oid asn1.ObjectIdentifier) string {
	for _, e := range []struct {
		oid  asn1.ObjectIdentifier
		name string
	}{{oidKeyUsage, "Key Usage"}, {oidAKI, "Authority Key Identifier"}, {oidSKI, "Subject Key Identifier"},
		{oidSAN, "Subject Alternative Name"}, {oidBasic, "Basic Constraints"}} {
		if e.oid.Equal(oid) {
			return e.name
		}
	}
	return "extension"
}

func ext(c *x509.Certificate, oid asn1.ObjectIdentifier) (critical, present bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e.Critical, true
		}
	}
	return false, false
}

// certRule builds a CRT rule judging the signer certificate.
func certRule(id string, lvl Level, sec, title, note string, f func(*x509.Certificate) outcome) Rule {
	return Rule{ID: id, Level: lvl, Section: sec, Kinds: anyPEC, Title: title, Note: note, Needs: certNeeds,
		check: func(x *Msg) outcome { return f(x.signature().cert) }}
}

// legacy downgrades a profile violation to a warning for DigitPA-era
// certificates (pec-rules A11).
func legacy(c *x509.Certificate, format string, a ...any) outcome {
	if agidEra(c) {
		return fail(format, a...)
	}
	return warn("pre-AgID certificate (pec-rules A11): "+format, a...)
}

const noteA11 = "pec-rules A11: fail for certificates of the AgID CA1 era, warn for DigitPA-era certificates"

func init() {
	register(
		Rule{ID: "CRT-01", Level: Must, Section: "RFC6109 §5.5.1", Kinds: anyPEC, Needs: certNeeds,
			Title: "Subject DN contains the providerName in CN or O",
			check: func(x *Msg) outcome {
				p, o := x.signerProvider()
				if p == nil {
					return o
				}
				c := x.signature().cert
				for _, v := range append([]string{c.Subject.CommonName}, c.Subject.Organization...) {
					if containsFold(v, p.Name) {
						return pass("%q names %q", v, p.Name)
					}
				}
				return fail("subject %q names neither in CN nor in O the providerName %q", c.Subject.String(), p.Name)
			}},
		certRule("CRT-02", Must, "RFC6109 §5.5.1", "SAN present, non-critical, with an rfc822Name", "",
			func(c *x509.Certificate) outcome {
				crit, ok := ext(c, oidSAN)
				switch {
				case !ok || len(c.EmailAddresses) == 0:
					return fail("no subjectAltName rfc822Name")
				case crit:
					return fail("subjectAltName is critical")
				}
				return pass("rfc822Name %s", strings.Join(c.EmailAddresses, ", "))
			}),
		certRule("CRT-03", Should, "RFC6109 §5.5.1", "E-mail address not in the Subject DN", "",
			func(c *x509.Certificate) outcome {
				for _, n := range c.Subject.Names {
					if n.Type.Equal(oidEmailAttr) {
						return warn("Subject DN holds an e-mail address")
					}
				}
				return pass("no e-mail address in the Subject DN")
			}),
		certRule("CRT-04", Must, "RFC6109 §5.5.2", "Key Usage present, critical, digitalSignature set", noteA11,
			func(c *x509.Certificate) outcome {
				crit, ok := ext(c, oidKeyUsage)
				switch {
				case !ok:
					return legacy(c, "no Key Usage extension")
				case c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
					return legacy(c, "Key Usage lacks digitalSignature")
				case !crit:
					return legacy(c, "Key Usage is not critical")
				}
				return pass("Key Usage critical, digitalSignature")
			}),
		certRule("CRT-05", Must, "RFC6109 §5.5.2", "AKI present, non-critical, with keyIdentifier", "",
			func(c *x509.Certificate) outcome {
				crit, ok := ext(c, oidAKI)
				switch {
				case !ok || len(c.AuthorityKeyId) == 0:
					return fail("no Authority Key Identifier with keyIdentifier")
				case crit:
					return fail("Authority Key Identifier is critical")
				}
				return pass("AKI present")
			}),
		certRule("CRT-06", Must, "RFC6109 §5.5.2", "SKI present, non-critical", "",
			func(c *x509.Certificate) outcome {
				crit, ok := ext(c, oidSKI)
				switch {
				case !ok:
					return fail("no Subject Key Identifier")
				case crit:
					return fail("Subject Key Identifier is critical")
				}
				return pass("SKI present")
			}),
		certRule("CRT-07", Must, "RFC6109 §5.5.2", "Basic Constraints absent", noteA11,
			func(c *x509.Certificate) outcome {
				if _, ok := ext(c, oidBasic); ok {
					return legacy(c, "Basic Constraints present")
				}
				return pass("no Basic Constraints")
			}),
		certRule("CRT-08", Must, "RFC6109 §5.5.2", "No other extension marked critical", "Key Usage is the only extension RFC 6109 §5.5.2 makes critical; there is no other exemption",
			func(c *x509.Certificate) outcome {
				for _, e := range c.Extensions {
					if e.Critical && !e.Id.Equal(oidKeyUsage) {
						return fail("extension %s (%s) is critical", extName(e.Id), e.Id)
					}
				}
				return pass("only Key Usage may be critical")
			}),
	)
}
