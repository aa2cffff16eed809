package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Failures that say nothing about the target's conformance: the probe could
// not reach it or talk to it. The run reports them as harness errors (exit
// code 2) with the endpoint, never as a verdict.
var (
	ErrUnreachable = errors.New("probe: unreachable")   // no TCP connection
	ErrNoAnswer    = errors.New("probe: no answer")     // connected, no reply within the answer timeout
	ErrTLS         = errors.New("probe: TLS")           // handshake failed, or the certificate is not valid for the host
	ErrLogin       = errors.New("probe: login refused") // the account's credentials were refused
	ErrProtocol    = errors.New("probe: protocol")      // the reply is not the protocol, or the server closed the connection
)

// IsHarness reports whether err is one of the failures above.
func IsHarness(err error) bool {
	for _, e := range []error{ErrUnreachable, ErrNoAnswer, ErrTLS, ErrLogin, ErrProtocol} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// DefaultAnswerTimeout bounds each exchange of the connection phase (TCP,
// TLS handshake, greeting, EHLO, AUTH, IMAP LOGIN) and each reply of a
// command: a provider answers within seconds; only the wait for a message
// uses the step's own deadline.
const DefaultAnswerTimeout = 20 * time.Second

type answerKey struct{}

// WithAnswerTimeout sets the answer timeout of the probe calls made with ctx.
func WithAnswerTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, answerKey{}, d)
}

// answerTimeout is ctx's answer timeout.
func answerTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(answerKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultAnswerTimeout
}

// classify names a failure of talking to addr: a timeout or a connection
// closed because a deadline passed is ErrNoAnswer, a TLS or certificate
// failure ErrTLS, a reset or an early close ErrProtocol, as is a reply over
// a bound (bound.go). Replies of the server (*smtp.SMTPError, IMAP NO/BAD)
// are left to the caller; an error already classified is kept.
func classify(ctx context.Context, what, addr string, err error) error {
	switch {
	case err == nil:
		return nil
	case IsHarness(err):
		return err
	case errors.Is(err, ErrOverBound):
		return fmt.Errorf("%w: %s %s: %w", ErrProtocol, what, addr, err)
	case isTLS(err):
		return fmt.Errorf("%w: %s %s: %w", ErrTLS, what, addr, err)
	case ctx.Err() != nil || isTimeout(err):
		return fmt.Errorf("%w: %s %s: no reply within %v", ErrNoAnswer, what, addr, answerTimeout(ctx))
	case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%w: %s %s: %w", ErrUnreachable, what, addr, err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: %s %s: the server closed the connection: %w", ErrProtocol, what, addr, err)
	}
	return fmt.Errorf("%w: %s %s: %w", ErrProtocol, what, addr, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func isTLS(err error) bool {
	var (
		host   x509.HostnameError
		auth   x509.UnknownAuthorityError
		inval  x509.CertificateInvalidError
		verify *tls.CertificateVerificationError
		rec    tls.RecordHeaderError
		alert  tls.AlertError
	)
	return errors.As(err, &host) || errors.As(err, &auth) || errors.As(err, &inval) || errors.As(err, &verify) ||
		errors.As(err, &rec) || errors.As(err, &alert)
}
