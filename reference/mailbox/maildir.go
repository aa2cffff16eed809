// Package mailbox holds the reference provider's mailboxes (RFC 6109 §2.2.3:
// the delivery point stores messages in the recipient's mailbox): one Maildir
// per address on disk (cr.yp.to/proto/maildir.html), written durably (fsync
// of file and directory before a delivery returns). The provider only
// delivers; Dovecot, started by the lab on the same Maildirs, serves them over
// IMAPS and POP3S, and may move a message from new/ to cur/ and add flags to
// its name at any time: every reader here accepts both.
package mailbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pecspec/pecspec/internal/durable"
)

// ErrNoMailbox means the address has no mailbox here.
var ErrNoMailbox = errors.New("mailbox: no such mailbox")

// Store is the set of Maildirs under one root, one per address.
type Store struct {
	root string
	mu   sync.Mutex
	box  map[string]bool
	// quota bounds a mailbox's bytes (SetQuota); absent or 0 is unbounded.
	quota map[string]int64
	seq   atomic.Uint64
	// owner is who owns the Maildirs and messages (SetOwner): the mail
	// user Dovecot reads them as; nil leaves them to this process's user.
	owner *owner
	// keys are the DeliverOnce keys delivered ("address/key"), loaded on first use.
	keys map[string]bool
}

// Open opens (creating) the store rooted at root; existing Maildirs are known.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	s := &Store{root: root, box: map[string]bool{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			s.box[e.Name()] = true
		}
	}
	return s, nil
}

func norm(address string) string { return strings.ToLower(strings.TrimSpace(address)) }

func (s *Store) dir(address string) string { return filepath.Join(s.root, norm(address)) }

// AddMailbox creates the Maildir of address (tmp, new, cur), owned by the
// store's owner.
func (s *Store) AddMailbox(address string) error {
	a := norm(address)
	if a == "" || strings.ContainsAny(a, "/\\") || a == "." || a == ".." {
		return fmt.Errorf("mailbox: bad address %q", address)
	}
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		p := filepath.Join(s.dir(a), sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("mailbox: %w", err)
		}
		if err := s.owner.chown(p); err != nil {
			return fmt.Errorf("mailbox: %w", err)
		}
	}
	s.mu.Lock()
	s.box[a] = true
	s.mu.Unlock()
	return nil
}

// Exists reports whether address has a mailbox.
func (s *Store) Exists(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.box[norm(address)]
}

// Addresses lists the mailboxes.
func (s *Store) Addresses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.box {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Deliver stores msg, streamed from r, in address's Maildir: written to tmp/,
// fsynced, renamed into new/, and the directory fsynced, so it is durable
// when Deliver returns. The bytes are stored exactly as given.
func (s *Store) Deliver(address string, msg io.Reader) (string, error) {
	var r [6]byte
	_, _ = rand.Read(r[:])
	return s.deliver(address, s.uniqueName(hex.EncodeToString(r[:])), msg)
}

// deliver writes msg under name: tmp/name, then new/name.
func (s *Store) deliver(address, name string, msg io.Reader) (string, error) {
	if !s.Exists(address) {
		return "", fmt.Errorf("%w: %s", ErrNoMailbox, address)
	}
	dir := s.dir(address)
	if err := s.write(filepath.Join(dir, "tmp", name), filepath.Join(dir, "new", name), msg); err != nil {
		return "", fmt.Errorf("mailbox: deliver to %s: %w", address, err)
	}
	return name, nil
}

// write copies msg to tmp (created, owned by the store's owner, fsynced),
// renames it to final and fsyncs final's directory; on error nothing is
// left at tmp. A Maildir reader never sees a partial message: it reads new/
// and cur/ only (cr.yp.to/proto/maildir.html).
func (s *Store) write(tmp, final string, msg io.Reader) error {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, msg)
	if err == nil {
		err = s.owner.fchown(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(final))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// uniqueName is a Maildir unique name: time, sequence, tag (random, or the
// DeliverOnce key), host.
func (s *Store) uniqueName(tag string) string {
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "_", ":", "_").Replace(host)
	now := time.Now()
	return fmt.Sprintf("%d.M%06dP%dQ%d_%s.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), s.seq.Add(1),
		tag, host)
}

// List returns the names of the messages of address (new and cur) in
// delivery order.
func (s *Store) List(address string) ([]string, error) {
	if !s.Exists(address) {
		return nil, fmt.Errorf("%w: %s", ErrNoMailbox, address)
	}
	return s.listDir(address)
}

// listDir lists a Maildir's messages (cr.yp.to/proto/maildir.html): new/ is
// read before cur/, so a message another reader moves from new/ to cur/
// meanwhile is listed whatever the moment of the move (a base seen in both
// is taken once, from cur/). Names starting with "." and anything but a
// regular file (a subdirectory, a socket) are not messages and are left out.
func (s *Store) listDir(address string) ([]string, error) {
	at := map[string]int{} // base → index in names
	var names []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(s.dir(address), sub))
		if err != nil {
			return nil, fmt.Errorf("mailbox: %w", err)
		}
		for _, e := range entries {
			if !isMessageEntry(e) {
				continue
			}
			n := sub + "/" + e.Name()
			if i, ok := at[base(n)]; ok {
				names[i] = n // cur/ after new/: the later name
				continue
			}
			at[base(n)] = len(names)
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return base(names[i]) < base(names[j]) })
	return names, nil
}

// isMessageEntry reports whether a directory entry of new/ or cur/ can be a
// message: a regular file whose name does not start with ".".
func isMessageEntry(e fs.DirEntry) bool {
	return !strings.HasPrefix(e.Name(), ".") && e.Type().IsRegular()
}

func base(name string) string {
	b := filepath.Base(name)
	if i := strings.Index(b, ":"); i >= 0 {
		b = b[:i]
	}
	return b
}

// Read returns one message of address by the name List or Deliver gave.
func (s *Store) Read(address, name string) ([]byte, error) {
	f, err := s.Open(address, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Open opens one message of address by the name List or Deliver gave
// ("new/…", "cur/…" or a bare unique name), wherever a reader has moved it
// since: new/ is looked at before cur/, so a move new→cur cannot slip
// between the two looks.
func (s *Store) Open(address, name string) (*os.File, error) {
	b := base(name)
	if b == "" || b == "." || b == ".." || strings.ContainsAny(b, "/\\") {
		return nil, fmt.Errorf("mailbox: bad name %q", name)
	}
	dir := s.dir(address)
	if f, err := os.Open(filepath.Join(dir, "new", b)); err == nil {
		return f, nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	for _, e := range entries {
		if n := e.Name(); isMessageEntry(e) && base(n) == b {
			return os.Open(filepath.Join(dir, "cur", n))
		}
	}
	return nil, fmt.Errorf("mailbox: %s of %s: %w", name, address, fs.ErrNotExist)
}
