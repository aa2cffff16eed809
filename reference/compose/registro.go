package compose

import (
	"context"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Registro is the provider's transaction log (RFC 6109 §2.3): Append is
// durable when it returns.
type Registro interface {
	Append(ctx context.Context, rec *txlog.Record) error
}

// Log appends rec to reg; a nil registro or record logs nothing. Callers log
// after what the record describes is durable, so the registro never records
// an event that did not happen.
func Log(ctx context.Context, reg Registro, rec *txlog.Record) error {
	if reg == nil || rec == nil {
		return nil
	}
	return reg.Append(ctx, rec)
}

// NewRecord is the registro record of an event of the transaction f (RFC 6109
// §2.3, LOG-01): its time is f.Instant, the instant the generated messages
// carry (RFC 6109 §4.1, LOG-03); related are the generated messages, whose
// Message-IDs it lists. provider is the sending provider of the original.
func NewRecord(ev txlog.Event, f Facts, provider string, related ...[]byte) *txlog.Record {
	rec := &txlog.Record{Time: f.Instant, Event: ev, MsgID: f.ID, Sender: f.Sender, Subject: f.Subject,
		Provider: provider, Consegna: f.Recipient, ErroreEsteso: f.Error}
	for _, r := range f.Recipients {
		rec.Recipients = append(rec.Recipients, r.Address)
	}
	for _, msg := range related {
		if id := MessageID(msg); id != "" {
			rec.Related = append(rec.Related, id)
		}
	}
	return rec
}

// MessageID is the Message-ID of a composed message, read from its header.
func MessageID(msg []byte) string {
	h, _ := SplitMessage(msg)
	return strings.TrimSpace(h.Get("Message-ID"))
}

// SealEvent seals n like Seal and returns with it the registro record of the
// event: the daticert's facts, its tipo, errore, errore-esteso, ricevuta type
// and consegna, and the sealed message's Message-ID as related.
func (s *Sealer) SealEvent(n Notice, ev txlog.Event, provider string) ([]byte, *txlog.Record, error) {
	msg, err := s.Seal(n)
	if err != nil {
		return nil, nil, err
	}
	return msg, eventRecord(n, ev, provider, msg), nil
}

// eventRecord is SealEvent's record of n sealed as msg (its header at least).
func eventRecord(n Notice, ev txlog.Event, provider string, msg []byte) *txlog.Record {
	d := n.Daticert
	f := FactsFrom(d)
	f.Instant = n.Instant
	f.Subject = n.Subject
	rec := NewRecord(ev, f, provider, msg)
	rec.Tipo = string(d.Tipo)
	if d.Errore != "" && d.Errore != pec.ErroreNessuno {
		rec.Errore = string(d.Errore)
	}
	rec.Consegna = pec.Deref(d.Dati.Consegna)
	rec.ErroreEsteso = pec.Deref(d.Dati.ErroreEsteso)
	if d.Dati.Ricevuta != nil {
		rec.TipoRicevuta = string(d.Dati.Ricevuta.Tipo)
	}
	return rec
}
