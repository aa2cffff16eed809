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
	msg, err := p.Sealer.Sign(outer, compose.Mixed{Text: compose.TextAnomalia(f), Original: in.Data})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	p.log().Info("anomaly", "role", "receptionpoint", "from", sender, "reason", why, "kind", m.Kind())
	if ctx, err = beforeCommit(ctx); err != nil {
		return err
	}
	ctx = once.About(ctx, "anomalia", "")
	if err := p.Delivery.Plain(ctx, p.local(in.To), msg); err != nil {
		return err
	}
	f.ID = strings.Trim(h.Get("Message-ID"), "<> ")
	return p.record(ctx, compose.NewRecord(txlog.EventAnomalia, f, "", msg))
}
