package report

import (
	"bytes"
	"crypto/x509"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/smallstep/pkcs7"
)

// The IDX rules (pec-rules §5, §9; RFC 6109 §4.5) judge a provider's record
// in the index of PEC providers and the signed LDIF it publishes. They are
// procedural rules (report.Requirements, scope "index"): no message shows
// them, so they are graded here from the index itself.

var (
	reDotAtom = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*$`)
	reDomain  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// idxVerdict builds a verdict of a procedural rule with its level and
// section from the requirement table.
func idxVerdict(id string, o outcome) Verdict {
	v := Verdict{Rule: id, Status: o.status, Detail: o.detail}
	for _, r := range procedural {
		if r.id == id {
			v.Level, v.Section = r.level, r.section
		}
	}
	return v
}

// GradeIndexEntry judges the records of the provider named name in ix
// (IDX-01…08, IDX-11, IDX-12). userDomains are the domains of the
// provider's users that send PEC (IDX-12); none makes IDX-12 na.
func GradeIndexEntry(ix *Index, name string, userDomains []string) []Verdict {
	var recs []IndexProvider
	for _, p := range ix.Providers {
		if strings.EqualFold(p.Name, name) {
			recs = append(recs, p)
		}
	}
	if len(recs) == 0 {
		return []Verdict{idxVerdict("IDX-01", fail("no record with providerName %q in %s", name, ix.Source))}
	}
	var main *IndexProvider
	for i, r := range recs {
		if len(r.Attrs["providerunit"]) == 0 {
			main = &recs[i]
		}
	}
	out := []Verdict{idxVerdict("IDX-01", idxMain(main, name))}
	each := func(id string, f func(IndexProvider) outcome) {
		o := pass("%d records", len(recs))
		for _, r := range recs {
			if ro := f(r); ro.status != Pass {
				o = ro
				break
			}
		}
		out = append(out, idxVerdict(id, o))
	}
	each("IDX-02", func(r IndexProvider) outcome {
		for _, a := range []string{"providercertificatehash", "providercertificate", "providername", "mailreceipt", "manageddomains"} {
			if len(r.Attrs[a]) == 0 {
				return fail("%s lacks %s", first(r.Attrs["dn"]), a)
			}
		}
		return pass("")
	})
	each("IDX-03", idxHashes)
	each("IDX-04", func(r IndexProvider) outcome {
		if n := len(r.Attrs["providername"]); n != 1 {
			return fail("%s has %d providerName values", first(r.Attrs["dn"]), n)
		}
		return pass("")
	})
	each("IDX-05", func(r IndexProvider) outcome {
		v := r.Attrs["mailreceipt"]
		if len(v) != 1 {
			return fail("%s has %d mailReceipt values", first(r.Attrs["dn"]), len(v))
		}
		local, domain, ok := strings.Cut(v[0], "@")
		if !ok || !reDotAtom.MatchString(local) || !reDotAtom.MatchString(domain) {
			return fail("mailReceipt %q is not a bare addr-spec", v[0])
		}
		return pass("")
	})
	each("IDX-06", func(r IndexProvider) outcome {
		for _, d := range r.Attrs["manageddomains"] {
			if !reDomain.MatchString(d) {
				return fail("managedDomains %q is not a dot-atom domain", d)
			}
		}
		return pass("")
	})
	each("IDX-07", func(r IndexProvider) outcome {
		u := r.Attrs["ldiflocationurl"]
		switch {
		case len(u) == 0:
			return pass("")
		case len(u) > 1:
			return fail("%d LDIFLocationURL values", len(u))
		case !strings.HasPrefix(strings.ToLower(u[0]), "https://"):
			return fail("LDIFLocationURL %q is not https", u[0])
		}
		return pass("")
	})
	each("IDX-08", func(r IndexProvider) outcome {
		if len(r.Attrs["providerunit"]) > 0 && len(r.Attrs["ldiflocationurl"]) > 0 {
			return fail("secondary record %s carries LDIFLocationURL", first(r.Attrs["dn"]))
		}
		return pass("")
	})
	out = append(out, idxVerdict("IDX-11", idxRenewal(recs)), idxVerdict("IDX-12", idxUserDomains(recs, userDomains)))
	return out
}

func idxMain(main *IndexProvider, name string) outcome {
	if main == nil {
		return fail("no main record (without providerUnit) for %q", name)
	}
	want := "providername=" + strings.ToLower(name) + ",o=postacert"
	dn := strings.ToLower(strings.ReplaceAll(first(main.Attrs["dn"]), ", ", ","))
	if dn != want {
		return fail("main record DN %q, want providerName=%s,o=postacert", first(main.Attrs["dn"]), name)
	}
	for _, oc := range main.Attrs["objectclass"] {
		if strings.EqualFold(oc, "provider") {
			return pass("%s", first(main.Attrs["dn"]))
		}
	}
	return fail("main record lacks objectClass provider")
}

// idxHashes: the hashes and the certificates correspond one to one.
func idxHashes(r IndexProvider) outcome {
	certs := map[string]bool{}
	for _, c := range r.Attrs["providercertificate"] {
		if _, err := x509.ParseCertificate([]byte(c)); err != nil {
			return fail("a providerCertificate is not a DER certificate: %v", err)
		}
		certs[certHash([]byte(c))] = true
	}
	hashes := map[string]bool{}
	for _, h := range r.Attrs["providercertificatehash"] {
		h = strings.ToLower(strings.TrimSpace(h))
		if !certs[h] {
			return fail("providerCertificateHash %s matches no providerCertificate", h)
		}
		hashes[h] = true
	}
	if len(hashes) != len(certs) {
		return fail("%d certificates, %d hashes", len(certs), len(hashes))
	}
	return pass("")
}

// idxRenewal (IDX-11): with more than one certificate, their validity
// periods overlap (the new one was added before the old one expired).
func idxRenewal(recs []IndexProvider) outcome {
	var certs []*x509.Certificate
	for _, r := range recs {
		for _, c := range r.Attrs["providercertificate"] {
			if cert, err := x509.ParseCertificate([]byte(c)); err == nil {
				certs = append(certs, cert)
			}
		}
	}
	if len(certs) < 2 {
		return na("one certificate: no renewal to judge")
	}
	for i := 1; i < len(certs); i++ {
		a, b := certs[i-1], certs[i]
		if b.NotBefore.After(a.NotAfter) || a.NotBefore.After(b.NotAfter) {
			return fail("certificates %s and %s do not overlap", a.SerialNumber, b.SerialNumber)
		}
	}
	return pass("%d certificates overlap", len(certs))
}

func idxUserDomains(recs []IndexProvider, userDomains []string) outcome {
	if len(userDomains) == 0 {
		return na("no user domain to compare")
	}
	for _, d := range userDomains {
		found := false
		for _, r := range recs {
			for _, m := range r.Attrs["manageddomains"] {
				found = found || strings.EqualFold(m, d)
			}
		}
		if !found {
			return fail("user domain %s is not in managedDomains", d)
		}
	}
	return pass("%v", userDomains)
}

// GradeSignedLDIF judges the LDIF a provider publishes (IDX-09, IDX-10):
// p7m must be a DER PKCS#7 signed-data with UTF-8 LDIF inside, signed by
// one of the provider's certificates in the index, and must hold every
// record the index has for the provider.
func GradeSignedLDIF(p7m []byte, ix *Index, name string, trust *x509.CertPool) []Verdict {
	o9, content := idxSigned(p7m, ix, name, trust)
	out := []Verdict{idxVerdict("IDX-09", o9)}
	if content == nil {
		return append(out, idxVerdict("IDX-10", na("the LDIF could not be read (IDX-09)")))
	}
	pub, err := ParseLDIF(bytes.NewReader(content))
	if err != nil {
		return append(out, idxVerdict("IDX-10", fail("the LDIF does not parse: %v", err)))
	}
	published := map[string]bool{}
	for _, p := range pub.Providers {
		published[strings.ToLower(p.DN)] = true
	}
	o10 := pass("every record of %s is in the LDIF", name)
	for _, p := range ix.Providers {
		if strings.EqualFold(p.Name, name) && !published[strings.ToLower(p.DN)] {
			o10 = fail("record %s is not in the LDIF", p.DN)
		}
	}
	return append(out, idxVerdict("IDX-10", o10))
}

func idxSigned(p7m []byte, ix *Index, name string, trust *x509.CertPool) (outcome, []byte) {
	p7, err := pkcs7.Parse(p7m)
	if err != nil {
		return fail("not a DER PKCS#7: %v", err), nil
	}
	if len(p7.Content) == 0 {
		return fail("detached signature: the LDIF is not inside"), nil
	}
	if !utf8.Valid(p7.Content) {
		return fail("the LDIF is not UTF-8"), p7.Content
	}
	if err := p7.VerifyWithChain(trust); err != nil {
		return fail("signature: %v", err), p7.Content
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return fail("not exactly one signer"), p7.Content
	}
	h := certHash(signer.Raw)
	for _, p := range ix.Providers {
		if strings.EqualFold(p.Name, name) {
			for _, ph := range p.CertHashes {
				if ph == h {
					return pass("signed by %s", signer.Subject.CommonName), p7.Content
				}
			}
		}
	}
	return fail("signed by %s, not a certificate of %s in the index", signer.Subject.CommonName, name), p7.Content
}
