package scenarios

import (
	"context"
	"errors"
	"fmt"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

func registerMailboxSteps(sc stepRegistrar) {
	sc.Step(`^(\w+) receives an acceptance receipt$`, receives(pec.KindAccettazione))
	sc.Step(`^(\w+) receives a transport envelope$`, receives(pec.KindTrasporto))
	sc.Step(`^the target's service mailbox receives a take-charge receipt$`, serviceReceives(pec.KindPresaInCarico))
	sc.Step(`^(\w+) receives a delivery receipt of type "(completa|breve|sintetica)"$`, receivesDelivery)
}

// receives waits in handle's mailbox for a message of kind about the
// submitted message.
func receives(kind pec.Kind) func(ctx context.Context, handle string) error {
	return func(ctx context.Context, handle string) error {
		w := world(ctx)
		p, acct, err := w.account(handle)
		if err != nil {
			return err
		}
		_, err = w.await(ctx, p, acct, kind, false)
		return err
	}
}

func serviceReceives(kind pec.Kind) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		w := world(ctx)
		t := w.r.opts.Target
		if t.ReceiptsMailbox.Address == "" {
			return fmt.Errorf("the target file names no receipts_mailbox")
		}
		_, err := w.await(ctx, t, t.ReceiptsMailbox, kind, true)
		return err
	}
}

func receivesDelivery(ctx context.Context, handle, tipo string) error {
	w := world(ctx)
	p, acct, err := w.account(handle)
	if err != nil {
		return err
	}
	m, err := w.await(ctx, p, acct, pec.KindAvvenutaConsegna, false)
	if err != nil {
		return err
	}
	got := pec.TipoRicevuta("")
	if m.Postacert != nil && m.Postacert.Dati.Ricevuta != nil {
		got = m.Postacert.Dati.Ricevuta.Tipo
	}
	if got != pec.TipoRicevuta(tipo) {
		return fmt.Errorf("the delivery receipt is of type %q, want %q", got, tipo)
	}
	return nil
}

// await waits (IMAP IDLE, deadline StepTimeout) for a message of kind whose
// X-Riferimento-Message-ID is the submitted msgid, keeps it as evidence and
// grades it.
func (w *World) await(ctx context.Context, p *probe.Target, acct probe.Account, kind pec.Kind, service bool) (*pec.Message, error) {
	if w.sub.MessageID == "" {
		return nil, fmt.Errorf("nothing was submitted in this scenario")
	}
	box, err := w.mailbox(ctx, p, acct)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	var found *pec.Message
	f, err := box.WaitFor(ctx, func(raw []byte) bool {
		m := pec.Parse(raw)
		if m.Kind() == kind && normID(m.Header(pec.HeaderRiferimentoMsgID)) == normID(w.sub.MessageID) {
			found = m
			return true
		}
		return false
	})
	if errors.Is(err, probe.ErrTimeout) {
		return nil, fmt.Errorf("no %s about %s reached %s within %v", kind, w.sub.MessageID, acct.Address, w.r.opts.StepTimeout)
	}
	if err != nil {
		return nil, err
	}
	w.capture(acct.Address, service, f.Raw)
	return found, nil
}

// capture saves a message as evidence and grades it.
func (w *World) capture(mailbox string, service bool, raw []byte) {
	g := report.Grade(raw, w.r.grading)
	rel, err := w.r.evidence.Save(w.res.Name, g.Kind, raw)
	if err != nil {
		rel = "(not saved: " + err.Error() + ")"
	}
	w.caps = append(w.caps, report.Captured{Mailbox: mailbox, Service: service, Raw: raw})
	w.res.Messages = append(w.res.Messages, MessageResult{File: rel, Kind: g.Kind, Mailbox: mailbox, Verdicts: g.Verdicts})
}

func normID(s string) string {
	for len(s) > 0 && (s[0] == '<' || s[0] == ' ') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '>' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}
