package mailbox

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	"github.com/emersion/go-imap/v2"
)

// maxPending bounds the names kept for a box no session reads; past it the
// next merge lists the Maildir instead.
const maxPending = 4096

// testHookListed runs in sync between listing the Maildir and updating the
// index, for tests to land a delivery there.
var testHookListed func()

// delivered is the Store's watcher: it queues the name and wakes the views
// (an idling client sees the delivery at once, RFC 2177), and nothing else.
func (b *box) delivered(name string) {
	in := &b.inbound
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.watching {
		return // not loading: the load will list it
	}
	if len(in.names) >= maxPending {
		in.names, in.overflow = nil, true
	} else if !in.overflow {
		in.names = append(in.names, name)
	}
	in.wakeLocked()
}

// renamedLocked gives m the name another program gave its file, and the
// flags that name carries (mu and fsMu held).
func (b *box) renamedLocked(m *message, name string) {
	m.name = name
	if f := parseInfo(infoFlags(name)); f != m.flags {
		m.flags = f
		b.dirtyLocked(m, nil)
	}
}

// merge indexes the deliveries queued by the hook, if any.
func (b *box) merge() error {
	b.inbound.mu.Lock()
	none := len(b.inbound.names) == 0 && !b.inbound.overflow
	b.inbound.mu.Unlock()
	if none {
		return nil
	}
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	return b.mergeFS()
}

func (b *box) mergeFS() error {
	in := &b.inbound
	in.mu.Lock()
	names, overflow := in.names, in.overflow
	in.names, in.overflow = nil, false
	in.mu.Unlock()
	if overflow {
		return b.syncFS()
	}
	var ms []*message
	for _, n := range names {
		if b.byBase[base(n)] != nil {
			continue // listed by a load or sync meanwhile
		}
		m, err := b.stat(n)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				b.log.Error("index delivery", "role", "mailbox", "rcpt", b.addr, "name", n, "err", err)
			}
			continue
		}
		ms = append(ms, m)
	}
	return b.addFS(ms)
}

// stat makes the entry (no UID yet) of the message at name, looking for it
// again if it moved meanwhile; fs.ErrNotExist if it is gone.
func (b *box) stat(name string) (*message, error) {
	for range 2 {
		p, err := b.store.messagePath(b.addr, name)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(p)
		if err == nil && !st.Mode().IsRegular() {
			return nil, errNotMessage
		} else if err == nil {
			return &message{name: name, flags: parseInfo(infoFlags(name)), size: st.Size(), date: st.ModTime()}, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if name, err = b.store.locate(b.addr, base(name)); err != nil {
			return nil, err
		}
	}
	return nil, fs.ErrNotExist
}

// addFS gives the next UIDs to the messages of ms not yet indexed, in
// order, records them in the uid list (fsync) and only then indexes them
// (fsMu held).
func (b *box) addFS(ms []*message) error {
	var add []*message
	seen := map[string]bool{}
	for _, m := range ms {
		if bs := base(m.name); b.byBase[bs] == nil && !seen[bs] {
			seen[bs] = true
			add = append(add, m)
		}
	}
	if len(add) == 0 {
		return nil
	}
	next := b.uidNext
	for _, m := range add {
		m.uid, next = next, next+1
	}
	var err error
	if b.uids != nil {
		err = b.uids.add(add)
	}
	b.mu.Lock()
	b.uidNext = next // also on error: a UID is never given twice
	if err == nil {
		b.insertLocked(add)
	}
	b.mu.Unlock()
	if err == nil {
		b.wake()
	}
	return err
}

// sync brings the index in step with the Maildir (SELECT, STATUS): messages
// another program added get the next UIDs, names it changed (flags) are
// taken, and an entry is dropped only when two fresh listings both lack its
// base name — a readdir racing a rename can miss it once.
func (b *box) sync() error {
	b.fsMu.Lock()
	defer b.fsMu.Unlock()
	return b.syncFS()
}

func (b *box) syncFS() error {
	if err := b.mergeFS(); err != nil {
		b.log.Error("index deliveries", "role", "mailbox", "rcpt", b.addr, "err", err)
	}
	listed, err := b.listed(nil)
	if err != nil {
		return err
	}
	if testHookListed != nil {
		testHookListed()
	}
	for _, m := range b.msgs {
		if _, ok := listed[base(m.name)]; !ok {
			if listed, err = b.listed(listed); err != nil {
				return err
			}
			break
		}
	}
	gone := map[imap.UID]bool{}
	b.mu.Lock()
	for _, m := range b.msgs {
		if n, ok := listed[base(m.name)]; !ok {
			gone[m.uid] = true
			b.log.Warn("message removed underneath", "role", "mailbox", "rcpt", b.addr, "name", m.name)
		} else if n != m.name {
			b.renamedLocked(m, n)
		}
	}
	b.dropLocked(gone)
	b.mu.Unlock()
	var fresh []string
	for bs, n := range listed {
		if b.byBase[bs] == nil {
			fresh = append(fresh, n)
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return base(fresh[i]) < base(fresh[j]) })
	var ms []*message
	for _, n := range fresh {
		if m, err := b.stat(n); err == nil {
			ms = append(ms, m)
		}
	}
	if len(gone) > 0 {
		b.wake()
	}
	return errors.Join(b.addFS(ms), b.mergeFS())
}

// listed lists the Maildir into into (base → name), a later listing's name
// replacing an earlier one's.
func (b *box) listed(into map[string]string) (map[string]string, error) {
	names, err := b.store.listDir(b.addr)
	if err != nil {
		return nil, err
	}
	if into == nil {
		into = make(map[string]string, len(names))
	}
	for _, n := range names {
		into[base(n)] = n
	}
	return into, nil
}

// relocateFS finds the file of uid again after opening or renaming it as
// tried failed (fsMu held): a STORE may have renamed it meanwhile, else its
// base is looked up in new/ and cur/ (Store.locate). Found, the entry takes
// that name and its flags; not found, it is dropped (errGone).
func (b *box) relocateFS(uid imap.UID, tried string) (string, error) {
	m := b.findLocked(uid)
	if m == nil {
		return "", errGone
	}
	if m.name != tried {
		return m.name, nil
	}
	n, err := b.store.locate(b.addr, base(m.name))
	if errors.Is(err, fs.ErrNotExist) {
		b.log.Warn("message removed underneath", "role", "mailbox", "rcpt", b.addr, "name", m.name)
		b.mu.Lock()
		b.dropLocked(map[imap.UID]bool{uid: true})
		b.mu.Unlock()
		b.wake()
		return "", errGone
	} else if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.renamedLocked(m, n)
	b.mu.Unlock()
	return n, nil
}
