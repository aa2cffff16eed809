package receptionpoint

import (
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/reference/once"
)

// NewServer returns the MX (RFC 6109 §5.3; OPS-02): it announces STARTTLS and
// also accepts plaintext connections, for ordinary mail. It accepts
// recipients of this provider's domains only (no relay).
func NewServer(p *Point, tlsConfig *tls.Config, domain string, debug io.Writer) *smtp.Server {
	s := smtp.NewServer(&backend{point: p, busy: &once.Busy{}})
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
	busy  *once.Busy // keys being processed
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{point: b.point, busy: b.busy, tls: isTLS, remote: c.Conn().RemoteAddr().String(), helo: c.Hostname()}, nil
}

type session struct {
	point  *Point
	busy   *once.Busy
	tls    bool
	remote string
	helo   string
	from   string
	to     []string
}

var errRelay = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
	Message: "Relaying denied: not a domain of this provider"}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.point.Local(to) {
		return errRelay
	}
	s.to = append(s.to, to)
	return nil
}

// Data receives one message and processes it before answering, under an
// idempotency scope keyed by its bytes and recipients: a sender that
// retries after a crash ate the 250 gets every output exactly once (package
// once). The same key arriving while in progress gets 451.
func (s *session) Data(r io.Reader) error {
	tr := trace(s.helo, s.remote, s.point.host(), s.tls, s.point.Clock.Now())
	// Spooled to a file as it arrives, then mapped read-only: the message's
	// bytes are the file's pages (clean, reclaimable by the kernel), never a
	// copy on the heap, however large.
	msg, err := s.point.Spool.Receive(tr, r)
	if err != nil {
		return err
	}
	defer msg.Release()
	if msg.NUL() {
		// RFC 5322 §3.5, RFC 6152 §2: no mailbox server could hand it
		// intact to its reader (spool.Message.NUL).
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: "Message contains NUL characters, not allowed in Internet mail (RFC 5322)"}
	}
	data, unmap, err := msg.Map()
	if err != nil {
		s.point.log().Error("reception failed", "role", "receptionpoint", "remote", s.remote, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure"}
	}
	defer unmap()
	key := once.Key(s.to, data[len(tr):])
	release, ok := s.busy.Acquire(key)
	if !ok {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "The same message is being processed; try again later"}
	}
	defer release()
	ctx, cancel := transaction() // from here on the sender waits (budget.go)
	defer cancel()
	ctx = once.With(ctx, key)
	err = s.point.Receive(ctx, Incoming{From: s.from, To: s.to, Data: data, Remote: s.remote, TLS: s.tls})
	if err == nil {
		return nil
	}
	s.point.log().Error("reception failed", "role", "receptionpoint", "remote", s.remote, "err", err)
	switch {
	case errors.Is(err, ErrTemporary):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure"}
	case errors.Is(err, ErrRefused):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: strings.TrimPrefix(err.Error(), ErrRefused.Error()+": ")}
	}
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 3, 0}, Message: "Message refused"}
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }
