package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrTimeout means a waited-for message did not come before the deadline.
var ErrTimeout = errors.New("probe: timeout")

// ErrIMAP wraps IMAP failures.
var ErrIMAP = errors.New("probe: imap")

// Fetched is one message read from a mailbox, byte-exact.
type Fetched struct {
	UID      uint32
	Raw      []byte
	Received time.Time
}

// Mailbox is a user's INBOX read over IMAP(S), as a mail client would.
type Mailbox struct {
	c       *imapclient.Client
	updates chan struct{}
	taken   map[uint32]bool
	// count is INBOX's message count, from SELECT and the server's EXISTS
	// updates. imapclient's own Mailbox() is not used: it is set only after
	// the SELECT's Wait returns (a race in go-imap v2), so it may read nil.
	count atomic.Uint32
}

// OpenMailbox logs in as acct and selects INBOX.
func OpenMailbox(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account) (*Mailbox, error) {
	m := &Mailbox{updates: make(chan struct{}, 1), taken: map[uint32]bool{}}
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: ep.Host, MinVersion: tls.VersionTLS12},
		Dialer:    &net.Dialer{Timeout: 10 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					m.count.Store(*d.NumMessages)
				}
				m.signal()
			},
		},
	}
	var err error
	switch ep.TLS {
	case TLSStartTLS:
		m.c, err = imapclient.DialStartTLS(ep.Addr(), opts)
	case TLSNone:
		m.c, err = imapclient.DialInsecure(ep.Addr(), opts)
	default:
		m.c, err = imapclient.DialTLS(ep.Addr(), opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrIMAP, ep.Addr(), err)
	}
	stop := context.AfterFunc(ctx, func() { m.c.Close() })
	defer stop()
	if err := m.c.Login(acct.Address, acct.Password).Wait(); err != nil {
		m.c.Close()
		return nil, fmt.Errorf("%w: login %s: %v", ErrIMAP, acct.Address, err)
	}
	sel, err := m.c.Select("INBOX", nil).Wait()
	if err != nil {
		m.c.Close()
		return nil, fmt.Errorf("%w: select INBOX: %v", ErrIMAP, err)
	}
	m.count.Store(sel.NumMessages)
	return m, nil
}

func (m *Mailbox) signal() {
	select {
	case m.updates <- struct{}{}:
	default:
	}
}

// Close logs out.
func (m *Mailbox) Close() error {
	_ = m.c.Logout().Wait()
	return m.c.Close()
}

// Fetch returns every message of INBOX (BODY.PEEK[]: flags unchanged).
func (m *Mailbox) Fetch(ctx context.Context) ([]Fetched, error) {
	stop := context.AfterFunc(ctx, func() { m.c.Close() })
	defer stop()
	if n, err := m.numMessages(); err != nil || n == 0 {
		if err != nil {
			return nil, err
		}
		if err := m.c.Noop().Wait(); err != nil {
			return nil, fmt.Errorf("%w: noop: %v", ErrIMAP, err)
		}
		if n, err := m.numMessages(); err != nil || n == 0 {
			return nil, err
		}
	}
	var set imap.UIDSet
	set.AddRange(1, 0)
	cmd := m.c.Fetch(set, &imap.FetchOptions{UID: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var out []Fetched
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, fmt.Errorf("%w: fetch: %v", ErrIMAP, err)
		}
		var raw []byte
		for _, b := range buf.BodySection {
			raw = b.Bytes
		}
		out = append(out, Fetched{UID: uint32(buf.UID), Raw: raw, Received: buf.InternalDate})
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("%w: fetch: %v", ErrIMAP, err)
	}
	return out, nil
}

// numMessages is INBOX's message count as the server last reported it; a
// session the server ended is an error.
func (m *Mailbox) numMessages() (uint32, error) {
	select {
	case <-m.c.Closed():
		return 0, fmt.Errorf("%w: the server ended the session", ErrIMAP)
	default:
	}
	return m.count.Load(), nil
}

// WaitFor returns the first message not returned before that matches. If
// none is there yet it waits with IDLE for new mail (no polling sleep) until
// ctx's deadline, then fails with ErrTimeout.
func (m *Mailbox) WaitFor(ctx context.Context, match func(raw []byte) bool) (Fetched, error) {
	for {
		all, err := m.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Fetched{}, fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
			}
			return Fetched{}, err
		}
		for _, f := range all {
			if !m.taken[f.UID] && match(f.Raw) {
				m.taken[f.UID] = true
				return f, nil
			}
		}
		if err := m.idle(ctx); err != nil {
			return Fetched{}, err
		}
	}
}

// idleRefresh bounds one IDLE: the wait is driven by the server's EXISTS
// notifications, and re-issued after idleRefresh as a safety net against a
// server that loses one (RFC 2177 clients re-issue IDLE periodically anyway).
const idleRefresh = 5 * time.Second

// idle waits for a mailbox update, the refresh period or the deadline.
func (m *Mailbox) idle(ctx context.Context) error {
	cmd, err := m.c.Idle()
	if err != nil {
		return fmt.Errorf("%w: idle: %v", ErrIMAP, err)
	}
	var waitErr error
	refresh := time.NewTimer(idleRefresh)
	defer refresh.Stop()
	select {
	case <-m.updates:
	case <-refresh.C:
	case <-ctx.Done():
		waitErr = fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
	case <-m.c.Closed():
		waitErr = fmt.Errorf("%w: connection closed", ErrIMAP)
	}
	if err := cmd.Close(); err != nil && waitErr == nil && !errors.Is(err, io.EOF) {
		waitErr = fmt.Errorf("%w: idle done: %v", ErrIMAP, err)
	}
	if waitErr == nil {
		_ = cmd.Wait()
	}
	return waitErr
}
