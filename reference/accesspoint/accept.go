package accesspoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
)

// accepted is a submission that passed every check, with what the receipt and
// the envelope are built from.
type accepted struct {
	sub      Submission
	header   compose.Header
	body     []byte
	facts    compose.Facts // one instant for the whole transaction (RFC 6109 §4.1)
	msgid    string        // the client's Message-ID, with brackets; "" when it had none
	tipo     string        // X-TipoRicevuta of the original, "" when absent
	replyTo  string
	original []byte // the original with the PEC msgid in place (RFC 6109 §2.2.1)
}

// Accept runs the access point on one submission (RFC 6109 §2.2.1, §3.1): the
// formal checks, the virus scan, the recipients' classification, then the
// ricevuta di accettazione to the sender and the busta di trasporto to the
// recipients. It returns a *Rejection for a refused submission, an error
// wrapping ErrTemporary when the provider itself failed, nil when both messages
// are durable.
func (p *Point) Accept(ctx context.Context, sub Submission) error {
	h, body := compose.SplitMessage(sub.Data)
	if rej := p.formal(sub, h); rej != nil {
		return rej
	}
	if err := p.scan(ctx, sub.Data); err != nil {
		return err
	}
	a := &accepted{sub: sub, header: h, body: body, msgid: h.Get("Message-ID"),
		tipo: strings.ToLower(h.Get("X-TipoRicevuta")), replyTo: h.Address("Reply-To")}
	recipients, err := p.classify(ctx, h)
	if err != nil {
		return err
	}
	now := p.Clock.Now()
	a.facts = compose.Facts{Instant: now, Subject: h.Subject(), Sender: sub.From, Recipients: recipients,
		ID: p.Sealer.NewID(now)}
	a.original = withPECMsgID(h, body, a.facts.ID, a.msgid)
	envelope, err := p.envelope(a)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	receipt, err := p.accettazione(a)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if err := p.Out.Send(ctx, sub.From, sub.To, envelope); err != nil {
		return fmt.Errorf("%w: queue envelope: %v", ErrTemporary, err)
	}
	if err := p.Out.Deliver(ctx, sub.From, receipt); err != nil {
		return fmt.Errorf("%w: deliver accettazione: %v", ErrTemporary, err)
	}
	p.log().Info("accepted", "role", "accesspoint", "pec_id", a.facts.ID, "msgid", a.msgid,
		"from", sub.From, "rcpt", len(sub.To))
	return nil
}

// formal runs the formal checks of RFC 6109 §3.1.1 and the sender congruence
// of §5.2 (APC-03…07, APC-11).
// todo: APC-03…08 should give an avviso di non accettazione (RFC 6109 §3.1.2)
// instead of an SMTP refusal; issue "every PEC flow".
func (p *Point) formal(sub Submission, h compose.Header) *Rejection {
	from := h.Addresses("From")
	if len(from) != 1 {
		return reject(550, [3]int{5, 6, 0}, "APC-03", "From: must hold exactly one address")
	}
	if !strings.EqualFold(from[0], sub.From) {
		return reject(550, [3]int{5, 7, 1}, "APC-05", "reverse-path %s differs from From: %s", sub.From, from[0])
	}
	if !strings.EqualFold(sub.From, sub.User) {
		return reject(550, [3]int{5, 7, 1}, "APC-11", "sender %s is not the authenticated account", sub.From)
	}
	to := h.Addresses("To")
	if len(to) == 0 {
		return reject(550, [3]int{5, 6, 0}, "APC-04", "To: must hold one or more addresses")
	}
	if bcc := h.Get("Bcc"); bcc != "" {
		return reject(550, [3]int{5, 6, 0}, "APC-07", "Bcc: must be empty")
	}
	if !sameSet(append(to, h.Addresses("Cc")...), sub.To) {
		return reject(550, [3]int{5, 6, 0}, "APC-06", "RCPT TO differs from the To: and Cc: addresses")
	}
	if p.MaxTotal > 0 && int64(len(sub.Data))*int64(len(sub.To)) > p.MaxTotal {
		return reject(552, [3]int{5, 3, 4}, "APC-08", "size × recipients exceeds %d bytes", p.MaxTotal)
	}
	return nil
}

func sameSet(a, b []string) bool {
	norm := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// scan runs the antivirus on the submission (RFC 6109 §3.1.3).
// todo: APC-09 / NAC-06 avviso di non accettazione per virus and the virus
// store (OPS-01); issue "every PEC flow".
func (p *Point) scan(ctx context.Context, data []byte) error {
	res, err := p.Scanner.Scan(ctx, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: antivirus: %v", ErrTemporary, err)
	}
	if res.Infected {
		return reject(554, [3]int{5, 7, 1}, "APC-09", "virus detected: %s", res.Signature)
	}
	return nil
}

// classify tells each To/Cc recipient certificato or esterno through the index
// (RFC 6109 §2.2.1; ACC-05).
func (p *Point) classify(ctx context.Context, h compose.Header) ([]compose.Recipient, error) {
	var out []compose.Recipient
	for _, addr := range append(h.Addresses("To"), h.Addresses("Cc")...) {
		_, err := p.Directory.ByDomain(ctx, domainOf(addr))
		switch {
		case err == nil:
			out = append(out, compose.Recipient{Address: addr, Certified: true})
		case errors.Is(err, index.ErrNotFound):
			out = append(out, compose.Recipient{Address: addr})
		default:
			return nil, fmt.Errorf("%w: index: %v", ErrTemporary, err)
		}
	}
	return out, nil
}

// withPECMsgID returns the original with its Message-ID replaced by the PEC
// msgid and X-Riferimento-Message-ID holding the client's (RFC 6109 §2.2.1,
// APC-10); every other byte is unchanged.
func withPECMsgID(h compose.Header, body []byte, pecID, clientID string) []byte {
	out := make(compose.Header, 0, len(h)+2)
	placed := false
	for _, f := range h {
		if strings.EqualFold(f.Name, "Message-ID") {
			if !placed {
				out = append(out, compose.NewField("Message-ID", "<"+pecID+">"),
					compose.NewField("X-Riferimento-Message-ID", clientID))
				placed = true
			}
			continue
		}
		if strings.EqualFold(f.Name, "X-Riferimento-Message-ID") {
			continue
		}
		out = append(out, f)
	}
	if !placed {
		out = append(out, compose.NewField("Message-ID", "<"+pecID+">"))
	}
	return append(out.Bytes(), body...)
}
