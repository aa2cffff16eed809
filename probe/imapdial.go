package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2/imapclient"
)

// DialIMAP connects to ep as OpenMailbox does — per ep.TLS, within the
// answer timeout, reading through the bounds of imapbound.go — and returns
// the client before login: the load generator (probe/load) uses it.
func DialIMAP(ctx context.Context, ep Endpoint, roots *x509.CertPool, opts *imapclient.Options) (*imapclient.Client, error) {
	actx, cancel := context.WithTimeout(ctx, answerTimeout(ctx))
	defer cancel()
	c, _, err := dialIMAP(actx, ep, roots, opts, nil)
	return c, err
}

// dialIMAP connects per ep.TLS (implicit TLS by default, STARTTLS or
// none) within ctx and starts an imapclient on a bounded connection: the
// bounds apply to the IMAP text, above TLS. It returns the bounded
// connection too: its Err says why it stopped reading, which imapclient's
// errors do not keep.
func dialIMAP(ctx context.Context, ep Endpoint, roots *x509.CertPool, opts *imapclient.Options, rec *recorder) (*imapclient.Client, *boundedConn, error) {
	cfg := &tls.Config{RootCAs: roots, ServerName: ep.serverName(), MinVersion: tls.VersionTLS12}
	conn, err := dialTCP(ctx, ep)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	switch ep.TLS {
	case TLSNone:
	case TLSStartTLS:
		conn, err = imapStartTLS(ctx, conn, cfg, ep.Addr(), rec)
	default:
		tc := tls.Client(conn, cfg)
		if err = tc.HandshakeContext(ctx); err == nil {
			rec.note("implicit TLS: " + tlsVersion(tc))
		}
		conn, err = tc, classify(ctx, "TLS handshake with", ep.Addr(), err)
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	bc := boundIMAP(conn, literalMax(ctx))
	return imapclient.New(bc, opts), bc, nil
}

// imapStartTLS reads the greeting, runs STARTTLS (RFC 3501 §6.2.1) and the
// TLS handshake, bounded as every IMAP read. It returns the TLS connection
// with a greeting replayed in front: imapclient starts by waiting for one,
// and none follows STARTTLS. Data the server sends after its OK, before the
// handshake, is refused (an injection, RFC 2595 §3.1).
func imapStartTLS(ctx context.Context, conn net.Conn, cfg *tls.Config, addr string, rec *recorder) (net.Conn, error) {
	plain := rec.wrap(boundIMAP(conn, IMAPLineMax))
	r := bufio.NewReaderSize(plain, 4096)
	greeting, err := r.ReadString('\n')
	if err == nil && !strings.HasPrefix(strings.ToUpper(greeting), "* OK") {
		err = fmt.Errorf("%w: IMAP greeting of %s on a plain connection: %q, want * OK", ErrProtocol, addr, strings.TrimSpace(greeting))
	}
	if err == nil {
		_, err = io.WriteString(plain, "S STARTTLS\r\n")
	}
	for err == nil {
		var line string
		if line, err = r.ReadString('\n'); err == nil && strings.HasPrefix(line, "S ") {
			if !strings.HasPrefix(strings.ToUpper(line), "S OK") {
				return conn, fmt.Errorf("%w: IMAP STARTTLS at %s: %s", ErrProtocol, addr, strings.TrimSpace(line))
			}
			break
		}
	}
	if err == nil && r.Buffered() > 0 {
		err = fmt.Errorf("%w: IMAP STARTTLS at %s: the server sent data after its OK, before TLS", ErrProtocol, addr)
	}
	if err != nil {
		return conn, classify(ctx, "IMAP STARTTLS at", addr, err)
	}
	rec.unwrap(plain)
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return conn, classify(ctx, "TLS handshake (STARTTLS) with", addr, err)
	}
	rec.note("STARTTLS: " + tlsVersion(tc))
	return &greeted{Conn: tc, pre: strings.NewReader(resumeGreeting)}, nil
}

// resumeGreeting is what imapclient reads first after imapStartTLS: the
// harness's, not the server's (the transcript shows it).
const resumeGreeting = "* OK [pecspec] TLS started: no greeting follows STARTTLS\r\n"

// greeted reads pre, then the connection.
type greeted struct {
	net.Conn
	pre *strings.Reader
}

func (g *greeted) Read(p []byte) (int, error) {
	if g.pre.Len() > 0 {
		return g.pre.Read(p)
	}
	return g.Conn.Read(p)
}
