package mailbox

import (
	"errors"
	"io/fs"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Store answers STORE and UID STORE (RFC 9051 §6.4.6): the flags change in
// the index and, for system flags, in the file's Maildir info (renamed into
// cur/, durably); other sessions get FETCH FLAGS at their next poll; this
// one gets them here unless .SILENT.
func (se *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if se.readOnly {
		return no(imap.ResponseCodeCannot, "INBOX is selected read-only")
	}
	if options != nil && options.UnchangedSince != 0 {
		return no(imap.ResponseCodeCannot, "CONDSTORE is not supported")
	}
	_, uidKind := numSet.(imap.UIDSet)
	ts, err := se.box.setFlags(se.view, se.numSet(numSet), flags)
	if !flags.Silent {
		for _, t := range ts {
			rw := w.CreateMessage(t.seq)
			if uidKind {
				rw.WriteUID(t.msg.uid)
			}
			rw.WriteFlags(t.msg.flagList())
			if werr := rw.Close(); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		se.s.log.Error("store flags", "role", "mailbox", "rcpt", se.addr, "err", err)
		return no(imap.ResponseCodeServerBug, "flags not all stored")
	}
	return nil
}

// setFlags applies STORE to the messages set names in v, renames made
// durable (cur/ then new/ fsynced) before it returns the messages as they
// are afterwards.
func (b *box) setFlags(v *view, set imap.NumSet, flags *imap.StoreFlags) ([]target, error) {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	ts := b.targets(v, set)
	uids := make([]imap.UID, len(ts))
	for i, t := range ts {
		uids[i] = t.msg.uid
	}
	renamed, err := b.setFlagsFS(uids, flags.Op, flags.Flags, v)
	if renamed {
		err = firstErrOf(err, b.store.syncDirs(b.addr))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := ts[:0]
	for _, t := range ts {
		if m := b.findLocked(t.msg.uid); m != nil {
			t.msg = m.snapshot()
			out = append(out, t)
		}
	}
	return out, err
}

// markSeen sets \Seen on uid as FETCH sends its body (RFC 9051 §6.4.5) and
// returns its flags afterwards; the FETCH fsyncs the directories once, at
// its end, if renamed.
func (b *box) markSeen(v *view, uid imap.UID) (flags []imap.Flag, renamed bool, err error) {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	renamed, err = b.setFlagsFS([]imap.UID{uid}, imap.StoreFlagsAdd, []imap.Flag{imap.FlagSeen}, v)
	if m := b.findLocked(uid); m != nil {
		flags = m.flagList()
	}
	return flags, renamed, err
}

// setFlagsFS applies op with flags to the messages uids (fsMu held):
// system flags are written back by renaming the file to
// cur/<base>:2,<letters> (file-system work outside mu), keywords kept in
// the index; each change is queued as FETCH FLAGS for the views but source.
// It reports whether a file was renamed, for the caller to fsync.
func (b *box) setFlagsFS(uids []imap.UID, op imap.StoreFlagsOp, flags []imap.Flag, source *view) (renamed bool, err error) {
	for _, uid := range uids {
		r, ferr := b.flagOneFS(uid, op, flags, source)
		renamed = renamed || r
		err = firstErrOf(err, ferr)
	}
	return renamed, err
}

// flagOneFS changes one message's flags. A file not at its indexed name
// (another program renamed it) is looked for again and the change made
// from where it is, on the flags it has there; a file gone is dropped.
func (b *box) flagOneFS(uid imap.UID, op imap.StoreFlagsOp, flags []imap.Flag, source *view) (bool, error) {
	for range 3 {
		m := b.findLocked(uid)
		if m == nil {
			return false, nil // expunged meanwhile
		}
		sys, kws := m.apply(op, flags)
		to := m.name
		if sys != m.flags {
			to = infoName(base(m.name), infoString(sys, infoFlags(m.name)))
		}
		if to != m.name {
			err := b.store.rename(b.addr, m.name, to)
			if errors.Is(err, fs.ErrNotExist) {
				if _, err := b.relocateFS(uid, m.name); errors.Is(err, errGone) {
					return false, nil
				} else if err != nil {
					return false, err
				}
				continue
			} else if err != nil {
				return false, err
			}
		}
		changed := sys != m.flags || !sameFlags(kws, m.keywords)
		renamed := to != m.name
		b.mu.Lock()
		m.name, m.flags, m.keywords = to, sys, kws
		if changed {
			b.dirtyLocked(m, source)
		}
		b.mu.Unlock()
		return renamed, nil
	}
	return false, nil
}

// Expunge removes the \Deleted messages (RFC 9051 §6.4.3; UID EXPUNGE,
// RFC 4315 §2.1); the EXPUNGE responses come from the poll that follows.
// In a read-only session EXPUNGE answers NO (§6.4.3 needs a read-write
// mailbox) but CLOSE succeeds, removing nothing (§6.4.1). go-imap calls
// Expunge for both; it calls it for CLOSE with a zero ExpungeWriter (one
// that writes nothing, CLOSE sending no EXPUNGE) and for EXPUNGE with one
// bound to the connection, which is how the two are told apart here
// (go-imap v2 imapserver handleUnselect; TestIMAPCloseAndExamine checks it).
func (se *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	closing := w != nil && *w == (imapserver.ExpungeWriter{})
	if se.readOnly && closing {
		return nil
	} else if se.readOnly {
		return no(imap.ResponseCodeCannot, "INBOX is selected read-only")
	}
	var set imap.NumSet
	if uids != nil {
		set = *uids
	}
	if err := se.box.expunge(se.view, set); err != nil {
		se.s.log.Error("expunge", "role", "mailbox", "rcpt", se.addr, "err", err)
		return no(imap.ResponseCodeServerBug, "expunge incomplete")
	}
	return nil
}

// expunge removes the messages flagged \Deleted (only those of set, in v,
// when set is not nil): files unlinked and the directories fsynced outside
// the index lock, then the entries dropped, every view sending its EXPUNGE
// at its next poll — this session's before its tagged OK.
func (b *box) expunge(v *view, set imap.NumSet) error {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	var uids []imap.UID
	if set != nil {
		for _, t := range b.targets(v, set) {
			uids = append(uids, t.msg.uid)
		}
	} else {
		for _, m := range b.msgs {
			uids = append(uids, m.uid)
		}
	}
	var err error
	gone := map[imap.UID]bool{}
	for _, uid := range uids {
		for range 3 {
			m := b.findLocked(uid)
			if m == nil || m.flags&flagDeleted == 0 {
				break
			}
			rerr := b.store.remove(b.addr, m.name)
			if rerr == nil {
				gone[uid] = true
				break
			} else if !errors.Is(rerr, fs.ErrNotExist) {
				err = firstErrOf(err, rerr)
				break
			}
			// renamed by another program: remove it where it is now
			if _, rerr := b.relocateFS(uid, m.name); rerr != nil {
				if !errors.Is(rerr, errGone) {
					err = firstErrOf(err, rerr)
				}
				break
			}
		}
	}
	if len(gone) > 0 {
		err = firstErrOf(err, b.store.syncDirs(b.addr))
	}
	b.mu.Lock()
	b.dropLocked(gone)
	b.mu.Unlock()
	b.wake()
	return err
}
