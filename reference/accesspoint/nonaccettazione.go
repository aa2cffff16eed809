package accesspoint

import (
	"context"
	"fmt"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/txlog"
)

// fault is a formal exception or a virus found at acceptance (RFC 6109
// §3.1.1–3): the message does not enter the PEC system and the sender gets an
// avviso di non accettazione.
type fault struct {
	rule   string     // the APC rule the submission broke
	errore pec.Errore // daticert errore: altro for formal faults, virus
	code   string     // enhanced status code for errore-esteso (pec-rules A24)
	desc   string     // the description, in Italian
}

func formalFault(rule, code, format string, a ...any) *fault {
	return &fault{rule: rule, errore: pec.ErroreAltro, code: code, desc: fmt.Sprintf(format, a...)}
}

// esteso is the errore-esteso: "<code> - <provider> - <text>" (pec-rules A24).
func (f *fault) esteso(provider string) string {
	return f.code + " - " + provider + " - " + f.desc
}

// notAccepted composes the avviso di non accettazione for a refused submission
// (RFC 6109 §3.1.2; per virus §3.1.3) and stores it in the sender's mailbox:
// to the authenticated sender, the original not included (NAC-02), no envelope
// (NAC-05), errore altro or virus with errore-esteso (NAC-03, NAC-06).
func (p *Point) notAccepted(ctx context.Context, sub Submission, h compose.Header, flt *fault) error {
	recipients, err := p.classify(ctx, h)
	if err != nil {
		return err
	}
	if len(recipients) == 0 { // no To/Cc: the forward-paths are all there is
		for _, r := range sub.To {
			recipients = append(recipients, compose.Recipient{Address: r})
		}
	}
	// The sender is the authenticated reverse-path the notice goes to (RFC
	// 6109 §2.1), whatever From: says (it may be the fault, APC-03, APC-05).
	now := p.Clock.Now()
	f := compose.Facts{Instant: now, Subject: h.Subject(), Sender: sub.From, Recipients: recipients,
		ID: p.Sealer.NewID(now), Error: flt.esteso(p.Sealer.ProviderName)}
	msgid := h.Get("Message-ID")
	d := p.Sealer.Postacert(pec.TipoNonAccettazione, flt.errore, f, h.Address("Reply-To"), msgid)
	d.Dati.ErroreEsteso = pec.Str(f.Error)
	n := compose.Notice{
		Ricevuta: pec.RicevutaNonAccettazione,
		Prefix:   pec.SubjectNonAccettazione,
		To:       sub.From,
		Text:     compose.TextNonAccettazione(f, flt.errore == pec.ErroreVirus),
		Daticert: d,
		RefMsgID: msgid,
		Subject:  f.Subject,
		Instant:  now,
	}
	if flt.errore == pec.ErroreVirus {
		n.Prefix = pec.SubjectNonAccettazioneVir
		n.Extra = []smime.Field{{Name: pec.HeaderVerificaSicurezza, Value: pec.VerificaSicurezzaErrore}}
	}
	notice, rec, err := p.Sealer.SealEvent(n, txlog.EventNonAccettazione, p.Sealer.ProviderName)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if ctx, err = beforeCommit(ctx); err != nil {
		return err
	}
	if err := p.commit(ctx, &Commit{ID: f.ID, Sender: sub.From, Receipt: notice, Record: rec}); err != nil {
		return err
	}
	p.log().Info("not accepted", "role", "accesspoint", "rule", flt.rule, "pec_id", f.ID, "msgid", msgid,
		"from", sub.From, "errore", flt.errore, "reason", flt.desc)
	return nil
}
