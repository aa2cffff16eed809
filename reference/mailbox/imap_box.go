package mailbox

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
)

// errGone is a message removed from the Maildir underneath the index (by an
// expunge in another session or by another process).
var errGone = errors.New("mailbox: message no longer in the Maildir")

// message is one entry of a box's index: no message bytes, only what FETCH
// FLAGS/UID/INTERNALDATE/RFC822.SIZE and SEARCH on them need.
type message struct {
	uid  imap.UID
	name string // Maildir name: "new/<base>" or "cur/<base>:2,<info>"
	// flags are the system flags, kept in the name's info letters.
	flags sysFlags
	// keywords are the other flags (RFC 9051 §2.3.2), kept in memory only:
	// Maildir info has no standard place for them, so they are lost at a
	// restart, and PERMANENTFLAGS does not announce \*.
	keywords []imap.Flag
	size     int64
	date     time.Time // internal date: the file's modification time
	// info is what FETCH learnt of the file (msgInfo), kept because a
	// Maildir file never changes, only its name.
	info *msgInfo
}

// box is the IMAP view of one address's INBOX: one shared index, in UID
// order, that every session of the address reads through its own view. The
// Maildir is the store of record; the index follows it.
//
// Three locks, never held while waiting on a client:
//   - inbound.mu, the only one the Store's delivery hook takes (a name
//     appended to a list, the sessions woken), so a delivery never waits on
//     IMAP work (RFC 6109 §3.3: the SMTP answer waits on the delivery);
//   - fsMu, held by whoever changes the Maildir or brings the index in step
//     with it (merge, sync, STORE renames, EXPUNGE unlinks): file-system
//     work happens under it and outside mu;
//   - mu, over the index itself, held for memory work only. The index's
//     entries, names, flags and uidNext change with fsMu and mu both held,
//     so either one is enough to read them.
type box struct {
	addr  string
	store *Store
	log   *slog.Logger

	fsMu sync.Mutex

	mu     sync.Mutex
	loaded bool
	msgs   []*message          // in UID order
	byBase map[string]*message // Maildir base name → entry
	// uidNext and uidValidity follow RFC 9051 §2.3.1.1; with the uid list
	// (uids, nil when another Server holds it) both survive a restart.
	uidNext     imap.UID
	uidValidity uint32
	uids        *uidList
	// gen counts the entries dropped, so a view sees at once whether it
	// has EXPUNGEs to send.
	gen uint64

	inbound inbound
}

func newBox(store *Store, addr string, log *slog.Logger) *box {
	return &box{addr: addr, store: store, log: log, byBase: map[string]*message{}, uidNext: 1,
		inbound: inbound{views: map[*view]struct{}{}}}
}

// findLocked is the entry of uid (mu or fsMu held), nil if none.
func (b *box) findLocked(uid imap.UID) *message {
	i := sort.Search(len(b.msgs), func(i int) bool { return b.msgs[i].uid >= uid })
	if i < len(b.msgs) && b.msgs[i].uid == uid {
		return b.msgs[i]
	}
	return nil
}

// snapshot copies m for use after the lock is released.
func (m *message) snapshot() message {
	c := *m
	c.keywords = append([]imap.Flag(nil), m.keywords...)
	return c
}

// insertLocked appends entries with UIDs above every indexed one (fsMu and
// mu held).
func (b *box) insertLocked(ms []*message) {
	for _, m := range ms {
		b.msgs = append(b.msgs, m)
		b.byBase[base(m.name)] = m
	}
}

// dropLocked removes the entries of uids (fsMu and mu held); the views send
// their EXPUNGEs at their next poll (RFC 9051 §7.5.1).
func (b *box) dropLocked(uids map[imap.UID]bool) {
	if len(uids) == 0 {
		return
	}
	out := b.msgs[:0]
	for _, m := range b.msgs {
		if uids[m.uid] {
			delete(b.byBase, base(m.name))
			continue
		}
		out = append(out, m)
	}
	clear(b.msgs[len(out):])
	b.msgs = out
	b.gen++
}

// open opens the file of uid. A file not at its indexed name is looked for
// again (relocate): another program may have renamed it; one gone for good
// is dropped from the index and reported as errGone.
func (b *box) open(uid imap.UID) (*os.File, error) {
	for range 3 {
		b.mu.Lock()
		m := b.findLocked(uid)
		var name string
		if m != nil {
			name = m.name
		}
		b.mu.Unlock()
		if m == nil {
			return nil, errGone
		}
		f, err := b.store.openMessage(b.addr, name)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		b.fsMu.Lock()
		_, err = b.relocateFS(uid, name)
		b.fsMu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return nil, errGone
}

// load builds the index from the Maildir the first time it is needed: the
// UIDs of the uid list for the messages it names, the next UIDs (in
// delivery order) for the others.
func (b *box) load() error {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	if b.loaded {
		return nil
	}
	b.inbound.mu.Lock()
	b.inbound.watching = true // deliveries from now on are queued; earlier ones are listed
	b.inbound.mu.Unlock()
	err := b.loadFS()
	if err != nil {
		b.inbound.mu.Lock()
		b.inbound.watching, b.inbound.names = false, nil
		b.inbound.mu.Unlock()
	}
	return err
}

func (b *box) loadFS() error {
	dir := b.store.dir(b.addr)
	list, state, err := openUIDList(dir)
	next, known := imap.UID(1), map[string]imap.UID{}
	var validity uint32
	switch {
	case errors.Is(err, errListBusy):
		state = "held by another server: UIDs numbered for this load only"
		if validity, err = nextUIDValidity(dir, 0); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		validity, next, known = list.validity, list.next, list.known
	}
	names, err := b.store.listDir(b.addr)
	if err != nil {
		if list != nil {
			list.close()
		}
		return err
	}
	if testHookListed != nil {
		testHookListed()
	}
	var old, fresh []*message
	for _, n := range names {
		m, err := b.stat(n)
		if err != nil {
			continue // gone since the listing, or not a file
		}
		if u, ok := known[base(m.name)]; ok {
			m.uid, old = u, append(old, m)
		} else {
			fresh = append(fresh, m)
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].uid < old[j].uid })
	for _, m := range fresh {
		m.uid, next = next, next+1
	}
	all := append(old, fresh...)
	if list != nil {
		if err := list.rewrite(all, next); err != nil {
			list.close()
			return err
		}
	}
	b.mu.Lock()
	b.uids, b.uidValidity, b.uidNext, b.loaded = list, validity, next, true
	b.insertLocked(all)
	b.mu.Unlock()
	b.log.Debug("imap index loaded", "role", "mailbox", "rcpt", b.addr, "messages", len(all),
		"uidvalidity", validity, "uidlist", state)
	return b.mergeFS()
}

// close releases the uid list (Server.Close).
func (b *box) close() {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	if b.uids != nil {
		b.uids.close()
	}
}
