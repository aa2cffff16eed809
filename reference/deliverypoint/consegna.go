package deliverypoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/txlog"
)

// receiptType chooses the receipt a recipient gets (RFC 6109 §3.3.2.1–3,
// CON-04…07): the type the original asked for (daticert ricevuta, which
// mirrors X-TipoRicevuta; completa when absent) for a To recipient, sintetica for
// a Cc-only recipient; a recipient in both To and Cc is primary (CON-07).
func receiptType(env Envelope, rcpt string) pec.TipoRicevuta {
	tipo := pec.TipoCompleta
	if r := env.Message.Postacert.Dati.Ricevuta; r != nil && r.Tipo.Valid() {
		tipo = r.Tipo
	}
	h, _ := compose.SplitMessage(env.Raw)
	in := func(field string) bool {
		for _, a := range h.Addresses(field) {
			if strings.EqualFold(a, rcpt) {
				return true
			}
		}
		return false
	}
	if !in("To") && in("Cc") {
		return pec.TipoSintetica
	}
	return tipo
}

// sendConsegna composes the ricevuta di avvenuta consegna for rcpt and
// queues it to the sender to: in memory, or, when it carries a large
// original (completa), streamed into the spool and queued by reference.
func (p *Point) sendConsegna(ctx context.Context, env Envelope, rcpt, to string) (*txlog.Record, error) {
	n := p.consegna(env, rcpt)
	if len(n.Original) <= compose.Large {
		msg, rec, err := p.Sealer.SealEvent(n, txlog.EventConsegna, providerOf(env))
		if err != nil {
			return nil, err
		}
		return rec, p.Out.Send(ctx, p.Sealer.ServiceAddress, []string{to}, msg)
	}
	msg, rec, err := p.Sealer.SealEventTo(p.Spool, n, txlog.EventConsegna, providerOf(env))
	if err != nil {
		return nil, err
	}
	if err := p.Out.SendFile(ctx, p.Sealer.ServiceAddress, []string{to}, msg); err != nil {
		msg.Release()
		return nil, fmt.Errorf("queue receipt: %w", err)
	}
	return rec, nil
}

// consegna composes the ricevuta di avvenuta consegna for one recipient (RFC
// 6109 §3.3.2; CON-01, CON-03): completa carries the original as delivered
// (postacert.eml of the envelope, CON-04), sintetica carries none (CON-06).
// breve carries it with its named parts replaced by their hashes (BRV-01…06).
func (p *Point) consegna(env Envelope, rcpt string) compose.Notice {
	tipo := receiptType(env, rcpt)
	f := compose.FactsFrom(env.Message.Postacert)
	f.Instant = p.Clock.Now()
	f.Recipient = rcpt
	d := p.Sealer.Postacert(pec.TipoAvvenutaConsegna, pec.ErroreNessuno, f,
		strings.TrimSpace(env.Message.Postacert.Intestazione.Risposte), msgid(env))
	d.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: tipo}
	d.Dati.Consegna = pec.Str(rcpt)
	var original []byte
	switch {
	case env.Message.Original == nil || tipo == pec.TipoSintetica:
	case tipo == pec.TipoBreve:
		original = breve(env.Message.Original.Body)
	default:
		original = env.Message.Original.Body
	}
	return compose.Notice{
		Ricevuta: pec.RicevutaAvvenutaConsegna,
		Prefix:   pec.SubjectAvvenutaConsegna,
		To:       senderOf(env),
		Text:     compose.TextConsegna(f, tipo),
		Daticert: d,
		Original: original,
		RefMsgID: env.Message.Header(pec.HeaderRiferimentoMsgID),
		Subject:  f.Subject,
		Instant:  f.Instant,
	}
}

// erroreConsegna composes the avviso di mancata consegna for one recipient
// (RFC 6109 §3.3.3; ERR-01, ERR-02).
func (p *Point) erroreConsegna(env Envelope, rcpt string, errore pec.Errore, esteso string) ([]byte, *txlog.Record, error) {
	f := compose.FactsFrom(env.Message.Postacert)
	f.Instant = p.Clock.Now()
	f.Recipient = rcpt
	f.Error = esteso
	d := p.Sealer.Postacert(pec.TipoErroreConsegna, errore, f,
		strings.TrimSpace(env.Message.Postacert.Intestazione.Risposte), msgid(env))
	d.Dati.Consegna = pec.Str(rcpt)
	d.Dati.ErroreEsteso = pec.Str(esteso)
	return p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaErroreConsegna,
		Prefix:   pec.SubjectErroreConsegna,
		To:       senderOf(env),
		Text:     compose.TextErroreConsegna(f),
		Daticert: d,
		RefMsgID: env.Message.Header(pec.HeaderRiferimentoMsgID),
		Subject:  f.Subject,
		Instant:  f.Instant,
	}, txlog.EventMancataConsegna, providerOf(env))
}

// providerOf is the sending provider: the gestore-emittente of the envelope.
func providerOf(env Envelope) string {
	return strings.TrimSpace(env.Message.Postacert.Dati.GestoreEmittente)
}

func msgid(env Envelope) string {
	if m := env.Message.Postacert.Dati.Msgid; m != nil {
		return strings.TrimSpace(*m)
	}
	return ""
}

// senderOf is the original sender: the reverse-path of the envelope, which the
// sender's access point keeps (TRN-15; RFC 6109 §2.1 notices go to the
// reverse-path), else the daticert mittente.
func senderOf(env Envelope) string {
	if env.ReturnPath != "" {
		return env.ReturnPath
	}
	return strings.TrimSpace(env.Message.Postacert.Intestazione.Mittente)
}
