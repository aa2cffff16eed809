package scenarios

import (
	"context"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
)

// tagInterop marks the cross-provider scenarios: the target sends and the
// counterpart receives, and both are providers being judged — `pecspec
// matrix` runs them once per ordered pair of providers.
const tagInterop = "@interop"

// interop reports whether the scenario is a cross-provider one: a refusal by
// the counterpart is then a finding about it, not a fault of the lab.
func (w *World) interop() bool { return slices.Contains(w.res.Tags, tagInterop) }

// envelopeAltered takes the envelope who received in this scenario, alters
// one byte of its signed content as a fault in transit would, and sends it
// again to the MX of who's provider from the original sender: the receiver
// must find the signature broken and deliver the copy in a busta di
// anomalia (RFC 6109 §2.2.2, §3.2.2). Its MX refusing the copy breaks ANO-07.
func envelopeAltered(ctx context.Context, who string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	if p.provider == nil {
		return harnessf("%s is not a user of a PEC provider", who)
	}
	var env []byte
	for _, c := range w.caps {
		if strings.EqualFold(c.Mailbox, p.Address()) && pec.Parse(c.Raw).Kind() == pec.KindTrasporto {
			env = c.Raw
		}
	}
	if env == nil {
		return harnessf("no transport envelope for %s was captured in this scenario", p.Address())
	}
	altered, err := probe.Tamper(env)
	if err != nil {
		return harnessf("%v", err)
	}
	from := w.sub.Sender
	if w.sender != nil {
		from = w.sender.Address()
	}
	return w.relay(ctx, p.provider, p.provider.MX, "ANO-07", from, []string{p.Address()}, altered)
}
