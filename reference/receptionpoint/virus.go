package receptionpoint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/txlog"
)

// infected scans a received message (RFC 6109 §2.2.2, §5.4), its MIME
// structure bounded by antivirus.MaxDepthReception: content the antivirus
// cannot vouch for counts as infected (Result.Limit).
func (p *Point) infected(ctx context.Context, raw []byte) (antivirus.Result, error) {
	s := p.Scanner
	if s == nil {
		s = antivirus.Func(func(context.Context, io.Reader) (antivirus.Result, error) { return antivirus.Result{}, nil })
	}
	res, err := antivirus.ScanMessage(ctx, s, bytes.NewReader(raw), int64(len(raw)), antivirus.MaxDepthReception)
	if err != nil {
		return res, fmt.Errorf("%w: antivirus: %v", ErrTemporary, err)
	}
	return res, nil
}

// SimulatedSignature names the virus an outcome-simulation mailbox finds
// (Point.SimulatesVirus).
const SimulatedSignature = "PECSpec.Test.Simulated"

// simulatedVirus is the verdict for an envelope to rcpts when one of them
// is an outcome-simulation mailbox: infected, as if the antivirus had found
// a virus the sending provider's did not (RFC 6109 §3.2.3; lab only).
func (p *Point) simulatedVirus(rcpts []string) antivirus.Result {
	if p.SimulatesVirus != nil && slices.ContainsFunc(rcpts, p.SimulatesVirus) {
		return antivirus.Result{Infected: true, Signature: SimulatedSignature}
	}
	return antivirus.Result{}
}

// refuseInfected scans a message that is not a correct envelope — ordinary
// mail, a malformed PEC message, a notice — before it is delivered as it is or
// in an anomaly: an infected one is kept in the virus store (OPS-01),
// recorded and refused at SMTP level (ErrRefused; the MAY discard of RFC 6109
// §2.2.2, made visible to the sender). It returns the context the outputs are
// made under (beforeCommit).
func (p *Point) refuseInfected(ctx context.Context, in Incoming) (context.Context, error) {
	res, err := p.infected(ctx, in.Data)
	if err != nil {
		return nil, err
	}
	if ctx, err = beforeCommit(ctx); err != nil || !res.Infected {
		return ctx, err
	}
	if p.Viruses != nil {
		if err := p.Viruses.Keep(bytes.NewReader(in.Data)); err != nil {
			return nil, fmt.Errorf("%w: virus store: %v", ErrTemporary, err)
		}
	}
	if err := p.refused(ctx, in, res.Signature); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %s", ErrRefused, res.Description())
}

// virusFound handles a correct envelope that carries a virus (RFC 6109
// §3.2.3): the envelope is kept in the virus store (RFC 6109 §2.2.4, OPS-01),
// not delivered (VIR-05), and one avviso di rilevazione virus per local
// recipient (VIR-03) goes to the sender provider's mailReceipt (VIR-02).
func (p *Point) virusFound(ctx context.Context, in Incoming, m *pec.Message, sender *index.Provider, mine []string, res antivirus.Result) error {
	if p.Viruses != nil {
		if err := p.Viruses.Keep(bytes.NewReader(in.Data)); err != nil {
			return fmt.Errorf("%w: virus store: %v", ErrTemporary, err)
		}
	}
	for _, r := range mine {
		ctx := once.About(ctx, "rilevazione-virus", r)
		notice, rec, err := p.rilevazioneVirus(m, r, res.Description(), sender)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrTemporary, err)
		}
		if err := p.Out.Send(ctx, p.Sealer.ServiceAddress, []string{sender.MailReceipt}, notice); err != nil {
			return fmt.Errorf("%w: queue rilevazione virus: %v", ErrTemporary, err)
		}
		rec.Virus = res.Signature
		if err := p.record(ctx, rec); err != nil {
			return err
		}
	}
	p.log().Warn("virus in envelope", "role", "receptionpoint", "pec_id", m.Postacert.Dati.Identificativo,
		"virus", res.Signature, "provider", sender.Name, "rcpt", len(mine))
	return nil
}

// rilevazioneVirus composes the avviso di rilevazione virus for one recipient
// (RFC 6109 §3.2.3; VIR-01, VIR-04): X-Mittente the original sender, daticert
// consegna the recipient (the DTD comment; pec-rules A15), errore virus, no
// original; desc is the verdict (antivirus.Result.Description).
func (p *Point) rilevazioneVirus(m *pec.Message, rcpt, desc string, sender *index.Provider) ([]byte, *txlog.Record, error) {
	f := compose.FactsFrom(m.Postacert)
	f.Instant = p.Clock.Now()
	f.Recipient = rcpt
	f.Error = desc
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

// refMsgID is the X-Riferimento-Message-ID of this provider's notice about
// another provider's notice rv (GEN-15): the original's Message-ID, as rv's
// daticert msgid gives it — rv's own X-Riferimento-Message-ID only when the
// daticert lacks it, so that a receiving provider that leaves the header
// out does not make this provider's notice lack it too.
func refMsgID(rv *pec.Message) string {
	if id := strings.TrimSpace(pec.Deref(rv.Postacert.Dati.Msgid)); id != "" {
		return id
	}
	return rv.Header(pec.HeaderRiferimentoMsgID)
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
		RefMsgID: refMsgID(rv),
		Subject:  f.Subject,
		Instant:  f.Instant,
		Extra:    []smime.Field{{Name: pec.HeaderVerificaSicurezza, Value: pec.VerificaSicurezzaErrore}},
	}, txlog.EventMancataConsegnaVir, p.Sealer.ProviderName)
}
