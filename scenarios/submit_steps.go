package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

func registerSubmitSteps(sc stepRegistrar) {
	sc.Step(`^the target and its counterpart are reachable$`, reachable)
	sc.Step(`^`+partyExpr+` sends a certified message( with an attachment| signed with S/MIME| signed with S/MIME in opaque form)? to `+listExpr+`(?: with `+listExpr+` in Cc)?(?: with receipt type "(completa|breve|sintetica)")?$`, sendsCertified)
	sc.Step(`^`+partyExpr+` sends a certified message carrying a test virus to `+listExpr+`$`, sendsVirus)
	sc.Step(`^`+partyExpr+` submits a message to `+partyExpr+` (without authenticating|over a connection without TLS|in the name of another user of the target)$`, submitsInsecure)
	sc.Step(`^`+partyExpr+` submits a message to `+partyExpr+` ((?:with|without) an? .+|whose .+)$`, submitsFaulty)
	sc.Step(`^the submission is refused$`, submissionRefused)
	sc.Step(`^`+partyExpr+` sends an ordinary message( without TLS)? to `+partyExpr+`$`, sendsOrdinary)
	sc.Step(`^the target's MX offers STARTTLS$`, mxOffersStartTLS)
}

// reachable dials every endpoint of the target and the counterpart (the
// preflight did more before the first scenario; this step keeps the
// features readable as a specification).
func reachable(ctx context.Context) error {
	w := world(ctx)
	t := w.r.opts.Target
	if t.Counterpart == nil {
		return harnessf("the target file names no counterpart provider (pecspec run --lab DIR takes it from the lab)")
	}
	for _, p := range []*probe.Target{t, t.Counterpart} {
		for name, ep := range map[string]probe.Endpoint{"submission": p.Submission, "imap": p.IMAP, "mx": p.MX} {
			c, err := net.DialTimeout("tcp", ep.Addr(), 5*time.Second)
			if err != nil {
				return harnessf("%s %s endpoint %s unreachable: %w", p.Name, name, ep.Addr(), err)
			}
			c.Close()
		}
	}
	return nil
}

// subject is the subject of what the scenario sends: the scenario's slug and
// its token (admin API holds match the token).
func (w *World) subject() string { return "pecspec " + probe.Slug(w.res.Name) + " " + w.token }

// sendsCertified submits a certified message (RFC 6109 §3.1.1) as a user of
// a provider, with To, optional Cc and an optional X-TipoRicevuta.
func sendsCertified(ctx context.Context, from, variant, to, cc, tipo string) error {
	w := world(ctx)
	w.variant, w.tipo = strings.TrimSpace(variant), tipo
	return w.sendCertified(ctx, from, to, cc, tipo, nil)
}

// sendsVirus submits a certified message whose body carries the EICAR test
// string (APC-09, RFC 6109 §3.1.3).
func sendsVirus(ctx context.Context, from, to string) error {
	return world(ctx).sendCertified(ctx, from, to, "", "", fixtures.EICAR)
}

func (w *World) sendCertified(ctx context.Context, from, to, cc, tipo string, extra []byte) error {
	sender, err := w.party(from)
	if err != nil {
		return err
	}
	if sender.provider == nil || sender.unknown {
		return harnessf("%s is not a user of a PEC provider", from)
	}
	tos, err := w.partyList(to)
	if err != nil {
		return err
	}
	var ccs []*party
	if cc != "" {
		if ccs, err = w.partyList(cc); err != nil {
			return err
		}
	}
	o := probe.Original{From: sender.Address(), Subject: w.subject(), TipoRicevuta: tipo,
		Body: "Messaggio di prova di pecspec.\nScenario: " + w.res.Name + "\n"}
	switch w.variant {
	case "with an attachment":
		o.Attachment, o.AttachmentName = []byte("Allegato di prova di pecspec: "+w.token+"\n"), "allegato.txt"
	case "signed with S/MIME", "signed with S/MIME in opaque form":
		if o.Signer, err = probe.NewUserSigner(sender.Address()); err != nil {
			return err
		}
		o.Opaque = strings.HasSuffix(w.variant, "opaque form")
	}
	for _, p := range tos {
		o.To = append(o.To, p.Address())
	}
	for _, p := range ccs {
		o.Cc = append(o.Cc, p.Address())
	}
	id, raw := o.Build()
	if extra != nil {
		raw = append(append(raw, extra...), "\r\n"...)
	}
	var rcpt []string // RCPT TO: each address once, though it be in To and Cc
	for _, a := range append(append([]string(nil), o.To...), o.Cc...) {
		if !slices.ContainsFunc(rcpt, func(r string) bool { return strings.EqualFold(r, a) }) {
			rcpt = append(rcpt, a)
		}
	}
	w.sender, w.rcpts = sender, append(tos, ccs...)
	w.sub = report.Submission{Sender: sender.Address(), To: o.To, Cc: o.Cc, MessageID: id}
	err = w.submit(ctx, sender, sender.Address(), rcpt, raw)
	if se, ok := refusal(err); ok {
		if sender.provider != w.r.opts.Target {
			return harnessf("the lab's %s refused a correct submission: %v", sender.provider.Name, se)
		}
		// A correct submission must be accepted: an accettazione, not a refusal.
		return &ruleError{rule: w.acceptRule(), err: fmt.Errorf("the target refused a correct submission: %w", se)}
	}
	return err
}

// acceptRule is the rule a refused correct submission breaks: the
// scenario's APC rule (APC-09 for the virus, APC-12 within one domain), else
// ACC-09 (one accettazione per accepted submission).
func (w *World) acceptRule() string {
	if rule := w.procedureRule(); rule != "" {
		return rule
	}
	return "ACC-09"
}

// submit keeps raw as evidence and submits it as sender.
func (w *World) submit(ctx context.Context, sender *party, mailFrom string, rcpt []string, raw []byte) error {
	w.res.Submitted = time.Now()
	if rel, err := w.r.evidence.SaveSent(w.res.Name, raw); err == nil {
		w.res.Sent = append(w.res.Sent, rel)
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	ep := sender.provider.Submission
	for try := 1; ; try++ {
		err := w.r.breaker.call(ep.Addr(), func() error {
			return probe.Submit(ctx, ep, w.r.trust, sender.account, mailFrom, rcpt, raw)
		})
		se, refused := refusal(err)
		if !refused || (se.Code != 421 && se.Code != 451) {
			return err
		}
		// RFC 5321 §4.2.5, §4.5.4.1: a transient reply (the server or a
		// dependency busy) means "not taken, try again later", as a client
		// does; nothing was accepted, so the same bytes go again.
		if try == submitTries {
			return harnessf("%s answered %d to the submission %d times: a temporary failure on its side "+
				"(its logs say why), not a conformance finding: %v", ep.Addr(), se.Code, try, se)
		}
		select {
		case <-ctx.Done():
			return harnessf("%s answered %d to the submission, and the step's time ran out before another try: %v",
				ep.Addr(), se.Code, se)
		case <-time.After(time.Duration(try) * submitRetryPause):
		}
	}
}

// submitTries and submitRetryPause bound the retries of a submission
// answered 421 or 451: 3 tries, 5 s then 10 s apart.
const submitTries = 3

var submitRetryPause = 5 * time.Second

// faults are the formal faults of a submission the access point must answer
// with an avviso di non accettazione (RFC 6109 §3.1.1, APC-03…08, APC-11):
// each edits the original's header fields, MAIL FROM or RCPT TO.
var faults = map[string]func(f *fault){
	"without a From header":             func(f *fault) { f.drop("From") },
	"without a To header":               func(f *fault) { f.drop("To") },
	"whose From differs from MAIL FROM": func(f *fault) { f.set("From", "altro-mittente@"+f.domain) },
	"with a recipient not in To or Cc":  func(f *fault) { f.rcpt = append(f.rcpt, "terzo@"+f.rcptDomain) },
	"with a Bcc header":                 func(f *fault) { f.set("Bcc", "nascosto@"+f.rcptDomain) },
	"whose size times recipients exceeds 30 MB": func(f *fault) {
		f.body = bigBody(16 << 20)
		f.set("To", f.rcpt[0]+", "+f.from)
		f.rcpt = append(f.rcpt, f.from)
	},
}

// fault is a submission being spoiled.
type fault struct {
	header             []string // "Name: value" lines
	body               string
	from               string
	domain, rcptDomain string
	rcpt               []string
}

func (f *fault) drop(name string) {
	out := f.header[:0]
	for _, h := range f.header {
		if !strings.HasPrefix(strings.ToLower(h), strings.ToLower(name)+":") {
			out = append(out, h)
		}
	}
	f.header = out
}

func (f *fault) set(name, value string) {
	f.drop(name)
	f.header = append(f.header, name+": "+value)
}

func bigBody(n int) string {
	line := strings.Repeat("x", 76) + "\r\n"
	return strings.Repeat(line, n/len(line)+1)
}

// oneToOne resolves a sender and one recipient, builds an original from one
// to the other with body, and makes it the scenario's submission.
func (w *World) oneToOne(from, to, body string) (sender, rcpt *party, raw []byte, err error) {
	if sender, err = w.party(from); err != nil {
		return nil, nil, nil, err
	}
	if rcpt, err = w.party(to); err != nil {
		return nil, nil, nil, err
	}
	id, raw := probe.Original{From: sender.Address(), To: []string{rcpt.Address()}, Subject: w.subject(), Body: body}.Build()
	w.sender, w.rcpts = sender, []*party{rcpt}
	w.sub = report.Submission{Sender: sender.Address(), To: []string{rcpt.Address()}, MessageID: id}
	return sender, rcpt, raw, nil
}

// submitsFaulty submits a message to rcpt spoiled by the named fault.
func submitsFaulty(ctx context.Context, from, to, name string) error {
	w := world(ctx)
	spoil, ok := faults[name]
	if !ok {
		return harnessf("unknown fault %q (known: %s)", name, strings.Join(sortedKeys(faults), "; "))
	}
	sender, rcpt, raw, err := w.oneToOne(from, to, "Messaggio di prova di pecspec con un difetto formale: "+name+"\n")
	if err != nil {
		return err
	}
	if sender.provider == nil {
		return harnessf("%s is not a user of a PEC provider", from)
	}
	head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	f := &fault{header: strings.Split(head, "\r\n"), body: body, from: sender.Address(),
		domain: sender.provider.Domains[0], rcpt: []string{rcpt.Address()}}
	_, f.rcptDomain, _ = strings.Cut(rcpt.Address(), "@")
	spoil(f)
	msg := []byte(strings.Join(f.header, "\r\n") + "\r\n\r\n" + f.body)
	// A refusal at SMTP level (the server's reply) is recorded, not a step
	// error: the notice steps then report it as the reason no notice came.
	err = w.submit(ctx, sender, sender.Address(), f.rcpt, msg)
	if _, ok := refusal(err); err != nil && !ok {
		return err
	}
	w.refusal, w.tried = err, true
	return nil
}

// submitsInsecure tries a submission the target must refuse at the protocol
// level: without AUTH (APC-01, RFC 6109 §5.2), without TLS (APC-02, §5.3),
// or authenticated as the sender with MAIL FROM and From of another user
// (APC-11, §5.2). The refusal is recorded for "the submission is refused".
func submitsInsecure(ctx context.Context, from, to, how string) error {
	w := world(ctx)
	sender, rcpt, raw, err := w.oneToOne(from, to, "Invio che il gestore deve rifiutare: "+how+"\n")
	if err != nil {
		return err
	}
	if sender.provider == nil {
		return harnessf("%s is not a user of a PEC provider", from)
	}
	ep, acct, mailFrom := sender.provider.Submission, sender.account, sender.Address()
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	switch how {
	case "without authenticating":
		acct = probe.Account{}
	case "over a connection without TLS":
		return w.plaintextSubmission(ctx, ep, acct)
	default:
		for _, a := range sender.provider.Accounts {
			if !strings.EqualFold(a.Address, sender.Address()) {
				mailFrom = a.Address
			}
		}
		if mailFrom == sender.Address() {
			return harnessf("%s has no second account to impersonate", sender.provider.Name)
		}
		raw = []byte(strings.Replace(string(raw), "From: "+sender.Address(), "From: "+mailFrom, 1))
	}
	// AUTH as the sender itself must succeed (a refused login is a harness
	// error, never the refusal APC-11 looks for); the refusal is the
	// server's reply to MAIL, RCPT or DATA.
	err = w.r.breaker.call(ep.Addr(), func() error {
		return probe.Submit(ctx, ep, w.r.trust, acct, mailFrom, []string{rcpt.Address()}, raw)
	})
	if se, ok := refusal(err); ok {
		if se.Code < 400 {
			return &ruleError{rule: w.procedureRule(), err: fmt.Errorf("the target answered %d, neither acceptance nor refusal", se.Code)}
		}
	} else if err != nil {
		return err // no answer, TLS or network trouble, a refused login: not a verdict on the target
	}
	w.refusal, w.tried = err, true // nil: accepted (DATA answered 250)
	return nil
}

// plaintextSubmission tries AUTH over a connection without TLS (APC-02):
// the refusal is the server closing the connection, answering something
// other than SMTP, or refusing AUTH; a failed login (535) is not one.
func (w *World) plaintextSubmission(ctx context.Context, ep probe.Endpoint, acct probe.Account) error {
	err := w.r.breaker.call(ep.Addr(), func() error { return probe.SubmitPlaintext(ctx, ep, acct) })
	switch {
	case errors.Is(err, probe.ErrPlainAccepted):
		w.refusal = nil
	case err != nil:
		return err
	default:
		w.refusal = errors.New("no authentication without TLS")
	}
	w.tried = true
	return nil
}

// submissionRefused passes when the last protocol-level submission was
// refused by the server's answer to it.
func submissionRefused(ctx context.Context) error {
	w := world(ctx)
	if !w.tried {
		return harnessf("no submission was tried at protocol level in this scenario")
	}
	if w.refusal == nil {
		return &ruleError{rule: w.procedureRule(), err: fmt.Errorf("the target accepted the submission %s", w.sub.MessageID)}
	}
	return nil
}

// sendsOrdinary sends an ordinary (unsigned) message from a user of the
// external domain straight to the recipient provider's MX, as the ordinary
// domain's server would (RFC 6109 §3.2.2: it must become a busta di anomalia).
func sendsOrdinary(ctx context.Context, from, plain, to string) error {
	w := world(ctx)
	sender, rcpt, raw, err := w.oneToOne(from, to, "Posta ordinaria inviata da pecspec.\n")
	if err != nil {
		return err
	}
	if rcpt.provider == nil {
		return harnessf("%s is not a user of a PEC provider", to)
	}
	w.sub.Ordinary = true
	rule := "ANO-07" // ordinary mail is delivered in a busta di anomalia
	ep := rcpt.provider.MX
	if plain != "" {
		ep.TLS, rule = probe.TLSNone, "OPS-02" // the MX also accepts plaintext SMTP
	}
	return w.relay(ctx, rcpt.provider, ep, rule, sender.Address(), []string{rcpt.Address()}, raw)
}

// mxOffersStartTLS checks that the target's MX announces STARTTLS in its
// EHLO reply (OPS-02, RFC 6109 §5.3).
func mxOffersStartTLS(ctx context.Context) error {
	w := world(ctx)
	ep := w.r.opts.Target.MX
	ep.TLS = probe.TLSNone
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	var ok bool
	err := w.r.breaker.call(ep.Addr(), func() (err error) {
		ok, err = probe.OffersStartTLS(ctx, ep)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return &ruleError{rule: "OPS-02", err: fmt.Errorf("the MX %s does not announce STARTTLS", ep.Addr())}
	}
	return nil
}
