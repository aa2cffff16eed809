package lab

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/netguard"
)

// ExternalDomain is the lab's ordinary (non-PEC) mail domain: not in the
// index, so the providers classify its addresses esterno (RFC 6109 §2.2.1)
// and still send them the signed busta di trasporto (pec-rules §7.4).
const ExternalDomain = "posta.esterna.test"

// External is an ordinary mail server: an MX that offers STARTTLS and
// accepts plaintext, running inside the lab's process, that stores what it
// receives for its domain in Maildirs; its own Dovecot serves them over
// IMAPS and POP3S.
type External struct {
	Domain   string
	Accounts []Account
	Ports    struct{ MX, IMAP, POP3 int }
	MXHost   string // the MX's own address (layout.go)
	IMAPHost string // where its Dovecot listens: the lab address
	dir      string
	store    *mailbox.Store
	mx       *smtp.Server
	dovecot  *Dovecot
}

func (l *Lab) startExternal() error {
	x := &External{Domain: ExternalDomain, MXHost: l.layout.mx["external"], IMAPHost: l.layout.Addr()}
	for _, u := range []string{"carol", "dave"} {
		x.Accounts = append(x.Accounts, Account{Name: u, Address: u + "@" + x.Domain, Password: secret()})
	}
	x.dir = filepath.Join(l.Dir, "external")
	st, err := mailbox.Open(filepath.Join(x.dir, "mail"))
	if err != nil {
		return fmt.Errorf("%w: external: %v", ErrLab, err)
	}
	st.SetOwner(MailOwner())
	for _, a := range x.Accounts {
		if err := st.AddMailbox(a.Address); err != nil {
			return fmt.Errorf("%w: external: %v", ErrLab, err)
		}
	}
	if err := l.addBulk(st, x.Domain); err != nil {
		return err
	}
	x.store = st
	certPEM, keyPEM, err := l.CA.IssueTLS(l.tlsHosts(x.Domain, x.MXHost), nowFunc())
	if err != nil {
		return fmt.Errorf("%w: external TLS: %v", ErrLab, err)
	}
	if err := writeFiles(x.dir, map[string][]byte{"tls.pem": certPEM, "tls.key": keyPEM}); err != nil {
		return err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("%w: external TLS: %v", ErrLab, err)
	}
	mxl, err := net.Listen("tcp", net.JoinHostPort(x.MXHost, strconv.Itoa(l.layout.mxPort)))
	if err != nil {
		return fmt.Errorf("%w: external: %v", ErrLab, err)
	}
	x.Ports.MX = mxl.Addr().(*net.TCPAddr).Port
	if l.layout.base != 0 { // else 0: its Dovecot picks free ports (startDovecots)
		x.Ports.IMAP, x.Ports.POP3 = l.layout.base+offExternal+slotIMAP, l.layout.base+offExternal+slotPOP3
	}
	x.mx = smtp.NewServer(&plainBackend{x: x})
	x.mx.Domain = x.Domain
	x.mx.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	x.mx.MaxMessageBytes = 64 << 20
	x.mx.ReadTimeout, x.mx.WriteTimeout = time.Minute, time.Minute
	x.mx.ErrorLog = netguard.ErrorLog{Log: l.log, Listener: "external mx"}
	// The connection limits of the reference's own MX (issue 15).
	guarded := netguard.Limit(mxl, netguard.Options{Name: "external mx", PerIP: ConnectionsPerIP,
		Refusal: netguard.SMTPRefusal(x.Domain), Log: l.log})
	go func() { _ = x.mx.Serve(guarded) }()
	l.External = x
	return nil
}

// dovecotSpec is the Dovecot that serves the external domain's Maildirs.
func (x *External) dovecotSpec(l *Lab) DovecotSpec {
	return DovecotSpec{Name: "external", Dir: filepath.Join(x.dir, "dovecot"), MailRoot: filepath.Join(x.dir, "mail"),
		Cert: filepath.Join(x.dir, "tls.pem"), Key: filepath.Join(x.dir, "tls.key"), CA: l.CAFile(),
		Accounts: append(append([]Account(nil), x.Accounts...), l.BulkAccounts(x.Domain)...), // bulk.go
		Host:     x.IMAPHost, IMAP: x.Ports.IMAP, POP3: x.Ports.POP3}
}

// MXAddr is host:port of the external MX.
func (x *External) MXAddr() string { return net.JoinHostPort(x.MXHost, strconv.Itoa(x.Ports.MX)) }

// Messages returns what the external domain stored for address, oldest first.
func (x *External) Messages(address string) ([][]byte, error) {
	names, err := x.store.List(address)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, n := range names {
		data, err := x.store.Read(address, n)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func (x *External) stop() error {
	if x == nil {
		return nil
	}
	return errors.Join(x.mx.Close(), x.dovecot.Stop())
}

type plainBackend struct{ x *External }

func (b *plainBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &plainSession{x: b.x}, nil
}

type plainSession struct {
	x  *External
	to []string
}

func (s *plainSession) Mail(string, *smtp.MailOptions) error { s.to = nil; return nil }

func (s *plainSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.x.store.Exists(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data stores the message in the first recipient's Maildir as it arrives,
// then copies it from there to the others: never held whole in memory.
func (s *plainSession) Data(r io.Reader) error {
	if len(s.to) == 0 {
		return nil
	}
	tryLater := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	name, err := s.x.store.Deliver(s.to[0], r)
	if err != nil {
		return tryLater
	}
	for _, a := range s.to[1:] {
		f, err := s.x.store.Open(s.to[0], name)
		if err != nil {
			return tryLater
		}
		_, err = s.x.store.Deliver(a, f)
		f.Close()
		if err != nil {
			return tryLater
		}
	}
	return nil
}

func (s *plainSession) Reset()        { s.to = nil }
func (s *plainSession) Logout() error { return nil }
