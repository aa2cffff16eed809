package mailbox

import (
	"sort"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// view is one session's picture of INBOX (RFC 9051 §2.3.1.2, §7.5.1): the
// UIDs of the messages its client has been told of, in sequence-number
// order, and the flag changes not yet sent to it. The client's sequence
// numbers and "*" are resolved against it, never against the index: a
// message another session expunged keeps its number here until this client
// is sent the EXPUNGE, and meanwhile names nothing.
type view struct {
	box  *box
	wake chan struct{} // signalled after the index changes (IDLE waits on it)
	// uids, top and gen belong to the session (its command goroutine, or
	// its IDLE goroutine while it idles).
	uids []imap.UID
	top  imap.UID // the highest UID ever in uids: any above is new to the client
	gen  uint64   // box.gen when uids last lost its expunged entries
	// dirty holds the UIDs whose flags changed since the last poll, under
	// box.mu.
	dirty map[imap.UID]struct{}
}

// openViewLocked makes a view of the whole index and registers it for
// updates, in one step under mu so that no change falls between the two.
func (b *box) openViewLocked() *view {
	v := &view{box: b, wake: make(chan struct{}, 1), dirty: map[imap.UID]struct{}{}, gen: b.gen}
	v.uids = make([]imap.UID, len(b.msgs))
	for i, m := range b.msgs {
		v.uids[i] = m.uid
	}
	if n := len(v.uids); n > 0 {
		v.top = v.uids[n-1]
	}
	b.inbound.mu.Lock()
	b.inbound.views[v] = struct{}{}
	b.inbound.mu.Unlock()
	return v
}

// release ends a view (UNSELECT, CLOSE, SELECT again, LOGOUT).
func (b *box) release(v *view) {
	b.inbound.mu.Lock()
	delete(b.inbound.views, v)
	b.inbound.mu.Unlock()
}

// last is "*" for the client: its last message's sequence number and UID.
func (v *view) last() (uint32, imap.UID) {
	n := len(v.uids)
	if n == 0 {
		return 0, 0
	}
	return uint32(n), v.uids[n-1]
}

// seqOf is the client's sequence number of uid, 0 if it does not know it.
func (v *view) seqOf(uid imap.UID) uint32 {
	i := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] >= uid })
	if i < len(v.uids) && v.uids[i] == uid {
		return uint32(i + 1)
	}
	return 0
}

// changes are the untagged responses a poll sends, in order.
type changes struct {
	expunged []uint32 // sequence numbers, each valid after the previous ones
	exists   bool
	flags    []flagChange
}

type flagChange struct {
	seq   uint32
	uid   imap.UID
	flags []imap.Flag
}

// poll sends the client what changed since its last poll (RFC 9051 §7:
// EXPUNGE, EXISTS, FETCH FLAGS), EXPUNGE only when allowExpunge (not during
// FETCH, STORE, SEARCH: §7.5.1). Deliveries queued by the hook are merged
// first.
func (v *view) poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	select {
	case <-v.wake: // this poll covers it
	default:
	}
	if err := v.box.merge(); err != nil {
		v.box.log.Error("index deliveries", "role", "mailbox", "rcpt", v.box.addr, "err", err)
	}
	c := v.box.catchUp(v, allowExpunge)
	for _, seq := range c.expunged {
		if err := w.WriteExpunge(seq); err != nil {
			return err
		}
	}
	if c.exists {
		if err := w.WriteNumMessages(uint32(len(v.uids))); err != nil {
			return err
		}
	}
	for _, f := range c.flags {
		if err := w.WriteMessageFlags(f.seq, f.uid, f.flags); err != nil {
			return err
		}
	}
	return nil
}

// catchUp brings v in step with the index and returns what the client must
// be told of it.
func (b *box) catchUp(v *view, allowExpunge bool) changes {
	b.mu.Lock()
	defer b.mu.Unlock()
	var c changes
	if allowExpunge && v.gen != b.gen {
		out, j := v.uids[:0], 0
		for i, uid := range v.uids { // both in UID order: one walk
			for j < len(b.msgs) && b.msgs[j].uid < uid {
				j++
			}
			if j < len(b.msgs) && b.msgs[j].uid == uid {
				out = append(out, uid)
				continue
			}
			c.expunged = append(c.expunged, uint32(i+1-len(c.expunged)))
			delete(v.dirty, uid)
		}
		v.uids, v.gen = out, b.gen
	}
	i := sort.Search(len(b.msgs), func(i int) bool { return b.msgs[i].uid > v.top })
	for _, m := range b.msgs[i:] {
		v.uids = append(v.uids, m.uid)
		v.top, c.exists = m.uid, true
	}
	for uid := range v.dirty {
		if seq, m := v.seqOf(uid), b.findLocked(uid); seq != 0 && m != nil {
			c.flags = append(c.flags, flagChange{seq: seq, uid: uid, flags: m.flagList()})
		}
	}
	clear(v.dirty)
	sort.Slice(c.flags, func(i, j int) bool { return c.flags[i].seq < c.flags[j].seq })
	return c
}

// inbound is all the Store's delivery hook touches: the names delivered
// since the index last caught up and the views to wake, under a lock held
// for nothing else. The names are merged into the index by the next command
// or IDLE wake-up of any session (merge).
type inbound struct {
	mu       sync.Mutex
	watching bool     // the box is loading or loaded: names are kept
	names    []string // Maildir names, in delivery order
	overflow bool     // more than maxPending names: the next merge rescans
	views    map[*view]struct{}
}

// wakeLocked signals every view (in.mu held); a view already signalled
// keeps its one pending signal.
func (in *inbound) wakeLocked() {
	for v := range in.views {
		select {
		case v.wake <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// wake signals every view that the index changed.
func (b *box) wake() {
	b.inbound.mu.Lock()
	b.inbound.wakeLocked()
	b.inbound.mu.Unlock()
}

// dirtyLocked queues m's new flags (FETCH FLAGS) for every view but source
// (mu held).
func (b *box) dirtyLocked(m *message, source *view) {
	b.inbound.mu.Lock()
	defer b.inbound.mu.Unlock()
	for v := range b.inbound.views {
		if v != source {
			v.dirty[m.uid] = struct{}{}
		}
	}
	b.inbound.wakeLocked()
}
