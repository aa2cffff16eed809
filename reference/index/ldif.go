package index

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// dn is the provider's main record DN (RFC 6109 §4.5, §4.5.9; IDX-01).
func (p Provider) dn() string {
	return "providerName=" + ldap.EscapeDN(p.Name) + ",o=postacert"
}

// EntryLDIF is the LDIF of one provider's main record (RFC 6109 §4.5.10).
func EntryLDIF(p Provider) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: provider\nproviderName: %s\n", p.dn(), p.Name)
	for _, c := range p.Certificates {
		fmt.Fprintf(&b, "providerCertificateHash: %s\n", CertHash(c))
		fmt.Fprintf(&b, "providerCertificate;binary:: %s\n", base64.StdEncoding.EncodeToString(c.Raw))
	}
	fmt.Fprintf(&b, "mailReceipt: %s\n", p.MailReceipt)
	for _, d := range p.Domains {
		fmt.Fprintf(&b, "managedDomains: %s\n", d)
	}
	return b.String()
}

// BaseLDIF is the o=postacert root entry (RFC 6109 §4.5.10).
func BaseLDIF() string {
	return "dn: o=postacert\nobjectClass: top\nobjectClass: organization\no: postacert\n"
}

// Load adds the root entry and one record per provider over LDAP (the lab
// uses it once slapd is up).
func Load(ctx context.Context, url, bindDN, password string, entries ...Provider) error {
	c, err := ldap.DialURL(url)
	if err != nil {
		return fmt.Errorf("index: dial %s: %w", url, err)
	}
	defer c.Close()
	if err := c.Bind(bindDN, password); err != nil {
		return fmt.Errorf("index: bind: %w", err)
	}
	base := ldap.NewAddRequest("o=postacert", nil)
	base.Attribute("objectClass", []string{"top", "organization"})
	base.Attribute("o", []string{"postacert"})
	if err := c.Add(base); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		return fmt.Errorf("index: add o=postacert: %w", err)
	}
	for _, p := range entries {
		req := ldap.NewAddRequest(p.dn(), nil)
		req.Attribute("objectClass", []string{"top", "provider"})
		req.Attribute("providerName", []string{p.Name})
		var hashes, certs []string
		for _, cert := range p.Certificates {
			hashes = append(hashes, CertHash(cert))
			certs = append(certs, string(cert.Raw))
		}
		req.Attribute("providerCertificateHash", hashes)
		req.Attribute("providerCertificate;binary", certs)
		req.Attribute("mailReceipt", []string{p.MailReceipt})
		req.Attribute("managedDomains", p.Domains)
		if err := c.Add(req); err != nil {
			return fmt.Errorf("index: add %s: %w", p.dn(), err)
		}
	}
	return nil
}
