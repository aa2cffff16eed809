package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
	"github.com/pecspec/pecspec/report"
)

// registerPeerSteps binds what gamma, the scriptable peer, sends the target:
// crafted envelopes (RFC 6109 §2.2.2 decision table at the receiver) and a
// rilevazione virus about one of the target's envelopes (§3.2.3–4).
func registerPeerSteps(sc stepRegistrar) {
	sc.Step(`^gamma sends a (correct|malformed|tampered) transport envelope from (\w+) at gamma to `+partyExpr+`$`, gammaSends)
	sc.Step(`^gamma sends a delivery receipt without certification data about a message from (\w+) at gamma to `+partyExpr+`$`, gammaSendsMalformedNotice)
	sc.Step(`^gamma sends a transport envelope carrying a test virus from (\w+) at gamma to `+partyExpr+`$`, gammaSendsVirus)
	sc.Step(`^a provider not in the index sends a transport envelope to `+partyExpr+`$`, unlistedSends)
	sc.Step(`^gamma reports a virus in the envelope for `+partyExpr+`$`, gammaReportsVirus)
	sc.Step(`^gamma takes charge of the envelope for `+partyExpr+`$`, gammaTakesCharge)
	sc.Step(`^gamma delivers the envelope to `+partyExpr+`$`, gammaDelivers)
	sc.Step(`^the envelope `+partyExpr+` received is altered in transit and sent again to the (?:target|counterpart)$`, envelopeAltered)
}

var crafts = map[string]peer.Craft{"correct": peer.Correct, "malformed": peer.Malformed, "tampered": peer.Tampered}

func gammaSends(ctx context.Context, how, handle, to string) error {
	return world(ctx).peerEnvelope(ctx, crafts[how], handle, to)
}

func gammaSendsMalformedNotice(ctx context.Context, handle, to string) error {
	return world(ctx).peerEnvelope(ctx, peer.MalformedNotice, handle, to)
}

func gammaSendsVirus(ctx context.Context, handle, to string) error {
	return world(ctx).peerEnvelope(ctx, peer.Virus, handle, to)
}

func unlistedSends(ctx context.Context, to string) error {
	return world(ctx).peerEnvelope(ctx, peer.Unlisted, "mittente", to)
}

// peerEnvelope has gamma build an envelope for an original from handle (a
// user of gamma, or of the unlisted provider) to one recipient, and send it
// to the recipient provider's MX with the original sender as reverse-path.
func (w *World) peerEnvelope(ctx context.Context, c peer.Craft, handle, to string) error {
	g := w.r.peer
	if g == nil {
		return harnessf("the target file names no peer (gamma)")
	}
	rcpt, err := w.party(to)
	if err != nil {
		return err
	}
	if rcpt.provider == nil {
		return harnessf("%s is not a user of a PEC provider", to)
	}
	if err := w.r.syncPeerClock(ctx); err != nil {
		return err
	}
	domain := g.Cfg.Domain
	if c == peer.Unlisted {
		domain = g.UnlistedDomain()
	}
	from := handle + "@" + domain
	id, original := probe.Original{From: from, To: []string{rcpt.Address()}, Subject: w.subject(),
		Body: "Messaggio di prova inviato da gamma, il gestore di prova di pecspec.\n"}.Build()
	env, err := g.Envelope(c, from, []string{rcpt.Address()}, w.subject(), id, original, fixtures.EICAR)
	if err != nil {
		return harnessf("gamma: %w", err)
	}
	w.sender, w.rcpts = &party{handle: handle, role: roleGamma, account: probe.Account{Address: from}}, []*party{rcpt}
	w.sub = report.Submission{Sender: from, To: []string{rcpt.Address()}, MessageID: id, Relayed: true}
	return w.relay(ctx, rcpt.provider, rcpt.provider.MX, craftRule[c], from, []string{rcpt.Address()}, env)
}

// craftRule is the rule an MX breaks by refusing what gamma crafted: a
// correct envelope is taken in charge (PIC-05), an infected one answered by
// a rilevazione virus (VIR-03), anything else delivered in a busta di
// anomalia (ANO-07).
var craftRule = map[peer.Craft]string{peer.Correct: "PIC-05", peer.Virus: "VIR-03", peer.Malformed: "ANO-07",
	peer.Tampered: "ANO-07", peer.Unlisted: "ANO-07", peer.MalformedNotice: "ANO-07"}

// relay keeps raw as sent evidence and sends it to ep, prov's MX. The
// target's refusal (its reply) breaks rule; the lab's counterpart refusing
// is a harness error, but in a cross-provider scenario, where the
// counterpart is judged too, a finding about it.
func (w *World) relay(ctx context.Context, prov *probe.Target, ep probe.Endpoint, rule, from string, rcpt []string, raw []byte) error {
	if rel, err := w.r.evidence.SaveSent(w.res.Name, raw); err == nil {
		w.res.Sent = append(w.res.Sent, rel)
	}
	if w.res.Submitted.IsZero() {
		w.res.Submitted = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	err := w.r.breaker.call(ep.Addr(), func() error { return probe.Relay(ctx, ep, w.r.trust, from, rcpt, raw) })
	se, ok := refusal(err)
	switch {
	case !ok:
		return err
	case prov != w.r.opts.Target && !w.interop():
		return harnessf("the lab's %s MX refused: %v", prov.Name, se)
	}
	return &ruleError{rule: rule, err: fmt.Errorf("the %s MX %s refused: %w", prov.Name, ep.Addr(), se)}
}

// gammaReportsVirus has gamma answer an envelope it received for rcpt with
// an avviso di rilevazione virus to the sending provider's mailReceipt (RFC
// 6109 §3.2.3): the sender's provider must then tell its user (§3.2.4).
func gammaReportsVirus(ctx context.Context, who string) error {
	return world(ctx).peerAnswers(ctx, who, "VIR-07", func(env *pec.Message, rcpt string, sp *probe.Target) (string, []byte, error) {
		raw, err := world(ctx).r.peer.VirusNotice(env, rcpt, sp.ReceiptsMailbox.Address)
		return sp.ReceiptsMailbox.Address, raw, err
	})
}

// gammaTakesCharge has gamma send the ricevuta di presa in carico for the
// envelope it received for rcpt (RFC 6109 §3.2.1). Gamma answers nothing
// unless a step tells it to: that is how the timeout cases withhold.
func gammaTakesCharge(ctx context.Context, who string) error {
	return world(ctx).peerAnswers(ctx, who, "TIM-02", func(env *pec.Message, rcpt string, sp *probe.Target) (string, []byte, error) {
		raw, err := world(ctx).r.peer.PresaInCarico(env, []string{rcpt}, sp.ReceiptsMailbox.Address)
		return sp.ReceiptsMailbox.Address, raw, err
	})
}

// gammaDelivers has gamma send the ricevuta di avvenuta consegna to the
// sender for rcpt (RFC 6109 §3.3.2).
func gammaDelivers(ctx context.Context, who string) error {
	return world(ctx).peerAnswers(ctx, who, "CON-02", func(env *pec.Message, rcpt string, _ *probe.Target) (string, []byte, error) {
		raw, err := world(ctx).r.peer.Consegna(env, rcpt)
		return strings.TrimSpace(env.Postacert.Intestazione.Mittente), raw, err
	})
}

// peerAnswers finds the envelope gamma captured for who in this scenario,
// builds gamma's answer with build and sends it to the sending provider's
// MX (the scenario's sender is a user of the target or the counterpart).
// The target refusing the answer breaks rule: what the answer was for.
func (w *World) peerAnswers(ctx context.Context, who, rule string,
	build func(env *pec.Message, rcpt string, sender *probe.Target) (to string, raw []byte, err error)) error {
	if w.r.peer == nil {
		return harnessf("the target file names no peer (gamma)")
	}
	rcpt, err := w.party(who)
	if err != nil {
		return err
	}
	var env *pec.Message
	for _, c := range w.caps {
		if m := pec.Parse(c.Raw); m.Kind() == pec.KindTrasporto && strings.EqualFold(c.Mailbox, rcpt.Address()) {
			env = m
		}
	}
	if env == nil || env.Postacert == nil {
		return harnessf("gamma has captured no envelope for %s in this scenario", rcpt.Address())
	}
	if w.sender == nil || w.sender.provider == nil {
		return harnessf("the scenario's sender is not a user of a PEC provider")
	}
	sp := w.sender.provider
	if err := w.r.syncPeerClock(ctx); err != nil {
		return err
	}
	to, raw, err := build(env, rcpt.Address(), sp)
	if err != nil {
		return harnessf("gamma: %w", err)
	}
	return w.relay(ctx, sp, sp.MX, rule, w.r.peer.Cfg.ServiceAddress, []string{to}, raw)
}

// savePeerInbox keeps everything gamma's MX received in the run, awaited by
// a step or not, as <out>/peer/<nn>.eml with <nn>.json: the SMTP transcript
// (reverse-path, recipients) and the TLS state of the connection.
func (r *runner) savePeerInbox() error {
	if r.peer == nil {
		return nil
	}
	dir := filepath.Join(r.opts.Out, "peer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	earlier, _ := filepath.Glob(filepath.Join(dir, "*.eml")) // a resumed run numbers on
	for i, m := range r.peer.All() {
		meta, _ := json.MarshalIndent(map[string]any{"mail_from": m.MailFrom, "rcpt_to": m.RcptTo, "tls": m.TLS, "received": m.At}, "", "  ")
		base := filepath.Join(dir, fmt.Sprintf("%03d", len(earlier)+i+1))
		if err := errors.Join(os.WriteFile(base+".eml", m.Raw, 0o644), os.WriteFile(base+".json", append(meta, '\n'), 0o644)); err != nil {
			return fmt.Errorf("%w: %v", ErrHarness, err)
		}
	}
	return nil
}
