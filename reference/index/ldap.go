package index

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ErrUnavailable means the index could not be asked: slapd down, frozen or
// too slow. The caller answers 4xx (the sender retries); it is never taken for
// "not found".
var ErrUnavailable = errors.New("index: unavailable")

// LDAP is the Directory backed by an LDAP server with the RFC 6109 schema.
//
// Answers are cached: fresh for TTL, then served stale — while one background
// refresh per key runs — for up to MaxStale (RFC 6109 §4.5 asks for a daily
// copy; OPS-05). Every search has a deadline (Timeout) and no lock is held
// across I/O, so a frozen or dead slapd delays no cached lookup, and a lookup
// that needs slapd fails with ErrUnavailable within Timeout.
type LDAP struct {
	URL, Base string
	TTL       time.Duration // default 5 min
	MaxStale  time.Duration // default 24 h
	Timeout   time.Duration // one search, dial included; default 3 s
	Now       func() time.Time
	log       *slog.Logger

	mu      sync.Mutex // guards the fields below; never held across I/O
	conn    *ldapConn
	cache   map[string]cached
	flights map[string]*flight
}

type cached struct {
	p  *Provider // nil: not found
	at time.Time
}

// flight is one search in progress; its waiters share its answer.
type flight struct {
	done chan struct{}
	p    *Provider
	err  error
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
	return &LDAP{URL: url, Base: base, TTL: 5 * time.Minute, MaxStale: 24 * time.Hour, Timeout: 3 * time.Second,
		Now: time.Now, log: log, cache: map[string]cached{}, flights: map[string]*flight{}}
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

// find answers from the cache when it can; otherwise it waits for the key's
// search (started here or by another caller) or for ctx, whichever ends first.
func (l *LDAP) find(ctx context.Context, key, filter string, check func(*Provider) bool) (*Provider, error) {
	l.mu.Lock()
	c, hit := l.cache[key]
	age := l.Now().Sub(c.at)
	if hit && age < l.TTL {
		l.mu.Unlock()
		return c.result()
	}
	f := l.flights[key]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		l.flights[key] = f
		go l.refresh(key, filter, check, f)
	}
	l.mu.Unlock()
	if hit && age < l.MaxStale {
		return c.result() // stale while the refresh runs
	}
	select {
	case <-f.done:
		return f.p, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

func (c cached) result() (*Provider, error) {
	if c.p == nil {
		return nil, ErrNotFound
	}
	return c.p, nil
}

// refresh runs one search for key under its own deadline (a caller giving up
// does not cancel the others' answer) and caches what it found.
func (l *LDAP) refresh(key, filter string, check func(*Provider) bool, f *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), l.Timeout)
	defer cancel()
	entries, err := l.search(ctx, filter)
	if err == nil {
		f.p = l.pick(entries, check)
		if f.p == nil {
			f.err = ErrNotFound
		}
	} else {
		f.err = err
		l.log.Warn("index lookup failed", "role", "index", "url", l.URL, "err", err)
	}
	l.mu.Lock()
	if err == nil {
		l.cache[key] = cached{p: f.p, at: l.Now()}
	}
	delete(l.flights, key)
	l.mu.Unlock()
	close(f.done)
}

// pick is the first well-formed entry that passes check.
func (l *LDAP) pick(entries []*ldap.Entry, check func(*Provider) bool) *Provider {
	for _, e := range entries {
		p, err := fromEntry(e)
		if err != nil {
			l.log.Warn("bad index entry", "dn", e.DN, "err", err)
			continue
		}
		if check == nil || check(p) {
			return p
		}
	}
	return nil
}

// Check asks slapd for the base entry within ctx and Timeout: nil when it
// answers (the admin API's /health).
func (l *LDAP) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	req := ldap.NewSearchRequest(l.Base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil)
	_, err := l.do(ctx, req)
	return err
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
