package load

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/probe"
)

// submitter is one SMTP submission connection, authenticated as one account
// and kept for many transactions (it reconnects after a failure).
type submitter struct {
	ep    probe.Endpoint
	roots *x509.CertPool
	acct  probe.Account
	c     *smtp.Client
}

// Timeouts of one submission: each command, and the whole DATA.
const (
	commandTimeout    = time.Minute
	submissionTimeout = 5 * time.Minute
)

func (s *submitter) connect(ctx context.Context) error {
	c, err := probe.DialSubmission(ctx, s.ep, s.roots)
	if err != nil {
		return err
	}
	c.CommandTimeout, c.SubmissionTimeout = commandTimeout, submissionTimeout
	if err := c.Auth(sasl.NewPlainClient("", s.acct.Login(), s.acct.Password)); err != nil {
		c.Close()
		return fmt.Errorf("auth %s: %w", s.acct.Login(), err)
	}
	s.c = c
	return nil
}

// send submits m and returns the end of DATA (the terminating dot written)
// and the reply's arrival; the transaction's first error.
func (s *submitter) send(ctx context.Context, m *outMsg, eodSeen func(time.Time)) (eod, reply time.Time, err error) {
	if s.c == nil {
		if err := s.connect(ctx); err != nil {
			return time.Time{}, time.Now(), err
		}
	}
	stop := context.AfterFunc(ctx, func() { s.c.Close() })
	defer stop()
	err = s.transaction(m, func() {
		eod = time.Now()
		eodSeen(eod)
	})
	reply = time.Now()
	var se *smtp.SMTPError
	switch {
	case err == nil:
	case errors.As(err, &se) && se.Code != 421:
		// The server answered: the connection goes on after RSET.
		if s.c.Reset() != nil {
			s.drop()
		}
	default:
		s.drop()
	}
	return eod, reply, err
}

func (s *submitter) transaction(m *outMsg, beforeDot func()) error {
	if err := s.c.Mail(m.from, &smtp.MailOptions{Size: int64(len(m.data))}); err != nil {
		return err
	}
	for _, r := range m.to {
		if err := s.c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.data); err != nil {
		w.Close()
		return err
	}
	beforeDot()
	return w.Close()
}

func (s *submitter) drop() {
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
}

// close ends the session politely.
func (s *submitter) close() {
	if s.c != nil {
		_ = s.c.Quit()
		s.drop()
	}
}
