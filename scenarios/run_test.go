package scenarios

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/pecspec/pecspec/probe"
)

// TestUnreachableTargetIsHarnessError: a target nobody listens for is exit 2, not a conformance failure.
func TestUnreachableTargetIsHarnessError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nobody listens there now
	ep := probe.Endpoint{Host: "127.0.0.1", Port: port, TLS: probe.TLSImplicit}
	target := &probe.Target{Name: "ghost", Domains: []string{"pec.ghost.test"}, ServiceAddress: "posta-certificata@pec.ghost.test",
		Submission: ep, IMAP: ep, MX: ep, Accounts: []probe.Account{{Address: "a@pec.ghost.test", Password: "x"}}}
	_, err := Run(context.Background(), Options{Target: target, Out: t.TempDir()})
	if !errors.Is(err, ErrHarness) {
		t.Errorf("err = %v, want ErrHarness", err)
	}
}
