package accesspoint

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/reference/netguard"
)

// Users authenticates submitting accounts (RFC 6109 §5.2).
type Users interface {
	Authenticate(address, password string) bool
}

// NewServer returns the submission server (RFC 4409 / RFC 6409, RFC 6109 §3.1):
// AUTH PLAIN is required before MAIL, and only over TLS (RFC 6109 §5.3; go-smtp
// refuses cleartext AUTH). Serve it on a netguard.TLS listener for implicit
// TLS (port 465 style); with TLSConfig set on a plain listener it offers
// STARTTLS. Failed authentications go through auth (nil: not throttled).
func NewServer(p *Point, users Users, auth *netguard.Throttle, tlsConfig *tls.Config, domain string, debug io.Writer) *smtp.Server {
	s := smtp.NewServer(&backend{point: p, users: users, auth: auth, domain: domain})
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
	point  *Point
	users  Users
	auth   *netguard.Throttle
	domain string
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, conn: c, peer: netguard.Peer(c.Conn().RemoteAddr())}, nil
}

// session is one client connection.
type session struct {
	b    *backend
	conn *smtp.Conn
	peer netip.Addr
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth checks AUTH PLAIN credentials (RFC 4954, RFC 4616). A failure waits
// the throttle's delay before its 535; an address or account over the
// throttle's limits gets refused without a check (refused).
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.b.auth.Allowed(s.peer, "") {
		return nil, s.refused()
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if !s.b.auth.Allowed(s.peer, username) {
			return s.refused()
		}
		if identity != "" && !strings.EqualFold(identity, username) || !s.b.users.Authenticate(username, password) {
			s.b.auth.Failed(s.peer, username)
			return smtp.ErrAuthFailed
		}
		s.b.auth.Succeeded(s.peer, username)
		s.user = strings.ToLower(username)
		return nil
	}), nil
}

// refused ends the session after too many failed authentications: 421,
// closing the transmission channel (RFC 5321 §3.8), policy status 4.7.0
// (RFC 3463 §3.8); the connection is closed after the reply.
func (s *session) refused() error {
	netguard.HangUp(s.conn.Conn())
	return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: s.b.domain + " too many failed authentications, try again later"}
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
