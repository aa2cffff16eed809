package mailbox

import (
	"errors"
	"io/fs"
	"sort"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Message numbers (RFC 9051 §2.3.1): a session names messages by sequence
// number in its own view, which lags the shared index by the updates not yet
// sent to it; the SessionTracker translates between the two. Only messages
// the client has been told of (EXISTS) are ever named in a response.

// target is a message a command names: its sequence number in the client's
// view and a copy of its index entry, valid after the box lock is released.
type target struct {
	seq uint32
	msg message
}

// clientMaxLocked is "*" for sequence numbers: the client's number of the
// last message it knows of.
func (b *box) clientMaxLocked(view *imapserver.SessionTracker) uint32 {
	for i := len(b.msgs); i >= 1; i-- {
		if c := view.EncodeSeqNum(uint32(i)); c != 0 {
			return c
		}
	}
	return 0
}

// resolveLocked returns, ascending, the index positions of the messages set
// names in view's view (a SeqSet of sequence numbers or a UIDSet).
func (b *box) resolveLocked(view *imapserver.SessionTracker, set imap.NumSet) []int {
	mark := make([]bool, len(b.msgs))
	switch set := set.(type) {
	case imap.SeqSet:
		top := b.clientMaxLocked(view)
		for _, r := range set {
			lo, hi := bounds(r.Start, r.Stop, top)
			for c := lo; c >= 1 && c <= hi; c++ {
				if s := view.DecodeSeqNum(c); s != 0 {
					mark[s-1] = true
				}
			}
		}
	case imap.UIDSet:
		var top uint32
		if n := len(b.msgs); n > 0 {
			top = uint32(b.msgs[n-1].uid)
		}
		for _, r := range set {
			lo, hi := bounds(uint32(r.Start), uint32(r.Stop), top)
			i := sort.Search(len(b.msgs), func(i int) bool { return uint32(b.msgs[i].uid) >= lo })
			for ; i < len(b.msgs) && uint32(b.msgs[i].uid) <= hi; i++ {
				mark[i] = true
			}
		}
	}
	var out []int
	for i, ok := range mark {
		if ok && view.EncodeSeqNum(uint32(i+1)) != 0 {
			out = append(out, i)
		}
	}
	return out
}

// bounds orders a range, "*" (0) being top and an end above top capped to
// it (RFC 9051 §9 seq-range: "*" is the largest number in use).
func bounds(start, stop, top uint32) (lo, hi uint32) {
	if start == 0 {
		start = top
	}
	if stop == 0 {
		stop = top
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, min(stop, top)
}

// targets resolves set and copies the entries, under the box lock.
func (b *box) targets(view *imapserver.SessionTracker, set imap.NumSet) []target {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.targetsLocked(view, b.resolveLocked(view, set))
}

func (b *box) targetsLocked(view *imapserver.SessionTracker, idx []int) []target {
	out := make([]target, 0, len(idx))
	for _, i := range idx {
		m := *b.msgs[i]
		m.keywords = append([]imap.Flag(nil), m.keywords...)
		out = append(out, target{seq: view.EncodeSeqNum(uint32(i + 1)), msg: m})
	}
	return out
}

// setFlags applies STORE to the messages set names and returns them afterwards.
func (b *box) setFlags(view *imapserver.SessionTracker, set imap.NumSet, flags *imap.StoreFlags) ([]target, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	idx := b.resolveLocked(view, set)
	uids := make([]imap.UID, len(idx))
	for j, i := range idx {
		uids[j] = b.msgs[i].uid
	}
	err := b.storeLocked(idx, flags.Op, flags.Flags, view)
	idx = idx[:0] // positions may have moved if a file was gone
	for _, u := range uids {
		if i, ok := b.indexLocked(u); ok {
			idx = append(idx, i)
		}
	}
	return b.targetsLocked(view, idx), err
}

// markSeen sets \Seen on uids (a FETCH of a body, RFC 3501 §6.4.5) and
// returns the flags of those it changed.
func (b *box) markSeen(view *imapserver.SessionTracker, uids []imap.UID) (map[imap.UID][]imap.Flag, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var idx []int
	var unseen []imap.UID
	for _, u := range uids {
		if i, ok := b.indexLocked(u); ok && b.msgs[i].flags&flagSeen == 0 {
			idx, unseen = append(idx, i), append(unseen, u)
		}
	}
	err := b.storeLocked(idx, imap.StoreFlagsAdd, []imap.Flag{imap.FlagSeen}, view)
	out := map[imap.UID][]imap.Flag{}
	for _, u := range unseen {
		if i, ok := b.indexLocked(u); ok && b.msgs[i].flags&flagSeen != 0 {
			out[u] = b.msgs[i].flagList()
		}
	}
	return out, err
}

// uidIn reports whether uid is in set, "*" being top.
func uidIn(set imap.UIDSet, uid imap.UID, top imap.UID) bool {
	for _, r := range set {
		if lo, hi := bounds(uint32(r.Start), uint32(r.Stop), uint32(top)); uint32(uid) >= lo && uint32(uid) <= hi {
			return true
		}
	}
	return false
}

// seqIn reports whether seq is in set, "*" being top.
func seqIn(set imap.SeqSet, seq, top uint32) bool {
	for _, r := range set {
		if lo, hi := bounds(r.Start, r.Stop, top); seq >= lo && seq <= hi {
			return true
		}
	}
	return false
}

// expunge removes the messages flagged \Deleted (only those of uids when
// not nil: UID EXPUNGE, RFC 4315 §2.1): files unlinked, directories fsynced,
// entries dropped and EXPUNGE queued to every session, the expunging one
// included — the server writes it from the queue before the tagged OK.
func (b *box) expunge(uids *imap.UIDSet) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var top imap.UID
	if n := len(b.msgs); n > 0 {
		top = b.msgs[n-1].uid
	}
	var err error
	var removed bool
	for i := len(b.msgs) - 1; i >= 0; i-- {
		m := b.msgs[i]
		if m.flags&flagDeleted == 0 || (uids != nil && !uidIn(*uids, m.uid, top)) {
			continue
		}
		if rerr := b.store.remove(b.addr, m.name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = firstErrOf(err, rerr)
			continue
		}
		b.dropLocked(i)
		removed = true
	}
	if removed {
		err = firstErrOf(err, b.store.syncDirs(b.addr))
	}
	return err
}
