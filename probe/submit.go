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

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ErrSubmit wraps every submission failure; an *smtp.SMTPError inside keeps
// the server's code (errors.As).
var ErrSubmit = errors.New("probe: submit")

// Submit sends msg as the user acct over SMTP submission: implicit TLS or
// STARTTLS per ep.TLS, AUTH PLAIN, MAIL FROM from, RCPT TO rcpt. A zero acct
// submits without authenticating (APC-01 probes that the target refuses it).
// The server's refusal of MAIL, RCPT or DATA is an *smtp.SMTPError wrapped
// in ErrSubmit (its answer to the submission itself); not reaching it, TLS
// trouble, a refused login or silence are the harness errors of errors.go.
func Submit(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account, from string, rcpt []string, msg []byte) error {
	c, err := dialSMTP(ctx, ep, roots)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if acct.Address != "" {
		if err := auth(ctx, c, ep, acct); err != nil {
			return err
		}
	}
	return send(ctx, c, ep, from, rcpt, msg)
}

// Relay sends msg to a provider's MX as another mail server would: STARTTLS
// when ep says so, no authentication.
func Relay(ctx context.Context, ep Endpoint, roots *x509.CertPool, from string, rcpt []string, msg []byte) error {
	return Submit(ctx, ep, roots, Account{}, from, rcpt, msg)
}

// auth runs AUTH PLAIN as acct (its login name, RFC 4616 authcid); a
// refusal is ErrLogin, never the target's answer to a submission.
func auth(ctx context.Context, c *smtp.Client, ep Endpoint, acct Account) error {
	err := c.Auth(sasl.NewPlainClient("", acct.Login(), acct.Password))
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		// %v, not %w: a refused login must never read as the server's
		// answer to a submission (errors.As *smtp.SMTPError).
		return fmt.Errorf("%w: AUTH as %s at %s: %v", ErrLogin, acct.Login(), ep.Addr(), err)
	}
	return classify(ctx, "AUTH at", ep.Addr(), err)
}

// send runs one transaction, declaring the message's SIZE (RFC 1870) so
// the server can read it into one buffer.
func send(ctx context.Context, c *smtp.Client, ep Endpoint, from string, rcpt []string, msg []byte) error {
	reply := func(err error) error {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: %w", ErrSubmit, err)
		}
		return classify(ctx, "SMTP at", ep.Addr(), err)
	}
	if err := c.Mail(from, &smtp.MailOptions{Size: int64(len(msg))}); err != nil {
		return reply(err)
	}
	for _, r := range rcpt {
		if err := c.Rcpt(r, nil); err != nil {
			return reply(err)
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
		return reply(err)
	}
	// DATA was answered 250: the message is accepted, whatever QUIT gets.
	_ = c.Quit()
	return nil
}

// dialSMTP connects per ep.TLS (implicit TLS by default, STARTTLS or none)
// and exchanges greeting and EHLO, each within the answer timeout; every
// failure is a harness error (errors.go).
func dialSMTP(ctx context.Context, ep Endpoint, roots *x509.CertPool) (*smtp.Client, error) {
	answer := answerTimeout(ctx)
	actx, cancel := context.WithTimeout(ctx, answer)
	defer cancel()
	rec := newRecorder(ctx, "smtp", ep.Addr())
	conn, err := dialTCP(actx, ep)
	if err != nil {
		rec.note(err.Error())
		return nil, err
	}
	conn = boundSMTP(conn)
	cfg := &tls.Config{RootCAs: roots, ServerName: ep.serverName(), MinVersion: tls.VersionTLS12}
	if ep.TLS != TLSStartTLS && ep.TLS != TLSNone {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(actx); err != nil {
			conn.Close()
			rec.note("TLS handshake failed: " + err.Error())
			return nil, classify(actx, "TLS handshake with", ep.Addr(), err)
		}
		rec.note("implicit TLS: " + tlsVersion(tc))
		conn = tc
	}
	var c *smtp.Client
	stop := context.AfterFunc(actx, func() { conn.Close() })
	if ep.TLS == TLSStartTLS {
		// greeting, EHLO and STARTTLS (recorded from the plaintext
		// connection); the handshake runs with the next EHLO
		rc := rec.wrap(conn)
		c, err = smtp.NewClientStartTLS(rc, cfg)
		rec.unwrap(rc)
	} else {
		c = smtp.NewClient(conn)
	}
	if c != nil && rec != nil {
		c.DebugWriter = rec // above TLS: every line after the handshake
	}
	if err == nil {
		c.CommandTimeout = answer
		c.SubmissionTimeout = 10 * answer // DATA: the message is scanned, signed and stored before the reply
		err = c.Hello("probe.pecspec.test")
	}
	if !stop() && err == nil {
		err = actx.Err() // the deadline closed the connection just as the exchange ended
	}
	if err != nil {
		conn.Close()
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: greeting or EHLO of %s: %w", ErrProtocol, ep.Addr(), err)
		}
		return nil, classify(actx, "greeting, EHLO or STARTTLS of", ep.Addr(), err)
	}
	return c, nil
}

// dialTCP opens the TCP connection: failing is ErrUnreachable.
func dialTCP(ctx context.Context, ep Endpoint) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", ep.Addr())
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s: %w", ErrUnreachable, ep.Addr(), err)
	}
	return conn, nil
}

// ErrPlainAccepted is returned by SubmitPlaintext when the server let the
// client authenticate without TLS.
var ErrPlainAccepted = errors.New("probe: the server accepted AUTH without TLS")

// SubmitPlaintext tries to authenticate over a plain TCP connection, as a
// client that skips TLS would (APC-02, RFC 6109 §5.3). It speaks first
// (EHLO without waiting for a greeting), so an implicit-TLS port fails the
// handshake at once instead of both sides waiting. It returns nil when the
// server refused: it closed the connection, answered something else than an
// SMTP greeting, or answered AUTH with a refusal (530, 538, 523, 502, 504:
// no authentication here, or not without encryption). It returns
// ErrPlainAccepted when AUTH succeeded, and ErrLogin when the server answered
// that the credentials are wrong (535): a failed login says nothing about
// plaintext. Silence is ErrNoAnswer, a reply over SMTPReplyMax ErrProtocol.
func SubmitPlaintext(ctx context.Context, ep Endpoint, acct Account) error {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout(ctx))
	defer cancel()
	conn, err := dialTCP(ctx, ep)
	if err != nil {
		return err
	}
	rec := newRecorder(ctx, "smtp", ep.Addr())
	rec.note("plaintext connection, no TLS")
	conn = rec.wrap(boundSMTP(conn))
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// A connection the server closes or resets, or a reply that is not
	// SMTP, is a refusal; running out of time, or a reply without end
	// (bound.go), is not an answer.
	refused := func(err error) error {
		if ctx.Err() != nil || errors.Is(err, ErrOverBound) {
			return classify(ctx, "plaintext SMTP to", ep.Addr(), err)
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
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + acct.Login() + "\x00" + acct.Password))
	if _, err := conn.Write([]byte("AUTH PLAIN " + auth + "\r\n")); err != nil {
		return refused(err)
	}
	code, err := readReply(r)
	switch {
	case err != nil:
		return refused(err)
	case code == 235:
		return ErrPlainAccepted
	case code == 535:
		return fmt.Errorf("%w: AUTH as %s without TLS at %s answered 535 (credentials invalid): a failed login, not a refusal of plaintext",
			ErrLogin, acct.Login(), ep.Addr())
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
	ok, _ := c.Extension("STARTTLS")
	_ = c.Quit()
	return ok, nil
}
