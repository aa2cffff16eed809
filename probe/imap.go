package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrTimeout means a waited-for message did not come before the deadline.
var ErrTimeout = errors.New("probe: timeout")

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
	taken   map[uint32]bool    // UIDs WaitFor returned
	read    map[uint32]Fetched // INBOX's messages as last read, by UID
	// count is INBOX's message count, from SELECT and the server's EXISTS
	// updates. imapclient's own Mailbox() is not used: it is set only after
	// the SELECT's Wait returns (a race in go-imap v2), so it may read nil.
	count  atomic.Uint32
	answer time.Duration // bound of each command's reply
	addr   string
	conn   *boundedConn // the bounds of what the server sends
}

// OpenMailbox logs in as acct (its login name) and selects INBOX, within the
// answer timeout. A refused login is ErrLogin; not reaching the server, TLS
// trouble, silence and a reply over a bound (imapbound.go) are the other
// harness errors of errors.go.
func OpenMailbox(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account) (*Mailbox, error) {
	answer := answerTimeout(ctx)
	m := &Mailbox{updates: make(chan struct{}, 1), taken: map[uint32]bool{}, read: map[uint32]Fetched{}, answer: answer, addr: ep.Addr()}
	actx, cancel := context.WithTimeout(ctx, answer)
	defer cancel()
	rec := newRecorder(ctx, "imap", ep.Addr())
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					m.count.Store(*d.NumMessages)
				}
				m.signal()
			},
		},
	}
	if rec != nil {
		opts.DebugWriter = rec
	}
	c, bc, err := dialIMAP(actx, ep, roots, opts, rec)
	if err != nil {
		rec.note(err.Error())
		return nil, err
	}
	m.c, m.conn = c, bc
	stop := context.AfterFunc(actx, func() { c.Close() })
	defer stop()
	if err := m.c.Login(acct.Login(), acct.Password).Wait(); err != nil {
		m.c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("%w: IMAP LOGIN as %s at %s: %v", ErrLogin, acct.Login(), ep.Addr(), err)
		}
		return nil, m.fail(actx, "IMAP greeting or LOGIN at", err)
	}
	sel, err := m.c.Select("INBOX", nil).Wait()
	if err != nil {
		m.c.Close()
		return nil, m.fail(actx, "IMAP SELECT INBOX at", err)
	}
	m.count.Store(sel.NumMessages)
	return m, nil
}

// fail classifies err of the exchange what; when the server crossed a
// bound, that is the error (imapclient's own errors do not keep it).
func (m *Mailbox) fail(ctx context.Context, what string, err error) error {
	if b := m.conn.Err(); b != nil {
		err = b
	}
	return classify(ctx, what, m.addr, err)
}

func (m *Mailbox) signal() {
	select {
	case m.updates <- struct{}{}:
	default:
	}
}

// Close logs out, waiting for the server's answer at most the answer
// timeout.
func (m *Mailbox) Close() error {
	t := time.AfterFunc(m.answer, func() { m.c.Close() })
	defer t.Stop()
	_ = m.c.Logout().Wait()
	return m.c.Close()
}

// Fetch returns every message of INBOX (BODY.PEEK[]: flags unchanged). The
// server answers within the answer timeout (ErrNoAnswer) and before ctx ends.
func (m *Mailbox) Fetch(ctx context.Context) ([]Fetched, error) {
	actx, cancel := context.WithTimeout(ctx, m.answer)
	defer cancel()
	stop := context.AfterFunc(actx, func() { m.c.Close() })
	defer stop()
	out, err := m.fetch()
	if err != nil {
		return nil, m.fail(actx, "IMAP FETCH at", err)
	}
	return out, nil
}

// fetch reads INBOX as it is now: UID SEARCH ALL names the messages, and
// only those not read before are fetched (UIDs never change meaning within a
// UIDVALIDITY, and a message's bytes never change): a mailbox that grows
// while a scenario waits is not read again whole at every new arrival.
func (m *Mailbox) fetch() ([]Fetched, error) {
	if n, err := m.numMessages(); err != nil || n == 0 {
		if err != nil {
			return nil, err
		}
		if err := m.c.Noop().Wait(); err != nil {
			return nil, fmt.Errorf("noop: %w", err)
		}
		if n, err := m.numMessages(); err != nil || n == 0 {
			return nil, err
		}
	}
	found, err := m.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("uid search: %w", err)
	}
	uids := found.AllUIDs()
	var missing imap.UIDSet
	for _, u := range uids {
		if _, ok := m.read[uint32(u)]; !ok {
			missing.AddNum(u)
		}
	}
	if len(missing) > 0 {
		if err := m.fetchUIDs(missing); err != nil {
			return nil, err
		}
	}
	out := make([]Fetched, 0, len(uids))
	now := make(map[uint32]Fetched, len(uids))
	for _, u := range uids {
		if f, ok := m.read[uint32(u)]; ok { // an expunge between SEARCH and FETCH leaves a gap
			out = append(out, f)
			now[f.UID] = f
		}
	}
	m.read = now // expunged messages are forgotten
	return out, nil
}

// fetchUIDs reads the messages of set (BODY.PEEK[]: flags unchanged) into
// m.read.
func (m *Mailbox) fetchUIDs(set imap.UIDSet) error {
	cmd := m.c.Fetch(set, &imap.FetchOptions{UID: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return fmt.Errorf("fetch: %w", err)
		}
		var raw []byte
		for _, b := range buf.BodySection {
			raw = b.Bytes
		}
		if buf.UID != 0 {
			m.read[uint32(buf.UID)] = Fetched{UID: uint32(buf.UID), Raw: raw, Received: buf.InternalDate}
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}

// numMessages is INBOX's message count as the server last reported it; a
// session the server ended is an error.
func (m *Mailbox) numMessages() (uint32, error) {
	select {
	case <-m.c.Closed():
		return 0, fmt.Errorf("the server ended the session: %w", io.EOF)
	default:
	}
	return m.count.Load(), nil
}

// WaitFor returns the first message not returned before that matches. If
// none is there yet it waits with IDLE for new mail (no polling sleep) until
// ctx's deadline, then fails with ErrTimeout: the message did not come. A
// server that stops answering is ErrNoAnswer, not a missing message.
func (m *Mailbox) WaitFor(ctx context.Context, match func(raw []byte) bool) (Fetched, error) {
	stop := context.AfterFunc(ctx, func() { m.c.Close() })
	defer stop()
	tried := map[uint32]bool{} // a message does not change: match it once
	for {
		all, err := m.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Fetched{}, fmt.Errorf("%w: %v", ErrTimeout, ctx.Err())
			}
			return Fetched{}, err
		}
		for _, f := range all {
			if m.taken[f.UID] || tried[f.UID] {
				continue
			}
			tried[f.UID] = true
			if match(f.Raw) {
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
		return m.fail(ctx, "IMAP IDLE at", err)
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
		waitErr = fmt.Errorf("%w: IMAP at %s: the server ended the session", ErrProtocol, m.addr)
		if b := m.conn.Err(); b != nil {
			waitErr = m.fail(ctx, "IMAP IDLE at", b)
		}
	}
	if err := cmd.Close(); err != nil && waitErr == nil && !errors.Is(err, io.EOF) {
		waitErr = m.fail(ctx, "IMAP IDLE DONE at", err)
	}
	if waitErr == nil {
		actx, cancel := context.WithTimeout(ctx, m.answer)
		stop := context.AfterFunc(actx, func() { m.c.Close() })
		if err := cmd.Wait(); err != nil && actx.Err() != nil {
			waitErr = m.fail(actx, "IMAP IDLE at", err)
		}
		stop()
		cancel()
	}
	return waitErr
}
