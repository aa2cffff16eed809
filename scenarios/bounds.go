package scenarios

import (
	"io"
	"net/http"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// The harness never trusts the target (issue 15): what the probe reads is
// bounded in probe (bound.go, imapbound.go); what the scenarios read over
// HTTP — the admin API, a published signed LDIF — is bounded here.

// largestMessage is the largest message the providers declare
// (max_message_bytes, or the published 50 MB): the probe's bound of an
// IMAP literal follows it (probe.WithMaxMessage).
func largestMessage(ps ...*probe.Target) int64 {
	var n int64
	for _, p := range ps {
		if p != nil {
			b, _ := p.Limits()
			n = max(n, b)
		}
	}
	return n
}

// HTTP bounds: the whole exchange (connection, headers, body) is also
// bounded by the step's context; these are the backstop.
const (
	httpTimeout   = 5 * time.Minute
	httpHeaderMax = 64 << 10
	adminBodyMax  = 1 << 20 // an admin API answer is a small JSON document
)

// targetHTTP is the client of every HTTP request to a target.
var targetHTTP = &http.Client{Timeout: httpTimeout, Transport: boundedTransport()}

func boundedTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = httpHeaderMax
	t.ResponseHeaderTimeout = httpTimeout
	return t
}

// readBody reads at most max octets of r; more is a harness error (the
// target sends more than such an answer can hold).
func readBody(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	switch {
	case err != nil:
		return nil, harnessf("%s: %w", what, err)
	case int64(len(data)) > max:
		return nil, harnessf("%s: %w: over %d octets, more than the harness reads", what, probe.ErrOverBound, max)
	}
	return data, nil
}
