// Package index is the reference provider's view of the index of PEC
// providers (RFC 6109 §4.5, pec-rules §5): find the provider managing a domain
// (RFC 6109 §2.2.1, recipients' classification) and the provider owning a
// signing certificate by its SHA-1 hash (RFC 6109 §2.2.2, signature origin).
package index

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrNotFound means no provider matches.
var ErrNotFound = errors.New("index: not found")

// Provider is one provider record (RFC 6109 §4.5.9).
type Provider struct {
	DN           string
	Name         string // providerName
	MailReceipt  string // the service mailbox for presa in carico and virus notices
	Domains      []string
	Certificates []*x509.Certificate
	Hashes       []string // providerCertificateHash values
}

// Directory answers the two questions the points ask.
type Directory interface {
	ByDomain(ctx context.Context, domain string) (*Provider, error)
	ByCertHash(ctx context.Context, hexSHA1 string) (*Provider, error)
}

// CertHash is the lowercase hex SHA-1 of the certificate's DER (RFC 6109 §4.5.1).
func CertHash(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// holds reports whether p has a certificate whose hash is h (RFC 6109 §2.2.2
// step 2: the certificate found must match the record's providerCertificate).
func (p *Provider) holds(h string) bool {
	for _, c := range p.Certificates {
		if strings.EqualFold(CertHash(c), h) {
			return true
		}
	}
	return false
}

// manages reports whether p lists domain (case-insensitive, IDX-13).
func (p *Provider) manages(domain string) bool {
	for _, d := range p.Domains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// Memory is an in-memory Directory: the index loaded from signed LDIF files,
// and the index of other packages' unit tests.
type Memory struct{ providers []Provider }

var _ Directory = (*Memory)(nil)

// NewMemory returns a Directory holding ps.
func NewMemory(ps ...Provider) *Memory { return &Memory{providers: ps} }

// ByDomain finds the provider managing domain.
func (m *Memory) ByDomain(_ context.Context, domain string) (*Provider, error) {
	for i := range m.providers {
		if m.providers[i].manages(domain) {
			return &m.providers[i], nil
		}
	}
	return nil, ErrNotFound
}

// ByCertHash finds the provider holding the certificate with that hash.
func (m *Memory) ByCertHash(_ context.Context, h string) (*Provider, error) {
	for i := range m.providers {
		if m.providers[i].holds(h) {
			return &m.providers[i], nil
		}
	}
	return nil, ErrNotFound
}
