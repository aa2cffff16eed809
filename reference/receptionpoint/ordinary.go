package receptionpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/txlog"
)

// ErrRefused is a message this provider will not take (SMTP 5xx): ordinary
// mail for mailboxes that refuse it, or ordinary mail carrying a virus.
var ErrRefused = errors.New("receptionpoint: refused")

// ordinary handles mail that is not PEC (RFC 6109 §2.2.2, pec-rules §7.2):
// it is virus-checked (refuseInfected), then wrapped in a busta di anomalia
// for the mailboxes that take ordinary mail. When every local recipient
// refuses ordinary mail the whole message is refused at SMTP level, as real
// providers offer.
func (p *Point) ordinary(ctx context.Context, in Incoming, m *pec.Message, why string) error {
	ctx, err := p.refuseInfected(ctx, in)
	if err != nil {
		return err
	}
	var takers []string
	for _, r := range p.local(in.To) {
		if p.RefusesOrdinary == nil || !p.RefusesOrdinary(r) {
			takers = append(takers, r)
		} else {
			p.log().Info("ordinary mail refused by mailbox policy", "role", "receptionpoint", "rcpt", r)
		}
	}
	if len(takers) == 0 {
		if err := p.refused(ctx, in, ""); err != nil {
			return err
		}
		return fmt.Errorf("%w: the recipients accept certified mail only", ErrRefused)
	}
	in.To = takers
	return p.anomaly(ctx, in, m, why)
}

// refused records ordinary mail refused at SMTP level (RFC 6109 §2.3: every
// reception is logged, taken or not).
func (p *Point) refused(ctx context.Context, in Incoming, virus string) error {
	h, _ := compose.SplitMessage(in.Data)
	f := compose.Facts{Instant: p.Clock.Now(), Subject: h.Subject(), Sender: in.From,
		ID: strings.Trim(h.Get("Message-ID"), "<> ")}
	for _, r := range in.To {
		f.Recipients = append(f.Recipients, compose.Recipient{Address: r})
	}
	rec := compose.NewRecord(txlog.EventRifiuto, f, "")
	rec.Virus = virus
	return p.record(ctx, rec)
}
