package mailbox

import (
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// selectView brings the index in step with the Maildir and opens a session
// view of it, with the SELECT data (RFC 9051 §6.3.2) of that same instant.
func (b *box) selectView(readOnly bool) (*view, *imap.SelectData, error) {
	if err := b.load(); err != nil {
		return nil, nil, err
	}
	if err := b.sync(); err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	data := &imap.SelectData{
		Flags:          systemFlags,
		PermanentFlags: systemFlags,
		NumMessages:    uint32(len(b.msgs)),
		UIDNext:        b.uidNext,
		UIDValidity:    b.uidValidity,
		List:           &imap.ListData{Mailbox: inbox, Delim: '/', Attrs: []imap.MailboxAttr{imap.MailboxAttrHasNoChildren}},
	}
	if readOnly {
		data.PermanentFlags = []imap.Flag{}
	}
	for i, m := range b.msgs {
		if m.flags&flagSeen == 0 {
			data.FirstUnseenSeqNum = uint32(i + 1)
			break
		}
	}
	return b.openViewLocked(), data, nil
}

// status answers STATUS (RFC 9051 §6.3.11) after bringing the index in step
// with the Maildir.
func (b *box) status(options *imap.StatusOptions) (*imap.StatusData, error) {
	if err := b.load(); err != nil {
		return nil, err
	}
	if err := b.sync(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var n, unseen, deleted uint32
	var size int64
	for _, m := range b.msgs {
		n++
		size += m.size
		if m.flags&flagSeen == 0 {
			unseen++
		}
		if m.flags&flagDeleted != 0 {
			deleted++
		}
	}
	data := &imap.StatusData{Mailbox: inbox}
	if options.NumMessages {
		data.NumMessages = &n
	}
	if options.UIDNext {
		data.UIDNext = b.uidNext
	}
	if options.UIDValidity {
		data.UIDValidity = b.uidValidity
	}
	if options.NumUnseen {
		data.NumUnseen = &unseen
	}
	if options.NumDeleted {
		data.NumDeleted = &deleted
	}
	if options.Size {
		data.Size = &size
	}
	return data, nil
}

// Append stores a message in INBOX (RFC 9051 §6.3.12) as a new file of the
// Maildir, streamed from the connection, with the given flags (system flags
// as info letters, keywords in the index) and internal date (the file's
// modification time). Every session sees it through the Store's watcher;
// the answer carries APPENDUID (RFC 4315 §3).
func (se *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if !isInbox(mailbox) {
		return nil, errOnlyInbox
	}
	if !se.s.store.Fits(se.addr, int(r.Size())) {
		return nil, no(imap.ResponseCodeOverQuota, "mailbox full")
	}
	if options == nil {
		options = &imap.AppendOptions{}
	}
	flags, keywords := (&message{}).apply(imap.StoreFlagsSet, options.Flags)
	name, err := se.s.store.appendMessage(se.addr, r, options.Time, infoString(flags, ""))
	if errors.Is(err, ErrNoMailbox) {
		return nil, errOnlyInbox
	} else if err != nil {
		se.s.log.Error("append", "role", "mailbox", "rcpt", se.addr, "err", err)
		return nil, no(imap.ResponseCodeServerBug, "message not stored")
	}
	uid, err := se.box.appended(name, keywords)
	if err != nil {
		se.s.log.Error("index append", "role", "mailbox", "rcpt", se.addr, "name", name, "err", err)
		return nil, no(imap.ResponseCodeServerBug, "message stored but not indexed")
	}
	return &imap.AppendData{UID: uid, UIDValidity: se.box.validity()}, nil
}

// appended returns the UID of an appended message after giving it its
// keywords: the hook queued its name, and the merge indexes it (with the
// deliveries queued before it).
func (b *box) appended(name string, keywords []imap.Flag) (imap.UID, error) {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	if err := b.mergeFS(); err != nil {
		return 0, err
	}
	m := b.byBase[base(name)]
	if m == nil {
		return 0, fmt.Errorf("%w: %s", errGone, name)
	}
	if len(keywords) > 0 {
		b.mu.Lock()
		m.keywords = keywords
		b.dirtyLocked(m, nil)
		b.mu.Unlock()
	}
	return m.uid, nil
}

// validity is the box's UIDVALIDITY.
func (b *box) validity() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.uidValidity
}
