package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

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

// openBox opens acct's INBOX for the test: a 20 s context, closed at its end.
func openBox(t *testing.T, ep Endpoint, pool *x509.CertPool, acct Account) (context.Context, *Mailbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	mb, err := OpenMailbox(ctx, ep, pool, acct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return ctx, mb
}

func TestMailboxFetchAndWait(t *testing.T) {
	store, ep, pool, acct := imapsServer(t)
	first := []byte("Subject: one\r\nX-Test: 1\r\n\r\nbody\r\n")
	store.Deliver(acct.Address, bytes.NewReader(first))
	ctx, mb := openBox(t, ep, pool, acct)
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

// TestMailboxReadsEachMessageOnce: while WaitFor waits, every arrival is
// fetched and matched once — not the whole INBOX again at each one — and a
// message removed from the Maildir is no longer returned by Fetch.
func TestMailboxReadsEachMessageOnce(t *testing.T) {
	acct := Account{Address: "alice@pec.alpha.test", Password: "s3cret"}
	srv := labtest.Dovecot(t, lab.Account{Address: acct.Address, Password: acct.Password})
	store, ep, pool := srv.Store, Endpoint{Host: "127.0.0.1", Port: srv.IMAP, TLS: TLSImplicit}, srv.Roots
	msg := func(i int) []byte {
		return []byte("Subject: n" + strconv.Itoa(i) + "\r\nX-N: " + strconv.Itoa(i) + "\r\n\r\nbody\r\n")
	}
	for i := range 3 {
		if _, err := store.Deliver(acct.Address, bytes.NewReader(msg(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, mb := openBox(t, ep, pool, acct)
	// Each check of a message that does not match delivers the next one,
	// until the seventh, which matches: six wake-ups of WaitFor.
	calls := map[string]int{}
	next := 3
	f, err := mb.WaitFor(ctx, func(raw []byte) bool {
		calls[string(raw)]++
		if bytes.Contains(raw, []byte("X-N: 6\r\n")) {
			return true
		}
		if next <= 6 && bytes.Contains(raw, []byte("X-N: "+strconv.Itoa(next-1)+"\r\n")) {
			if _, err := store.Deliver(acct.Address, bytes.NewReader(msg(next))); err != nil {
				t.Error(err)
			}
			next++
		}
		return false
	})
	if err != nil || !bytes.Equal(f.Raw, msg(6)) {
		t.Fatalf("WaitFor = %q, %v; want message 6", f.Raw, err)
	}
	for i := range 7 {
		if n := calls[string(msg(i))]; n != 1 {
			t.Errorf("message %d matched %d times, want once", i, n)
		}
	}
	// Another client expunges message 1.
	other, err := DialIMAP(ctx, ep, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Login(acct.Login(), acct.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	// The session learns of the expunge when the server may say so (RFC
	// 3501 §7.4.1: not during SEARCH or FETCH): at a NOOP, or in IDLE.
	if err := mb.c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	all, err := mb.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 || slices.ContainsFunc(all, func(f Fetched) bool { return bytes.Equal(f.Raw, msg(1)) }) {
		t.Errorf("after message 1 was expunged: %d messages fetched, want 6 without it", len(all))
	}
}
