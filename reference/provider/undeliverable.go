package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/deliverypoint"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/queue"
)

// undeliverable hears the queue's failures (queue.Options.OnFailure). A busta
// di trasporto of this instance that an esterno recipient's server refused
// for good, that has no route, or that was not taken within the queue's
// lifetime gets an avviso di mancata consegna to its sender — never silence
// (docs/reference.md, "Notices for every failure"). Certificato recipients are
// the tracker's: its 12 h and 24 h notices tell the sender (TIM-02, TIM-04).
// A receipt or notice to another provider that fails is only logged: no
// notice is sent about a notice. An error keeps the recipients queued, to be
// told again (the token may be away).
func (p *Provider) undeliverable(it queue.Item, failure error) error {
	m := pec.Parse(it.Data)
	if m.Kind() != pec.KindTrasporto || m.Postacert == nil {
		p.log.Error("queue gave up", "role", "queue", "id", it.ID, "to", it.To, "kind", m.Kind(), "err", failure)
		return nil
	}
	certified := map[string]bool{}
	for _, d := range m.Postacert.Intestazione.Destinatari {
		certified[strings.ToLower(strings.TrimSpace(d.Indirizzo))] = d.Tipo == pec.DestCertificato
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Told at least once by the queue, made once: named after the item.
	ctx = once.With(ctx, "u"+it.ID)
	env := deliverypoint.Envelope{Raw: it.Data, Message: m, ReturnPath: it.From, Recipients: it.To}
	for _, r := range it.To {
		if certified[strings.ToLower(r)] {
			p.log.Error("envelope undeliverable to a certificato recipient; the tracker tells the sender",
				"role", "queue", "id", it.ID, "rcpt", r, "err", failure)
			continue
		}
		errore, esteso := failureNotice(failure, r, p.cfg.ProviderName)
		if err := p.dp.Undeliverable(ctx, env, r, errore, esteso); err != nil {
			return err
		}
	}
	return nil
}

// failureNotice is the errore and errore-esteso of an avviso di mancata
// consegna for a queue failure, in the form "<x.y.z> - <provider> - <text>"
// (pec-rules A24): an unknown mailbox is no-dest, an unknown or unreachable
// domain no-dominio, anything else altro (ERR-02, ERR-05). The remote
// server's text is cleaned and bounded: it is untrusted input.
func failureNotice(failure error, rcpt, provider string) (pec.Errore, string) {
	var se *smtp.SMTPError
	switch {
	case errors.As(failure, &se):
		code := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		if se.EnhancedCode == smtp.NoEnhancedCode || se.EnhancedCode[0] == 0 {
			code = fmt.Sprintf("%d.0.0", se.Code/100)
		}
		errore := pec.ErroreAltro
		switch code {
		case "5.1.1":
			errore = pec.ErroreNoDest
		case "5.1.2":
			errore = pec.ErroreNoDominio
		}
		return errore, code + " - " + provider + " - il server di destinazione ha rifiutato il messaggio: " +
			bounded(fmt.Sprintf("%d %s", se.Code, se.Message))
	case errors.Is(failure, queue.ErrNoRoute):
		_, domain, _ := strings.Cut(rcpt, "@")
		return pec.ErroreNoDominio, "5.1.2 - " + provider + " - dominio di destinazione non raggiungibile: " + bounded(domain)
	case errors.Is(failure, queue.ErrExpired):
		return pec.ErroreAltro, "4.4.7 - " + provider + " - messaggio non consegnato entro il tempo massimo: " +
			bounded(failure.Error())
	}
	return pec.ErroreAltro, "5.0.0 - " + provider + " - consegna non riuscita: " + bounded(failure.Error())
}

// bounded is untrusted text cleaned (compose.CleanText) and cut to 200
// characters.
func bounded(s string) string {
	s = strings.Join(strings.Fields(compose.CleanText(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
