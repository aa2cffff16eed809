package load

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/pecspec/pecspec/probe"
)

// HarnessError is a problem of the set-up, not a finding on the provider:
// an endpoint that does not answer, credentials it refuses. cmd/pecspec turns
// it into exit code 2 with one line naming the endpoint and a hint.
type HarnessError struct {
	What     string // "submission of alpha", "imap of beta"
	Endpoint string // host:port
	Err      error
	Hint     string
}

func (e *HarnessError) Error() string {
	s := fmt.Sprintf("%s at %s: %v", e.What, e.Endpoint, e.Err)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *HarnessError) Unwrap() error { return e.Err }

// dialIMAP connects to ep per its TLS mode (implicit by default), with the
// target's CAs, reading through the probe's bounds (the harness never
// trusts the target: probe/imapbound.go).
func dialIMAP(ctx context.Context, ep probe.Endpoint, roots *x509.CertPool, opts *imapclient.Options) (*imapclient.Client, error) {
	return probe.DialIMAP(ctx, ep, roots, opts)
}
