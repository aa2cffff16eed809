package probe

import (
	"context"
	"crypto/x509"

	"github.com/emersion/go-smtp"
)

// DialSubmission connects to a submission endpoint per ep.TLS (implicit TLS,
// STARTTLS or none), as Submit does, and returns the client unauthenticated:
// the load generator (probe/load) keeps it for many transactions.
func DialSubmission(ctx context.Context, ep Endpoint, roots *x509.CertPool) (*smtp.Client, error) {
	return dialSMTP(ctx, ep, roots)
}

// ServerName is the name ep's TLS certificate is checked against: tls_name,
// else the host.
func (e Endpoint) ServerName() string { return e.serverName() }
