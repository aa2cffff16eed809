package accesspoint

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Users authenticates submitting accounts (RFC 6109 §5.2).
type Users interface {
	Authenticate(address, password string) bool
}

// NewServer returns the submission server (RFC 4409 / RFC 6409, RFC 6109 §3.1):
// AUTH PLAIN is required before MAIL, and only over TLS (RFC 6109 §5.3; go-smtp
// refuses cleartext AUTH). Serve it on a tls.NewListener for implicit TLS (port
// 465 style); with TLSConfig set on a plain listener it offers STARTTLS.
func NewServer(p *Point, users Users, tlsConfig *tls.Config, domain string, debug io.Writer) *smtp.Server {
	s := smtp.NewServer(&backend{point: p, users: users})
	s.Domain = domain
	s.TLSConfig = tlsConfig
	s.MaxMessageBytes = 64 << 20
	s.MaxRecipients = 500
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = 5 * time.Minute
	s.Debug = debug
	return s
}

type backend struct {
	point *Point
	users Users
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b}, nil
}

// session is one client connection.
type session struct {
	b    *backend
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && !strings.EqualFold(identity, username) {
			return smtp.ErrAuthFailed
		}
		if !s.b.users.Authenticate(username, password) {
			return smtp.ErrAuthFailed
		}
		s.user = strings.ToLower(username)
		return nil
	}), nil
}

// errNUL refuses a message holding a NUL byte (RFC 5322 §3.5, RFC 6152 §2):
// no mailbox server could hand it intact to its reader, so neither the
// envelope nor the receipts carrying it could be verified (spool.Message.NUL).
var errNUL = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
	Message: "Message contains NUL characters, not allowed in Internet mail (RFC 5322)"}

// errAuthRequired is RFC 4954's 530 (go-smtp's own is 502; platform.md).
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message: "Authentication required"}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return errAuthRequired // APC-01
	}
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.user == "" {
		return errAuthRequired
	}
	s.to = append(s.to, to)
	return nil
}

// Data spools the message to a file as it arrives (a message over the size
// limit ends the read: 552, nothing kept), then runs the access point on it.
func (s *session) Data(r io.Reader) error {
	msg, err := s.b.point.Spool.Receive(nil, r)
	if err != nil {
		return err
	}
	defer msg.Release()
	if msg.NUL() {
		return errNUL
	}
	ctx, cancel := transaction() // from here on the client waits (budget.go)
	defer cancel()
	err = s.b.point.Accept(ctx, Submission{User: s.user, From: s.from, To: s.to, Message: msg})
	var rej *Rejection
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rej):
		return &smtp.SMTPError{Code: rej.Code, EnhancedCode: smtp.EnhancedCode(rej.Enhanced),
			Message: fmt.Sprintf("%s (%s)", rej.Reason, rej.Rule)}
	default:
		s.b.point.log().Error("submission failed", "role", "accesspoint", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Temporary failure, try again later"}
	}
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// ServeImplicitTLS serves srv on l wrapped in TLS (implicit TLS submission).
func ServeImplicitTLS(srv *smtp.Server, l net.Listener, cfg *tls.Config) error {
	return srv.Serve(tls.NewListener(l, cfg))
}
