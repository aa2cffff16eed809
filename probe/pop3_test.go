package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestPOP3ReadsWhatIMAPReads: a message delivered to the Maildir is read
// over POP3S (UIDL, TOP, RETR) byte for byte as IMAP reads it, including a
// line that starts with a dot (dot-stuffing undone).
func TestPOP3ReadsWhatIMAPReads(t *testing.T) {
	acct := Account{Address: "alice@pec.alpha.test", Password: "s3cret"}
	m := labtest.Dovecot(t, lab.Account{Address: acct.Address, Password: acct.Password})
	msg := []byte("Subject: pop\r\nX-Test: 1\r\n\r\nfirst\r\n.leading dot\r\n..two\r\n.\r\nend\r\n")
	if _, err := m.Store.Deliver(acct.Address, bytes.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := DialPOP3(ctx, Endpoint{Host: "127.0.0.1", Port: m.POP3, TLS: TLSImplicit}, m.Roots, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	uids, err := p.UIDL()
	if err != nil || len(uids) != 1 || uids[1] == "" {
		t.Fatalf("UIDL = %v, %v; want one message", uids, err)
	}
	if top, err := p.Top(1, 0); err != nil || !bytes.Equal(top, msg[:bytes.Index(msg, []byte("\r\n\r\n"))+4]) {
		t.Errorf("TOP 1 0 = %q, %v; want the header and the blank line", top, err)
	}
	got, err := p.Retr(1)
	if err != nil || !bytes.Equal(got, msg) {
		t.Errorf("RETR 1 = %q, %v; want %q", got, err, msg)
	}
	box, err := OpenMailbox(ctx, Endpoint{Host: "127.0.0.1", Port: m.IMAP, TLS: TLSImplicit}, m.Roots, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	if all, err := box.Fetch(ctx); err != nil || len(all) != 1 || !bytes.Equal(all[0].Raw, got) {
		t.Errorf("IMAP copy differs from POP3's: %v", err)
	}
	if _, err := p.Retr(2); !errors.Is(err, ErrPOP3) {
		t.Errorf("RETR of a message that does not exist: err = %v, want ErrPOP3", err)
	}
}

// TestPOP3RefusesWrongPassword: a wrong password is a login error.
func TestPOP3RefusesWrongPassword(t *testing.T) {
	m := labtest.Dovecot(t, lab.Account{Address: "bob@pec.beta.test", Password: "right"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := DialPOP3(ctx, Endpoint{Host: "127.0.0.1", Port: m.POP3, TLS: TLSImplicit}, m.Roots,
		Account{Address: "bob@pec.beta.test", Password: "wrong"})
	if err == nil {
		p.Close()
		t.Fatal("wrong password accepted")
	}
}

// TestCurlPOP3S: a stock POP3 client (curl) reads the Maildir over POP3S.
func TestCurlPOP3S(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl not installed (make setup)")
	}
	acct := lab.Account{Address: "carol@posta.esterna.test", Password: "pw"}
	m := labtest.Dovecot(t, acct)
	m.Store.Deliver(acct.Address, strings.NewReader("Subject: curl pop3\r\n\r\nhello\r\n"))
	out, err := exec.Command("curl", "-sS", "--cacert", m.Dir+"/ca.pem", "--max-time", "10",
		"pop3s://127.0.0.1:"+strconv.Itoa(m.POP3)+"/1", "-u", acct.Address+":"+acct.Password).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Subject: curl pop3") {
		t.Errorf("curl pop3s: %v\n%s", err, out)
	}
}

// TestReadMultilineBounds: a multi-line response is unstuffed, and one over
// the bound, or cut short, is an error rather than memory or a hang.
func TestReadMultilineBounds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
		ok   bool
	}{
		{"a\r\n..b\r\n.\r\n", 100, "a\r\n.b\r\n", true},
		{".\r\n", 100, "", true},
		{strings.Repeat("x", 200) + "\r\n.\r\n", 100, "", false},
		{"a\r\nb\r\n", 100, "", false}, // no terminator: the connection ended
	} {
		got, err := readMultiline(bufio.NewReader(strings.NewReader(tc.in)), tc.max)
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("readMultiline(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzReadMultiline: any server bytes give a bounded result or an error.
func FuzzReadMultiline(f *testing.F) {
	f.Add([]byte("a\r\n..b\r\n.\r\n"))
	f.Add([]byte(".\r\n"))
	f.Add([]byte("\r\n\n.\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readMultiline(bufio.NewReader(bytes.NewReader(in)), 1<<10)
		if err == nil && len(got) > 1<<10 {
			t.Fatalf("%d bytes over the bound", len(got))
		}
	})
}
