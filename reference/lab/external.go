package lab

import (
	"bytes"

	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/reference/mailbox"
)

// ExternalDomain is the lab's ordinary (non-PEC) mail domain: not in the
// index, so the providers classify its addresses esterno (RFC 6109 §2.2.1)
// and still send them the signed busta di trasporto (pec-rules §7.4).
const ExternalDomain = "posta.esterna.test"

// External is an ordinary mail server: an MX that offers STARTTLS and
// accepts plaintext, stores what it receives for its domain in Maildirs, and
// an IMAPS server for its accounts. It runs inside the lab's process.
type External struct {
	Domain   string
	Accounts []Account
	Ports    struct{ MX, IMAP int }
	MXHost   string // the MX's own address (layout.go)
	IMAPHost string
	store    *mailbox.Store
	mx       *smtp.Server
	imap     *mailbox.Server
}

func (l *Lab) startExternal() error {
	x := &External{Domain: ExternalDomain, MXHost: l.layout.mx["external"], IMAPHost: l.layout.Addr()}
	for _, u := range []string{"carol", "dave"} {
		x.Accounts = append(x.Accounts, Account{Name: u, Address: u + "@" + x.Domain, Password: secret()})
	}
	st, err := mailbox.Open(filepath.Join(l.Dir, "external", "mail"))
	if err != nil {
		return fmt.Errorf("%w: external: %v", ErrLab, err)
	}
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
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("%w: external TLS: %v", ErrLab, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	mxl, err := net.Listen("tcp", net.JoinHostPort(x.MXHost, strconv.Itoa(l.layout.mxPort)))
	if err != nil {
		return fmt.Errorf("%w: external: %v", ErrLab, err)
	}
	imapPort := 0
	if l.layout.base != 0 {
		imapPort = l.layout.base + offExternal + slotIMAP
	}
	imapl, err := net.Listen("tcp", net.JoinHostPort(x.IMAPHost, strconv.Itoa(imapPort)))
	if err != nil {
		mxl.Close()
		return fmt.Errorf("%w: external: %v", ErrLab, err)
	}
	x.Ports.MX, x.Ports.IMAP = mxl.Addr().(*net.TCPAddr).Port, imapl.Addr().(*net.TCPAddr).Port
	x.mx = smtp.NewServer(&plainBackend{x: x})
	x.mx.Domain = x.Domain
	x.mx.TLSConfig = cfg
	x.mx.MaxMessageBytes = 64 << 20
	x.mx.ReadTimeout, x.mx.WriteTimeout = time.Minute, time.Minute
	x.imap = mailbox.NewServer(st, externalUsers(append(append([]Account(nil), x.Accounts...), l.BulkAccounts(x.Domain)...)), cfg, l.log)
	go func() { _ = x.mx.Serve(mxl) }()
	go func() { _ = x.imap.Serve(imapl) }() // Serve adds the TLS layer
	l.External = x
	return nil
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
	return errors.Join(x.mx.Close(), x.imap.Close())
}

type externalUsers []Account

func (u externalUsers) Authenticate(address, password string) bool {
	for _, a := range u {
		if strings.EqualFold(a.Address, address) {
			return subtle.ConstantTimeCompare([]byte(a.Password), []byte(password)) == 1
		}
	}
	return false
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

func (s *plainSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, a := range s.to {
		if _, err := s.x.store.Deliver(a, bytes.NewReader(data)); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
	}
	return nil
}

func (s *plainSession) Reset()        { s.to = nil }
func (s *plainSession) Logout() error { return nil }
