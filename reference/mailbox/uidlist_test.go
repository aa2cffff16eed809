package mailbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// uidsAfter restarts the lab's server and returns the SELECT data and the
// UIDs of INBOX.
func uidsAfter(t *testing.T, lab *imapLab) (*imap.SelectData, []imap.UID) {
	t.Helper()
	lab.restart()
	c, sel := lab.open(nil)
	defer c.Close()
	if sel.NumMessages == 0 {
		return sel, nil
	}
	return sel, uidsOf(fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true}))
}

// TestUIDListKeepsUIDs: UIDs given at load and at delivery, and UIDNEXT
// past an expunged last message, survive a restart under the same
// UIDVALIDITY (RFC 9051 §2.3.1.1), so clients keep their caches.
func TestUIDListKeepsUIDs(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("one", "1"))
	lab.deliver(sample("two", "2"))
	c, sel := lab.open(nil)
	lab.deliver(sample("three", "3")) // given UID 3 by the running server
	lab.deliver(sample("four", "4"))
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	sel2, uids := uidsAfter(t, lab)
	if sel2.UIDValidity != sel.UIDValidity || sel2.UIDNext != 5 || !slices.Equal(uids, []imap.UID{1, 3}) {
		t.Errorf("after restart: UIDVALIDITY %d (was %d), UIDNEXT %d, UIDs %v; want the same, 5, [1 3]",
			sel2.UIDValidity, sel.UIDValidity, sel2.UIDNext, uids)
	}
	lab.deliver(sample("five", "5")) // before the load: a new UID at the load
	sel3, uids := uidsAfter(t, lab)
	if sel3.UIDValidity != sel.UIDValidity || !slices.Equal(uids, []imap.UID{1, 3, 5}) {
		t.Errorf("after a delivery while stopped: UIDVALIDITY %d, UIDs %v; want %d, [1 3 5]", sel3.UIDValidity, uids, sel.UIDValidity)
	}
}

// TestUIDListDamaged: a list that cannot be read back starts a new,
// greater UIDVALIDITY with UIDs from 1; a last line torn by a crash (never
// fsynced, so never shown) is only ignored.
func TestUIDListDamaged(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("one", "1"))
	lab.deliver(sample("two", "2"))
	_, sel := lab.open(nil)
	list := filepath.Join(lab.root, alice, uidListFile)
	f, _ := os.OpenFile(list, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("3 1234.torn")
	f.Close()
	sel2, uids := uidsAfter(t, lab)
	if sel2.UIDValidity != sel.UIDValidity || !slices.Equal(uids, []imap.UID{1, 2}) {
		t.Errorf("torn last line: UIDVALIDITY %d (was %d), UIDs %v; want the same, [1 2]", sel2.UIDValidity, sel.UIDValidity, uids)
	}
	data, _ := os.ReadFile(list)
	os.WriteFile(list, []byte(strings.Replace(string(data), "\n2 ", "\n1 ", 1)), 0o600) // UID 1 twice
	sel3, uids := uidsAfter(t, lab)
	if sel3.UIDValidity <= sel.UIDValidity || !slices.Equal(uids, []imap.UID{1, 2}) || sel3.UIDNext != 3 {
		t.Errorf("damaged list: UIDVALIDITY %d (was %d), UIDs %v, UIDNEXT %d; want greater, [1 2], 3",
			sel3.UIDValidity, sel.UIDValidity, uids, sel3.UIDNext)
	}
	os.Remove(list)
	sel4, _ := uidsAfter(t, lab)
	if sel4.UIDValidity <= sel3.UIDValidity {
		t.Errorf("missing list: UIDVALIDITY %d, want greater than %d", sel4.UIDValidity, sel3.UIDValidity)
	}
}

// TestUIDListSecondServer: a second Server on the same Store does without
// the list (another holds it): its own UIDVALIDITY, the list untouched.
func TestUIDListSecondServer(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("one", "1"))
	c1, sel := lab.open(nil)
	before, _ := os.ReadFile(filepath.Join(lab.root, alice, uidListFile))
	first := lab.srv
	lab.serve() // a second server, the first still running
	c2, sel2 := lab.open(nil)
	lab.deliver(sample("two", "2"))
	if err := c2.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Noop().Wait(); err != nil { // the first server lists "two"
		t.Fatal(err)
	}
	if sel2.UIDValidity == sel.UIDValidity || c2.Mailbox().NumMessages != 2 {
		t.Errorf("second server: UIDVALIDITY %d (first %d), %d messages", sel2.UIDValidity, sel.UIDValidity, c2.Mailbox().NumMessages)
	}
	first.Close()
	after, _ := os.ReadFile(filepath.Join(lab.root, alice, uidListFile))
	if !strings.HasPrefix(string(after), string(before)) || strings.Count(string(after), "\n") != 3 {
		t.Errorf("uid list after two servers:\n%s", after)
	}
}
