package mailbox

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/pecspec/pecspec/internal/durable"
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
}

// box is the IMAP view of one address's INBOX: one shared index, in UID
// order, and the MailboxTracker through which sessions learn of changes.
// The Maildir is the store of record; the index is rebuilt from it.
type box struct {
	addr  string
	store *Store
	log   *slog.Logger

	mu     sync.Mutex
	msgs   []*message
	byBase map[string]*message // dedupes a delivery racing a load
	// uidNext and uidValidity follow RFC 9051 §2.3.1.1: UIDs are assigned
	// in delivery order from 1 at each load, and uidValidity is new at each
	// load (nextUIDValidity), so no UID is reused under one UIDVALIDITY.
	uidNext     imap.UID
	uidValidity uint32
	tracker     *imapserver.MailboxTracker // nil until loaded
	// wake holds, per session view, a signal set after every update queued
	// to the tracker (Idle waits on it).
	wake map[*imapserver.SessionTracker]chan struct{}
}

func newBox(store *Store, addr string, log *slog.Logger) *box {
	return &box{addr: addr, store: store, log: log, byBase: map[string]*message{}, uidNext: 1,
		wake: map[*imapserver.SessionTracker]chan struct{}{}}
}

// load builds the index from the Maildir the first time it is needed.
func (b *box) load() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loadLocked()
}

func (b *box) loadLocked() error {
	if b.tracker != nil {
		return nil
	}
	v, err := nextUIDValidity(b.store.dir(b.addr))
	if err != nil {
		return err
	}
	b.uidValidity = v
	if err := b.syncLocked(); err != nil {
		return err
	}
	b.tracker = imapserver.NewMailboxTracker(uint32(len(b.msgs)))
	b.log.Debug("imap index loaded", "role", "mailbox", "rcpt", b.addr, "messages", len(b.msgs),
		"uidvalidity", v)
	return nil
}

// syncLocked brings the index in step with the Maildir: messages added by
// another process get the next UIDs (in delivery order), flags renamed by
// another process are taken, messages removed underneath are expunged.
func (b *box) syncLocked() error {
	names, err := b.store.List(b.addr)
	if err != nil {
		return err
	}
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[base(n)] = true
		if m := b.byBase[base(n)]; m != nil && m.name != n {
			m.name, m.flags = n, parseInfo(infoFlags(n))
			b.queueFlagsLocked(m, nil)
		}
	}
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if !present[base(b.msgs[i].name)] {
			b.dropLocked(i)
		}
	}
	for _, n := range names {
		if _, err := b.addLocked(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// delivered is the Store's watcher: a message added to a loaded index
// queues EXISTS, so an idling session sees it at once (RFC 2177).
func (b *box) delivered(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tracker == nil {
		return // not loaded: the load will list it
	}
	if _, err := b.addLocked(name); err != nil {
		b.log.Error("index delivery", "role", "mailbox", "rcpt", b.addr, "name", name, "err", err)
	}
}

// addLocked indexes the message name unless its base is already there.
func (b *box) addLocked(name string) (*message, error) {
	if m := b.byBase[base(name)]; m != nil {
		return m, nil
	}
	p, err := b.store.messagePath(b.addr, name)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	m := &message{uid: b.uidNext, name: name, flags: parseInfo(infoFlags(name)), size: st.Size(), date: st.ModTime()}
	b.uidNext++
	b.msgs = append(b.msgs, m)
	b.byBase[base(name)] = m
	if b.tracker != nil {
		b.tracker.QueueNumMessages(uint32(len(b.msgs)))
		b.wakeLocked()
	}
	return m, nil
}

// dropLocked removes index entry i and queues its EXPUNGE (RFC 9051 §7.5.1).
func (b *box) dropLocked(i int) {
	delete(b.byBase, base(b.msgs[i].name))
	b.msgs = append(b.msgs[:i], b.msgs[i+1:]...)
	if b.tracker != nil {
		b.tracker.QueueExpunge(uint32(i + 1))
		b.wakeLocked()
	}
}

// queueFlagsLocked tells the sessions but source of m's flags (FETCH FLAGS).
func (b *box) queueFlagsLocked(m *message, source *imapserver.SessionTracker) {
	if b.tracker == nil {
		return
	}
	if i, ok := b.indexLocked(m.uid); ok {
		b.tracker.QueueMessageFlags(uint32(i+1), m.uid, m.flagList(), source)
		b.wakeLocked()
	}
}

// wakeLocked signals every view that an update is queued for it.
func (b *box) wakeLocked() {
	for _, ch := range b.wake {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// release ends a session view (UNSELECT, CLOSE, LOGOUT).
func (b *box) release(view *imapserver.SessionTracker) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.wake, view)
	view.Close()
}

// indexLocked is the position of uid in the index.
func (b *box) indexLocked(uid imap.UID) (int, bool) {
	i := sort.Search(len(b.msgs), func(i int) bool { return b.msgs[i].uid >= uid })
	return i, i < len(b.msgs) && b.msgs[i].uid == uid
}

// open opens the file of uid. A file gone from the Maildir is dropped from
// the index (its EXPUNGE queued) and reported as errGone.
func (b *box) open(uid imap.UID) (*os.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.indexLocked(uid)
	if !ok {
		return nil, errGone
	}
	f, err := b.store.openMessage(b.addr, b.msgs[i].name)
	if errors.Is(err, fs.ErrNotExist) {
		b.log.Warn("message removed underneath", "role", "mailbox", "rcpt", b.addr, "name", b.msgs[i].name)
		b.dropLocked(i)
		return nil, errGone
	}
	return f, err
}

// uidValidityFile keeps the last UIDVALIDITY given to a Maildir.
const uidValidityFile = "imap-uidvalidity"

var uidValidityMu sync.Mutex

// nextUIDValidity returns a UIDVALIDITY greater than any given before to the
// Maildir dir (the load time in seconds, or the last one + 1), durably
// recorded first. UIDs are renumbered from 1 at every load, so a fresh value
// at every load is what keeps a UID from naming two messages (RFC 3501
// §2.3.1.1); clients then refetch the mailbox after a restart.
func nextUIDValidity(dir string) (uint32, error) {
	uidValidityMu.Lock() // two Servers on one Store load one address apart
	defer uidValidityMu.Unlock()
	var last uint64
	if data, err := os.ReadFile(filepath.Join(dir, uidValidityFile)); err == nil {
		last, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	v := max(uint64(time.Now().Unix()), last+1)
	if v > 1<<32-1 {
		return 0, fmt.Errorf("mailbox: UIDVALIDITY of %s exhausted", dir)
	}
	tmp := filepath.Join(dir, "tmp", uidValidityFile+"."+strconv.FormatUint(v, 10))
	if err := durable.Write(tmp, filepath.Join(dir, uidValidityFile), []byte(strconv.FormatUint(v, 10)+"\n")); err != nil {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	return uint32(v), nil
}
