package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrPOP3 wraps POP3 failures: the server's -ERR, a malformed or oversized
// reply, a connection that broke or stayed silent.
var ErrPOP3 = errors.New("probe: pop3")

// errPOP3Negative marks a -ERR reply (RFC 1939 §3).
var errPOP3Negative = errors.New("-ERR")

// Bounds on what a POP3 server may send (the harness never trusts a target).
const (
	pop3LineMax    = 1000     // a status line (RFC 1939 §3 allows 512)
	pop3MessageMax = 80 << 20 // one multi-line reply: above the largest message a provider accepts
	pop3Timeout    = 30 * time.Second
)

// POP3 is a session with a user's maildrop over POP3 (RFC 1939), as a mail
// client would read it: the same messages IMAP shows, byte for byte.
type POP3 struct {
	conn net.Conn
	r    *bufio.Reader
	addr string
}

// DialPOP3 connects to ep (implicit TLS, RFC 8314; STLS, RFC 2595; or
// plain), reads the greeting and logs in with USER and PASS (the account's
// login name), each exchange within the answer timeout. A refused login is
// ErrLogin; not reaching the server, TLS trouble and silence are the
// harness errors of errors.go.
func DialPOP3(ctx context.Context, ep Endpoint, roots *x509.CertPool, acct Account) (*POP3, error) {
	actx, cancel := context.WithTimeout(ctx, answerTimeout(ctx))
	defer cancel()
	cfg := &tls.Config{RootCAs: roots, ServerName: ep.serverName(), MinVersion: tls.VersionTLS12}
	conn, err := dialTCP(actx, ep)
	if err != nil {
		return nil, err
	}
	if ep.TLS == TLSImplicit || ep.TLS == "" {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(actx); err != nil {
			conn.Close()
			return nil, classify(actx, "TLS handshake with", ep.Addr(), err)
		}
		conn = tc
	}
	p := &POP3{conn: conn, r: bufio.NewReaderSize(conn, 4096), addr: ep.Addr()}
	stop := context.AfterFunc(actx, func() { conn.Close() })
	defer stop()
	if err := p.start(actx, ep, cfg, acct); err != nil {
		p.conn.Close()
		return nil, err
	}
	return p, nil
}

func (p *POP3) start(ctx context.Context, ep Endpoint, cfg *tls.Config, acct Account) error {
	if _, err := p.status(); err != nil {
		return classify(ctx, "POP3 greeting at", ep.Addr(), err)
	}
	if ep.TLS == TLSStartTLS {
		if _, err := p.cmd("STLS"); err != nil {
			return classify(ctx, "POP3 STLS at", ep.Addr(), err)
		}
		tc := tls.Client(p.conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify(ctx, "TLS handshake with", ep.Addr(), err)
		}
		p.conn, p.r = tc, bufio.NewReaderSize(tc, 4096)
	}
	if _, err := p.cmd("USER " + acct.Login()); err != nil {
		return pop3LoginError(ctx, ep, acct, err)
	}
	if _, err := p.cmd("PASS " + acct.Password); err != nil {
		return pop3LoginError(ctx, ep, acct, err)
	}
	return nil
}

// pop3LoginError: a -ERR to USER or PASS is a refused login; anything else
// is classified as a failure to talk to the server.
func pop3LoginError(ctx context.Context, ep Endpoint, acct Account, err error) error {
	if errors.Is(err, errPOP3Negative) {
		return fmt.Errorf("%w: POP3 login as %s at %s: %v", ErrLogin, acct.Login(), ep.Addr(), err)
	}
	return classify(ctx, "POP3 login at", ep.Addr(), err)
}

// Close ends the session with QUIT (no message is deleted: none was marked).
func (p *POP3) Close() error {
	_, _ = p.cmd("QUIT")
	return p.conn.Close()
}

// UIDL lists every message's number and unique-id (RFC 1939 §7).
func (p *POP3) UIDL() (map[int]string, error) {
	data, err := p.multi("UIDL")
	if err != nil {
		return nil, p.fail("POP3 UIDL", err)
	}
	out := map[int]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if line == "" {
			continue
		}
		num, uid, ok := strings.Cut(line, " ")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n <= 0 || uid == "" || len(uid) > 70 {
			return nil, fmt.Errorf("%w: bad UIDL line %q", ErrPOP3, line)
		}
		out[n] = uid
	}
	return out, nil
}

// Top returns the header of message n and the first lines of its body (RFC
// 1939 §7).
func (p *POP3) Top(n, lines int) ([]byte, error) {
	data, err := p.multi(fmt.Sprintf("TOP %d %d", n, lines))
	return data, p.fail("POP3 TOP", err)
}

// Retr returns message n, byte for byte (dot-stuffing undone).
func (p *POP3) Retr(n int) ([]byte, error) {
	data, err := p.multi(fmt.Sprintf("RETR %d", n))
	return data, p.fail("POP3 RETR", err)
}

// fail sorts a failure of a command after login: the server's -ERR is its
// answer (ErrPOP3); a reply over a bound, silence or a broken connection
// are the harness errors of errors.go.
func (p *POP3) fail(what string, err error) error {
	if err == nil || errors.Is(err, errPOP3Negative) {
		return err
	}
	return classify(WithAnswerTimeout(context.Background(), pop3Timeout), what+" at", p.addr, err)
}

// cmd sends one command and reads its one-line status.
func (p *POP3) cmd(line string) (string, error) {
	p.conn.SetDeadline(time.Now().Add(pop3Timeout))
	if _, err := io.WriteString(p.conn, line+"\r\n"); err != nil {
		return "", fmt.Errorf("%w: %w", ErrPOP3, err)
	}
	return p.status()
}

// status reads a "+OK …" or "-ERR …" line; -ERR is an error.
func (p *POP3) status() (string, error) {
	p.conn.SetDeadline(time.Now().Add(pop3Timeout))
	line, err := readLine(p.r, pop3LineMax)
	if err != nil {
		return "", err
	}
	s := string(bytes.TrimRight(line, "\r\n"))
	switch {
	case strings.HasPrefix(s, "+OK"):
		return s, nil
	case strings.HasPrefix(s, "-ERR"):
		return "", fmt.Errorf("%w: %w: %s", ErrPOP3, errPOP3Negative, s)
	}
	return "", fmt.Errorf("%w: reply %q is neither +OK nor -ERR", ErrPOP3, s)
}

// multi sends a command whose +OK is followed by a multi-line response.
func (p *POP3) multi(line string) ([]byte, error) {
	if _, err := p.cmd(line); err != nil {
		return nil, err
	}
	return readMultiline(p.r, pop3MessageMax)
}

// readMultiline reads the lines of a multi-line response up to the "."
// line (RFC 1939 §3), undoing the dot-stuffing; each line keeps its CRLF.
// More than max bytes in all is an error: a hostile server cannot make the
// harness hold more.
func readMultiline(r *bufio.Reader, max int) ([]byte, error) {
	var out bytes.Buffer
	for {
		line, err := readLine(r, max-out.Len()+1)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(line, []byte(".\r\n")) || bytes.Equal(line, []byte(".\n")) {
			return out.Bytes(), nil
		}
		if line[0] == '.' {
			line = line[1:]
		}
		if out.Len()+len(line) > max {
			return nil, fmt.Errorf("%w: %w: a response over %s", ErrPOP3, ErrOverBound, size(int64(max)))
		}
		out.Write(line)
	}
}

// readLine reads one line, its end included, of at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, fmt.Errorf("%w: %w: a line over %d octets", ErrPOP3, ErrOverBound, max)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, fmt.Errorf("%w: connection closed: %w", ErrPOP3, err)
		default:
			return nil, fmt.Errorf("%w: %w", ErrPOP3, err)
		}
	}
}
