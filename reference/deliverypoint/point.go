// Package deliverypoint implements the punto di consegna of the reference
// provider (RFC 6109 §2.2.3, §3.3): it stores messages unmodified in the
// recipients' mailboxes and, for a correct busta di trasporto only, returns a
// ricevuta di avvenuta consegna per recipient (RFC 6109 §3.3.2) or an avviso di
// mancata consegna when the mailbox cannot take it (RFC 6109 §3.3.3).
package deliverypoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Store is the mailbox store (Maildir). Deliver is durable when it returns;
// within a replayable reception it delivers each output once (package once).
type Store interface {
	Deliver(ctx context.Context, address string, msg []byte) error
	// DeliverFile is Deliver for a large message in the spool (streamed).
	DeliverFile(ctx context.Context, address string, msg *spool.Message) error
	Exists(address string) bool
	// Fits reports whether a message of size bytes fits in the mailbox.
	Fits(address string, size int) bool
}

// Sender queues a receipt for SMTP delivery (durable when it returns).
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
	// SendFile queues a large message composed in the spool by reference.
	SendFile(ctx context.Context, from string, to []string, msg *spool.Message) error
}

// Point is one delivery point.
type Point struct {
	Sealer *compose.Sealer
	Store  Store
	Out    Sender
	Clock  clock.Clock
	// Registro records every event (RFC 6109 §2.3); nil records none.
	Registro compose.Registro
	Log      *slog.Logger
	// Spool is where receipts carrying a large original are composed.
	Spool *spool.Dir
}

// Envelope is a verified busta di trasporto for this provider's recipients.
type Envelope struct {
	Raw        []byte
	Message    *pec.Message
	ReturnPath string
	Recipients []string
}

// ErrTemporary marks a failure of the store or the queue.
var ErrTemporary = errors.New("deliverypoint: temporary failure")

// Plain stores msg unmodified in each recipient's mailbox (RFC 6109 §2.2.3):
// notices and anomaly envelopes, which get no receipt (CON-08, ANO-08).
// Unknown mailboxes are skipped and logged: no notice is due for them.
func (p *Point) Plain(ctx context.Context, recipients []string, msg []byte) error {
	return p.plain(recipients, func(r string) error { return p.Store.Deliver(ctx, r, msg) })
}

// PlainFile is Plain for a large message in the spool, streamed to each
// mailbox.
func (p *Point) PlainFile(ctx context.Context, recipients []string, msg *spool.Message) error {
	return p.plain(recipients, func(r string) error { return p.Store.DeliverFile(ctx, r, msg) })
}

func (p *Point) plain(recipients []string, deliver func(rcpt string) error) error {
	for _, r := range recipients {
		if !p.Store.Exists(r) {
			p.log().Warn("no such mailbox", "role", "deliverypoint", "rcpt", r)
			continue
		}
		if err := deliver(r); err != nil {
			return fmt.Errorf("%w: deliver to %s: %v", ErrTemporary, r, err)
		}
	}
	return nil
}

// Envelope delivers a correct busta di trasporto to each recipient and sends
// one receipt per recipient to the original sender (RFC 6109 §3.3.2.1, DM
// art.6 c.7).
func (p *Point) Envelope(ctx context.Context, env Envelope) error {
	to := senderOf(env)
	for _, r := range env.Recipients {
		ctx := once.About(ctx, "consegna", r) // the outputs for r, named after r (package once)
		var receipt []byte
		var rec *txlog.Record
		var err error
		switch {
		case !p.Store.Exists(r):
			receipt, rec, err = p.erroreConsegna(env, r, pec.ErroreNoDest,
				"5.1.1 - "+p.Sealer.ProviderName+" - casella di posta inesistente")
		case !p.Store.Fits(r, len(env.Raw)):
			receipt, rec, err = p.erroreConsegna(env, r, pec.ErroreAltro,
				"5.2.2 - "+p.Sealer.ProviderName+" - casella di posta piena")
		default:
			if err := p.Store.Deliver(ctx, r, env.Raw); err != nil {
				return fmt.Errorf("%w: deliver to %s: %v", ErrTemporary, r, err)
			}
			rec, err = p.sendConsegna(ctx, env, r, to)
		}
		if err := p.tell(ctx, to, receipt, rec, err); err != nil {
			return err
		}
		p.log().Info("delivered", "role", "deliverypoint", "pec_id", env.Message.Postacert.Dati.Identificativo, "rcpt", r)
	}
	return nil
}

// tell queues a receipt or notice composed for the sender (msg nil: it was
// queued already, as sendConsegna does), then records it; err is the
// composition's.
func (p *Point) tell(ctx context.Context, to string, msg []byte, rec *txlog.Record, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if msg != nil {
		if err := p.Out.Send(ctx, p.Sealer.ServiceAddress, []string{to}, msg); err != nil {
			return fmt.Errorf("%w: queue receipt: %v", ErrTemporary, err)
		}
	}
	if err := compose.Log(ctx, p.Registro, rec); err != nil {
		return fmt.Errorf("%w: registro: %v", ErrTemporary, err)
	}
	return nil
}

// Undeliverable tells the sender of an envelope this provider sent that it
// could not be delivered to rcpt, an esterno recipient whose mail server
// refused it for good, cannot be reached, or did not take it within the
// queue's lifetime: an avviso di mancata consegna from the sender's own
// provider, as the recipient's delivery point would send one (RFC 6109
// §3.3.3, §2.2.2 "so that an error reaches the user"; pec-rules A21, the
// reference's §10 choice: never silence). errore and esteso as for a mailbox
// the recipient's provider could not deliver to (ERR-02, pec-rules A24).
func (p *Point) Undeliverable(ctx context.Context, env Envelope, rcpt string, errore pec.Errore, esteso string) error {
	ctx = once.About(ctx, "errore-consegna", rcpt)
	notice, rec, err := p.erroreConsegna(env, rcpt, errore, esteso)
	if err := p.tell(ctx, senderOf(env), notice, rec, err); err != nil {
		return err
	}
	p.log().Warn("undeliverable", "role", "deliverypoint", "pec_id", env.Message.Postacert.Dati.Identificativo,
		"rcpt", rcpt, "errore", errore, "reason", esteso)
	return nil
}

func (p *Point) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
