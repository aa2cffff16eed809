package mailbox

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/pecspec/pecspec/internal/testpki"
)

const (
	alice    = "alice@pec.alpha.test"
	password = "s3cret"
)

type users map[string]string

func (u users) Authenticate(a, p string) bool { pw, ok := u[a]; return ok && pw == p }

// imapLab is a Store with alice's mailbox and an IMAPS server on loopback.
type imapLab struct {
	t     *testing.T
	root  string
	store *Store
	srv   *Server
	addr  string
	pool  *x509.CertPool
	tls   *tls.Config
}

func startIMAP(t *testing.T) *imapLab {
	t.Helper()
	ca := testpki.NewCA(t)
	root := t.TempDir()
	store, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddMailbox(alice); err != nil {
		t.Fatal(err)
	}
	lab := &imapLab{t: t, root: root, store: store, pool: ca.Pool, tls: ca.ServerTLS(t)}
	lab.serve()
	return lab
}

// serve starts a Server on the lab's store.
func (l *imapLab) serve() {
	l.t.Helper()
	// bob can log in but has no mailbox: refused like a wrong password
	l.srv = NewServer(l.store, users{alice: password, "bob@pec.alpha.test": "pw"}, l.tls, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.t.Fatal(err)
	}
	go l.srv.Serve(ln)
	srv := l.srv
	l.t.Cleanup(func() { srv.Close() })
	l.addr = ln.Addr().String()
}

// restart replaces the server by a new one on the same store (a restart).
func (l *imapLab) restart() {
	l.t.Helper()
	l.srv.Close()
	l.serve()
}

// dial connects without logging in.
func (l *imapLab) dial(h *imapclient.UnilateralDataHandler) *imapclient.Client {
	l.t.Helper()
	c, err := imapclient.DialTLS(l.addr, &imapclient.Options{
		TLSConfig:             &tls.Config{RootCAs: l.pool, ServerName: "127.0.0.1"},
		UnilateralDataHandler: h,
	})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { c.Close() })
	return c
}

// open logs alice in and selects INBOX.
func (l *imapLab) open(h *imapclient.UnilateralDataHandler) (*imapclient.Client, *imap.SelectData) {
	l.t.Helper()
	c := l.dial(h)
	if err := c.Login(alice, password).Wait(); err != nil {
		l.t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		l.t.Fatal(err)
	}
	return c, sel
}

// deliver delivers msg to alice and returns its Maildir base name.
func (l *imapLab) deliver(msg string) string {
	l.t.Helper()
	name, err := l.store.Deliver(alice, strings.NewReader(msg))
	if err != nil {
		l.t.Fatal(err)
	}
	return name
}

// file is the Maildir name ("new/…", "cur/…") of the message of base, "" if none.
func (l *imapLab) file(base string) string {
	l.t.Helper()
	names, err := l.store.List(alice)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(filepath.Base(n), base) {
			return n
		}
	}
	return ""
}

func (l *imapLab) read(name string) []byte {
	l.t.Helper()
	b, err := os.ReadFile(filepath.Join(l.root, alice, name))
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// talk logs alice in, selects INBOX and sends each command (tagged by its
// first word), returning every line the server answered.
func (l *imapLab) talk(t *testing.T, commands ...string) string {
	t.Helper()
	r := l.raw(t)
	defer r.conn.Close()
	for _, c := range commands {
		r.do(c)
	}
	return r.out.String()
}

// rawSession speaks the protocol directly, for what imapclient cannot send
// or would hide.
type rawSession struct {
	t    *testing.T
	conn *tls.Conn
	r    *bufio.Reader
	out  strings.Builder // every line read
}

// raw logs alice in and selects INBOX on a new connection.
func (l *imapLab) raw(t *testing.T) *rawSession {
	t.Helper()
	conn, err := tls.Dial("tcp", l.addr, &tls.Config{RootCAs: l.pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := &rawSession{t: t, conn: conn, r: bufio.NewReader(conn)}
	r.until("*") // greeting
	r.do("l LOGIN " + alice + " " + password)
	r.do("x SELECT INBOX")
	return r
}

// do sends one command (tagged by its first word) and returns the lines
// read up to its tagged answer.
func (r *rawSession) do(cmd string) string {
	fmt.Fprintf(r.conn, "%s\r\n", cmd)
	return r.until(strings.Fields(cmd)[0])
}

// until reads lines up to one starting with tag.
func (r *rawSession) until(tag string) string {
	var out strings.Builder
	for {
		line, err := r.r.ReadString('\n')
		out.WriteString(line)
		r.out.WriteString(line)
		if err != nil || strings.HasPrefix(line, tag+" ") {
			return out.String()
		}
	}
}

// fetch runs a FETCH and collects its messages.
func fetch(t *testing.T, c *imapclient.Client, set imap.NumSet, o *imap.FetchOptions) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(set, o).Collect()
	if err != nil {
		t.Fatalf("FETCH %v: %v", set, err)
	}
	return msgs
}

func uidsOf(msgs []*imapclient.FetchMessageBuffer) []imap.UID {
	var out []imap.UID
	for _, m := range msgs {
		out = append(out, m.UID)
	}
	return out
}

// isNo reports whether err is a tagged NO.
func isNo(err error) bool {
	var e *imap.Error
	return errors.As(err, &e) && e.Type == imap.StatusResponseTypeNo
}

func sample(subject, body string) string {
	return fmt.Sprintf("From: a@pec.beta.test\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 02 Jan 2006 15:04:05 +0100\r\n\r\n%s\r\n",
		alice, subject, body)
}

// updates turns unilateral data into signals a test can wait on.
type updates struct {
	exists  chan uint32
	expunge chan uint32
	flags   chan *imapclient.FetchMessageBuffer
}

func newUpdates() (*updates, *imapclient.UnilateralDataHandler) {
	u := &updates{exists: make(chan uint32, 16), expunge: make(chan uint32, 16), flags: make(chan *imapclient.FetchMessageBuffer, 16)}
	return u, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				u.exists <- *d.NumMessages
			}
		},
		Expunge: func(seq uint32) { u.expunge <- seq },
		Fetch: func(m *imapclient.FetchMessageData) { // read before returning: it streams
			if buf, err := m.Collect(); err == nil {
				u.flags <- buf
			}
		},
	}
}

// await returns the next value of ch, failing after a generous deadline.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		var zero T
		return zero
	}
}

func TestIMAPLogin(t *testing.T) {
	lab := startIMAP(t)
	for _, tc := range []struct{ user, pass string }{
		{alice, "wrong"},
		{"bob@pec.alpha.test", "pw"},    // authenticates, but has no mailbox
		{"nobody@pec.alpha.test", "pw"}, // unknown
	} {
		if err := lab.dial(nil).Login(tc.user, tc.pass).Wait(); err == nil {
			t.Errorf("LOGIN %s/%s accepted", tc.user, tc.pass)
		}
	}
	if err := lab.dial(nil).Login("Alice@PEC.alpha.test", password).Wait(); err != nil {
		t.Errorf("LOGIN alice (mixed case): %v", err)
	}
}

// TestIMAPFetch: UIDs in delivery order, BODY.PEEK[] is the file's bytes and
// leaves the flags alone, BODY[] sets \Seen in the Maildir (cur/…:2,S).
func TestIMAPFetch(t *testing.T) {
	lab := startIMAP(t)
	var bases []string
	for i := 1; i <= 3; i++ {
		bases = append(bases, lab.deliver(sample(fmt.Sprintf("n%d", i), strings.Repeat("line\r\n", i))))
	}
	c, sel := lab.open(nil)
	if sel.NumMessages != 3 || sel.UIDNext != 4 || sel.UIDValidity == 0 {
		t.Fatalf("SELECT = %d messages, UIDNEXT %d, UIDVALIDITY %d", sel.NumMessages, sel.UIDNext, sel.UIDValidity)
	}
	peek := fetch(t, c, imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true,
		InternalDate: true, Envelope: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if got := uidsOf(peek); !slices.Equal(got, []imap.UID{1, 2, 3}) {
		t.Fatalf("UIDs = %v, want 1 2 3", got)
	}
	for i, m := range peek {
		name := lab.file(bases[i])
		raw := lab.read(name)
		st, _ := os.Stat(filepath.Join(lab.root, alice, name))
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); !bytes.Equal(got, raw) {
			t.Errorf("UID %d BODY.PEEK[] = %q, want the file's %q", m.UID, got, raw)
		}
		if len(m.Flags) != 0 || !strings.HasPrefix(name, "new/") {
			t.Errorf("UID %d after PEEK: flags %v, file %s", m.UID, m.Flags, name)
		}
		if m.RFC822Size != int64(len(raw)) || !m.InternalDate.Equal(st.ModTime().Truncate(time.Second)) {
			t.Errorf("UID %d: size %d date %v, want %d %v", m.UID, m.RFC822Size, m.InternalDate, len(raw), st.ModTime())
		}
		if m.Envelope == nil || m.Envelope.Subject != fmt.Sprintf("n%d", i+1) {
			t.Errorf("UID %d envelope %+v", m.UID, m.Envelope)
		}
	}
	seen := fetch(t, c, imap.UIDSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}})
	if len(seen) != 1 || !slices.Contains(seen[0].Flags, imap.FlagSeen) {
		t.Fatalf("FETCH BODY[] did not report \\Seen: %+v", seen)
	}
	if got := lab.file(bases[1]); got != "cur/"+bases[1]+":2,S" {
		t.Errorf("after BODY[]: file %q, want cur/%s:2,S", got, bases[1])
	}
	if got := lab.file(bases[0]); got != "new/"+bases[0] {
		t.Errorf("an unfetched message moved: %q", got)
	}
}

// TestIMAPSections: header fields, text, partials, BODYSTRUCTURE and BINARY
// of a multipart message, through go-imap's extraction.
func TestIMAPSections(t *testing.T) {
	lab := startIMAP(t)
	msg := "Subject: parts\r\nX-A: 1\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--b--\r\n"
	lab.deliver(msg)
	c, _ := lab.open(nil)
	fields := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"X-A"}, Peek: true}
	text := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 9, Size: 5}}
	part1 := &imap.FetchItemBodySection{Part: []int{1}, Peek: true}
	binary := &imap.FetchItemBinarySection{Part: []int{2}, Peek: true}
	m := fetch(t, c, imap.SeqSetNum(1), &imap.FetchOptions{
		BodyStructure:     &imap.FetchItemBodyStructure{Extended: true},
		BodySection:       []*imap.FetchItemBodySection{fields, text, partial, part1},
		BinarySection:     []*imap.FetchItemBinarySection{binary},
		BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{2}}},
	})[0]
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"HEADER.FIELDS (X-A)", string(m.FindBodySection(fields)), "X-A: 1\r\n\r\n"},
		{"TEXT", string(m.FindBodySection(text)), msg[strings.Index(msg, "\r\n\r\n")+4:]},
		{"[]<9.5>", string(m.FindBodySection(partial)), msg[9:14]},
		{"[1]", string(m.FindBodySection(part1)), "hello"},
		{"BINARY[2]", string(m.FindBinarySection(binary)), "hello world"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if n, _ := m.FindBinarySectionSize([]int{2}); n != 11 {
		t.Errorf("BINARY.SIZE[2] = %d, want 11", n)
	}
	mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || mp.Subtype != "mixed" {
		t.Errorf("BODYSTRUCTURE = %#v", m.BodyStructure)
	}
	if len(m.Flags) != 0 {
		t.Errorf("PEEK sections set flags %v", m.Flags)
	}
}
