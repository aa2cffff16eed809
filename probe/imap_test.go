package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/reference/mailbox"
)

// imapsServer starts a real Dovecot on a Maildir in a temp dir.
func imapsServer(t *testing.T) (*mailbox.Store, Endpoint, *x509.CertPool, Account) {
	t.Helper()
	acct := Account{Address: "alice@pec.alpha.test", Password: "s3cret"}
	m := labtest.Dovecot(t, lab.Account{Address: acct.Address, Password: acct.Password})
	return m.Store, Endpoint{Host: "127.0.0.1", Port: m.IMAP, TLS: TLSImplicit}, m.Roots, acct
}

func TestMailboxFetchAndWait(t *testing.T) {
	store, ep, pool, acct := imapsServer(t)
	first := []byte("Subject: one\r\nX-Test: 1\r\n\r\nbody\r\n")
	store.Deliver(acct.Address, bytes.NewReader(first))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mb, err := OpenMailbox(ctx, ep, pool, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	all, err := mb.Fetch(ctx)
	if err != nil || len(all) != 1 || !bytes.Equal(all[0].Raw, first) {
		t.Fatalf("Fetch = %d messages, %v; want the delivered bytes", len(all), err)
	}
	// A delivery made while WaitFor idles wakes it (event-driven, no sleep).
	second := []byte("Subject: two\r\nX-Test: 2\r\n\r\nbody\r\n")
	waiting := make(chan struct{})
	go func() {
		<-waiting
		store.Deliver(acct.Address, bytes.NewReader(second))
	}()
	match := func(raw []byte) bool {
		select {
		case <-waiting:
		default:
			close(waiting) // the first check ran: now deliver
		}
		return bytes.Contains(raw, []byte("X-Test: 2"))
	}
	f, err := mb.WaitFor(ctx, match)
	if err != nil || !bytes.Equal(f.Raw, second) {
		t.Fatalf("WaitFor = %q, %v", f.Raw, err)
	}
	// The same message is not returned twice; nothing else matches: timeout.
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if _, err := mb.WaitFor(short, func(raw []byte) bool { return bytes.Contains(raw, []byte("X-Test: 2")) }); !errors.Is(err, ErrTimeout) {
		t.Errorf("second WaitFor err = %v, want ErrTimeout", err)
	}
}

func TestMailboxRefusesWrongPassword(t *testing.T) {
	_, ep, pool, acct := imapsServer(t)
	acct.Password = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if mb, err := OpenMailbox(ctx, ep, pool, acct); err == nil {
		mb.Close()
		t.Fatal("wrong password accepted")
	}
}

// TestCurlListsMailbox: a stock IMAP client (curl) reads the Maildir over IMAPS.
func TestCurlListsMailbox(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl not installed (make setup)")
	}
	store, ep, _, acct := imapsServer(t)
	store.Deliver(acct.Address, strings.NewReader("Subject: curl\r\n\r\nhello\r\n"))
	out, err := exec.Command("curl", "-sS", "-k", "--max-time", "10", "imaps://127.0.0.1:"+strconv.Itoa(ep.Port)+"/INBOX;UID=1",
		"-u", acct.Address+":"+acct.Password).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Subject: curl") {
		t.Errorf("curl fetch: %v\n%s", err, out)
	}
}
