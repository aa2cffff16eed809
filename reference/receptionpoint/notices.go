package receptionpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/txlog"
)

// notice handles a correct receipt or notice from a listed provider (RFC 6109
// §2.2.2): it is delivered unmodified, without a receipt (CON-08). On the
// sender's side it also ends or advances the timers of the message it is about
// (RFC 6109 §3.1.6), and a rilevazione virus makes this provider tell its user
// with an avviso di mancata consegna per virus (RFC 6109 §3.2.4, VIR-07).
func (p *Point) notice(ctx context.Context, in Incoming, m *pec.Message) error {
	ctx, err := beforeCommit(ctx)
	if err != nil {
		return err
	}
	pc := m.Postacert
	if err := p.Delivery.Plain(once.About(ctx, "avviso", ""), p.local(in.To), in.Data); err != nil {
		return err
	}
	rec := compose.NewRecord(txlog.EventRicezioneAvviso, compose.FactsFrom(pc), strings.TrimSpace(pc.Dati.GestoreEmittente), in.Data)
	rec.Time, rec.Subject = p.Clock.Now(), m.Header("Subject")
	rec.Tipo, rec.Consegna = string(pc.Tipo), aboutRecipient(pc)
	if err := p.record(ctx, rec); err != nil {
		return err
	}
	id := strings.TrimSpace(pc.Dati.Identificativo)
	about := aboutRecipient(pc)
	switch m.Kind() {
	case pec.KindPresaInCarico:
		err = p.track(func(t Tracker) error { return t.TakenInCharge(id, pc.Dati.Ricezione) })
	case pec.KindAvvenutaConsegna, pec.KindErroreConsegna:
		err = p.track(func(t Tracker) error { return t.Outcome(id, about) })
	case pec.KindRilevazioneVirus:
		if err = p.track(func(t Tracker) error { return t.Outcome(id, about) }); err == nil {
			err = p.virusToUser(ctx, m)
		}
	}
	return err
}

func (p *Point) track(f func(Tracker) error) error {
	if p.Tracker == nil {
		return nil
	}
	return f(p.Tracker)
}

// virusToUser sends the avviso di mancata consegna per virus to the original
// sender when that sender is one of this provider's users.
func (p *Point) virusToUser(ctx context.Context, rv *pec.Message) error {
	ctx = once.About(ctx, "mancata-consegna-virus", aboutRecipient(rv.Postacert))
	msg, rec, err := p.erroreConsegnaVirus(rv)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	sender := rec.Sender
	if !p.Local(sender) {
		p.log().Warn("rilevazione virus about a message of another provider", "role", "receptionpoint",
			"sender", sender)
		return nil
	}
	if err := p.Delivery.Plain(ctx, []string{sender}, msg); err != nil {
		return err
	}
	return p.record(ctx, rec)
}

// aboutRecipient is the recipient a per-recipient notice is about: consegna,
// else the first ricezione (a rilevazione virus may use either, pec-rules A15).
func aboutRecipient(pc *pec.Postacert) string {
	if c := pec.Deref(pc.Dati.Consegna); c != "" {
		return c
	}
	if len(pc.Dati.Ricezione) > 0 {
		return strings.TrimSpace(pc.Dati.Ricezione[0])
	}
	return ""
}
