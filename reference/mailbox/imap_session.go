package mailbox

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// session is one IMAP connection: authenticated against the Authenticator,
// then a view of the user's only mailbox, INBOX.
type session struct {
	s    *Server
	addr string
	box  *box // set by Login
	// view is the session's view of INBOX while it is selected (RFC 9051 §3.3).
	view     *imapserver.SessionTracker
	wake     <-chan struct{} // signalled when an update is queued to view
	readOnly bool            // EXAMINE
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
// after bringing the index in step with the Maildir.
func (se *session) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if !isInbox(mailbox) {
		return nil, errOnlyInbox
	}
	view, wake, data, err := se.box.selectView(options.ReadOnly)
	if err != nil {
		se.s.log.Error("select", "role", "mailbox", "rcpt", se.addr, "err", err)
		return nil, no(imap.ResponseCodeUnavailable, "mailbox unavailable")
	}
	se.view, se.wake, se.readOnly, se.saved = view, wake, options.ReadOnly, nil
	return data, nil
}

// Unselect leaves INBOX (RFC 3691, RFC 9051 §6.4.2); for CLOSE go-imap calls
// Expunge first with a writer that writes nothing, and the EXPUNGE updates
// queued to this view are dropped with it (§6.4.1: CLOSE expunges silently).
func (se *session) Unselect() error {
	if se.view != nil {
		se.box.release(se.view)
		se.view, se.wake = nil, nil
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

// Poll writes the updates queued for this session since its last command
// (RFC 9051 §7: EXISTS, EXPUNGE, FETCH FLAGS); without EXPUNGE during
// FETCH, STORE and SEARCH (§7.5.1).
func (se *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if se.view == nil {
		return nil
	}
	return se.view.Poll(w, allowExpunge)
}

// Idle writes updates as they are queued until the client ends IDLE (RFC
// 2177, RFC 9051 §6.3.13). It first flushes updates queued since the last
// command: go-imap's tracker only wakes an idle session for updates queued
// after IDLE began, so a delivery that lands between a client's FETCH and its
// IDLE would go unseen. For the same reason it waits on the box's signal
// rather than SessionTracker.Idle, which registers its wake-up only once it
// runs: an update queued between the flush and that registration would wait
// for the next one. The signal is set after every queued update, so each
// one is followed by a Poll.
func (se *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if se.view == nil {
		<-stop
		return nil
	}
	for {
		if err := se.view.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-se.wake:
		case <-stop:
			return nil
		}
	}
}

// Expunge removes the \Deleted messages (RFC 9051 §6.4.3; UID EXPUNGE,
// RFC 4315 §2.1). The EXPUNGE responses come from the view's queue. In a
// read-only session nothing is removed (the same call serves CLOSE after
// EXAMINE, which must succeed).
func (se *session) Expunge(_ *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if se.readOnly {
		return nil
	}
	if err := se.box.expunge(uids); err != nil {
		se.s.log.Error("expunge", "role", "mailbox", "rcpt", se.addr, "err", err)
		return no(imap.ResponseCodeServerBug, "expunge incomplete")
	}
	return nil
}
