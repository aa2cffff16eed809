package mailbox

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestIMAPFileRemovedUnderneath: a message file another process removes is
// left out of FETCH (no error, no crash) and then expunged from the view.
func TestIMAPFileRemovedUnderneath(t *testing.T) {
	lab := startIMAP(t)
	gone := lab.deliver(sample("gone", "x"))
	lab.deliver(sample("kept", "y"))
	u, h := newUpdates()
	c, _ := lab.open(h)
	if err := os.Remove(filepath.Join(lab.root, alice, "new", gone)); err != nil {
		t.Fatal(err)
	}
	got := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if uids := uidsOf(got); !slices.Equal(uids, []imap.UID{2}) {
		t.Errorf("FETCH with a file gone = UIDs %v, want 2", uids)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if seq := await(t, u.expunge, "EXPUNGE of the removed file"); seq != 1 {
		t.Errorf("EXPUNGE %d, want 1", seq)
	}
	if err := c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Errorf("STORE on an expunged UID: %v", err)
	}
}

// TestIMAPExternalChanges: messages another program drops into the Maildir
// or renames (flags) are taken at the next SELECT, with new UIDs.
func TestIMAPExternalChanges(t *testing.T) {
	lab := startIMAP(t)
	first := lab.deliver(sample("first", "x"))
	c, sel := lab.open(nil)
	dir := filepath.Join(lab.root, alice)
	if err := os.WriteFile(filepath.Join(dir, "new", "9999999999.M1P1.other"), []byte(sample("dropped", "z")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "new", first), filepath.Join(dir, "cur", first+":2,F")); err != nil {
		t.Fatal(err)
	}
	sel2, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel2.NumMessages != 2 || sel2.UIDValidity != sel.UIDValidity {
		t.Fatalf("re-SELECT = %+v, %v; want 2 messages, same UIDVALIDITY", sel2, err)
	}
	got := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true, Envelope: true})
	if len(got) != 2 || got[1].UID != 2 || got[1].Envelope.Subject != "dropped" ||
		!slices.Equal(got[0].Flags, []imap.Flag{imap.FlagFlagged}) {
		t.Errorf("after external changes: %+v", got)
	}
}

// TestBoxDedupesDelivery: the watcher telling of a message the load already
// listed does not index it twice.
func TestBoxDedupesDelivery(t *testing.T) {
	lab := startIMAP(t)
	name := lab.deliver(sample("once", "x"))
	b := newBox(lab.store, alice, slog.New(slog.DiscardHandler))
	b.delivered("new/" + name) // before the load: ignored, the load lists it
	if err := b.load(); err != nil {
		t.Fatal(err)
	}
	b.delivered("new/" + name)
	if err := b.merge(); err != nil {
		t.Fatal(err)
	}
	if len(b.msgs) != 1 || b.uidNext != 2 {
		t.Errorf("index has %d messages, UIDNEXT %d; want 1, 2", len(b.msgs), b.uidNext)
	}
}

func TestInfoLetters(t *testing.T) {
	for _, tc := range []struct {
		flags sysFlags
		old   string
		want  string
	}{
		{0, "", ""},
		{flagSeen | flagDraft | flagDeleted | flagAnswered | flagFlagged, "", "DFRST"},
		{flagSeen, "PT", "PS"}, // P (passed) kept, T (\Deleted) cleared
		{flagFlagged, "ab", "Fab"},
	} {
		if got := infoString(tc.flags, tc.old); got != tc.want {
			t.Errorf("infoString(%b, %q) = %q, want %q", tc.flags, tc.old, got, tc.want)
		}
		if got := parseInfo(tc.want); got != tc.flags {
			t.Errorf("parseInfo(%q) = %b, want %b", tc.want, got, tc.flags)
		}
	}
}

func TestContainsFold(t *testing.T) {
	long := strings.Repeat("x", 32<<10-3) + "NeedLE" + strings.Repeat("y", 100) // across the first window
	for _, tc := range []struct {
		text, needle string
		want         bool
	}{
		{long, "needle", true},
		{long, "needles", false},
		{"Perché È così", "è così", true},
		{"abc", "", true},
		{"", "a", false},
	} {
		if got, err := containsFold(strings.NewReader(tc.text), tc.needle); got != tc.want || err != nil {
			t.Errorf("containsFold(%.20q…, %q) = %v, %v; want %v", tc.text, tc.needle, got, err, tc.want)
		}
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct{ start, stop, top, lo, hi uint32 }{
		{1, 0, 5, 1, 5},   // 1:*
		{0, 3, 5, 3, 5},   // *:3
		{7, 0, 5, 5, 5},   // 7:* past the end: the last message (RFC 9051 §9)
		{4, 2, 5, 2, 4},   // reversed
		{2, 100, 5, 2, 5}, // capped
		{1, 0, 0, 0, 0},   // empty mailbox
	} {
		if lo, hi := bounds(tc.start, tc.stop, tc.top); lo != tc.lo || hi != tc.hi {
			t.Errorf("bounds(%d, %d, %d) = %d, %d; want %d, %d", tc.start, tc.stop, tc.top, lo, hi, tc.lo, tc.hi)
		}
	}
}
