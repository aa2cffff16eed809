package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
	"github.com/pecspec/pecspec/report"
)

func registerMailboxSteps(sc stepRegistrar) {
	sc.Step(`^`+partyExpr+` receives an acceptance receipt$`, receives(pec.KindAccettazione))
	sc.Step(`^the acceptance receipt lists every recipient as certificato or esterno$`, acceptanceLists)
	sc.Step(`^`+partyExpr+` receives a transport envelope$`, receives(pec.KindTrasporto))
	sc.Step(`^`+partyExpr+` receives an anomaly envelope$`, receivesAnomaly)
	sc.Step(`^(?:the )?(target|counterpart|gamma)'s service mailbox receives a take-charge receipt(?: from the (target|counterpart))?$`, serviceReceives)
	sc.Step(`^(?:the )?(target|gamma)'s service mailbox receives a virus detection notice$`, serviceReceivesVirusNotice)
	sc.Step(`^`+partyExpr+` receives a delivery receipt(?: of type "(completa|breve|sintetica)")?(?: for `+partyExpr+`)?$`, receivesDelivery)
	sc.Step(`^`+partyExpr+` receives a non-delivery notice( for virus)? for `+partyExpr+`$`, receivesNonDelivery)
	sc.Step(`^`+partyExpr+` receives a non-acceptance notice( for virus)?$`, receivesNonAcceptance)
	sc.Step(`^`+partyExpr+` receives a (12|24) h timeout notice$`, receivesTimeout)
	sc.Step(`^`+partyExpr+` has received (\d+) timeout notices? in all$`, timeoutCount)
	sc.Step(`^`+partyExpr+` has received nothing about the message$`, receivedNothing)
}

// receives waits in handle's mailbox for a message of kind about the
// submitted message.
func receives(kind pec.Kind) func(ctx context.Context, who string) error {
	return func(ctx context.Context, who string) error {
		w := world(ctx)
		p, err := w.party(who)
		if err != nil {
			return err
		}
		_, err = w.await(ctx, p, false, string(kind), w.about(kind))
		return err
	}
}

// about matches a message of kind that refers to the submitted message: by
// X-Riferimento-Message-ID (receipts, RFC 6109 §2.1.1.1), by the daticert
// msgid (so a receipt that lacks the header is still captured, and graded
// GEN-15), or by the original it carries (envelopes and anomalies).
func (w *World) about(kind pec.Kind) func(*pec.Message) bool {
	id := normID(w.sub.MessageID)
	return func(m *pec.Message) bool {
		if m.Kind() != kind {
			return false
		}
		if normID(m.Header(pec.HeaderRiferimentoMsgID)) == id {
			return true
		}
		if m.Postacert != nil && m.Postacert.Dati.Msgid != nil && normID(*m.Postacert.Dati.Msgid) == id {
			return true
		}
		return m.Original != nil && bytes.Contains(m.Original.Body, []byte(id))
	}
}

// serviceReceives waits for a presa in carico in a provider's mailReceipt
// (RFC 6109 §3.2.1); "from the counterpart" narrows it to the one that
// provider issued (gestore-emittente, its providerName).
func serviceReceives(ctx context.Context, role, from string) error {
	w := world(ctx)
	p, err := w.service(role)
	if err != nil {
		return err
	}
	match := w.about(pec.KindPresaInCarico)
	if from != "" {
		issuer, err := w.service(from)
		if err != nil {
			return err
		}
		name, base := issuer.provider.ProviderName, match
		match = func(m *pec.Message) bool {
			return base(m) && m.Postacert != nil && m.Postacert.Dati.GestoreEmittente == name
		}
	}
	_, err = w.await(ctx, p, true, "take-charge receipt", match)
	return err
}

func receivesAnomaly(ctx context.Context, who string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	_, err = w.await(ctx, p, false, "anomaly envelope", w.about(pec.KindAnomalia))
	return err
}

// forRecipient narrows match to notices whose daticert consegna is addr
// (one receipt per recipient, RFC 6109 §3.3.2).
func forRecipient(match func(*pec.Message) bool, addr string) func(*pec.Message) bool {
	if addr == "" {
		return match
	}
	return func(m *pec.Message) bool {
		return match(m) && m.Postacert != nil && m.Postacert.Dati.Consegna != nil && strings.EqualFold(*m.Postacert.Dati.Consegna, addr)
	}
}

func receivesDelivery(ctx context.Context, who, tipo, rcpt string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	addr := ""
	if rcpt != "" {
		r, err := w.party(rcpt)
		if err != nil {
			return err
		}
		addr = r.Address()
	}
	m, err := w.await(ctx, p, false, "delivery receipt", forRecipient(w.about(pec.KindAvvenutaConsegna), addr))
	if err != nil {
		return err
	}
	if tipo == "" {
		return nil
	}
	got := pec.TipoRicevuta("")
	if m.Postacert != nil && m.Postacert.Dati.Ricevuta != nil {
		got = m.Postacert.Dati.Ricevuta.Tipo
	}
	if got != pec.TipoRicevuta(tipo) {
		return &ruleError{rule: w.tipoRule(tipo), err: fmt.Errorf("the delivery receipt is of type %q, want %q", got, tipo)}
	}
	return nil
}

// receivesNonDelivery waits for the avviso di mancata consegna for rcpt
// (RFC 6109 §3.3.3): errore no-dest for an unknown mailbox.
func receivesNonDelivery(ctx context.Context, who, virus, rcpt string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	r, err := w.party(rcpt)
	if err != nil {
		return err
	}
	m, err := w.await(ctx, p, false, "non-delivery notice", forRecipient(w.about(pec.KindErroreConsegna), r.Address()))
	if err != nil {
		return err
	}
	if r.unknown && m.Postacert != nil && m.Postacert.Errore != pec.ErroreNoDest {
		return &ruleError{rule: "ERR-02", err: fmt.Errorf("non-delivery notice for an unknown mailbox with errore %q, want %q", m.Postacert.Errore, pec.ErroreNoDest)}
	}
	if virus != "" && m.Postacert != nil && m.Postacert.Errore != pec.ErroreVirus {
		return &ruleError{rule: "VIR-06", err: fmt.Errorf("non-delivery notice for a virus with errore %q, want %q", m.Postacert.Errore, pec.ErroreVirus)}
	}
	return nil
}

// receivesNonAcceptance waits for the avviso di non accettazione (RFC 6109
// §3.1.2; per virus §3.1.3: errore virus).
func receivesNonAcceptance(ctx context.Context, who, virus string) error {
	w := world(ctx)
	if w.refusal != nil {
		return &ruleError{rule: w.missingRule("non-acceptance notice"),
			err: fmt.Errorf("the submission was refused at SMTP level instead of a non-acceptance notice: %v", w.refusal)}
	}
	p, err := w.party(who)
	if err != nil {
		return err
	}
	m, err := w.await(ctx, p, false, "non-acceptance notice", w.about(pec.KindNonAccettazione))
	if err != nil {
		return err
	}
	want, rule := pec.ErroreAltro, "NAC-03"
	if virus != "" {
		want, rule = pec.ErroreVirus, "NAC-06"
	}
	if m.Postacert != nil && m.Postacert.Errore != want {
		return &ruleError{rule: rule, err: fmt.Errorf("non-acceptance notice with errore %q, want %q", m.Postacert.Errore, want)}
	}
	return nil
}

// timeoutPhase tells the 12 h preavviso from the 24 h notice by their
// daticert instants against the dispatch (the accettazione's): the 24 h one
// comes at 22 h or later (TIM-04), the 12 h one before.
func (w *World) timeoutPhase(m *pec.Message) string {
	var t0 time.Time
	for _, c := range w.caps {
		if a := pec.Parse(c.Raw); a.Kind() == pec.KindAccettazione && a.Postacert != nil {
			t0, _ = a.Postacert.Dati.Data.Instant()
		}
	}
	if m.Postacert == nil || t0.IsZero() {
		return ""
	}
	t, err := m.Postacert.Dati.Data.Instant()
	if err != nil {
		return ""
	}
	if t.Sub(t0) >= 22*time.Hour {
		return "24"
	}
	return "12"
}

func receivesTimeout(ctx context.Context, who, phase string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	about := w.about(pec.KindPreavvisoErroreConsegna)
	_, err = w.await(ctx, p, false, phase+" h timeout notice", func(m *pec.Message) bool {
		return about(m) && w.timeoutPhase(m) == phase
	})
	return err
}

// timeoutCount checks, after the notices waited for, that no other timeout
// notice about the message is in the mailbox (TIM-05).
func timeoutCount(ctx context.Context, who string, n int) error {
	w := world(ctx)
	msgs, err := w.allAbout(ctx, who)
	if err != nil {
		return err
	}
	got := 0
	for _, m := range msgs {
		if m.Kind() == pec.KindPreavvisoErroreConsegna {
			got++
		}
	}
	if got != n {
		// More than due: a notice after the 24 h one or one too many (TIM-05);
		// fewer: a 12 h notice missing (TIM-02).
		rule := "TIM-05"
		if got < n {
			rule = "TIM-02"
		}
		return &ruleError{rule: rule, err: fmt.Errorf("%d timeout notices about %s, want %d", got, w.sub.MessageID, n)}
	}
	return nil
}

// receivedNothing checks that who's mailbox holds nothing about the
// message now (after the notice that closed the flow came).
func receivedNothing(ctx context.Context, who string) error {
	w := world(ctx)
	msgs, err := w.allAbout(ctx, who)
	if err != nil {
		return err
	}
	if len(msgs) > 0 {
		// Nothing is sent on for a message not accepted (NAC-05); an
		// infected envelope is not delivered (VIR-05).
		rule := "NAC-05"
		if w.sub.Relayed || w.captured(pec.KindRilevazioneVirus) {
			rule = "VIR-05"
		}
		return &ruleError{rule: rule, err: fmt.Errorf("%s received a %s about %s", who, msgs[0].Kind(), w.sub.MessageID)}
	}
	return nil
}

// captured reports whether the scenario captured a message of kind.
func (w *World) captured(kind pec.Kind) bool {
	return slices.ContainsFunc(w.caps, func(c report.Captured) bool { return pec.Parse(c.Raw).Kind() == kind })
}

// allAbout returns every message in who's mailbox that refers to the
// submitted message, whatever its kind.
func (w *World) allAbout(ctx context.Context, who string) ([]*pec.Message, error) {
	p, err := w.party(who)
	if err != nil {
		return nil, err
	}
	box, err := w.mailbox(ctx, p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	var all []probe.Fetched
	err = w.r.breaker.call(p.imap.Addr(), func() (err error) {
		all, err = box.Fetch(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	id := normID(w.sub.MessageID)
	var out []*pec.Message
	for _, f := range all {
		m := pec.Parse(f.Raw)
		// The same correlation as about(): a notice that lacks
		// X-Riferimento-Message-ID is still counted (and graded GEN-15).
		if normID(m.Header(pec.HeaderRiferimentoMsgID)) == id || bytes.Contains(f.Raw, []byte(id)) ||
			(m.Postacert != nil && m.Postacert.Dati.Msgid != nil && normID(*m.Postacert.Dati.Msgid) == id) {
			out = append(out, m)
		}
	}
	return out, nil
}

// acceptanceLists checks the accettazione's destinatari against the
// submission: every recipient once, certificato for PEC providers, esterno
// for the external domain (RFC 6109 §3.1.4, ACC rules).
func acceptanceLists(ctx context.Context) error {
	w := world(ctx)
	var acc *pec.Message
	for _, c := range w.caps {
		if m := pec.Parse(c.Raw); m.Kind() == pec.KindAccettazione {
			acc = m
		}
	}
	if acc == nil || acc.Postacert == nil {
		return harnessf("no acceptance receipt with daticert was captured")
	}
	got := map[string]string{}
	for _, d := range acc.Postacert.Intestazione.Destinatari {
		got[strings.ToLower(strings.TrimSpace(d.Indirizzo))] = d.Tipo
	}
	var bad []string
	for _, p := range w.rcpts {
		want := pec.DestCertificato
		if p.provider == nil {
			want = pec.DestEsterno
		}
		if t, ok := got[strings.ToLower(p.Address())]; !ok || t != want {
			bad = append(bad, fmt.Sprintf("%s: %q, want %q", p.Address(), t, want))
		}
	}
	if len(bad) > 0 {
		return &ruleError{rule: "ACC-06", err: fmt.Errorf("acceptance receipt destinatari: %s", strings.Join(bad, "; "))}
	}
	return nil
}

// await waits (IMAP IDLE, deadline StepTimeout) for a message matching
// match in p's mailbox, keeps it as evidence and grades it.
func (w *World) await(ctx context.Context, p *party, service bool, what string, match func(*pec.Message) bool) (*pec.Message, error) {
	if w.sub.MessageID == "" {
		return nil, harnessf("nothing was submitted in this scenario")
	}
	if w.refusal != nil {
		return nil, &ruleError{rule: w.missingRule(what), err: fmt.Errorf("the submission was refused: %v", w.refusal)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	var found *pec.Message
	accept := func(raw []byte) bool {
		m := pec.Parse(raw)
		if match(m) {
			found = m
			return true
		}
		return false
	}
	var f probe.Fetched
	var err error
	if p.role == roleGamma {
		f, err = w.awaitPeer(ctx, p, accept)
	} else {
		var box *probe.Mailbox
		if box, err = w.mailbox(ctx, p); err != nil {
			return nil, err
		}
		err = w.r.breaker.call(p.imap.Addr(), func() (err error) {
			f, err = box.WaitFor(ctx, accept)
			return err
		})
	}
	if errors.Is(err, probe.ErrTimeout) {
		err := fmt.Errorf("no %s about %s reached %s within %v", what, w.sub.MessageID, p.Address(), w.r.opts.StepTimeout)
		return nil, &ruleError{rule: w.missingRule(what), err: err}
	}
	if err != nil {
		return nil, err
	}
	w.capture(p.Address(), service, p.role == roleGamma, f.Raw)
	return found, nil
}

// tipoRule is the rule a delivery receipt of the wrong type breaks: a
// sintetica for a Cc recipient (CON-05) or when asked for (CON-06), the
// original included for completa (CON-04), hashes for breve (BRV-01).
func (w *World) tipoRule(want string) string {
	switch {
	case want == "sintetica" && w.tipo == "sintetica":
		return "CON-06"
	case want == "sintetica":
		return "CON-05"
	case want == "breve":
		return "BRV-01"
	}
	return "CON-04"
}

// missingRule names the rule a missing message breaks: for a
// non-accettazione the scenario's APC rule when it has one.
func (w *World) missingRule(what string) string {
	if rule := w.procedureRule(); what == "non-acceptance notice" && rule != "" {
		return rule
	}
	return requiredBy[what]
}

// capture saves a message as evidence and grades it.
func (w *World) capture(mailbox string, service, atMX bool, raw []byte) {
	w.captureGraded(mailbox, service, atMX, raw, report.Grade(raw, w.r.grading))
}

// captureGraded saves a message graded already as evidence.
func (w *World) captureGraded(mailbox string, service, atMX bool, raw []byte, g report.Graded) {
	rel, err := w.r.evidence.Save(w.res.Name, g.Kind, raw)
	if err != nil {
		rel = "(not saved: " + err.Error() + ")"
	}
	w.caps = append(w.caps, report.Captured{Mailbox: mailbox, Service: service, AtMX: atMX, Raw: raw})
	now := time.Now()
	mr := MessageResult{File: rel, Kind: g.Kind, Mailbox: mailbox, Captured: now, LabTime: now.Add(w.r.offset()), AtMX: atMX,
		Verdicts: g.Verdicts}
	if e, err := pec.ReadEntity(raw); err == nil {
		if a, err := mail.ParseAddress(e.Header.Get("From")); err == nil {
			mr.From = a.Address
		}
		mr.Date, _ = mail.ParseDate(e.Header.Get("Date"))
	}
	w.res.Messages = append(w.res.Messages, mr)
}

func normID(s string) string {
	return strings.Trim(s, "<> ")
}

// awaitPeer waits for a message gamma's MX received for p, and keeps its
// SMTP transcript (reverse-path, recipients, TLS) as evidence next to it.
func (w *World) awaitPeer(ctx context.Context, p *party, accept func([]byte) bool) (probe.Fetched, error) {
	r, err := w.r.peer.Wait(ctx, func(r peer.Received) bool {
		return slices.ContainsFunc(r.RcptTo, func(a string) bool { return strings.EqualFold(a, p.Address()) }) && accept(r.Raw)
	})
	if err != nil {
		return probe.Fetched{}, err
	}
	transcript := map[string]any{"mail_from": r.MailFrom, "rcpt_to": r.RcptTo, "tls": r.TLS, "received": r.At}
	if _, err := w.r.evidence.SaveJSON(w.res.Name, fmt.Sprintf("smtp-%02d.json", len(w.caps)+1), transcript); err != nil {
		fmt.Fprintf(w.r.console, "warning: %v\n", err)
	}
	return probe.Fetched{Raw: r.Raw, Received: r.At}, nil
}

// serviceReceivesVirusNotice waits at a provider's mailReceipt for the avviso
// di rilevazione virus the receiving provider owes the sending one (RFC 6109
// §3.2.3).
func serviceReceivesVirusNotice(ctx context.Context, role string) error {
	w := world(ctx)
	p, err := w.service(role)
	if err != nil {
		return err
	}
	_, err = w.await(ctx, p, true, "virus detection notice", w.about(pec.KindRilevazioneVirus))
	return err
}
