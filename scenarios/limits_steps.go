package scenarios

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/load"
	"github.com/pecspec/pecspec/report"
)

// The @flow-limits scenarios put the target at the limits it declares
// (max_message_bytes, max_recipients in its target file; the published 50 MB
// and 500 recipients when it declares none): a message of the maximum size
// and one to the maximum number of recipients are accepted, enveloped and
// fully receipted within the step timeout (--timeout); a message above the
// size limit is refused with a non-accettazione or an SMTP error, never
// dropped in silence (RFC 6109 §3.1.1–2, APC-08). They use the target's
// numbered bulk accounts ("bulk1 at the counterpart"): bulk1 and bulk2 for
// the single messages, bulk3 sends to the many recipients, bulk4 onwards
// receive. They are slow, so a run leaves @slow scenarios out unless its tag
// expression is given.

// tagSlow marks the scenarios a run leaves out by default.
const tagSlow = "@slow"

// tags is the run's tag expression: the one asked for, else every scenario
// but the @slow ones.
func (r *runner) tags() string {
	if r.opts.Tags == "" {
		return "~" + tagSlow
	}
	return r.opts.Tags
}

// bulkFirstRecipient is the first bulk account the many-recipient
// scenario sends to (bulk1…3 have other roles).
const bulkFirstRecipient = 4

func registerLimitsSteps(sc stepRegistrar) {
	sc.Step(`^`+partyExpr+` sends a certified message of the target's maximum size to `+partyExpr+`$`, sendsMaxSize)
	sc.Step(`^`+partyExpr+` submits a message above the target's maximum size to `+partyExpr+`$`, submitsOversize)
	sc.Step(`^`+partyExpr+` is told the message is too large$`, toldTooLarge)
	sc.Step(`^`+partyExpr+` sends a certified message to the target's maximum number of recipients across the target, the counterpart and the external domain, a fifth of them in Cc$`, sendsToMaxRecipients)
	sc.Step(`^every recipient receives a transport envelope$`, everyRecipientEnveloped)
	sc.Step(`^`+partyExpr+` receives a delivery receipt for every recipient at a PEC provider$`, deliveryForEvery)
}

// bulkHandle resolves "bulkN" to bulk account N of domain (probe.BulkAccounts).
func bulkHandle(b *probe.BulkAccounts, domain, handle string) (probe.Account, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(handle, "bulk"))
	if !strings.HasPrefix(handle, "bulk") || err != nil {
		return probe.Account{}, false
	}
	a, err := b.Account(domain, n)
	if err != nil {
		return probe.Account{}, false
	}
	a.Name = handle
	return a, true
}

// sized builds o with an attachment that brings the message to size bytes
// (at most, within a base64 line).
func sized(o probe.Original, size int64) (string, []byte) {
	o.AttachmentName = "allegato.bin"
	o.Attachment = []byte{}
	id, raw := o.Build()
	for range 4 {
		// base64 lines of 76 characters and CRLF carry 57 bytes (RFC 2045 §6.8).
		n := int64(len(o.Attachment)) + (size-int64(len(raw)))*57/78
		if n < 0 {
			n = 0
		}
		o.Attachment = bytes.Repeat([]byte("pecspec "), int(n/8)+1)[:n]
		if id, raw = o.Build(); int64(len(raw)) <= size && size-int64(len(raw)) < 160 {
			break
		}
	}
	for int64(len(raw)) > size && len(o.Attachment) >= 57 {
		o.Attachment = o.Attachment[:len(o.Attachment)-57]
		id, raw = o.Build()
	}
	return id, raw
}

// oneToOneSized binds sender and recipient and builds a message of size.
func (w *World) oneToOneSized(from, to string, size int64) (*party, []byte, error) {
	sender, err := w.party(from)
	if err != nil {
		return nil, nil, err
	}
	rcpt, err := w.party(to)
	if err != nil {
		return nil, nil, err
	}
	if sender.provider == nil {
		return nil, nil, harnessf("%s is not a user of a PEC provider", from)
	}
	o := probe.Original{From: sender.Address(), To: []string{rcpt.Address()}, Subject: w.subject(),
		Body: fmt.Sprintf("Messaggio di pecspec di %d byte.\n", size)}
	id, raw := sized(o, size)
	w.sender, w.rcpts = sender, []*party{rcpt}
	w.sub = report.Submission{Sender: sender.Address(), To: o.To, MessageID: id}
	return sender, raw, nil
}

// sendsMaxSize submits a message of the target's declared maximum size.
func sendsMaxSize(ctx context.Context, from, to string) error {
	w := world(ctx)
	size, _ := w.r.opts.Target.Limits()
	sender, raw, err := w.oneToOneSized(from, to, size)
	if err != nil {
		return err
	}
	return w.submit(ctx, sender, sender.Address(), []string{w.rcpts[0].Address()}, raw)
}

// submitsOversize submits a message 1 MiB above the declared maximum; a
// refusal in the SMTP reply is recorded for toldTooLarge.
func submitsOversize(ctx context.Context, from, to string) error {
	w := world(ctx)
	size, _ := w.r.opts.Target.Limits()
	sender, raw, err := w.oneToOneSized(from, to, size+1<<20)
	if err != nil {
		return err
	}
	err = w.submit(ctx, sender, sender.Address(), []string{w.rcpts[0].Address()}, raw)
	var se *smtp.SMTPError
	if err != nil && !errors.As(err, &se) {
		return err
	}
	w.refusal, w.tried = err, true
	return nil
}

// toldTooLarge passes on a permanent SMTP refusal or an avviso di non
// accettazione (graded: its MUST failures fail the step); a temporary
// error, an acceptance or nothing at all breaks APC-08 (RFC 6109 §3.1.2).
func toldTooLarge(ctx context.Context, who string) error {
	w := world(ctx)
	var se *smtp.SMTPError
	if errors.As(w.refusal, &se) {
		if se.Code >= 500 {
			return nil
		}
		return &ruleError{rule: "APC-08", err: fmt.Errorf("the target answered %d to a message above its limit: a temporary error, not a refusal", se.Code)}
	}
	p, err := w.party(who)
	if err != nil {
		return err
	}
	if _, err := w.await(ctx, p, false, "non-acceptance notice", w.about(pec.KindNonAccettazione)); err != nil {
		return err
	}
	var lines []string
	m := w.res.Messages[len(w.res.Messages)-1]
	for _, v := range mustOf(m.Verdicts) {
		lines = append(lines, fmt.Sprintf("%s %s [%s]: %s (%s)", v.Rule, m.Kind, v.Section, v.Detail, m.File))
	}
	return failures(lines)
}

// sendsToMaxRecipients submits one message to the declared maximum number
// of recipients (500 by default), spread over the target, the counterpart
// and the external domain from their bulk account bulkFirstRecipient on,
// four fifths in To and a fifth in Cc, each domain in both.
func sendsToMaxRecipients(ctx context.Context, from string) error {
	w := world(ctx)
	sender, err := w.party(from)
	if err != nil {
		return err
	}
	if sender.provider == nil {
		return harnessf("%s is not a user of a PEC provider", from)
	}
	_, n := w.r.opts.Target.Limits()
	rcpts, err := w.manyRecipients(n)
	if err != nil {
		return err
	}
	o := probe.Original{From: sender.Address(), Subject: w.subject(),
		Body: fmt.Sprintf("Messaggio di pecspec a %d destinatari.\n", n)}
	for i, p := range rcpts {
		if i < n*4/5 {
			o.To = append(o.To, p.Address())
		} else {
			o.Cc = append(o.Cc, p.Address())
		}
	}
	id, raw := o.Build()
	raw = foldAddressFields(raw)
	var addrs []string
	for _, p := range rcpts {
		addrs = append(addrs, p.Address())
	}
	w.sender, w.rcpts = sender, rcpts
	w.sub = report.Submission{Sender: sender.Address(), To: o.To, Cc: o.Cc, MessageID: id}
	return w.submit(ctx, sender, sender.Address(), addrs, raw)
}

// manyRecipients are n bulk accounts, the i-th in domain i mod 3.
func (w *World) manyRecipients(n int) ([]*party, error) {
	t := w.r.opts.Target
	if t.Counterpart == nil || t.External == nil {
		return nil, harnessf("the target file names no counterpart or no external domain")
	}
	type domain struct {
		role     string
		provider *probe.Target
		name     string
		bulk     *probe.BulkAccounts
		imap     probe.Endpoint
	}
	ds := []domain{{roleTarget, t, t.Domains[0], t.BulkAccounts, t.IMAP},
		{roleCounterpart, t.Counterpart, t.Counterpart.Domains[0], t.Counterpart.BulkAccounts, t.Counterpart.IMAP},
		{roleExternal, nil, t.External.Domain, t.External.BulkAccounts, t.External.IMAP}}
	var out []*party
	for i := range n {
		d := ds[i%3]
		k := bulkFirstRecipient + i/3
		a, err := d.bulk.Account(d.name, k)
		if err != nil {
			return nil, harnessf("%d recipients need bulk accounts %d…%d in %s (bulk_accounts in the target file): %w", n, bulkFirstRecipient,
				bulkFirstRecipient+(n-1)/3, d.name, err)
		}
		out = append(out, &party{handle: "bulk" + strconv.Itoa(k), role: d.role, provider: d.provider, account: a, imap: d.imap})
	}
	return out, nil
}

// foldAddressFields folds the To and Cc fields after each address (RFC 5322
// §2.2.3: lines stay under 998 characters).
func foldAddressFields(raw []byte) []byte {
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "To: ") || strings.HasPrefix(l, "Cc: ") {
			lines[i] = strings.ReplaceAll(l, ", ", ",\r\n ")
		}
	}
	return append([]byte(strings.Join(lines, "\r\n")+"\r\n\r\n"), body...)
}

// everyRecipientEnveloped waits in every recipient's mailbox for the busta
// di trasporto (RFC 6109 §3.1.5), eight mailboxes at a time, and keeps and
// grades each (the transaction rules pair every delivery receipt with its
// recipient's envelope, CON-08).
func everyRecipientEnveloped(ctx context.Context) error {
	w := world(ctx)
	if len(w.rcpts) == 0 {
		return harnessf("nothing was submitted in this scenario")
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	about := w.about(pec.KindTrasporto)
	match := func(raw []byte) bool { return about(pec.Parse(raw)) }
	raws := make([][]byte, len(w.rcpts))
	errs := make([]error, len(w.rcpts))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range w.rcpts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			raws[i], errs[i] = envelopeOf(ctx, p, w.r.trust, match)
		})
	}
	wg.Wait()
	var missing []string
	var got []kept
	for i, p := range w.rcpts {
		if errs[i] != nil {
			missing = append(missing, p.Address()+": "+errs[i].Error())
			continue
		}
		got = append(got, kept{mailbox: p.Address(), raw: raws[i]})
	}
	w.captureMany(got)
	if len(missing) > 0 {
		return &ruleError{rule: requiredBy["trasporto"], err: fmt.Errorf("%d of %d recipients have no envelope about %s: %s",
			len(missing), len(w.rcpts), w.sub.MessageID, strings.Join(missing[:min(5, len(missing))], "; "))}
	}
	return nil
}

// envelopeOf waits in p's mailbox for the message match accepts.
func envelopeOf(ctx context.Context, p *party, trust *x509.CertPool, match func([]byte) bool) ([]byte, error) {
	box, err := probe.OpenMailbox(ctx, p.imap, trust, p.account)
	if err != nil {
		return nil, err
	}
	defer box.Close()
	f, err := box.WaitFor(ctx, match)
	return f.Raw, err
}

// deliveryForEvery waits in who's mailbox for one avvenuta consegna per
// recipient at a PEC provider (RFC 6109 §3.3.2), reading each message once
// (IMAP IDLE, load.Watcher), and keeps and grades them all.
func deliveryForEvery(ctx context.Context, who string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, r := range w.rcpts {
		if r.provider != nil {
			want[strings.ToLower(r.Address())] = true
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	watcher, err := load.OpenWatcher(ctx, "imap of "+p.Address(), p.imap, w.r.trust, p.account,
		load.WatchOptions{Existing: true, Full: func(textproto.MIMEHeader) bool { return true }})
	if err != nil {
		return err
	}
	defer watcher.Close()
	about := w.about(pec.KindAvvenutaConsegna)
	got := map[string][]byte{}
	_ = watcher.Run(ctx, func(a *load.Arrival) bool {
		if a.Raw == nil {
			return false
		}
		m := pec.Parse(a.Raw)
		if !about(m) || m.Postacert == nil || m.Postacert.Dati.Consegna == nil {
			return false
		}
		if addr := strings.ToLower(*m.Postacert.Dati.Consegna); want[addr] && got[addr] == nil {
			got[addr] = a.Raw
			if len(got) == len(want) {
				cancel()
			}
		}
		return false
	}, nil)
	var keep []kept
	for _, r := range w.rcpts {
		if raw := got[strings.ToLower(r.Address())]; raw != nil {
			keep = append(keep, kept{mailbox: p.Address(), raw: raw})
		}
	}
	w.captureMany(keep)
	if len(got) < len(want) {
		return &ruleError{rule: requiredBy["delivery receipt"], err: fmt.Errorf("%d of %d delivery receipts about %s reached %s within %v",
			len(got), len(want), w.sub.MessageID, p.Address(), w.r.opts.StepTimeout)}
	}
	return nil
}

// kept is a message to capture.
type kept struct {
	mailbox string
	raw     []byte
}

// captureMany grades the messages on every core, then keeps them in order.
func (w *World) captureMany(msgs []kept) {
	graded := make([]report.Graded, len(msgs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				graded[i] = report.Grade(msgs[i].raw, w.r.grading)
			}
		})
	}
	for i := range msgs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, m := range msgs {
		w.captureGraded(m.mailbox, false, false, m.raw, graded[i])
	}
}
