package probe

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
)

// The checks of the preflight: each talks to one endpoint as the suite will,
// and fails with one of the harness errors of errors.go.

// CheckSubmission connects to a submission endpoint (TCP, TLS handshake and
// the certificate's name, greeting, EHLO) and authenticates as each account,
// one session each, ending with QUIT.
func CheckSubmission(ctx context.Context, ep Endpoint, roots *x509.CertPool, accts ...Account) error {
	for _, a := range accts {
		c, err := dialSMTP(ctx, ep, roots)
		if err != nil {
			return err
		}
		err = auth(ctx, c, ep, a)
		_ = c.Quit()
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckIMAP logs in as each account and selects its INBOX.
func CheckIMAP(ctx context.Context, ep Endpoint, roots *x509.CertPool, accts ...Account) error {
	for _, a := range accts {
		m, err := OpenMailbox(ctx, ep, roots, a)
		if err != nil {
			return err
		}
		m.Close()
	}
	return nil
}

// CheckPOP3 logs in as each account over POP3S and lists its messages.
func CheckPOP3(ctx context.Context, ep Endpoint, roots *x509.CertPool, accts ...Account) error {
	for _, a := range accts {
		p, err := DialPOP3(ctx, ep, roots, a)
		if err != nil {
			return err
		}
		_, err = p.UIDL()
		p.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckMX reads an MX's banner (220) and EHLO reply, and with STARTTLS
// (ep.TLS starttls, or empty) completes the handshake and checks the
// certificate's name; it sends no mail. An MX must not ask for AUTH: that is
// checked by the scenarios that relay to it.
func CheckMX(ctx context.Context, ep Endpoint, roots *x509.CertPool) error {
	if ep.TLS == "" {
		ep.TLS = TLSStartTLS
	}
	if ep.TLS == TLSImplicit {
		return fmt.Errorf("%w: MX %s: tls implicit: an MX offers STARTTLS on a plain connection (RFC 6109 §5.3)", ErrProtocol, ep.Addr())
	}
	c, err := dialSMTP(ctx, ep, roots)
	if err != nil {
		return err
	}
	_ = c.Quit() // closes the connection
	return nil
}

// HostHint names what a TLS failure means for the file's author: a
// certificate not valid for the host, or not chaining to the trust.
func HostHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate is valid for") || strings.Contains(msg, "IP SANs") ||
		strings.Contains(msg, "doesn't contain any"):
		return "the certificate does not name the host of the target file: issue it for that name or address (issue.tls when enrolling), or use a name it has"
	case strings.Contains(msg, "unknown authority"):
		return "the certificate does not chain to the target's trust: add its CA to trust in the target file"
	case strings.Contains(msg, "expired") || strings.Contains(msg, "not yet valid"):
		return "the certificate is outside its validity period"
	}
	return "check the TLS mode of the endpoint (implicit or starttls) and its certificate"
}
