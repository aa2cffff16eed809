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
	"strings"
	"time"

	"github.com/pecspec/pecspec/internal/durable"
)

// The operations the IMAP server makes on a Maildir (cr.yp.to/proto/maildir.html):
// a message is named "new/<unique>" until a reader sets its flags, then
// "cur/<unique>:2,<flags>", the flags being info letters in ASCII order. Every
// rename and unlink is made durable (fsync of the directories) before it
// returns, so the Maildir stays the only store of record.

// errBadName is a message name outside new/ and cur/ of the Maildir.
var errBadName = errors.New("mailbox: bad message name")

// watch registers f to be told of every message added to a Maildir (Deliver,
// DeliverOnce, appendMessage), by address and name ("new/…" or "cur/…"), after
// the message is durable. The returned stop unregisters f.
func (s *Store) watch(f func(address, name string)) (stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchers == nil {
		s.watchers = map[uint64]func(string, string){}
	}
	s.watchID++
	id := s.watchID
	s.watchers[id] = f
	return func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}
}

// notify tells the watchers of a new message (called without s.mu held).
func (s *Store) notify(address, name string) {
	s.mu.Lock()
	fs := make([]func(string, string), 0, len(s.watchers))
	for _, f := range s.watchers {
		fs = append(fs, f)
	}
	s.mu.Unlock()
	for _, f := range fs {
		f(norm(address), name)
	}
}

// messagePath is the file of name ("new/…" or "cur/…") in address's Maildir.
func (s *Store) messagePath(address, name string) (string, error) {
	sub, file, ok := strings.Cut(name, "/")
	if !ok || (sub != "new" && sub != "cur") || file == "" || file == "." || file == ".." ||
		strings.ContainsAny(file, "/\\") {
		return "", fmt.Errorf("%w: %q", errBadName, name)
	}
	return filepath.Join(s.dir(address), sub, file), nil
}

// openMessage opens one message of address for reading. An open file stays
// readable when the message is renamed or removed meanwhile. A name that is
// not a regular file (a directory put there by hand) is errNotMessage.
func (s *Store) openMessage(address, name string) (*os.File, error) {
	p, err := s.messagePath(address, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s", errNotMessage, name)
	}
	return f, nil
}

// errNotMessage is a Maildir name that is not a regular file.
var errNotMessage = errors.New("mailbox: not a message file")

// locate finds the current name of the message of base: new/<base>, or
// cur/<base> with any info, another Maildir reader having perhaps moved or
// renamed it (cr.yp.to/proto/maildir.html). new/ is looked at before cur/,
// so a move new→cur cannot slip between the two looks; cur/ is read twice
// before the message is reported gone (fs.ErrNotExist), since a readdir can
// miss an entry renamed within cur/ while it runs.
func (s *Store) locate(address, base string) (string, error) {
	dir := s.dir(address)
	for range 2 {
		if st, err := os.Lstat(filepath.Join(dir, "new", base)); err == nil && st.Mode().IsRegular() {
			return "new/" + base, nil
		}
		entries, err := os.ReadDir(filepath.Join(dir, "cur"))
		if err != nil {
			return "", fmt.Errorf("mailbox: %w", err)
		}
		for _, e := range entries {
			if n := e.Name(); isMessageEntry(e) && (n == base || strings.HasPrefix(n, base+":")) {
				return "cur/" + n, nil
			}
		}
	}
	return "", fs.ErrNotExist
}

// infoName is the name of a message of base with the info flags "2,<flags>":
// always in cur/ (a message whose flags a reader set is no longer new).
func infoName(base, flags string) string { return "cur/" + base + ":2," + flags }

// infoFlags is the flag letters of a Maildir name ("" in new/ or without info).
func infoFlags(name string) string {
	_, flags, ok := strings.Cut(filepath.Base(name), ":2,")
	if !ok {
		return ""
	}
	return flags
}

// rename moves message from to to (both Maildir names) without syncing:
// the caller syncs the directories (syncDirs) once for a batch.
func (s *Store) rename(address, from, to string) error {
	src, err := s.messagePath(address, from)
	if err != nil {
		return err
	}
	dst, err := s.messagePath(address, to)
	if err != nil {
		return err
	}
	return os.Rename(src, dst)
}

// remove unlinks a message without syncing (see rename).
func (s *Store) remove(address, name string) error {
	p, err := s.messagePath(address, name)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// syncDir fsyncs a directory (a variable for tests to watch the order).
var syncDir = durable.SyncDir

// syncDirs makes the renames and unlinks in address's new/ and cur/
// durable: cur/ first, the destination of a rename new/→cur/, so a crash
// between the two fsyncs can leave a message in both directories (the base
// is listed once) but never in neither.
func (s *Store) syncDirs(address string) error {
	for _, sub := range []string{"cur", "new"} {
		if err := syncDir(filepath.Join(s.dir(address), sub)); err != nil {
			return fmt.Errorf("mailbox: sync %s/%s: %w", address, sub, err)
		}
	}
	return nil
}

// appendMessage stores a message streamed from r (IMAP APPEND, RFC 9051
// §6.3.12): written to tmp/ and fsynced, its modification time set to date
// (the internal date) when not zero, renamed into new/ — or into cur/ with
// flags as Maildir info letters when flags is not empty — and the directory
// fsynced; then the watchers are told. It returns the message's name.
func (s *Store) appendMessage(address string, r io.Reader, date time.Time, flags string) (string, error) {
	if !s.Exists(address) {
		return "", fmt.Errorf("%w: %s", ErrNoMailbox, address)
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	base := s.uniqueName(hex.EncodeToString(tag[:]))
	name := "new/" + base
	if flags != "" {
		name = infoName(base, flags)
	}
	tmp := filepath.Join(s.dir(address), "tmp", base)
	final, err := s.messagePath(address, name)
	if err == nil {
		err = writeStream(tmp, final, r, date)
	}
	if err != nil {
		return "", fmt.Errorf("mailbox: append to %s: %w", address, err)
	}
	s.notify(address, name)
	return name, nil
}

// writeStream copies r to tmp, fsyncs it, sets its times, renames it to final
// and fsyncs final's directory; on error nothing is left at tmp.
func writeStream(tmp, final string, r io.Reader, date time.Time) error {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !date.IsZero() {
		err = os.Chtimes(tmp, date, date)
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
