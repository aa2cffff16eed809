package index

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// ErrSignedLDIF wraps every failure to open a published LDIF.
var ErrSignedLDIF = errors.New("index: signed LDIF")

// ProviderLDIF is the LDIF a provider publishes (RFC 6109 §4.5, §4.5.10): the
// o=postacert root and its main record.
func ProviderLDIF(p Provider) []byte {
	return []byte(BaseLDIF() + "\n" + EntryLDIF(p))
}

// SignLDIF wraps ldif (UTF-8) in a DER PKCS#7 signed-data with the content
// attached and the signer's certificate included: the .p7m of RFC 6109 §4.5
// and §4.5.6 (IDX-09), signed with the provider's key (in its token).
func SignLDIF(ldif []byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(ldif)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignedLDIF, err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignedLDIF, err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignedLDIF, err)
	}
	return der, nil
}

// OpenSignedLDIF verifies a published .p7m and returns its provider records
// (RFC 6109 §4.5: the index applies a provider's file "after signature
// checks"): the signature must verify, the signer chain to trust at now, and
// the signer's certificate be a providerCertificate of every record the file
// defines — a provider publishes only its own records (IDX-09, IDX-10).
func OpenSignedLDIF(p7m []byte, trust *x509.CertPool, now time.Time) ([]Provider, error) {
	p7, err := pkcs7.Parse(p7m)
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKCS#7 signed-data: %v", ErrSignedLDIF, err)
	}
	if len(p7.Content) == 0 {
		return nil, fmt.Errorf("%w: detached signature, no LDIF inside", ErrSignedLDIF)
	}
	if err := p7.VerifyWithChainAtTime(trust, now); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrSignedLDIF, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: not exactly one signer", ErrSignedLDIF)
	}
	ps, err := ParseLDIF(p7.Content)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%w: no provider record", ErrSignedLDIF)
	}
	for _, p := range ps {
		if !p.holds(CertHash(signer)) {
			return nil, fmt.Errorf("%w: %s is signed by %q, not one of its certificates", ErrSignedLDIF,
				p.Name, signer.Subject.CommonName)
		}
	}
	return ps, nil
}

// ParseLDIF reads the provider records of an LDIF (RFC 2849: comments, folded
// lines, base64 values, attribute options such as ;binary); records without
// objectClass provider, like the o=postacert root, are skipped. A provider
// record must carry every MUST attribute of the schema (RFC 6109 §4.5.9) and
// hashes that match its certificates (RFC 6109 §4.5.1).
func ParseLDIF(ldif []byte) ([]Provider, error) {
	var out []Provider
	for i, block := range ldifRecords(ldif) {
		attrs := map[string][]string{}
		for _, line := range block {
			name, value, err := ldifLine(line)
			if err != nil {
				return nil, fmt.Errorf("%w: record %d: %v", ErrSignedLDIF, i+1, err)
			}
			attrs[name] = append(attrs[name], value)
		}
		if !slices.ContainsFunc(attrs["objectclass"], func(v string) bool { return strings.EqualFold(v, "provider") }) {
			continue
		}
		p, err := providerOf(attrs)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d (%s): %v", ErrSignedLDIF, i+1, first(attrs["dn"]), err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ldifRecords splits an LDIF into records of unfolded lines.
func ldifRecords(ldif []byte) [][]string {
	var recs [][]string
	var cur []string
	sc := bufio.NewScanner(bytes.NewReader(ldif))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			if len(cur) > 0 {
				recs = append(recs, cur)
				cur = nil
			}
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, " ") && len(cur) > 0:
			cur[len(cur)-1] += line[1:]
		default:
			cur = append(cur, line)
		}
	}
	if len(cur) > 0 {
		recs = append(recs, cur)
	}
	return recs
}

// ldifLine splits "name[;options]: value" or "name[;options]:: base64".
func ldifLine(line string) (string, string, error) {
	name, value, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return "", "", fmt.Errorf("line without attribute: %.40q", line)
	}
	name, _, _ = strings.Cut(strings.ToLower(name), ";")
	switch {
	case strings.HasPrefix(value, ":"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value[1:]))
		if err != nil {
			return "", "", fmt.Errorf("%s: bad base64: %v", name, err)
		}
		return name, string(b), nil
	case strings.HasPrefix(value, "<"):
		return "", "", fmt.Errorf("%s: URL values are not supported", name)
	}
	return name, strings.TrimLeft(value, " "), nil
}

func providerOf(a map[string][]string) (Provider, error) {
	p := Provider{DN: first(a["dn"]), Name: first(a["providername"]), MailReceipt: first(a["mailreceipt"]),
		Domains: a["manageddomains"], Hashes: a["providercertificatehash"]}
	switch {
	case p.Name == "":
		return p, errors.New("no providerName")
	case p.MailReceipt == "":
		return p, errors.New("no mailReceipt")
	case len(p.Domains) == 0:
		return p, errors.New("no managedDomains")
	case len(a["providercertificate"]) == 0:
		return p, errors.New("no providerCertificate")
	}
	for _, der := range a["providercertificate"] {
		c, err := x509.ParseCertificate([]byte(der))
		if err != nil {
			return p, fmt.Errorf("providerCertificate: %v", err)
		}
		if !slices.ContainsFunc(p.Hashes, func(h string) bool { return strings.EqualFold(h, CertHash(c)) }) {
			return p, fmt.Errorf("no providerCertificateHash for certificate %s", CertHash(c))
		}
		p.Certificates = append(p.Certificates, c)
	}
	return p, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
