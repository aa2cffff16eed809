package index

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAP is the Directory backed by an LDAP server with the RFC 6109 schema. It
// keeps one connection (reconnecting on error) and caches answers for TTL, so
// a busy MX does not query the index per message.
type LDAP struct {
	URL, Base string
	TTL       time.Duration
	Now       func() time.Time
	log       *slog.Logger

	mu    sync.Mutex
	conn  *ldap.Conn
	cache map[string]cached
}

type cached struct {
	p  *Provider
	at time.Time
}

var _ Directory = (*LDAP)(nil)

// NewLDAP returns a Directory reading url under base (default o=postacert).
func NewLDAP(url, base string, log *slog.Logger) *LDAP {
	if base == "" {
		base = "o=postacert"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LDAP{URL: url, Base: base, TTL: 5 * time.Minute, Now: time.Now, log: log, cache: map[string]cached{}}
}

// ByDomain finds the provider whose managedDomains holds domain.
func (l *LDAP) ByDomain(ctx context.Context, domain string) (*Provider, error) {
	return l.find(ctx, "d:"+strings.ToLower(domain),
		"(&(objectClass=provider)(managedDomains="+ldap.EscapeFilter(domain)+"))", nil)
}

// ByCertHash finds the provider whose providerCertificateHash is h and checks
// that the record holds a certificate with that hash.
func (l *LDAP) ByCertHash(ctx context.Context, h string) (*Provider, error) {
	return l.find(ctx, "h:"+strings.ToLower(h),
		"(&(objectClass=provider)(providerCertificateHash="+ldap.EscapeFilter(h)+"))",
		func(p *Provider) bool { return p.holds(h) })
}

func (l *LDAP) find(ctx context.Context, key, filter string, check func(*Provider) bool) (*Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.cache[key]; ok && l.Now().Sub(c.at) < l.TTL {
		if c.p == nil {
			return nil, ErrNotFound
		}
		return c.p, nil
	}
	entries, err := l.search(ctx, filter)
	if err != nil {
		return nil, err
	}
	var found *Provider
	for _, e := range entries {
		p, err := fromEntry(e)
		if err != nil {
			l.log.Warn("bad index entry", "dn", e.DN, "err", err)
			continue
		}
		if check == nil || check(p) {
			found = p
			break
		}
	}
	l.cache[key] = cached{p: found, at: l.Now()}
	if found == nil {
		return nil, ErrNotFound
	}
	return found, nil
}

// search runs filter, reconnecting once if the connection broke.
func (l *LDAP) search(ctx context.Context, filter string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(l.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 10, false, filter,
		[]string{"providerName", "mailReceipt", "managedDomains", "providerCertificateHash", "providerCertificate;binary"}, nil)
	for attempt := 0; attempt < 2; attempt++ {
		if l.conn == nil || l.conn.IsClosing() {
			c, err := ldap.DialURL(l.URL)
			if err != nil {
				return nil, fmt.Errorf("index: dial %s: %w", l.URL, err)
			}
			l.conn = c
		}
		if dl, ok := ctx.Deadline(); ok {
			l.conn.SetTimeout(time.Until(dl))
		}
		res, err := l.conn.Search(req)
		if err == nil {
			return res.Entries, nil
		}
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		l.conn.Close()
		l.conn = nil
		if attempt == 1 {
			return nil, fmt.Errorf("index: search: %w", err)
		}
	}
	return nil, nil
}

func fromEntry(e *ldap.Entry) (*Provider, error) {
	p := &Provider{DN: e.DN, Name: e.GetAttributeValue("providerName"),
		MailReceipt: e.GetAttributeValue("mailReceipt"), Domains: e.GetAttributeValues("managedDomains"),
		Hashes: e.GetAttributeValues("providerCertificateHash")}
	for _, der := range e.GetRawAttributeValues("providerCertificate;binary") {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("providerCertificate: %w", err)
		}
		p.Certificates = append(p.Certificates, c)
	}
	return p, nil
}
