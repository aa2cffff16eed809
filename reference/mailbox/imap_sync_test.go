package mailbox

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestIMAPFileRenamedUnderneath: a file another Maildir reader renames
// (new/X → cur/X:2,S, then cur/X:2,S → cur/X:2,ST) is the same message:
// FETCH still sends it, no EXPUNGE, the flags follow its name, STORE renames
// it from where it is, and a new SELECT keeps its UID.
func TestIMAPFileRenamedUnderneath(t *testing.T) {
	lab := startIMAP(t)
	first := lab.deliver(sample("first", "x"))
	lab.deliver(sample("second", "y"))
	u, h := newUpdates()
	c, sel := lab.open(h)
	dir := filepath.Join(lab.root, alice)
	if err := os.Rename(filepath.Join(dir, "new", first), filepath.Join(dir, "cur", first+":2,S")); err != nil {
		t.Fatal(err)
	}
	got := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if uids := uidsOf(got); !slices.Equal(uids, []imap.UID{1, 2}) {
		t.Fatalf("FETCH after another reader renamed #1 = UIDs %v, want 1 2", uids)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-u.expunge:
		t.Fatalf("EXPUNGE %d for a renamed file", seq)
	default:
	}
	if m := await(t, u.flags, "FETCH FLAGS of the renamed file"); m.SeqNum != 1 || !slices.Equal(m.Flags, []imap.Flag{imap.FlagSeen}) {
		t.Errorf("FETCH FLAGS = %d %v, want 1 (\\Seen)", m.SeqNum, m.Flags)
	}
	if err := os.Rename(filepath.Join(dir, "cur", first+":2,S"), filepath.Join(dir, "cur", first+":2,ST")); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if f := lab.file(first); f != "cur/"+first+":2,FST" {
		t.Errorf("STORE +\\Flagged on a renamed file: %q, want cur/%s:2,FST", f, first)
	}
	sel2, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel2.NumMessages != 2 || sel2.UIDNext != sel.UIDNext {
		t.Fatalf("re-SELECT = %+v, %v; want 2 messages, UIDNEXT %d", sel2, err, sel.UIDNext)
	}
	if got := fetch(t, c, imap.SeqSetNum(1), &imap.FetchOptions{UID: true}); got[0].UID != 1 {
		t.Errorf("renamed message has UID %d after re-SELECT, want 1", got[0].UID)
	}
}

// TestListOnceAcrossMove: a base listed both in new/ and cur/ (moved
// between the two readdirs) is one message, under its cur/ name.
func TestListOnceAcrossMove(t *testing.T) {
	lab := startIMAP(t)
	b := lab.deliver(sample("moved", "x"))
	dir := filepath.Join(lab.root, alice)
	os.WriteFile(filepath.Join(dir, "cur", b+":2,S"), lab.read("new/"+b), 0o600)
	names, err := lab.store.List(alice)
	if err != nil || !slices.Equal(names, []string{"cur/" + b + ":2,S"}) {
		t.Errorf("List = %v, %v; want only cur/%s:2,S", names, err, b)
	}
}

// TestIMAPNotMessages: a subdirectory, a dotfile or a socket in new/ or
// cur/ is no message: not listed, not counted, not fetched.
func TestIMAPNotMessages(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("real", "x"))
	dir := filepath.Join(lab.root, alice)
	os.Mkdir(filepath.Join(dir, "new", "subdir"), 0o700)
	os.Mkdir(filepath.Join(dir, "cur", "1.dir:2,S"), 0o700)
	os.WriteFile(filepath.Join(dir, "cur", ".hidden:2,S"), []byte("Subject: no\r\n\r\n"), 0o600)
	c, sel := lab.open(nil)
	if sel.NumMessages != 1 {
		t.Fatalf("SELECT counted %d messages, want 1", sel.NumMessages)
	}
	got := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(got) != 1 || got[0].RFC822Size != int64(len(sample("real", "x"))) {
		t.Errorf("FETCH 1:* = %+v", got)
	}
}

// TestIMAPShortFile: a file shorter than its literal (cut by another
// program after it was indexed) is padded to the announced size, so the
// bytes after the literal are the FETCH's end; the FETCH ends in NO and the
// connection stays in step.
func TestIMAPShortFile(t *testing.T) {
	lab := startIMAP(t)
	b := lab.deliver(sample("cut", strings.Repeat("x", 100)))
	a := lab.raw(t)
	if err := os.Truncate(filepath.Join(lab.root, alice, "new", b), 20); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(a.conn, "f FETCH 1 BODY.PEEK[]\r\n")
	head, _ := a.r.ReadString('\n')
	var n int
	if _, err := fmt.Sscanf(head[strings.Index(head, "{"):], "{%d}", &n); err != nil {
		t.Fatalf("FETCH answered %q", head)
	}
	lit := make([]byte, n)
	if _, err := io.ReadFull(a.r, lit); err != nil {
		t.Fatal(err)
	}
	if rest := a.until("f"); !strings.HasPrefix(rest, ")\r\nf NO [SERVERBUG]") {
		t.Errorf("after the %d-byte literal of a 20-byte file (%q…): %q", n, lit[:20], rest)
	}
	if out := a.do("n NOOP"); !strings.HasPrefix(out, "n OK") {
		t.Errorf("after the FETCH of a cut file, NOOP answered:\n%s", out)
	}
}

// TestDeliveryDoesNotWaitOnIMAP: the Store's delivery hook returns while
// IMAP work holds the box's locks (a long STORE, EXPUNGE or scan), so the
// SMTP answer of a delivery never waits on it; the next command sees it.
func TestDeliveryDoesNotWaitOnIMAP(t *testing.T) {
	lab := startIMAP(t)
	c, _ := lab.open(nil)
	b := lab.srv.box(alice)
	b.fsMu.Lock()
	b.mu.Lock()
	done := make(chan error, 1)
	go func() {
		_, err := lab.store.Deliver(alice, strings.NewReader(sample("during IMAP work", "x")))
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Error("Deliver waited on the box's locks")
		b.mu.Unlock()
		b.fsMu.Unlock()
		err = <-done
		b.fsMu.Lock()
		b.mu.Lock()
	}
	b.mu.Unlock()
	b.fsMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if n := c.Mailbox().NumMessages; n != 1 {
		t.Errorf("EXISTS %d after the delivery, want 1", n)
	}
}

// TestSyncDirsOrder: a rename new/ → cur/ fsyncs cur/ (the destination)
// before new/, so a crash between the two cannot lose the message.
func TestSyncDirsOrder(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("s", "x"))
	c, _ := lab.open(nil)
	var mu sync.Mutex
	var synced []string
	syncDir = func(dir string) error {
		mu.Lock()
		synced = append(synced, filepath.Base(dir))
		mu.Unlock()
		return nil
	}
	defer func() { syncDir = realSyncDir }()
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(synced, []string{"cur", "new"}) {
		t.Errorf("directories fsynced in order %v, want [cur new]", synced)
	}
}

var realSyncDir = syncDir

// TestIMAPDeliveriesRaceLoad: deliveries made while the index is loading —
// some before its listing, some between its listing and its install (the
// test hook), some after — are each indexed once, in delivery order.
func TestIMAPDeliveriesRaceLoad(t *testing.T) {
	lab := startIMAP(t)
	n := 0
	deliver := func(k int) {
		for range k {
			lab.deliver(sample(fmt.Sprint(n), "x"))
			n++
		}
	}
	deliver(10)
	hooked := 0
	testHookListed = func() {
		if hooked++; hooked == 1 {
			deliver(10) // listed, not yet indexed
		}
	}
	defer func() { testHookListed = nil }()
	c := lab.dial(nil)
	if err := c.Login(alice, password).Wait(); err != nil { // loads
		t.Fatal(err)
	}
	if hooked == 0 {
		t.Fatal("the load did not run the hook")
	}
	deliver(10)
	b := lab.srv.box(alice)
	if err := b.merge(); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	indexed := len(b.msgs)
	b.mu.Unlock()
	if indexed != n {
		t.Fatalf("index has %d messages after %d deliveries around the load", indexed, n)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true})
	for i, m := range msgs {
		if m.UID != imap.UID(i+1) || m.Envelope.Subject != fmt.Sprint(i) {
			t.Fatalf("message %d: UID %d subject %q", i+1, m.UID, m.Envelope.Subject)
		}
	}
	if len(msgs) != n {
		t.Errorf("FETCH 1:* = %d messages, want %d", len(msgs), n)
	}
}
