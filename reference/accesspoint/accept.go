package accesspoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
)

// accepted is a submission that passed every check, with what the receipt and
// the envelope are built from.
type accepted struct {
	sub     Submission
	header  compose.Header
	orig    *original
	facts   compose.Facts // one instant for the whole transaction (RFC 6109 §4.1)
	msgid   string        // the client's Message-ID, with brackets; "" when it had none
	tipo    string        // X-TipoRicevuta of the original, "" when absent
	replyTo string
	// originalHead is the original's header with the PEC msgid in place (RFC
	// 6109 §2.2.1); body follows it in the envelope.
	originalHead []byte
}

// Accept runs the access point on one submission (RFC 6109 §2.2.1, §3.1): the
// formal checks, the virus scan, the recipients' classification, then the
// ricevuta di accettazione to the sender and the busta di trasporto to the
// recipients. A formal fault or a virus gives the sender an avviso di non
// accettazione instead (RFC 6109 §3.1.2–3) and Accept returns nil: the notice
// is the answer. It returns a *Rejection for a submission refused at the SMTP
// level (APC-11, and APC-08 far above the limit), an error wrapping
// ErrTemporary when the provider itself failed, nil when what it produced is
// durable.
func (p *Point) Accept(ctx context.Context, sub Submission) error {
	if !strings.EqualFold(sub.From, sub.User) {
		return reject(550, [3]int{5, 7, 1}, "APC-11", "sender %s is not the authenticated account", sub.From)
	}
	if size := sub.Message.Size(); p.MaxTotal > 0 && size > p.MaxTotal {
		// RFC 6109 §3.1.2: far beyond the limit, error handling is left to SMTP.
		return reject(552, [3]int{5, 3, 4}, "APC-08", "message size %d exceeds %d bytes", size, p.MaxTotal)
	}
	o, err := readOriginal(sub.Message)
	if errors.Is(err, errHeadTooLarge) {
		return reject(552, [3]int{5, 3, 4}, "APC-08", "header over %d bytes", headMax)
	}
	if err != nil {
		return fmt.Errorf("%w: read submission: %v", ErrTemporary, err)
	}
	h := o.header
	if flt := p.formal(sub, h); flt != nil {
		return p.notAccepted(ctx, sub, h, flt)
	}
	if flt, err := p.scan(ctx, o); err != nil || flt != nil {
		if err != nil {
			return err
		}
		return p.notAccepted(ctx, sub, h, flt)
	}
	a := &accepted{sub: sub, header: h, orig: o, msgid: h.Get("Message-ID"),
		tipo: strings.ToLower(h.Get("X-TipoRicevuta")), replyTo: h.Address("Reply-To")}
	recipients, err := p.classify(ctx, h)
	if err != nil {
		return err
	}
	now := p.Clock.Now()
	a.facts = compose.Facts{Instant: now, Subject: h.Subject(), Sender: sub.From, Recipients: recipients,
		ID: p.Sealer.NewID(now)}
	a.originalHead = withPECMsgID(h, a.facts.ID, a.msgid)
	receipt, rec, err := p.accettazione(a)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	env, err := p.envelopeOf(a)
	if err != nil {
		return fmt.Errorf("%w: compose envelope: %v", ErrTemporary, err)
	}
	if ctx, err = beforeCommit(ctx); err != nil {
		env.release()
		return err
	}
	d := trackedOf(a)
	if err := p.commit(ctx, &Commit{ID: a.facts.ID, Sender: sub.From, Receipt: receipt, Record: rec,
		Dispatch: &d, Envelope: env}); err != nil {
		env.release()
		return err
	}
	p.log().Info("accepted", "role", "accesspoint", "pec_id", a.facts.ID, "msgid", a.msgid,
		"from", sub.From, "rcpt", len(sub.To))
	return nil
}

// formal runs the formal checks of RFC 6109 §3.1.1 (APC-03…08); the sender
// congruence of §5.2 (APC-11) was checked before.
func (p *Point) formal(sub Submission, h compose.Header) *fault {
	from := h.Addresses("From")
	if len(from) != 1 {
		return formalFault("APC-03", "5.6.0", "il campo From: deve contenere un solo indirizzo valido")
	}
	to := h.Addresses("To")
	if len(to) == 0 {
		return formalFault("APC-04", "5.6.0", "il campo To: deve contenere almeno un indirizzo valido")
	}
	if !strings.EqualFold(from[0], sub.From) {
		return formalFault("APC-05", "5.7.1", "il mittente SMTP %s differisce dall'indirizzo del campo From: %s",
			sub.From, from[0])
	}
	if !sameSet(append(to, h.Addresses("Cc")...), sub.To) {
		return formalFault("APC-06", "5.5.0", "i destinatari SMTP differiscono dagli indirizzi dei campi To: e Cc:")
	}
	if bcc := h.Get("Bcc"); strings.TrimSpace(bcc) != "" {
		return formalFault("APC-07", "5.6.0", "il campo Bcc: non deve contenere indirizzi")
	}
	if p.MaxTotal > 0 && sub.Message.Size()*int64(len(sub.To)) > p.MaxTotal {
		return formalFault("APC-08", "5.3.4", "dimensione per numero di destinatari oltre il limite di %d byte",
			p.MaxTotal)
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

// scan runs the antivirus on the submission (RFC 6109 §3.1.3, APC-09): an
// infected message is kept as it is in the virus store (RFC 6109 §2.2.4,
// OPS-01) and becomes a fault with errore virus. Content the antivirus cannot
// vouch for — MIME nested deeper than antivirus.MaxDepthSubmission, a
// message/partial fragment, clamd's limit alerts — is refused the same way.
func (p *Point) scan(ctx context.Context, o *original) (*fault, error) {
	res, err := p.scanFile(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%w: antivirus: %v", ErrTemporary, err)
	}
	if !res.Infected {
		return nil, nil
	}
	if p.Viruses != nil {
		if err := p.keep(o); err != nil {
			return nil, fmt.Errorf("%w: virus store: %v", ErrTemporary, err)
		}
	}
	return &fault{rule: "APC-09", errore: pec.ErroreVirus, code: "5.7.1", desc: res.Description()}, nil
}

// scanFile checks the spooled submission's structure and streams it to the
// scanner (clamd INSTREAM from the file).
func (p *Point) scanFile(ctx context.Context, o *original) (antivirus.Result, error) {
	f, err := o.all()
	if err != nil {
		return antivirus.Result{}, err
	}
	defer f.Close()
	return antivirus.ScanMessage(ctx, p.Scanner, f, o.msg.Size(), antivirus.MaxDepthSubmission)
}

// keep puts the infected submission, as it arrived, in the virus store.
func (p *Point) keep(o *original) error {
	f, err := o.all()
	if err != nil {
		return err
	}
	defer f.Close()
	return p.Viruses.Keep(f)
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

// withPECMsgID returns the original's header with its Message-ID replaced by
// the PEC msgid and X-Riferimento-Message-ID holding the client's (RFC 6109
// §2.2.1, APC-10); every other byte is unchanged, and the body follows it
// unchanged in the envelope (compose.Mixed.OriginalBody), never copied.
func withPECMsgID(h compose.Header, pecID, clientID string) []byte {
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
	return out.Bytes()
}
