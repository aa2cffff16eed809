package mailbox

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestIMAPStarIsClientsLast: "*" and sequence numbers name what the client
// was told of. Another session expunges #3 of 3; until this client gets the
// EXPUNGE, "*" is still #3, which names nothing: STORE * leaves #2 alone.
func TestIMAPStarIsClientsLast(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("one", "1"))
	second := lab.deliver(sample("two", "2"))
	lab.deliver(sample("three", "3"))
	a := lab.raw(t) // knows 3 messages
	b, _ := lab.open(nil)
	if err := b.Store(imap.SeqSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	out := a.do(`s STORE * +FLAGS (\Deleted)`)
	if strings.Contains(out, "* 2 FETCH") || strings.HasSuffix(lab.file(second), "T") {
		t.Fatalf("STORE * after another session's EXPUNGE of #3 flagged #2 (%s):\n%s", lab.file(second), out)
	}
	if out := a.do("f FETCH 1:* (UID)"); !strings.Contains(out, "* 2 FETCH (UID 2)") || strings.Contains(out, "* 3 FETCH") {
		t.Errorf("FETCH 1:* before the EXPUNGE is sent:\n%s", out)
	}
	// UID FETCH may send the EXPUNGE (RFC 9051 §7.5.1), after its data
	if out := a.do("u UID FETCH 2:* (UID)"); strings.Contains(out, "UID 3") || !strings.Contains(out, "(UID 2)") ||
		!strings.Contains(out, "* 3 EXPUNGE") {
		t.Fatalf("UID FETCH 2:* before the EXPUNGE is sent:\n%s", out)
	}
	if out := a.do(`s2 STORE * +FLAGS (\Flagged)`); !strings.Contains(out, `* 2 FETCH (FLAGS (\Flagged))`) {
		t.Errorf("STORE * after the EXPUNGE: want #2 flagged:\n%s", out)
	}
}

// TestTargetsManyRanges: a set of thousands of ranges is normalised before
// the view is walked, and names each message once.
func TestTargetsManyRanges(t *testing.T) {
	const n, ranges = 5000, 5000
	b := newBox(nil, alice, slog.New(slog.DiscardHandler))
	for i := range n {
		b.msgs = append(b.msgs, &message{uid: imap.UID(i + 1), name: "new/x"})
	}
	b.mu.Lock()
	v := b.openViewLocked()
	b.mu.Unlock()
	var seqs imap.SeqSet
	var uids imap.UIDSet
	for range ranges {
		seqs = append(seqs, imap.SeqRange{Start: 1, Stop: 0})
		uids = append(uids, imap.UIDRange{Start: 1, Stop: 0})
	}
	for _, set := range []imap.NumSet{seqs, uids} {
		start := time.Now()
		got := b.targets(v, set)
		if d := time.Since(start); len(got) != n || d > 2*time.Second {
			t.Errorf("%T of %d ranges 1:* over %d messages: %d targets in %v", set, ranges, n, len(got), d)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in   []numRange
		top  uint32
		want intervals
	}{
		{[]numRange{{1, 0}, {1, 0}, {3, 4}}, 5, intervals{{1, 5}}},
		{[]numRange{{7, 9}, {2, 2}, {3, 3}, {0, 0}}, 5, intervals{{2, 3}, {5, 5}}},
		{[]numRange{{1, 0}}, 0, nil},
	} {
		got := normalize(tc.in, tc.top)
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[1] != tc.want[1]) {
			t.Errorf("normalize(%v, %d) = %v, want %v", tc.in, tc.top, got, tc.want)
		}
	}
}

// TestIMAPIdleDropped: a client that drops the connection while idling
// leaves the IDLE goroutine running as go-imap calls Close; the two must
// not race (run with -race) nor crash, and the view is released.
func TestIMAPIdleDropped(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("first", "x"))
	for range 3 {
		a := lab.raw(t)
		a.conn.Write([]byte("i IDLE\r\n"))
		a.until("+")
		lab.deliver(sample("wake", "x")) // the goroutine polls
		a.conn.Close()
		lab.deliver(sample("after the drop", "x"))
		waitNoViews(t, lab.srv.box(alice))
	}
	c, sel := lab.open(nil) // the server still serves
	if sel.NumMessages != 7 {
		t.Errorf("SELECT after the drops: %d messages, want 7", sel.NumMessages)
	}
	c.Close()
}
