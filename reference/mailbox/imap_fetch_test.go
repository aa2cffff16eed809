package mailbox

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// bigMultipart is a message of about size bytes: a small text part and a
// base64 attachment that makes up the rest.
func bigMultipart(size int64) (io.Reader, int64) {
	head := "Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	tail := "\r\n--b--\r\n"
	line := strings.Repeat("QUJD", 19) + "\r\n" // 57 bytes "ABC…" a line
	lines := (size - int64(len(head)+len(tail))) / int64(len(line))
	body := io.LimitReader(repeat(line), lines*int64(len(line))-2) // the last CRLF is the delimiter's
	return io.MultiReader(strings.NewReader(head), body, strings.NewReader(tail)), lines * 57
}

// TestIMAPFetchItemsBounded: on a 32 MiB message every fetch item is
// streamed from the file or answered from the index entry: none allocates
// more than a few MiB (server and client together), whatever the size.
func TestIMAPFetchItemsBounded(t *testing.T) {
	lab := startIMAP(t)
	msg, decoded := bigMultipart(32 << 20)
	if _, err := lab.store.Deliver(alice, msg); err != nil {
		t.Fatal(err)
	}
	c, _ := lab.open(nil)
	partial := &imap.SectionPartial{Offset: 0, Size: 100}
	bs := &imap.FetchItemBodyStructure{Extended: true}
	for _, tc := range []struct {
		name string
		o    imap.FetchOptions
	}{
		{"BODY.PEEK[TEXT]<0.100>", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText, Peek: true, Partial: partial}}}},
		{"BODY.PEEK[HEADER]", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}}}},
		{"ENVELOPE", imap.FetchOptions{Envelope: true}},
		{"BODYSTRUCTURE (first)", imap.FetchOptions{BodyStructure: bs}},
		{"BODYSTRUCTURE (second)", imap.FetchOptions{BodyStructure: bs}},
		{"BODY.PEEK[2]<0.100>", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Part: []int{2}, Peek: true, Partial: partial}}}},
		{"BODY.PEEK[2.MIME]", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Part: []int{2}, Specifier: imap.PartSpecifierMIME, Peek: true}}}},
		{"BINARY.PEEK[2]<0.100>", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{2}, Peek: true, Partial: partial}}}},
		{"BINARY.SIZE[2]", imap.FetchOptions{BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{2}}}}},
		{"BODY.PEEK[TEXT] (32 MiB)", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText, Peek: true}}}},
		{"BINARY.PEEK[2] (24 MiB)", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{2}, Peek: true}}}},
	} {
		start := memStats(true)
		n, got := fetchStreamed(t, c, &tc.o)
		alloc := memStats(false).TotalAlloc - start.TotalAlloc
		t.Logf("%-26s %8.3f MiB allocated, %d bytes of literal", tc.name, float64(alloc)/(1<<20), n)
		if alloc > 8<<20 {
			t.Errorf("%s allocated %d bytes on a 32 MiB message", tc.name, alloc)
		}
		switch tc.name {
		case "BINARY.SIZE[2]":
			if got.size != decoded {
				t.Errorf("BINARY.SIZE[2] = %d, want %d", got.size, decoded)
			}
		case "BINARY.PEEK[2] (24 MiB)":
			if n != decoded {
				t.Errorf("BINARY[2] = %d bytes, want %d", n, decoded)
			}
		case "BODYSTRUCTURE (second)":
			mp, ok := got.bs.(*imap.BodyStructureMultiPart)
			if !ok || len(mp.Children) != 2 || mp.Children[1].(*imap.BodyStructureSinglePart).Size < 32<<20-1024 {
				t.Errorf("BODYSTRUCTURE = %#v", got.bs)
			}
		}
	}
}

type fetched struct {
	size int64
	bs   imap.BodyStructure
}

// fetchStreamed fetches message 1, reading literals without keeping them.
func fetchStreamed(t *testing.T, c *imapclient.Client, o *imap.FetchOptions) (int64, fetched) {
	t.Helper()
	cmd := c.Fetch(imap.SeqSetNum(1), o)
	var n int64
	var f fetched
	for m := cmd.Next(); m != nil; m = cmd.Next() {
		for item := m.Next(); item != nil; item = m.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataBodySection:
				k, _ := io.Copy(io.Discard, it.Literal)
				n += k
			case imapclient.FetchItemDataBinarySection:
				k, _ := io.Copy(io.Discard, it.Literal)
				n += k
			case imapclient.FetchItemDataBinarySectionSize:
				f.size = int64(it.Size)
			case imapclient.FetchItemDataBodyStructure:
				f.bs = it.BodyStructure
			}
		}
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("FETCH: %v", err)
	}
	return n, f
}

// TestIMAPMalformedHeader: a header line without a colon (or an mbox "From "
// line) is skipped, not the end of the header: ENVELOPE, HEADER.FIELDS,
// TEXT and SEARCH still see the message.
func TestIMAPMalformedHeader(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver("From someone Mon Jan  1 00:00:00 2024\r\nFrom: a@pec.beta.test\r\nX-Bad line without colon\r\n" +
		" continued\r\nSubject: hello\r\n\r\nbody with a needle\r\n")
	c, _ := lab.open(nil)
	fields := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true}
	text := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}
	m := fetch(t, c, imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{fields, text}})[0]
	if m.Envelope == nil || m.Envelope.Subject != "hello" || len(m.Envelope.From) != 1 {
		t.Errorf("ENVELOPE = %+v", m.Envelope)
	}
	if got := string(m.FindBodySection(fields)); got != "Subject: hello\r\n\r\n" {
		t.Errorf("HEADER.FIELDS (Subject) = %q", got)
	}
	if got := string(m.FindBodySection(text)); got != "body with a needle\r\n" {
		t.Errorf("TEXT = %q", got)
	}
	for _, c2 := range []imap.SearchCriteria{{Body: []string{"needle"}}, {Text: []string{"needle"}},
		{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "hello"}}}} {
		data, err := c.Search(&c2, nil).Wait()
		if err != nil || len(data.AllSeqNums()) != 1 {
			t.Errorf("SEARCH %+v = %v, %v; want message 1", c2, data, err)
		}
	}
}

// TestIMAPBinaryUnknownCTE: BINARY of a part whose transfer encoding is not
// known answers NO [UNKNOWN-CTE] (RFC 3516 §4.3), and so does BINARY.SIZE.
func TestIMAPBinaryUnknownCTE(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver("Subject: uu\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\nend\r\n--b--\r\n")
	out := lab.talk(t, "b FETCH 1 BINARY.PEEK[1]", "s FETCH 1 BINARY.SIZE[1]", "o FETCH 1 (UID)")
	for _, tag := range []string{"b", "s"} {
		if !strings.Contains(out, "\r\n"+tag+" NO [UNKNOWN-CTE]") {
			t.Errorf("%s: want NO [UNKNOWN-CTE]:\n%s", tag, out)
		}
	}
	if !strings.Contains(out, "o OK") {
		t.Errorf("connection not usable after UNKNOWN-CTE:\n%s", out)
	}
}

// TestIMAPSeenAsSent: FETCH BODY[] sets \Seen on each message as its body
// is sent; a client that stops reading and drops the connection leaves the
// messages it was not sent unseen.
func TestIMAPSeenAsSent(t *testing.T) {
	lab := startIMAP(t)
	var bases []string
	for range 3 {
		msg, _ := bigMultipart(12 << 20)
		name, err := lab.store.Deliver(alice, msg)
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, name)
	}
	a := lab.raw(t)
	fmt.Fprintf(a.conn, "f FETCH 1:3 BODY[]\r\n")
	if line, err := a.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* 1 FETCH") {
		t.Fatalf("FETCH answered %q, %v", line, err)
	}
	a.conn.Close() // the client reads no further: the server blocks, then fails, in message 1 or 2
	b := lab.srv.box(alice)
	waitNoViews(t, b)
	if f := lab.file(bases[2]); strings.HasSuffix(f, "S") {
		t.Errorf("message 3 was never sent but is \\Seen: %s", f)
	}
}

// waitNoViews waits until every session of b has ended.
func waitNoViews(t *testing.T, b *box) {
	t.Helper()
	for range 2000 {
		b.inbound.mu.Lock()
		n := len(b.inbound.views)
		b.inbound.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("sessions still open after 10s")
}
