package accesspoint

import (
	"context"
	"fmt"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/tracker"
	"github.com/pecspec/pecspec/reference/txlog"
)

// trackedOf is what the tracker keeps of an accepted message.
func trackedOf(a *accepted) tracker.Dispatch {
	d := tracker.Dispatch{ID: a.facts.ID, MsgID: a.msgid, Subject: a.facts.Subject, Sender: a.facts.Sender,
		ReplyTo: a.replyTo, Instant: a.facts.Instant}
	for _, r := range a.facts.Recipients {
		d.Recipients = append(d.Recipients, tracker.Party{Address: r.Address, Certified: r.Certified})
	}
	return d
}

// Preavviso composes and stores in the sender's mailbox the avviso di mancata
// consegna per superamento dei tempi massimi for one recipient (RFC 6109
// §3.1.6; TIM-01, TIM-06, TIM-07): hours is 12 or 24. It goes to the sender
// (pec-rules A4), with consegna = the recipient, errore nessuno (A16) and no
// original. It is the tracker's Emit.
func (p *Point) Preavviso(ctx context.Context, d tracker.Dispatch, rcpt string, hours int) error {
	now := p.Clock.Now()
	f := compose.Facts{Instant: now, Subject: d.Subject, Sender: d.Sender, Recipient: rcpt, ID: d.ID}
	for _, r := range d.Recipients {
		f.Recipients = append(f.Recipients, compose.Recipient{Address: r.Address, Certified: r.Certified})
	}
	dc := p.Sealer.Postacert(pec.TipoPreavvisoErroreConsegna, pec.ErroreNessuno, f, d.ReplyTo, d.MsgID)
	dc.Dati.Consegna = pec.Str(rcpt)
	msg, rec, err := p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaPreavvisoErroreConsegna,
		Prefix:   pec.SubjectPreavviso,
		To:       d.Sender,
		Text:     compose.TextPreavviso(f, hours),
		Daticert: dc,
		RefMsgID: d.MsgID,
		Subject:  d.Subject,
		Instant:  now,
	}, txlog.EventPreavviso, p.Sealer.ProviderName)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if err := p.Out.Deliver(ctx, d.Sender, msg); err != nil {
		return fmt.Errorf("%w: deliver preavviso: %v", ErrTemporary, err)
	}
	return p.record(ctx, rec)
}
