package labtest

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/mailbox"
)

// Mailserver is a real Dovecot on Maildirs a test delivers to: what a
// provider's users read over IMAPS and POP3S, without the rest of the lab.
type Mailserver struct {
	Store      *mailbox.Store
	IMAP, POP3 int // ports on 127.0.0.1, implicit TLS
	Roots      *x509.CertPool
	Dir        string
}

// Dovecot starts Dovecot for accounts (their Maildirs created) in a
// temporary directory, stopped at cleanup.
func Dovecot(tb testing.TB, accounts ...lab.Account) *Mailserver {
	tb.Helper()
	dir, err := os.MkdirTemp("", "pecspec-dovecot-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	ca, err := lab.NewCA("labtest CA", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueTLS([]string{"127.0.0.1", "localhost"}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string][]byte{"tls.pem": certPEM, "tls.key": keyPEM, "ca.pem": ca.CertPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	m := &Mailserver{Roots: x509.NewCertPool(), Dir: dir}
	m.Roots.AppendCertsFromPEM(ca.CertPEM)
	spec := lab.DovecotSpec{Name: "labtest", Dir: filepath.Join(dir, "dovecot"), MailRoot: filepath.Join(dir, "mail"),
		Cert: filepath.Join(dir, "tls.pem"), Key: filepath.Join(dir, "tls.key"), CA: filepath.Join(dir, "ca.pem"),
		Accounts: accounts}
	if m.Store, err = mailbox.Open(spec.MailRoot); err != nil {
		tb.Fatal(err)
	}
	m.Store.SetOwner(lab.MailOwner())
	for _, a := range accounts {
		if err := m.Store.AddMailbox(a.Address); err != nil {
			tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := lab.StartDovecot(ctx, spec, nil)
	if err != nil {
		tb.Fatalf("dovecot: %v (logs in %s)", err, dir)
	}
	tb.Cleanup(func() { d.Stop() })
	m.IMAP, m.POP3 = d.IMAP, d.POP3
	return m
}
