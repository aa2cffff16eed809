package peer

import (
	"crypto/tls"
	"io"
	"time"

	"github.com/emersion/go-smtp"
)

// backend is gamma's MX: it takes every message for its domain, as a
// provider's reception point would, and keeps it with the transcript.
type backend struct{ p *Peer }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{p: b.p, tls: "none"}
	if st, ok := c.TLSConnectionState(); ok {
		s.tls = tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
	}
	return s, nil
}

type session struct {
	p    *Peer
	tls  string
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.p.Manages(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "not a mailbox of this provider"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data stores the message with a Return-Path line carrying the reverse-path,
// as a final-delivery MTA does (RFC 5321 §4.4): TRN-15 compares it with the
// original sender.
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, s.p.srv.MaxMessageBytes+1))
	if err != nil {
		return err
	}
	raw := append([]byte("Return-Path: <"+s.from+">\r\n"), data...)
	s.p.deliver(Received{MailFrom: s.from, RcptTo: append([]string(nil), s.to...), TLS: s.tls, Raw: raw, At: time.Now()})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
