package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ErrSubmit wraps every submission failure; an *smtp.SMTPError inside keeps
// the server's code (errors.As).
var ErrSubmit = errors.New("probe: submit")

// Submit sends msg as the user acct over SMTP submission: implicit TLS or
// STARTTLS per ep.TLS, AUTH PLAIN, MAIL FROM from, RCPT TO rcpt.
func Submit(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account, from string, rcpt []string, msg []byte) error {
	cfg := &tls.Config{RootCAs: roots, ServerName: ep.Host, MinVersion: tls.VersionTLS12}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var c *smtp.Client
	var err error
	switch ep.TLS {
	case TLSStartTLS, TLSNone:
		var conn net.Conn
		if conn, err = d.DialContext(ctx, "tcp", ep.Addr()); err == nil {
			if ep.TLS == TLSStartTLS {
				c, err = smtp.NewClientStartTLS(conn, cfg)
			} else {
				c = smtp.NewClient(conn)
			}
		}
	default:
		var conn net.Conn
		if conn, err = (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", ep.Addr()); err == nil {
			c = smtp.NewClient(conn)
		}
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		return fmt.Errorf("%w: connect %s: %w", ErrSubmit, ep.Addr(), err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Auth(sasl.NewPlainClient("", acct.Address, acct.Password)); err != nil {
		return fmt.Errorf("%w: auth %s: %w", ErrSubmit, acct.Address, err)
	}
	if err := c.SendMail(from, rcpt, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("%w: %w", ErrSubmit, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("%w: quit: %w", ErrSubmit, err)
	}
	return nil
}
