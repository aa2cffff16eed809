package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
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
// STARTTLS per ep.TLS, AUTH PLAIN, MAIL FROM from, RCPT TO rcpt. A zero acct
// submits without authenticating (APC-01 probes that the target refuses it).
func Submit(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account, from string, rcpt []string, msg []byte) error {
	c, err := dialSMTP(ctx, ep, roots)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if acct.Address != "" {
		if err := c.Auth(sasl.NewPlainClient("", acct.Address, acct.Password)); err != nil {
			return fmt.Errorf("%w: auth %s: %w", ErrSubmit, acct.Address, err)
		}
	}
	return send(c, from, rcpt, msg)
}

// Relay sends msg to a provider's MX as another mail server would: STARTTLS
// when ep says so, no authentication.
func Relay(ctx context.Context, ep Endpoint, roots *x509.CertPool, from string, rcpt []string, msg []byte) error {
	return Submit(ctx, ep, roots, Account{}, from, rcpt, msg)
}

// send runs one transaction, declaring the message's SIZE (RFC 1870) so
// the server can read it into one buffer.
func send(c *smtp.Client, from string, rcpt []string, msg []byte) error {
	if err := c.Mail(from, &smtp.MailOptions{Size: int64(len(msg))}); err != nil {
		return fmt.Errorf("%w: %w", ErrSubmit, err)
	}
	for _, r := range rcpt {
		if err := c.Rcpt(r, nil); err != nil {
			return fmt.Errorf("%w: %w", ErrSubmit, err)
		}
	}
	w, err := c.Data()
	if err == nil {
		_, err = w.Write(msg)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSubmit, err)
	}
	// DATA was answered 250: the message is accepted, whatever QUIT gets.
	_ = c.Quit()
	return nil
}

// dialSMTP connects per ep.TLS: implicit TLS (default), STARTTLS or none.
func dialSMTP(ctx context.Context, ep Endpoint, roots *x509.CertPool) (*smtp.Client, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: ep.Host, MinVersion: tls.VersionTLS12}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var c *smtp.Client
	var conn net.Conn
	var err error
	switch ep.TLS {
	case TLSStartTLS, TLSNone:
		if conn, err = d.DialContext(ctx, "tcp", ep.Addr()); err == nil {
			if ep.TLS == TLSStartTLS {
				c, err = smtp.NewClientStartTLS(conn, cfg)
			} else {
				c = smtp.NewClient(conn)
			}
		}
	default:
		if conn, err = (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", ep.Addr()); err == nil {
			c = smtp.NewClient(conn)
		}
	}
	if err != nil {
		if c != nil {
			c.Close()
		} else if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("%w: connect %s: %w", ErrSubmit, ep.Addr(), err)
	}
	return c, nil
}

// ErrPlainAccepted is returned by SubmitPlaintext when the server let the
// client authenticate without TLS.
var ErrPlainAccepted = errors.New("probe: the server accepted AUTH without TLS")

// SubmitPlaintext tries to authenticate over a plain TCP connection, as a
// client that skips TLS would (APC-02, RFC 6109 §5.3). It speaks first
// (EHLO without waiting for a greeting), so an implicit-TLS port fails the
// handshake at once instead of both sides waiting. It returns nil when the
// server refused: it closed the connection, answered something else than an
// SMTP greeting, or answered AUTH with an error. It returns ErrPlainAccepted
// when AUTH succeeded.
func SubmitPlaintext(ctx context.Context, ep Endpoint, acct Account) error {
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", ep.Addr())
	if err != nil {
		return fmt.Errorf("%w: connect %s: %w", ErrSubmit, ep.Addr(), err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// A connection the server closes or resets, or a reply that is not
	// SMTP, is a refusal; running out of time is not an answer (an error).
	refused := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: no answer from %s: %w", ErrSubmit, ep.Addr(), ctx.Err())
		}
		return nil
	}
	if _, err := conn.Write([]byte("EHLO probe.pecspec.test\r\n")); err != nil {
		return refused(err)
	}
	r := bufio.NewReader(conn)
	// The greeting, then the EHLO reply: each ends with a final line.
	for range 2 {
		code, err := readReply(r)
		if err != nil {
			return refused(err)
		}
		if code != 220 && code != 250 {
			return nil
		}
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + acct.Address + "\x00" + acct.Password))
	if _, err := conn.Write([]byte("AUTH PLAIN " + auth + "\r\n")); err != nil {
		return refused(err)
	}
	code, err := readReply(r)
	switch {
	case err != nil:
		return refused(err)
	case code == 235:
		return ErrPlainAccepted
	}
	return nil
}

// readReply reads one (possibly multi-line) SMTP reply and returns its code.
func readReply(r *bufio.Reader) (int, error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if len(line) < 4 {
			return 0, fmt.Errorf("%w: short reply %q", ErrSubmit, line)
		}
		// "NNN-text" continues; "NNN text", or a bare "NNN" line, ends it.
		code := 0
		for _, c := range []byte(line[:3]) {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%w: reply %q", ErrSubmit, line)
			}
			code = code*10 + int(c-'0')
		}
		if line[3] != '-' {
			return code, nil
		}
	}
}

// OffersStartTLS connects to ep in plaintext and reports whether its EHLO
// reply announces STARTTLS (RFC 3207).
func OffersStartTLS(ctx context.Context, ep Endpoint) (bool, error) {
	ep.TLS = TLSNone
	c, err := dialSMTP(ctx, ep, nil)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if err := c.Hello("probe.pecspec.test"); err != nil {
		return false, fmt.Errorf("%w: EHLO: %w", ErrSubmit, err)
	}
	ok, _ := c.Extension("STARTTLS")
	_ = c.Quit()
	return ok, nil
}
