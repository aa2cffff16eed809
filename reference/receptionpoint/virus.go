package receptionpoint

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/txlog"
)

// infected scans a correct envelope (RFC 6109 §2.2.2, §5.4): the virus's name,
// "" when clean.
func (p *Point) infected(ctx context.Context, raw []byte) (string, error) {
	if p.Scanner == nil {
		return "", nil
	}
	res, err := p.Scanner.Scan(ctx, bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("%w: antivirus: %v", ErrTemporary, err)
	}
	if !res.Infected {
		return "", nil
	}
	return res.Signature, nil
}

// virusFound handles a correct envelope that carries a virus (RFC 6109
// §3.2.3): the envelope is kept in the virus store (RFC 6109 §2.2.4, OPS-01),
// not delivered (VIR-05), and one avviso di rilevazione virus per local
// recipient (VIR-03) goes to the sender provider's mailReceipt (VIR-02).
func (p *Point) virusFound(ctx context.Context, in Incoming, m *pec.Message, sender *index.Provider, mine []string, virus string) error {
	if p.Viruses != nil {
		if err := p.Viruses.Keep(bytes.NewReader(in.Data)); err != nil {
			return fmt.Errorf("%w: virus store: %v", ErrTemporary, err)
		}
	}
	for _, r := range mine {
		notice, rec, err := p.rilevazioneVirus(m, r, virus, sender)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrTemporary, err)
		}
		if err := p.Out.Send(ctx, p.Sealer.ServiceAddress, []string{sender.MailReceipt}, notice); err != nil {
			return fmt.Errorf("%w: queue rilevazione virus: %v", ErrTemporary, err)
		}
		rec.Virus = virus
		if err := p.record(ctx, rec); err != nil {
			return err
		}
	}
	p.log().Warn("virus in envelope", "role", "receptionpoint", "pec_id", m.Postacert.Dati.Identificativo,
		"virus", virus, "provider", sender.Name, "rcpt", len(mine))
	return nil
}

// rilevazioneVirus composes the avviso di rilevazione virus for one recipient
// (RFC 6109 §3.2.3; VIR-01, VIR-04): X-Mittente the original sender, daticert
// consegna the recipient (the DTD comment; pec-rules A15), errore virus, no
// original.
func (p *Point) rilevazioneVirus(m *pec.Message, rcpt, virus string, sender *index.Provider) ([]byte, *txlog.Record, error) {
	f := compose.FactsFrom(m.Postacert)
	f.Instant = p.Clock.Now()
	f.Recipient = rcpt
	f.Error = "virus " + virus
	d := p.Sealer.Postacert(pec.TipoRilevazioneVirus, pec.ErroreVirus, f,
		strings.TrimSpace(m.Postacert.Intestazione.Risposte), pec.Deref(m.Postacert.Dati.Msgid))
	d.Dati.Consegna = pec.Str(rcpt)
	d.Dati.ErroreEsteso = pec.Str(f.Error)
	return p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaRilevazioneVirus,
		Prefix:   pec.SubjectRilevazioneVirus,
		To:       sender.MailReceipt,
		Text:     compose.TextRilevazioneVirus(f),
		Daticert: d,
		RefMsgID: m.Header(pec.HeaderRiferimentoMsgID),
		Subject:  f.Subject,
		Instant:  f.Instant,
		Extra:    []smime.Field{{Name: pec.HeaderMittente, Value: f.Sender}},
	}, txlog.EventRilevazioneVirus, sender.Name)
}

// erroreConsegnaVirus is the sender provider's side (RFC 6109 §3.2.4,
// VIR-06, VIR-07): on a rilevazione virus about one of its users' messages it
// tells the user with an avviso di mancata consegna per virus, built from the
// correlated notice's data.
func (p *Point) erroreConsegnaVirus(rv *pec.Message) ([]byte, *txlog.Record, error) {
	pc := rv.Postacert
	f := compose.FactsFrom(pc)
	f.Instant = p.Clock.Now()
	f.Recipient = aboutRecipient(pc)
	f.Error = pec.Deref(pc.Dati.ErroreEsteso)
	if f.Error == "" {
		f.Error = "virus"
	}
	d := p.Sealer.Postacert(pec.TipoErroreConsegna, pec.ErroreVirus, f,
		strings.TrimSpace(pc.Intestazione.Risposte), pec.Deref(pc.Dati.Msgid))
	d.Dati.Consegna = pec.Str(f.Recipient)
	d.Dati.ErroreEsteso = pec.Str(f.Error)
	return p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaErroreConsegna,
		Prefix:   pec.SubjectErroreConsegnaVir,
		To:       f.Sender,
		Text:     compose.TextErroreConsegnaVirus(f),
		Daticert: d,
		RefMsgID: rv.Header(pec.HeaderRiferimentoMsgID),
		Subject:  f.Subject,
		Instant:  f.Instant,
		Extra:    []smime.Field{{Name: pec.HeaderVerificaSicurezza, Value: pec.VerificaSicurezzaErrore}},
	}, txlog.EventMancataConsegnaVir, p.Sealer.ProviderName)
}
