package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
)

// Arrival is one message as it reached a watched mailbox.
type Arrival struct {
	Mailbox string    // the account's address
	At      time.Time // when the server announced it (its EXISTS response)
	UID     uint32
	Size    int64
	Header  textproto.MIMEHeader // the fields of watchFields
	// Daticert is the message's daticert.xml (RFC 6109 §4.4), nil when it
	// has none; DaticertErr says why it could not be read.
	Daticert    *pec.Postacert
	DaticertErr error
	// Raw is the whole message when WatchOptions.Full asked for it and it
	// is not larger than MaxFull.
	Raw []byte
}

// watchFields are the header fields fetched for every arrival.
var watchFields = []string{pec.HeaderRicevuta, pec.HeaderTrasporto, pec.HeaderRiferimentoMsgID, "Message-ID", "Subject"}

// WatchOptions say what to fetch besides the header fields.
type WatchOptions struct {
	Daticert bool                            // fetch and parse daticert.xml
	Full     func(textproto.MIMEHeader) bool // fetch the whole message of these
	MaxFull  int64                           // default 80 MiB
	// Existing hands over what INBOX already holds too (arrived, as far as
	// the watcher knows, when it opened).
	Existing bool
}

// Watcher follows one INBOX over IMAP IDLE (RFC 2177) and hands over each
// message that arrives after it opened (or every one, WatchOptions.Existing), with the instant the server
// announced it. Only standard IMAP is used (IDLE, FETCH BODYSTRUCTURE and
// sections), so any server serves it (Dovecot, the reference's own).
type Watcher struct {
	Account probe.Account
	What    string // "imap of alpha": for errors
	ep      probe.Endpoint
	roots   *x509.CertPool
	opts    WatchOptions
	c       *imapclient.Client

	mu    sync.Mutex
	count uint32 // INBOX's messages as the server last reported them
	done  uint32 // messages at the head of INBOX already handed over (or there before)
	// batch is how many messages after done the current batch handles: an
	// EXPUNGE during its UID FETCHes (RFC 9051 §7.5.1 allows them there)
	// shifts them down.
	inBatch uint32
	notes   []note // EXISTS announcements not yet handed over
	wake    chan struct{}
}

// note is one EXISTS announcement: messages up to count were there at at.
type note struct {
	count uint32
	at    time.Time
}

// OpenWatcher logs in as acct and selects INBOX; what is there already is
// not handed over.
func OpenWatcher(ctx context.Context, what string, ep probe.Endpoint, roots *x509.CertPool, acct probe.Account, opts WatchOptions) (*Watcher, error) {
	if opts.MaxFull <= 0 {
		opts.MaxFull = 80 << 20
	}
	w := &Watcher{Account: acct, What: what, ep: ep, roots: roots, opts: opts, wake: make(chan struct{}, 1)}
	c, err := login(ctx, ep, roots, acct, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				w.exists(*d.NumMessages)
			}
		},
		Expunge: w.expunged,
	}})
	if err != nil {
		return nil, &HarnessError{What: what, Endpoint: ep.Addr(), Err: err, Hint: "check the imap endpoint and the account's password in the target file"}
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		c.Close()
		return nil, &HarnessError{What: what, Endpoint: ep.Addr(), Err: fmt.Errorf("select INBOX of %s: %w", acct.Address, err)}
	}
	w.c = c
	w.mu.Lock()
	w.count = max(w.count, sel.NumMessages)
	w.done, w.notes = w.count, nil
	if opts.Existing {
		w.done, w.notes = 0, []note{{count: w.count, at: time.Now()}}
	}
	w.mu.Unlock()
	return w, nil
}

// login dials ep and logs in as acct, bounded by ctx.
func login(ctx context.Context, ep probe.Endpoint, roots *x509.CertPool, acct probe.Account, opts *imapclient.Options) (*imapclient.Client, error) {
	c, err := dialIMAP(ctx, ep, roots, opts)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(acct.Login(), acct.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login %s: %w", acct.Login(), err)
	}
	return c, nil
}

// exists records an EXISTS announcement (on the client's reader goroutine,
// in the order of the server's responses).
func (w *Watcher) exists(n uint32) {
	now := time.Now()
	w.mu.Lock()
	if n > w.count {
		w.notes = append(w.notes, note{count: n, at: now})
	}
	w.count = n
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// expunged applies an EXPUNGE response (RFC 9051 §7.5.1): every later
// message moves down by one.
func (w *Watcher) expunged(seq uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count > 0 {
		w.count--
	}
	switch {
	case seq <= w.done:
		w.done--
	case seq <= w.done+w.inBatch:
		w.inBatch--
	}
	for i := range w.notes {
		if w.notes[i].count >= seq {
			w.notes[i].count--
		}
	}
}

// arrivedAt is when message seq was first announced.
func (w *Watcher) arrivedAt(seq uint32) time.Time {
	for _, n := range w.notes {
		if n.count >= seq {
			return n.at
		}
	}
	return time.Now()
}

// Close logs out.
func (w *Watcher) Close() error {
	_ = w.c.Logout().Wait()
	return w.c.Close()
}

// ErrWatch wraps a watched session that failed during the run.
var ErrWatch = errors.New("load: watch")

// Run hands every new message to handle until ctx is done; handle returns
// true for the messages to delete (the janitor expunges them over its own
// session, so the EXPUNGE responses reach this one in order).
func (w *Watcher) Run(ctx context.Context, handle func(*Arrival) bool, expunge func(uid uint32)) error {
	stop := context.AfterFunc(ctx, func() { w.c.Close() })
	defer stop()
	for {
		n, err := w.batch(handle, expunge)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return &HarnessError{What: w.What, Endpoint: w.ep.Addr(), Err: fmt.Errorf("%w: %s: %v", ErrWatch, w.Account.Address, err)}
		}
		if n > 0 {
			continue
		}
		if err := w.idle(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return &HarnessError{What: w.What, Endpoint: w.ep.Addr(), Err: fmt.Errorf("%w: %s: idle: %v", ErrWatch, w.Account.Address, err)}
		}
	}
}

// idleRefresh re-issues IDLE now and then (RFC 2177 asks clients to, and a
// server that lost a notification is caught up).
const idleRefresh = 5 * time.Second

// idle waits in IDLE for an announcement, the refresh period or ctx.
func (w *Watcher) idle(ctx context.Context) error {
	w.mu.Lock()
	pending := w.count > w.done
	w.mu.Unlock()
	if pending {
		return nil
	}
	cmd, err := w.c.Idle()
	if err != nil {
		return err
	}
	t := time.NewTimer(idleRefresh)
	defer t.Stop()
	select {
	case <-w.wake:
	case <-t.C:
	case <-ctx.Done():
	case <-w.c.Closed():
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	return cmd.Wait()
}

// batch fetches and hands over the messages announced and not yet handed
// over; it returns how many.
func (w *Watcher) batch(handle func(*Arrival) bool, expunge func(uint32)) (int, error) {
	w.mu.Lock()
	from, to := w.done+1, w.count
	if to >= from {
		w.inBatch = to - from + 1
	}
	w.mu.Unlock()
	if to < from {
		return 0, nil
	}
	arrivals, parts, err := w.fetchHeads(from, to)
	if err != nil {
		return 0, err
	}
	if err := w.fetchParts(arrivals, parts); err != nil {
		return 0, err
	}
	for _, a := range arrivals {
		if handle(a) && expunge != nil {
			expunge(a.UID)
		}
	}
	w.mu.Lock()
	w.done += w.inBatch
	w.inBatch = 0
	keep := w.notes[:0]
	for _, n := range w.notes {
		if n.count > w.done {
			keep = append(keep, n)
		}
	}
	w.notes = keep
	w.mu.Unlock()
	return len(arrivals), nil
}

var headSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: watchFields, Peek: true}

// fetchHeads fetches UID, size, structure and the watched fields of seq
// from..to; parts maps a UID to its daticert.xml part path.
func (w *Watcher) fetchHeads(from, to uint32) ([]*Arrival, map[uint32]partRef, error) {
	var set imap.SeqSet
	set.AddRange(from, to)
	opts := &imap.FetchOptions{UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{headSection}}
	if w.opts.Daticert {
		opts.BodyStructure = &imap.FetchItemBodyStructure{Extended: true}
	}
	msgs, err := w.c.Fetch(set, opts).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %d:%d: %w", from, to, err)
	}
	parts := map[uint32]partRef{}
	var out []*Arrival
	w.mu.Lock()
	for _, m := range msgs {
		a := &Arrival{Mailbox: w.Account.Address, At: w.arrivedAt(m.SeqNum), UID: uint32(m.UID), Size: m.RFC822Size,
			Header: parseFields(m.FindBodySection(headSection))}
		if p, ok := daticertPart(m.BodyStructure); ok {
			parts[a.UID] = p
		}
		out = append(out, a)
	}
	w.mu.Unlock()
	return out, parts, nil
}

func parseFields(b []byte) textproto.MIMEHeader {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(b, "\r\n"...)))).ReadMIMEHeader()
	if h == nil || err != nil && len(h) == 0 {
		return textproto.MIMEHeader{}
	}
	return h
}

// partRef locates a part: its path and Content-Transfer-Encoding.
type partRef struct {
	path     []int
	encoding string
}

// daticertPart is the daticert.xml part (RFC 6109 §4.3.3; the name per
// pec-rules A1), outside any message/rfc822 part.
func daticertPart(bs imap.BodyStructure) (partRef, bool) {
	var found partRef
	ok := false
	if bs == nil {
		return found, false
	}
	bs.Walk(func(path []int, part imap.BodyStructure) bool {
		if ok {
			return false
		}
		if sp, single := part.(*imap.BodyStructureSinglePart); single {
			name := sp.Filename()
			// A daticert larger than base64 of MaxDaticertSize is not fetched:
			// pec.ParseDaticert would refuse it anyway.
			named := strings.EqualFold(name, pec.DaticertName) || strings.EqualFold(name, pec.CertdataName)
			if named && int64(sp.Size) <= 2*pec.MaxDaticertSize {
				found, ok = partRef{path: append([]int(nil), path...), encoding: sp.Encoding}, true
			}
		}
		return true
	})
	return found, ok
}
