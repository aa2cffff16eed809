package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// The preflight runs before the first scenario and checks everything the
// suite will need of the target, its counterpart and the external domain as
// the suite will use it — TCP, the TLS handshake and the certificate's name,
// AUTH with each account, IMAP login, the MX's banner — and the lab's view of
// the target: its route and its record in the index. A setup problem then
// ends the run at once with exit code 2 and one line naming the endpoint, the
// cause and a hint, before any scenario could be charged with it.

// preflightCheck is one check; the first failure in the list's order is the
// one reported.
type preflightCheck struct {
	what string // "acme submission 127.0.0.1:20465"
	run  func(ctx context.Context) error
}

// preflight runs the checks concurrently (a dead target costs one answer
// timeout) and reports the first failure in order.
func (r *runner) preflight(ctx context.Context) error {
	t := r.opts.Target
	if err := checkTargetFile(t); err != nil {
		return err
	}
	if t.Counterpart == nil && t.Peer == nil && t.External == nil && r.opts.Tags == "" {
		return &preflightError{fmt.Sprintf("preflight: %s: the target file names no counterpart, gamma or external domain, "+
			"which most scenarios need; hint: run with --lab DIR (the lab that enrolled it), or select scenarios with --tags", t.Name)}
	}
	checks := r.endpointChecks(t, "")
	if cp := t.Counterpart; cp != nil {
		checks = append(checks, r.endpointChecks(cp, "counterpart ")...)
	}
	if x := t.External; x != nil {
		checks = append(checks, externalChecks(x, r.trust)...)
	}
	checks = append(checks, r.labChecks(t)...)
	return runChecks(ctx, checks)
}

// externalChecks: the ordinary mail domain's IMAP login as every account,
// its MX's banner and STARTTLS.
func externalChecks(x *probe.Ordinary, trust *x509.CertPool) []preflightCheck {
	return []preflightCheck{
		{"external " + x.Domain + " imap " + x.IMAP.Addr(), func(ctx context.Context) error {
			return probe.CheckIMAP(ctx, x.IMAP, trust, x.Accounts...)
		}},
		{"external " + x.Domain + " mx " + x.MX.Addr(), func(ctx context.Context) error {
			return probe.CheckMX(ctx, x.MX, trust)
		}},
	}
}

// runChecks runs checks concurrently and reports the first failure in
// their order.
func runChecks(ctx context.Context, checks []preflightCheck) error {
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { errs[i] = c.run(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return &preflightError{fmt.Sprintf("preflight: %s: %s; hint: %s", checks[i].what, oneLine(err), hint(err))}
		}
	}
	return nil
}

// preflightError is one line: the endpoint, the cause, a hint. It is a
// harness error (errors.Is ErrHarness).
type preflightError struct{ msg string }

func (e *preflightError) Error() string { return e.msg }
func (e *preflightError) Unwrap() error { return ErrHarness }

// checkTargetFile checks what the scenarios need of the file itself.
func checkTargetFile(t *probe.Target) error {
	if err := checkCapabilities(t.Capabilities); err != nil {
		return err
	}
	if err := checkVirusMailbox(t); err != nil {
		return err
	}
	for _, h := range []string{"alice", "bob"} {
		if _, ok := t.Account(h); !ok {
			return &preflightError{fmt.Sprintf("preflight: %s: no account %q: the scenarios' users are alice and bob (name: alice on an account whose address differs)",
				t.Name, h)}
		}
	}
	if t.ReceiptsMailbox.Address == "" || t.ReceiptsMailbox.Password == "" {
		return &preflightError{fmt.Sprintf("preflight: %s: receipts_mailbox needs address and password (the suite reads the presa in carico there)",
			t.Name)}
	}
	return nil
}

// endpointChecks: submission with AUTH as every account, IMAP (and POP3,
// when given) login as every account and the receipts mailbox, the MX's
// banner and STARTTLS.
func (r *runner) endpointChecks(t *probe.Target, role string) []preflightCheck {
	name := role + t.Name
	boxes := append(append([]probe.Account(nil), t.Accounts...), t.ReceiptsMailbox)
	checks := []preflightCheck{
		{name + " submission " + t.Submission.Addr(), func(ctx context.Context) error {
			return probe.CheckSubmission(ctx, t.Submission, r.trust, t.Accounts...)
		}},
		{name + " imap " + t.IMAP.Addr(), func(ctx context.Context) error {
			return probe.CheckIMAP(ctx, t.IMAP, r.trust, boxes...)
		}},
		{name + " mx " + t.MX.Addr(), func(ctx context.Context) error {
			return probe.CheckMX(ctx, t.MX, r.trust)
		}},
	}
	if t.POP3.Port != 0 {
		checks = append(checks, preflightCheck{name + " pop3 " + t.POP3.Addr(), func(ctx context.Context) error {
			return probe.CheckPOP3(ctx, t.POP3, r.trust, boxes...)
		}})
	}
	return checks
}

// labChecks: the lab routes each of the target's domains to its MX (and
// its DNS says so), the index lists the target with its domains, and a
// declared controllable clock is one.
func (r *runner) labChecks(t *probe.Target) []preflightCheck {
	var checks []preflightCheck
	if lv := t.Lab; lv != nil {
		for _, d := range t.Domains {
			checks = append(checks, preflightCheck{"the lab's route to " + d, func(ctx context.Context) error {
				return checkRoute(ctx, lv, d, t.MX, r.trust)
			}})
		}
	}
	if t.LDAPURL != "" {
		checks = append(checks, preflightCheck{"the index " + t.LDAPURL, func(context.Context) error {
			return checkIndexed(t)
		}})
	}
	if r.declares("controllable-clock") {
		checks = append(checks, preflightCheck{t.Name + " admin API", func(ctx context.Context) error {
			_, err := r.clockControllable(ctx)
			return err
		}})
	}
	return checks
}

// errLab is a wrong view of the target in the lab.
var errLab = errors.New("lab")

// checkRoute: the lab's providers deliver domain to mx, and the lab's DNS
// answers for it.
func checkRoute(ctx context.Context, lv *probe.LabView, domain string, mx probe.Endpoint, roots *x509.CertPool) error {
	got, ok := lv.Routes[strings.ToLower(domain)]
	if !ok {
		got, ok = lv.Routes[domain]
	}
	if !ok {
		return fmt.Errorf("%w: the lab has no route for %s", errLab, domain)
	}
	if got != mx.Addr() {
		return fmt.Errorf("%w: the lab delivers %s to %s, the target's MX is %s", errLab, domain, got, mx.Addr())
	}
	if lv.DNS == "" {
		return nil
	}
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, lv.DNS)
	}}
	mxs, err := res.LookupMX(ctx, domain)
	if err != nil || len(mxs) == 0 {
		return fmt.Errorf("%w: the lab's DNS %s has no MX record for %s: %v", errLab, lv.DNS, domain, err)
	}
	if mx.Port != lv.MXPort {
		return nil // the lab's providers use a static route: they check the certificate against the host
	}
	// The lab's providers find this MX by its DNS name and check the
	// certificate against that name, as any provider routing by DNS does.
	named := mx
	named.TLSName = strings.TrimSuffix(mxs[0].Host, ".")
	if err := probe.CheckMX(ctx, named, roots); err != nil {
		return fmt.Errorf("as %s (its MX record): %w", named.TLSName, err)
	}
	return nil
}

// checkIndexed: the index has the target's record, with its domains.
func checkIndexed(t *probe.Target) error {
	ix, err := report.LoadIndex(t.LDAPURL)
	if err != nil {
		return fmt.Errorf("%w: %v", probe.ErrUnreachable, err)
	}
	for _, p := range ix.Providers {
		if !strings.EqualFold(p.Name, t.ProviderName) {
			continue
		}
		for _, d := range t.Domains {
			if !containsFold(p.Domains, d) {
				return fmt.Errorf("%w: the record of %q lacks managedDomains %s", errLab, t.ProviderName, d)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: no record for providerName %q", errLab, t.ProviderName)
}

// hint says what to do about a preflight failure.
func hint(err error) string {
	switch {
	case errors.Is(err, errLab):
		return "enrol this target in the running lab (pecspec lab up --enrol FILE --dir DIR) and run with --lab DIR"
	case errors.Is(err, probe.ErrUnreachable):
		return "nothing answers there: start the provider, or fix host and port in the target file"
	case errors.Is(err, probe.ErrNoAnswer):
		return "it accepts the connection but does not answer: check the port and the TLS mode (implicit or starttls), and that the server is not stuck"
	case errors.Is(err, probe.ErrTLS):
		return probe.HostHint(err)
	case errors.Is(err, probe.ErrLogin):
		return "check the account's password, and its username if it logs in with a name other than its address"
	case errors.Is(err, probe.ErrOverBound):
		return "it sends more than the protocol allows (the harness stopped reading and closed the connection): check that host and port are the provider's and not another service"
	case errors.Is(err, probe.ErrProtocol):
		return "the reply is not what the protocol expects: check the port and the TLS mode"
	}
	return "check the target file"
}

// oneLine keeps an error on one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
