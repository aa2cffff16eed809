package probe

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
)

// TestHostileTargets: whatever a target sends — SMTP reply lines without
// end (before or under TLS), one endless line, an IMAP line or literal
// without end, a flood of untagged responses, a server dripping one octet
// at a time — the probe returns a harness error naming the endpoint within
// the answer timeout, and its heap stays bounded (issue 15: a "220-" flood
// once drove pecspec to 12.6 GB).
func TestHostileTargets(t *testing.T) {
	ca := testpki.NewCA(t)
	srvTLS := ca.ServerTLS(t)
	acct := Account{Address: "alice@pec.acme.test", Password: "secret"}
	const answer = 2 * time.Second
	ctx := WithAnswerTimeout(context.Background(), answer)
	smtp := func(ep Endpoint) error { return CheckSubmission(ctx, ep, ca.Pool, acct) }
	imap := func(ep Endpoint) error { return CheckIMAP(ctx, ep, ca.Pool, acct) }
	login := afterLine // IMAP: the greeting, then what follows the client's LOGIN
	for _, tc := range []struct {
		name  string
		tls   string
		serve func(c net.Conn)
		probe func(ep Endpoint) error
		want  error
	}{
		{"smtp 220- lines", TLSNone, func(c net.Conn) { endless(c, "", "220-pecspec hostile\r\n") }, smtp, ErrOverBound},
		{"smtp 220- lines under TLS", TLSImplicit, overTLS(srvTLS, func(c net.Conn) { endless(c, "", "220-x\r\n") }), smtp, ErrOverBound},
		{"smtp 250- lines after EHLO", TLSNone, afterLine("220 hostile\r\n", func(c net.Conn) { endless(c, "", "250-X\r\n") }), smtp, ErrOverBound},
		{"smtp one endless line", TLSNone, func(c net.Conn) { endless(c, "220 ", "") }, smtp, ErrProtocol},
		{"smtp drip", TLSNone, func(c net.Conn) { drip(c, "220-drip\r\n") }, smtp, ErrNoAnswer},
		{"smtp plaintext 220- lines", TLSNone, func(c net.Conn) { endless(c, "", "220-x\r\n") },
			func(ep Endpoint) error { return SubmitPlaintext(ctx, ep, acct) }, ErrOverBound},
		{"imap endless greeting", TLSNone, func(c net.Conn) { endless(c, "* OK ", "") }, imap, ErrOverBound},
		{"imap endless line under TLS", TLSImplicit, overTLS(srvTLS, func(c net.Conn) { endless(c, "* OK ", "") }), imap, ErrOverBound},
		{"imap endless line after STARTTLS", TLSStartTLS, imapStartTLSThen(srvTLS, func(c net.Conn) { endless(c, "* OK ", "") }), imap, ErrOverBound},
		{"imap huge literal", TLSNone, login("* OK hostile\r\n", func(c net.Conn) { endless(c, "* 1 FETCH (BODY[] {999999999999}\r\n", "") }), imap, ErrOverBound},
		{"imap endless literals", TLSNone, login("* OK hostile\r\n", func(c net.Conn) { endless(c, "* 1 FETCH (UID 1 BODY[] {1}\r\n", "x BODY[] {1}\r\n") }), imap, ErrOverBound},
		{"imap untagged flood", TLSNone, login("* OK hostile\r\n", func(c net.Conn) { endless(c, "", "* 1 EXISTS\r\n") }), imap, ErrNoAnswer},
		{"imap drip", TLSNone, func(c net.Conn) { drip(c, "* OK drip\r\n") }, imap, ErrNoAnswer},
		{"pop3 endless line", TLSNone, func(c net.Conn) { endless(c, "+OK ", "") },
			func(ep Endpoint) error { return CheckPOP3(ctx, ep, ca.Pool, acct) }, ErrOverBound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := hostile(t, tc.tls, tc.serve)
			var err error
			start := time.Now()
			grew := heapGrowth(func() { err = tc.probe(ep) })
			took := time.Since(start)
			t.Logf("%v, heap +%d MiB, process VmHWM %s: %v", took.Round(time.Millisecond), grew>>20, vmHWM(), err)
			if !IsHarness(err) || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), ep.Addr()) {
				t.Errorf("err = %v; want a harness error (%v) naming %s", err, tc.want, ep.Addr())
			}
			if took > answer+3*time.Second {
				t.Errorf("took %v with a %v answer timeout", took, answer)
			}
			if grew > 64<<20 {
				t.Errorf("the heap grew by %d MiB", grew>>20)
			}
		})
	}
}
