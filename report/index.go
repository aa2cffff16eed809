package report

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/smallstep/pkcs7"
)

// Index is the grader's own reading of the index of PEC providers
// (pec-rules §5; RFC 6109 §4.5): the records it needs for the infra rules
// SIG-09, SIG-10, CRT-01, ACC-05, PIC-02, VIR-02, ANO-06 and DAT-18.
// It is read from an LDIF file (optionally inside a signed .p7m, §5.3) or
// from an LDAP server, never through reference code.
type Index struct {
	Source    string
	Providers []IndexProvider
}

// IndexProvider is one provider record (RFC 6109 §4.5.9).
type IndexProvider struct {
	DN          string
	Name        string   // providerName
	CertHashes  []string // providerCertificateHash, lowercased (pec-rules A7)
	MailReceipt string
	Domains     []string // managedDomains, lowercased
	// Certs are the providerCertificate values that parse as X.509: trust
	// anchors for SIG-05 (RFC 6109 §2.2.2 signature origin).
	Certs []*x509.Certificate
	// Attrs are the record's attributes as read (names lowercased, options
	// dropped, "dn" for the DN): what the IDX rules judge.
	Attrs map[string][]string
}

// ByCertHash returns the provider whose providerCertificateHash is h
// (case-insensitive, pec-rules A7; IDX-13), or nil.
func (ix *Index) ByCertHash(h string) *IndexProvider {
	h = strings.ToLower(h)
	for i := range ix.Providers {
		for _, c := range ix.Providers[i].CertHashes {
			if c == h {
				return &ix.Providers[i]
			}
		}
	}
	return nil
}

// Certificates returns every provider certificate of the index.
func (ix *Index) Certificates() []*x509.Certificate {
	var out []*x509.Certificate
	for _, p := range ix.Providers {
		out = append(out, p.Certs...)
	}
	return out
}

// ByDomain returns the provider managing domain d (case-insensitive), or nil.
func (ix *Index) ByDomain(d string) *IndexProvider {
	d = strings.ToLower(strings.TrimSpace(d))
	for i := range ix.Providers {
		for _, m := range ix.Providers[i].Domains {
			if m == d {
				return &ix.Providers[i]
			}
		}
	}
	return nil
}

// Manages reports whether p lists domain d.
func (p *IndexProvider) Manages(d string) bool {
	d = strings.ToLower(strings.TrimSpace(d))
	for _, m := range p.Domains {
		if m == d {
			return true
		}
	}
	return false
}

// certHash is the providerCertificateHash of a DER certificate: lowercase hex
// SHA-1 (RFC 6109 §4.5.1).
func certHash(der []byte) string {
	s := sha1.Sum(der)
	return hex.EncodeToString(s[:])
}

// LoadIndex reads an index from an ldap:// or ldaps:// URL (base o=postacert
// unless the URL names another), from an LDIF file, or from a signed LDIF
// (.p7m, DER or base64 PKCS#7 signed-data).
func LoadIndex(src string) (*Index, error) {
	if strings.HasPrefix(src, "ldap://") || strings.HasPrefix(src, "ldaps://") {
		return loadLDAP(src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("report: index: %w", err)
	}
	if p7, err := pkcs7.Parse(data); err == nil && len(p7.Content) > 0 {
		data = p7.Content
	} else if der, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data))); err == nil {
		if p7, err := pkcs7.Parse(der); err == nil && len(p7.Content) > 0 {
			data = p7.Content
		}
	}
	ix, err := ParseLDIF(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("report: index %s: %w", src, err)
	}
	ix.Source = src
	return ix, nil
}

// MaxLDIF bounds what ParseLDIF reads.
const MaxLDIF = 64 << 20

// ParseLDIF reads the provider records of an LDIF stream (RFC 2849): folded
// lines, base64 values (::), attribute options (;binary) and comments.
// Records without objectClass provider are skipped.
func ParseLDIF(r io.Reader) (*Index, error) {
	sc := bufio.NewScanner(io.LimitReader(r, MaxLDIF))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	ix := &Index{}
	var lines []string
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		attrs := map[string][]string{}
		for _, l := range lines {
			name, val, err := ldifValue(l)
			if err != nil {
				return err
			}
			attrs[name] = append(attrs[name], val)
		}
		lines = lines[:0]
		if p, ok := providerFrom(attrs); ok {
			ix.Providers = append(ix.Providers, p)
		}
		return nil
	}
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(l, " "):
			if len(lines) == 0 {
				return nil, fmt.Errorf("line %d: continuation without a line to continue", n)
			}
			lines[len(lines)-1] += l[1:]
		case strings.HasPrefix(l, "#"):
		case strings.TrimSpace(l) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(strings.ToLower(l), "version:") && len(lines) == 0:
		default:
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(ix.Providers) == 0 {
		return nil, fmt.Errorf("no provider record")
	}
	return ix, nil
}

// ldifValue splits one unfolded LDIF line into its lowercased attribute name
// (options dropped) and value.
func ldifValue(l string) (string, string, error) {
	name, rest, ok := strings.Cut(l, ":")
	if !ok || name == "" {
		return "", "", fmt.Errorf("not an LDIF attribute line: %.60q", l)
	}
	name, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(name)), ";")
	switch {
	case strings.HasPrefix(rest, ":"):
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", "", fmt.Errorf("attribute %s: base64: %v", name, err)
		}
		return name, string(v), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", fmt.Errorf("attribute %s: URL values are not supported", name)
	}
	return name, strings.TrimSpace(rest), nil
}

// providerFrom builds a provider from a record's attributes (names lowercased).
func providerFrom(a map[string][]string) (IndexProvider, bool) {
	isProvider := false
	for _, oc := range a["objectclass"] {
		isProvider = isProvider || strings.EqualFold(oc, "provider")
	}
	if !isProvider {
		return IndexProvider{}, false
	}
	p := IndexProvider{DN: first(a["dn"]), Name: first(a["providername"]), MailReceipt: first(a["mailreceipt"]), Attrs: a}
	for _, h := range a["providercertificatehash"] {
		p.CertHashes = append(p.CertHashes, strings.ToLower(strings.TrimSpace(h)))
	}
	for _, d := range a["manageddomains"] {
		p.Domains = append(p.Domains, strings.ToLower(strings.TrimSpace(d)))
	}
	for _, der := range a["providercertificate"] {
		if c, err := x509.ParseCertificate([]byte(der)); err == nil {
			p.Certs = append(p.Certs, c)
		}
	}
	return p, true
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// loadLDAP searches the provider records of an LDAP server.
func loadLDAP(src string) (*Index, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("report: index %s: %w", src, err)
	}
	base := strings.TrimPrefix(u.Path, "/")
	if base == "" {
		base = "o=postacert"
	}
	conn, err := dialIndex(u)
	if err != nil {
		return nil, fmt.Errorf("report: index %s: %w", src, err)
	}
	defer conn.Close()
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, ldapEntriesMax, 10, false,
		"(objectClass=provider)", []string{"*"}, nil))
	if err != nil {
		return nil, fmt.Errorf("report: index %s: %w", src, err)
	}
	ix := &Index{Source: src}
	for _, e := range res.Entries {
		a := map[string][]string{"dn": {e.DN}}
		for _, at := range e.Attributes {
			name, _, _ := strings.Cut(strings.ToLower(at.Name), ";")
			a[name] = append(a[name], at.Values...)
		}
		if p, ok := providerFrom(a); ok {
			ix.Providers = append(ix.Providers, p)
		}
	}
	if len(ix.Providers) == 0 {
		return nil, fmt.Errorf("report: index %s: no provider record under %s", src, base)
	}
	return ix, nil
}

// signerProvider finds the provider of the message's signer certificate in
// the index; when it cannot, it returns the verdict the infra rule gives.
func (x *Msg) signerProvider() (*IndexProvider, outcome) {
	if x.Opts.Index == nil {
		return nil, na("needs the provider index (--index)")
	}
	c := x.signature().cert
	if c == nil {
		return nil, na("no signer certificate")
	}
	if p := x.Opts.Index.ByCertHash(certHash(c.Raw)); p != nil {
		return p, outcome{}
	}
	return nil, na("signer certificate not in the index (SIG-09)")
}

// senderProvider finds the provider managing the original sender's domain
// (daticert mittente), whose mailReceipt receives provider notices.
func (x *Msg) senderProvider() (*IndexProvider, outcome) {
	if x.Opts.Index == nil {
		return nil, na("needs the provider index (--index)")
	}
	d := domainOf(x.dc.Mittente)
	if p := x.Opts.Index.ByDomain(d); p != nil {
		return p, outcome{}
	}
	return nil, na("sender domain %q is in no provider's managedDomains", d)
}

// toMailReceipt checks a provider notice goes to the sender provider's
// mailReceipt (PIC-02, VIR-02; RFC 6109 §4.5.4).
func toMailReceipt(x *Msg) outcome {
	p, o := x.senderProvider()
	if p == nil {
		return o
	}
	to := addrs(x.M.Outer, "To")
	if len(to) != 1 || !strings.EqualFold(to[0], p.MailReceipt) {
		return fail("To %v, %q's mailReceipt is %s", to, p.Name, p.MailReceipt)
	}
	return pass("To %s, mailReceipt of %q", p.MailReceipt, p.Name)
}
