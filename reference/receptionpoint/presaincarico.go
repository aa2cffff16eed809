package receptionpoint

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/txlog"
)

// envelope handles a correct busta di trasporto (RFC 6109 §3.2.1): one ricevuta
// di presa in carico covering this provider's recipients goes to the sender
// provider's mailReceipt, then the envelope goes to the delivery point.
func (p *Point) envelope(ctx context.Context, in Incoming, m *pec.Message, sender *index.Provider) error {
	mine := p.local(in.To)
	res, err := p.infected(ctx, in.Data)
	if err != nil {
		return err
	}
	if ctx, err = beforeCommit(ctx); err != nil {
		return err
	}
	if !res.Infected {
		res = p.simulatedVirus(mine)
	}
	if res.Infected {
		return p.virusFound(ctx, in, m, sender, mine, res)
	}
	// What a withheld step reads later: the received bytes are the spool's
	// mapping, gone when Receive returns, so a hold takes a copy (detach).
	raw, msg, copied := in.Data, m, false
	detach := func() {
		if !copied {
			raw, copied = bytes.Clone(raw), true
			msg = pec.Parse(raw)
		}
	}
	takeCharge := func(ctx context.Context) error {
		ctx = once.About(ctx, "presa-in-carico", "")
		m := msg
		receipt, rec, err := p.presaInCarico(m, mine, sender)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrTemporary, err)
		}
		if err := p.Out.Send(ctx, p.Sealer.ServiceAddress, []string{sender.MailReceipt}, receipt); err != nil {
			return fmt.Errorf("%w: queue presa in carico: %v", ErrTemporary, err)
		}
		if err := p.record(ctx, rec); err != nil {
			return err
		}
		p.log().Info("taken in charge", "role", "receptionpoint", "pec_id", m.Postacert.Dati.Identificativo,
			"provider", sender.Name, "rcpt", len(mine))
		return nil
	}
	if p.held(StepPresaInCarico, m, takeCharge) {
		detach()
	} else if err := takeCharge(ctx); err != nil {
		return err
	}
	deliver := func(ctx context.Context) error {
		return p.Delivery.Envelope(ctx, Envelope{Raw: raw, Message: msg, ReturnPath: in.From, Recipients: mine})
	}
	if p.held(StepConsegna, msg, deliver) {
		detach()
		return nil
	}
	return deliver(ctx)
}

func (p *Point) held(step Step, m *pec.Message, later func(context.Context) error) bool {
	if p.Holds == nil || !p.Holds.Hold(step, m, later) {
		return false
	}
	p.log().Info("withheld", "role", "receptionpoint", "step", step, "pec_id", m.Postacert.Dati.Identificativo)
	return true
}

// presaInCarico composes the ricevuta di presa in carico (RFC 6109 §3.2.1,
// PIC-01…04): to the sender provider's service mailbox, all recipients in the
// intestazione, one ricezione per recipient it covers.
func (p *Point) presaInCarico(m *pec.Message, covered []string, sender *index.Provider) ([]byte, *txlog.Record, error) {
	f := compose.FactsFrom(m.Postacert)
	f.Instant = p.Clock.Now()
	d := p.Sealer.Postacert(pec.TipoPresaInCarico, pec.ErroreNessuno, f,
		strings.TrimSpace(m.Postacert.Intestazione.Risposte), pec.Deref(m.Postacert.Dati.Msgid))
	d.Dati.Ricezione = covered
	return p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaPresaInCarico,
		Prefix:   pec.SubjectPresaInCarico,
		To:       sender.MailReceipt,
		Text:     compose.TextPresaInCarico(f),
		Daticert: d,
		RefMsgID: m.Header(pec.HeaderRiferimentoMsgID),
		Subject:  f.Subject,
		Instant:  f.Instant,
	}, txlog.EventPresaInCarico, sender.Name)
}
