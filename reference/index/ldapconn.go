package index

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ldapConn is one connection to slapd shared by concurrent searches (go-ldap
// multiplexes them by message ID), with its socket, so that a search past its
// deadline can cut it at once whatever state the server left it in.
type ldapConn struct {
	c   *ldap.Conn
	raw net.Conn
}

// close ends the connection without waiting for the server.
func (c *ldapConn) close() {
	c.raw.Close()
	go c.c.Close() // its goroutines end now that the socket is closed
}

// search runs filter under the base with ctx's deadline. A connection that
// broke (slapd restarted) is replaced and the search tried once more, while
// ctx has time left.
func (l *LDAP) search(ctx context.Context, filter string) ([]*ldap.Entry, error) {
	// The server's own time limit (whole seconds) matches the deadline.
	limit := max(int(l.Timeout/time.Second), 1)
	req := ldap.NewSearchRequest(l.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, limit, false, filter,
		[]string{"providerName", "mailReceipt", "managedDomains", "providerCertificateHash", "providerCertificate;binary"}, nil)
	res, err := l.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// do sends req on the shared connection and waits for the answer or ctx.
func (l *LDAP) do(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := l.connection(ctx)
		if err != nil {
			return nil, err
		}
		res, err := within(ctx, func() (*ldap.SearchResult, error) { return c.c.Search(req) })
		switch {
		case err == nil:
			return res, nil
		case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
			return &ldap.SearchResult{}, nil
		case ctx.Err() != nil:
			l.drop(c) // a frozen server: its later answers must not be waited for
			return nil, fmt.Errorf("%w: %s did not answer in time: %v", ErrUnavailable, l.URL, ctx.Err())
		}
		l.drop(c)
		if !reused || attempt > 0 {
			return nil, fmt.Errorf("%w: search %s: %v", ErrUnavailable, l.URL, err)
		}
	}
}

// within runs f and returns its result, or ctx's error as soon as ctx ends
// (f then finishes on its own once its connection is closed).
func within[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// connection returns the shared connection, dialling one (outside the lock)
// when there is none; reused tells whether it was already open.
func (l *LDAP) connection(ctx context.Context) (*ldapConn, bool, error) {
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c != nil && !c.c.IsClosing() {
		return c, true, nil
	}
	c, err := l.dial(ctx)
	if err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	if l.conn != nil && !l.conn.c.IsClosing() {
		// Another search dialled meanwhile: share its connection.
		other := l.conn
		l.mu.Unlock()
		c.close()
		return other, true, nil
	}
	l.conn = c
	l.mu.Unlock()
	return c, false, nil
}

// drop closes c and forgets it if it is still the shared connection.
func (l *LDAP) drop(c *ldapConn) {
	l.mu.Lock()
	if l.conn == c {
		l.conn = nil
	}
	l.mu.Unlock()
	c.close()
}

// dial opens a connection to l.URL (ldap:// or ldaps://) within ctx.
func (l *LDAP) dial(ctx context.Context) (*ldapConn, error) {
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("%w: bad URL %q", ErrUnavailable, l.URL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme])
	}
	raw, err := (&net.Dialer{Timeout: l.Timeout}).DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrUnavailable, l.URL, err)
	}
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("%w: TLS to %s: %v", ErrUnavailable, l.URL, err)
		}
		raw = tc
	}
	c := ldap.NewConn(raw, u.Scheme == "ldaps")
	c.Start()
	c.SetTimeout(time.Minute) // a backstop; searches end at their context's deadline
	return &ldapConn{c: c, raw: raw}, nil
}
