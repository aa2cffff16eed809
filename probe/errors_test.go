package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/internal/testnet"
	"github.com/pecspec/pecspec/internal/testpki"
)

// loginMX is a submission server (implicit TLS) that takes one user by its
// login name and records the identities that authenticated.
type loginMX struct {
	mu     sync.Mutex
	logins []string
}

func (b *loginMX) NewSession(*smtp.Conn) (smtp.Session, error) { return &loginSession{b: b}, nil }

type loginSession struct{ b *loginMX }

func (s *loginSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *loginSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mrossi" || pass != "secret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		s.b.mu.Lock()
		s.b.logins = append(s.b.logins, user)
		s.b.mu.Unlock()
		return nil
	}), nil
}
func (s *loginSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *loginSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}
}
func (s *loginSession) Data(io.Reader) error { return nil }
func (s *loginSession) Reset()               {}
func (s *loginSession) Logout() error        { return nil }

// TestSubmitErrors: the login name is the account's username; a refused
// login is ErrLogin and never reads as the server's reply to a submission;
// a refused RCPT is that reply; a closed port is ErrUnreachable, a silent
// one ErrNoAnswer within the answer timeout, a certificate for another name
// ErrTLS.
func TestSubmitErrors(t *testing.T) {
	ca := testpki.NewCA(t)
	b := &loginMX{}
	_, port := testnet.SMTPS(t, b, ca.ServerTLS(t))
	ep := Endpoint{Host: "127.0.0.1", Port: port, TLS: TLSImplicit}
	ctx := WithAnswerTimeout(context.Background(), time.Second)
	acct := Account{Address: "mario.rossi@pec.acme.test", Username: "mrossi", Password: "secret"}

	err := Submit(ctx, ep, ca.Pool, acct, acct.Address, []string{"x@pec.beta.test"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || IsHarness(err) {
		t.Errorf("a refused RCPT: %v, want the server's 550 reply", err)
	}
	if len(b.logins) != 1 || b.logins[0] != "mrossi" {
		t.Errorf("logins %v, want the username mrossi", b.logins)
	}
	bad := acct
	bad.Password = "wrong"
	err = Submit(ctx, ep, ca.Pool, bad, bad.Address, []string{"x@pec.beta.test"}, nil)
	if !errors.Is(err, ErrLogin) || errors.As(err, &se) {
		t.Errorf("a refused login: %v, want ErrLogin and no *smtp.SMTPError", err)
	}
	if err := CheckSubmission(ctx, ep, ca.Pool, acct); err != nil {
		t.Errorf("CheckSubmission: %v", err)
	}
	if err := CheckSubmission(ctx, ep, nil, acct); !errors.Is(err, ErrTLS) {
		t.Errorf("an untrusted certificate: %v, want ErrTLS", err)
	}

	closed := closedEndpoint(t)
	if err := CheckMX(ctx, closed, ca.Pool); !errors.Is(err, ErrUnreachable) {
		t.Errorf("a closed port: %v, want ErrUnreachable", err)
	}
	silent := silentEndpoint(t)
	start := time.Now()
	for name, check := range map[string]func() error{
		"submission": func() error { return CheckSubmission(ctx, silent, ca.Pool, acct) },
		"imap":       func() error { return CheckIMAP(ctx, silent, ca.Pool, acct) },
		"mx":         func() error { return CheckMX(ctx, Endpoint{Host: silent.Host, Port: silent.Port}, ca.Pool) },
		"plaintext":  func() error { return SubmitPlaintext(ctx, silent, acct) },
	} {
		if err := check(); !errors.Is(err, ErrNoAnswer) {
			t.Errorf("%s against a silent server: %v, want ErrNoAnswer", name, err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("four checks against a silent server took %v with a 1 s answer timeout", d)
	}
}

func closedEndpoint(t *testing.T) Endpoint {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return Endpoint{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS}
}

func silentEndpoint(t *testing.T) Endpoint {
	return Endpoint{Host: "127.0.0.1", Port: testnet.Port(testnet.Silent(t)), TLS: TLSImplicit}
}
