package mailbox

import (
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// session is one IMAP connection: authenticated against the Authenticator,
// then a view of the user's only mailbox, INBOX.
type session struct {
	s    *Server
	addr string
	box  *box // set by Login
	// mu guards view against the IDLE goroutine, which go-imap leaves
	// running when the client drops the connection while Close runs; the
	// command goroutine, the only writer, reads view without it.
	mu sync.Mutex
	// view is the session's view of INBOX while it is selected (RFC 9051 §3.3).
	view     *view
	readOnly bool // EXAMINE
	// saved is the last SEARCH RETURN (SAVE) result, the "$" of RFC 5182.
	saved imap.UIDSet
}

var (
	_ imapserver.Session          = (*session)(nil)
	_ imapserver.SessionIMAP4rev2 = (*session)(nil)
)

// inbox is INBOX, the one mailbox each user has.
const inbox = "INBOX"

// isInbox reports whether name is INBOX (case-insensitive, RFC 9051 §5.1).
func isInbox(name string) bool { return strings.EqualFold(name, inbox) }

// no is a tagged NO response.
func no(code imap.ResponseCode, text string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: text}
}

var errOnlyInbox = no(imap.ResponseCodeNonExistent, "only INBOX exists")

// Login checks the full address and password (RFC 9051 §6.2.3) and loads
// the user's index on first use.
func (se *session) Login(username, password string) error {
	address := norm(username)
	if !se.s.store.Exists(address) || !se.s.auth.Authenticate(address, password) {
		return imapserver.ErrAuthFailed
	}
	b := se.s.box(address)
	if err := b.load(); err != nil {
		se.s.log.Error("load imap index", "role", "mailbox", "rcpt", address, "err", err)
		return no(imap.ResponseCodeUnavailable, "mailbox unavailable")
	}
	se.addr, se.box = address, b
	return nil
}

// Close ends the session (LOGOUT or a dropped connection).
func (se *session) Close() error {
	return se.Unselect()
}

// Select opens INBOX (RFC 9051 §6.3.2), read-only for EXAMINE (§6.3.3),
// after bringing the index in step with the Maildir; a mailbox selected
// before is left first.
func (se *session) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	se.Unselect()
	if !isInbox(mailbox) {
		return nil, errOnlyInbox
	}
	v, data, err := se.box.selectView(options.ReadOnly)
	if err != nil {
		se.s.log.Error("select", "role", "mailbox", "rcpt", se.addr, "err", err)
		return nil, no(imap.ResponseCodeUnavailable, "mailbox unavailable")
	}
	se.mu.Lock()
	se.view = v
	se.mu.Unlock()
	se.readOnly, se.saved = options.ReadOnly, nil
	return data, nil
}

// Unselect leaves INBOX (RFC 3691, RFC 9051 §6.4.2); for CLOSE go-imap calls
// Expunge first, and the EXPUNGEs this view had not sent are dropped with
// it (§6.4.1: CLOSE expunges silently).
func (se *session) Unselect() error {
	se.mu.Lock()
	v := se.view
	se.view = nil
	se.mu.Unlock()
	if v != nil {
		se.box.release(v)
	}
	se.saved = nil
	return nil
}

// Create, Delete and Rename answer NO: only INBOX exists, and it stays.
func (se *session) Create(string, *imap.CreateOptions) error {
	return no(imap.ResponseCodeCannot, "only INBOX is available")
}

func (se *session) Delete(string) error {
	return no(imap.ResponseCodeCannot, "INBOX cannot be deleted")
}

func (se *session) Rename(string, string, *imap.RenameOptions) error {
	return no(imap.ResponseCodeCannot, "only INBOX is available")
}

// Subscribe and Unsubscribe accept INBOX, which is always listed as
// subscribed (RFC 9051 §6.3.7, §6.3.8).
func (se *session) Subscribe(mailbox string) error {
	if !isInbox(mailbox) {
		return errOnlyInbox
	}
	return nil
}

func (se *session) Unsubscribe(mailbox string) error {
	return se.Subscribe(mailbox)
}

// Namespace is the personal namespace only (RFC 2342).
func (se *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: '/'}}}, nil
}

// List lists INBOX when a pattern matches it (RFC 9051 §6.3.9); LIST "" ""
// asks for the hierarchy delimiter.
func (se *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 || slices.Contains(patterns, "") { // go-imap drops empty patterns
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: '/'})
	}
	for _, p := range patterns {
		if !imapserver.MatchList(inbox, '/', ref, p) {
			continue
		}
		data := &imap.ListData{Mailbox: inbox, Delim: '/', Attrs: []imap.MailboxAttr{imap.MailboxAttrHasNoChildren}}
		if options != nil && (options.ReturnSubscribed || options.SelectSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if options != nil && options.ReturnStatus != nil {
			st, err := se.box.status(options.ReturnStatus)
			if err != nil {
				se.s.log.Error("list status", "role", "mailbox", "rcpt", se.addr, "err", err)
				return no(imap.ResponseCodeUnavailable, "mailbox unavailable")
			}
			data.Status = st
		}
		return w.WriteList(data)
	}
	return nil
}

// Status reports on INBOX (RFC 9051 §6.3.11).
func (se *session) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	if !isInbox(mailbox) {
		return nil, errOnlyInbox
	}
	data, err := se.box.status(options)
	if err != nil {
		se.s.log.Error("status", "role", "mailbox", "rcpt", se.addr, "err", err)
		return nil, no(imap.ResponseCodeUnavailable, "mailbox unavailable")
	}
	return data, nil
}

// Copy answers NO: only INBOX exists, so there is no other mailbox to copy
// to, and copying INBOX into itself is not offered (RFC 9051 §6.4.7 allows
// the NO).
func (se *session) Copy(imap.NumSet, string) (*imap.CopyData, error) {
	return nil, no(imap.ResponseCodeCannot, "only INBOX exists: nothing to copy to")
}

// Move answers NO like Copy (RFC 6851 §3.3).
func (se *session) Move(*imapserver.MoveWriter, imap.NumSet, string) error {
	return no(imap.ResponseCodeCannot, "only INBOX exists: nothing to move to")
}

// Poll writes what changed since the session's last command (RFC 9051 §7:
// EXPUNGE, EXISTS, FETCH FLAGS); no EXPUNGE during FETCH, STORE and SEARCH
// (§7.5.1).
func (se *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if se.view == nil {
		return nil
	}
	return se.view.poll(w, allowExpunge)
}

// Idle writes updates as they happen until the client ends IDLE (RFC 2177,
// RFC 9051 §6.3.13). It polls once first: an update a FETCH could not send
// (an EXPUNGE, §7.5.1) left no signal behind, since every poll consumes it.
// The view is taken once, under mu: if the client drops the connection,
// go-imap runs Close (which clears se.view) without waiting for this
// goroutine, which goes on with its own view until stop is closed.
func (se *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	se.mu.Lock()
	v := se.view
	se.mu.Unlock()
	if v == nil {
		<-stop
		return nil
	}
	for {
		if err := v.poll(w, true); err != nil {
			return err
		}
		select {
		case <-v.wake:
		case <-stop:
			return nil
		}
	}
}
