package receptionpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/txlog"
)

// anomalyCopied are the fields the busta di anomalia inherits unmodified from
// the received message (RFC 6109 §3.2.2; ANO-03).
var anomalyCopied = []string{"Return-Path", "Received", "To", "Cc", "Message-ID"}

// anomaly wraps a message that is not a correct PEC message in a busta di
// anomalia and delivers it to this provider's recipients (RFC 6109 §3.2.2):
// text and the entire received message only, no daticert.xml (ANO-04), signed
// by this provider (ANO-06), no delivery receipt (ANO-08).
func (p *Point) anomaly(ctx context.Context, in Incoming, m *pec.Message, why string) error {
	h, _ := compose.SplitMessage(in.Data)
	sender := h.Address("From")
	if sender == "" {
		sender = in.From
	}
	f := compose.Facts{Instant: p.Clock.Now(), Subject: h.Subject(), Sender: sender, Error: why}
	for _, a := range append(h.Addresses("To"), h.Addresses("Cc")...) {
		f.Recipients = append(f.Recipients, compose.Recipient{Address: a})
	}
	var outer []smime.Field
	for _, name := range anomalyCopied {
		for _, fl := range h.All(name) {
			outer = append(outer, smime.Field{Name: fl.Name, Value: fl.FoldedValue()})
		}
	}
	outer = append(outer,
		smime.Field{Name: "Date", Value: pec.DateHeader(f.Instant)},
		smime.Field{Name: "Subject", Value: compose.EncodeWord(pec.SubjectAnomalia + f.Subject)},
		smime.Field{Name: "From", Value: `"` + pec.PerContoDi + sender + `" <` + p.Sealer.ServiceAddress + ">"},
	)
	if rt := h.All("Reply-To"); len(rt) > 0 {
		outer = append(outer, smime.Field{Name: rt[0].Name, Value: rt[0].FoldedValue()})
	} else if sender != "" {
		outer = append(outer, smime.Field{Name: "Reply-To", Value: sender})
	}
	outer = append(outer, smime.Field{Name: pec.HeaderTrasporto, Value: string(pec.TrasportoErrore)})
	ctx, head, err := p.deliverAnomaly(ctx, in, outer, compose.Mixed{Text: compose.TextAnomalia(f), Original: in.Data})
	if err != nil {
		return err
	}
	p.log().Info("anomaly", "role", "receptionpoint", "from", sender, "reason", why, "kind", m.Kind())
	f.ID = strings.Trim(h.Get("Message-ID"), "<> ")
	return p.record(ctx, compose.NewRecord(txlog.EventAnomalia, f, "", head))
}

// deliverAnomaly seals the busta di anomalia and delivers it to the local
// recipients: composed in memory when small, else streamed into the spool.
// Nothing is delivered once the budget from the end of DATA is spent
// (beforeCommit). It returns the context of the reception's outputs and the
// sealed message's header (for the registro).
func (p *Point) deliverAnomaly(ctx context.Context, in Incoming, outer []smime.Field, body compose.Mixed) (context.Context, []byte, error) {
	commit := func() (context.Context, error) {
		ctx, err := beforeCommit(ctx)
		if err != nil {
			return nil, err
		}
		return once.About(ctx, "anomalia", ""), nil
	}
	if len(in.Data) <= compose.Large {
		msg, err := p.Sealer.Sign(outer, body)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrTemporary, err)
		}
		if ctx, err = commit(); err != nil {
			return nil, nil, err
		}
		return ctx, msg, p.Delivery.Plain(ctx, p.local(in.To), msg)
	}
	msg, err := p.Sealer.SignTo(p.Spool, outer, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	defer msg.Release()
	head, err := msg.Head(1 << 20)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if ctx, err = commit(); err != nil {
		return nil, nil, err
	}
	return ctx, head, p.Delivery.PlainFile(ctx, p.local(in.To), msg)
}
