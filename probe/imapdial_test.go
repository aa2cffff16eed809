package probe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/pecspec/pecspec/internal/testpki"
)

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// TestIMAPStartTLS: the probe's own STARTTLS (RFC 3501 §6.2.1) reaches a
// server that refuses LOGIN without TLS, reads its INBOX byte for byte and
// records the exchange; a server that sends data after its OK, before the
// handshake (an injection), is refused.
func TestIMAPStartTLS(t *testing.T) {
	ca := testpki.NewCA(t)
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("alice@pec.acme.test", "secret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: starttls\r\n\r\nbody\r\n")
	if _, err := user.Append("INBOX", literal{bytes.NewReader(msg)}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		TLSConfig: ca.ServerTLS(t),
		Logger:    log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	ep := Endpoint{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: TLSStartTLS}
	var ts Transcripts
	ctx := WithTranscripts(WithAnswerTimeout(context.Background(), 5*time.Second), &ts)
	m, err := OpenMailbox(ctx, ep, ca.Pool, Account{Address: "alice@pec.acme.test", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := m.Fetch(ctx)
	m.Close()
	if err != nil || len(all) != 1 || !bytes.Equal(all[0].Raw, msg) {
		t.Fatalf("Fetch = %d messages, %v; want the appended one", len(all), err)
	}
	if s := ts.Sessions(); len(s) != 1 || !strings.Contains(s[0].Text, "C: S STARTTLS") || !strings.Contains(s[0].Text, "-- STARTTLS: TLS") {
		t.Errorf("transcript:\n%v", s)
	}

	injected := hostile(t, TLSStartTLS, afterLine("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", func(c net.Conn) {
		c.Write([]byte("S OK begin TLS\r\n* 1 EXISTS\r\n"))
		io.Copy(io.Discard, c)
	}))
	_, err = OpenMailbox(ctx, injected, ca.Pool, Account{Address: "alice@pec.acme.test", Password: "secret"})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "after its OK") {
		t.Errorf("data after the STARTTLS OK: %v, want ErrProtocol", err)
	}
}
