package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/sys/unix"

	"github.com/pecspec/pecspec/internal/durable"
)

// The uid list keeps, in the user's Maildir directory, the UID given to each
// message (by base name), the UIDVALIDITY they were given under and the next
// UID (RFC 9051 §2.3.1.1), so a restart keeps both and clients do not fetch
// the mailbox again (the role of dovecot-uidlist). Its first line is
// "pecspec-uidlist 1 <uidvalidity> <uidnext>", then one "<uid> <base>" line
// per message in UID order. New UIDs are appended and fsynced before any
// client sees them; the list is rewritten without the messages gone from the
// Maildir when it is loaded. A list that cannot be read back whole (a line
// other than a torn last one that does not parse, UIDs out of order, a base
// twice) is dropped and the mailbox gets a new, greater UIDVALIDITY: UIDs
// then start again from 1, as they must under a new UIDVALIDITY.
const (
	uidListFile  = "imap-uidlist"
	uidListLock  = "imap-uidlist.lock"
	uidListMagic = "pecspec-uidlist 1"
)

// uidList is the open uid list of one Maildir. It is owned by one Server at
// a time (flock on the lock file): a second Server on the same Store does
// without, in the volatile way (a new UIDVALIDITY at each load).
type uidList struct {
	dir  string
	lock *os.File
	f    *os.File // the list, open for appending
	// validity and next are what the list said when opened.
	validity uint32
	next     imap.UID
	known    map[string]imap.UID
}

// errListBusy is a uid list another Server holds.
var errListBusy = errors.New("mailbox: uid list in use by another server")

// openUIDList takes the uid list of the Maildir dir (errListBusy if another
// Server has it) and reads it. A missing list, or one that cannot be read
// back whole, is started afresh under a new UIDVALIDITY; state says which
// ("kept", "new", or why the list was dropped).
func openUIDList(dir string) (l *uidList, state string, err error) {
	lock, err := os.OpenFile(filepath.Join(dir, uidListLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("mailbox: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, "", errListBusy
		}
		return nil, "", fmt.Errorf("mailbox: lock uid list: %w", err)
	}
	l = &uidList{dir: dir, lock: lock}
	data, err := os.ReadFile(filepath.Join(dir, uidListFile))
	switch {
	case err == nil:
		perr := l.parse(data)
		if perr == nil {
			return l, "kept", nil
		}
		state = "dropped: " + perr.Error()
	case errors.Is(err, fs.ErrNotExist):
		state = "new"
	default:
		l.close()
		return nil, "", fmt.Errorf("mailbox: %w", err)
	}
	if l.validity, err = nextUIDValidity(dir, l.validity); err != nil { // above a damaged list's
		l.close()
		return nil, "", err
	}
	l.next, l.known = 1, map[string]imap.UID{}
	return l, state, nil
}

// parse reads a list; on error l is left for a fresh start.
func (l *uidList) parse(data []byte) error {
	head, rest, ok := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(head))
	if !ok || len(f) != 4 || f[0]+" "+f[1] != uidListMagic {
		return errors.New("bad header")
	}
	v, err1 := strconv.ParseUint(f[2], 10, 32)
	n, err2 := strconv.ParseUint(f[3], 10, 32)
	if err1 != nil || err2 != nil || v == 0 || n == 0 {
		return errors.New("bad header")
	}
	l.validity, l.next, l.known = uint32(v), imap.UID(n), map[string]imap.UID{}
	var last imap.UID
	for len(rest) > 0 {
		line, more, complete := bytes.Cut(rest, []byte("\n"))
		if !complete {
			break // torn by a crash before its fsync: no client saw it
		}
		rest = more
		us, b, _ := strings.Cut(string(line), " ")
		u, err := strconv.ParseUint(us, 10, 32)
		var err1 error
		if strings.HasPrefix(b, `"`) {
			b, err1 = strconv.Unquote(b)
		}
		if err != nil || err1 != nil || u == 0 || imap.UID(u) <= last || b == "" || l.known[b] != 0 {
			return fmt.Errorf("bad line %q", line)
		}
		last, l.known[b] = imap.UID(u), imap.UID(u)
	}
	l.next = max(l.next, last+1)
	return nil
}

// listLine is one "<uid> <base>" line; a base with spaces, quotes or control
// characters (another program's name) is written quoted.
func listLine(uid imap.UID, base string) string {
	if strings.ContainsFunc(base, func(r rune) bool { return r <= ' ' || r == '"' || r >= 0x7f }) {
		base = strconv.QuoteToASCII(base)
	}
	return strconv.FormatUint(uint64(uid), 10) + " " + base + "\n"
}

// rewrite replaces the list by msgs (in UID order) and next, durably, and
// opens it for appending.
func (l *uidList) rewrite(msgs []*message, next imap.UID) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %d\n", uidListMagic, l.validity, next)
	for _, m := range msgs {
		b.WriteString(listLine(m.uid, base(m.name)))
	}
	tmp := filepath.Join(l.dir, "tmp", uidListFile+"."+strconv.FormatUint(uint64(next), 10))
	final := filepath.Join(l.dir, uidListFile)
	if err := durable.Write(tmp, final, []byte(b.String())); err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	f, err := os.OpenFile(final, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	l.f, l.known = f, nil
	return nil
}

// add appends the UIDs of new messages and fsyncs the list, before any
// client may see them.
func (l *uidList) add(msgs []*message) error {
	if l.f == nil {
		return errors.New("mailbox: uid list closed")
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(listLine(m.uid, base(m.name)))
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("mailbox: append uid list: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("mailbox: sync uid list: %w", err)
	}
	return nil
}

// close releases the list and its lock.
func (l *uidList) close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	if l.lock != nil {
		l.lock.Close() // releases the flock
		l.lock = nil
	}
}

// uidValidityFile keeps the last UIDVALIDITY given to a Maildir.
const uidValidityFile = "imap-uidvalidity"

var uidValidityMu sync.Mutex

// nextUIDValidity returns a UIDVALIDITY greater than any given before to the
// Maildir dir and than floor (the time in seconds, or the last one + 1),
// durably recorded first: what a new uid list starts with, and what a Server without the uid
// list (another Server holds it) takes at every load, its UIDs being
// renumbered from 1 (RFC 9051 §2.3.1.1: a UID never names two messages
// under one UIDVALIDITY).
func nextUIDValidity(dir string, floor uint32) (uint32, error) {
	uidValidityMu.Lock() // two Servers on one Store load one address apart
	defer uidValidityMu.Unlock()
	var last uint64
	if data, err := os.ReadFile(filepath.Join(dir, uidValidityFile)); err == nil {
		last, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	v := max(uint64(time.Now().Unix()), last+1, uint64(floor)+1)
	if v > 1<<32-1 {
		return 0, fmt.Errorf("mailbox: UIDVALIDITY of %s exhausted", dir)
	}
	tmp := filepath.Join(dir, "tmp", uidValidityFile+"."+strconv.FormatUint(v, 10))
	if err := durable.Write(tmp, filepath.Join(dir, uidValidityFile), []byte(strconv.FormatUint(v, 10)+"\n")); err != nil {
		return 0, fmt.Errorf("mailbox: %w", err)
	}
	return uint32(v), nil
}
