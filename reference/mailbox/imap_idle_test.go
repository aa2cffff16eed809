package mailbox

import (
	"bytes"
	"crypto/sha256"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPIdle: IDLE first sends what a FETCH had to hold back (another
// session's EXPUNGE, RFC 9051 §7.5.1; that FETCH's poll consumed the
// wake-up signal, so only IDLE's initial poll can send it), then, once that
// is seen, a delivery made while it idles (the wake-up).
func TestIMAPIdle(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("one", "x"))
	lab.deliver(sample("two", "x"))
	u, h := newUpdates()
	c, _ := lab.open(h)
	other, _ := lab.open(nil)
	if err := other.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true}); len(got) != 1 || got[0].UID != 2 {
		t.Fatalf("FETCH 1:2 after another session's EXPUNGE of 1 = %v, want UID 2 only", uidsOf(got))
	}
	select {
	case seq := <-u.expunge:
		t.Fatalf("EXPUNGE %d sent during FETCH", seq)
	default:
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if seq := await(t, u.expunge, "EXPUNGE held back by the FETCH, at the start of IDLE"); seq != 1 {
		t.Errorf("EXPUNGE %d, want 1", seq)
	}
	lab.deliver(sample("during IDLE", "x"))
	if n := await(t, u.exists, "EXISTS for the delivery made during IDLE"); n != 2 {
		t.Errorf("EXISTS %d, want 2", n)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Errorf("IDLE ended with %v", err)
	}
	if n := c.Mailbox().NumMessages; n != 2 {
		t.Errorf("client view after IDLE: %d messages, want 2", n)
	}
}

// TestIMAPFetchStreamsLargeMessage: a 32 MiB message is fetched whole
// (BODY[]) without the server holding it: the bytes go from the file to the
// connection, and nothing of it stays in memory afterwards.
func TestIMAPFetchStreamsLargeMessage(t *testing.T) {
	const size = 32 << 20
	lab := startIMAP(t)
	c, _ := lab.open(nil) // the index is loaded before measuring
	hdr := "Subject: big\r\n\r\n"
	line := strings.Repeat("0123456789", 7) + "abcdef\r\n" // 78 bytes
	msg := io.MultiReader(strings.NewReader(hdr), io.LimitReader(repeat(line), size-int64(len(hdr))))
	sum := sha256.New()

	before := memStats(true)
	if _, err := lab.store.Deliver(alice, io.TeeReader(msg, sum)); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil { // the client learns of it (EXISTS)
		t.Fatal(err)
	}
	start := memStats(true)
	cmd := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}})
	got := sha256.New()
	var n int64
	if m := cmd.Next(); m != nil {
		for item := m.Next(); item != nil; item = m.Next() {
			if bs, ok := item.(imapclient.FetchItemDataBodySection); ok {
				n, _ = io.Copy(got, bs.Literal)
			}
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	end := memStats(false)
	after := memStats(true)
	if n != size || !bytes.Equal(got.Sum(nil), sum.Sum(nil)) {
		t.Fatalf("BODY[] = %d bytes (want %d), same hash: %v", n, size, bytes.Equal(got.Sum(nil), sum.Sum(nil)))
	}
	alloc := end.TotalAlloc - start.TotalAlloc
	kept := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("32 MiB FETCH BODY[]: %.2f MiB allocated during the fetch (server and client), heap in use %+.2f MiB after GC",
		float64(alloc)/(1<<20), float64(kept)/(1<<20))
	if alloc > size/4 { // 0.25 MiB measured; the race detector adds a few MiB
		t.Errorf("the FETCH allocated %d bytes for a %d-byte message: not streamed", alloc, size)
	}
	if kept > 8<<20 {
		t.Errorf("heap in use grew by %d bytes after delivering and fetching %d bytes: the server keeps it", kept, size)
	}
}

func memStats(gc bool) runtime.MemStats {
	if gc {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// repeat is an endless reader of s, s after s.
func repeat(s string) io.Reader { return &repeater{s: s} }

type repeater struct {
	s   string
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.s[r.off:])
		n += k
		r.off = (r.off + k) % len(r.s)
	}
	return n, nil
}
