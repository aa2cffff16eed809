package report

import (
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
)

// Fixture identifiers of one transaction.
const (
	fxSubject  = "Prova PEC"
	fxClientID = "<client-1@mua.example>"
	fxPECID    = "opec.0001.20261123@pec.alpha.test"
	fxOrdinary = "mario@example.org"
)

// original is the client's message as the envelope carries it: Message-ID
// replaced by the PEC msgid and the client's kept in X-Riferimento-Message-ID.
func (w *world) original(at time.Time) []byte {
	return []byte(lines(
		"Received: from mua.example ([192.0.2.1]) by pec.alpha.test with ESMTPSA; "+pec.DateHeader(at),
		"From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "Date: "+pec.DateHeader(at),
		"Message-ID: <"+fxPECID+">", "X-Riferimento-Message-ID: "+fxClientID, "MIME-Version: 1.0",
		"Content-Type: text/plain; charset=UTF-8", "", "Ciao Bob."))
}

// daticert returns the certification data of a message of kind k at t.
func (w *world) daticert(k pec.Kind, issuer *ident, at time.Time) *pec.Postacert {
	p := &pec.Postacert{Tipo: tipoOf(k), Errore: pec.ErroreNessuno,
		Intestazione: pec.Intestazione{Mittente: w.sender, Destinatari: []pec.Destinatario{{Tipo: pec.DestCertificato, Indirizzo: w.rcpt}},
			Risposte: w.sender, Oggetto: pec.Str(fxSubject)},
		Dati: pec.Dati{GestoreEmittente: issuer.name, Data: pec.DataOf(at), Identificativo: fxPECID, Msgid: pec.Str(fxClientID)}}
	switch k {
	case pec.KindTrasporto:
		p.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: pec.TipoCompleta}
	case pec.KindAvvenutaConsegna:
		p.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: pec.TipoCompleta}
		p.Dati.Consegna = pec.Str(w.rcpt)
	case pec.KindPresaInCarico:
		p.Dati.Ricezione = []string{w.rcpt}
	case pec.KindNonAccettazione:
		p.Errore, p.Dati.ErroreEsteso = pec.ErroreAltro, pec.Str("destinatario non valido")
	case pec.KindErroreConsegna:
		p.Errore, p.Dati.ErroreEsteso = pec.ErroreNoDest, pec.Str("5.1.1 - Beta PEC - utente inesistente")
		p.Dati.Consegna = pec.Str(w.rcpt)
	case pec.KindPreavvisoErroreConsegna:
		p.Dati.Consegna = pec.Str(w.rcpt)
	case pec.KindRilevazioneVirus:
		p.Errore, p.Dati.ErroreEsteso = pec.ErroreVirus, pec.Str("virus Eicar-Test-Signature")
		p.Dati.Consegna = pec.Str(w.rcpt)
	}
	return p
}

// phrase is what each kind's text says happened (pec-rules §2.3 wording).
var phrase = map[pec.Kind]string{
	pec.KindAccettazione:            "e' stato accettato dal sistema ed inoltrato.",
	pec.KindNonAccettazione:         "e' stato rilevato un problema che ne impedisce l'accettazione a causa di: destinatario non valido. Il messaggio non e' stato accettato.",
	pec.KindTrasporto:               "Il messaggio originale e' incluso in allegato.",
	pec.KindPresaInCarico:           "e' stato accettato dal sistema.",
	pec.KindAvvenutaConsegna:        "e' stato posto nella casella di destinazione.",
	pec.KindErroreConsegna:          "e' stato rilevato un errore: 5.1.1 - Beta PEC - utente inesistente. Il messaggio e' stato rifiutato dal sistema.",
	pec.KindPreavvisoErroreConsegna: "non e' stato consegnato nelle prime 12 ore dalla spedizione. Il sistema inviera' un altro avviso se nelle successive dodici ore non arrivera' conferma.",
	pec.KindRilevazioneVirus:        "e' stato rilevato un problema di sicurezza: virus Eicar-Test-Signature.",
}

// text is the human-readable part of a receipt or envelope.
func (w *world) text(k pec.Kind, at time.Time) string {
	g, o, z := pec.TextInstant(at)
	return lines(string(k), "",
		fmt.Sprintf("Il giorno %s alle ore %s %s il messaggio %q proveniente da %q ed indirizzato a:", g, o, z, fxSubject, w.sender),
		w.rcpt+" (\"posta certificata\")", phrase[k], "Identificativo messaggio: "+fxPECID)
}

// msg returns the fixture of a kind, correct in every rule.
func (w *world) msg(k pec.Kind) *fx {
	at := w.t0
	issuer, from, to := w.alpha, w.alpha.service(), w.sender
	switch k {
	case pec.KindPresaInCarico, pec.KindRilevazioneVirus:
		issuer, from, to = w.beta, w.beta.service(), w.alpha.service()
	case pec.KindAvvenutaConsegna, pec.KindErroreConsegna:
		issuer, from = w.beta, w.beta.service()
	case pec.KindPreavvisoErroreConsegna:
		at = w.t0.Add(12 * time.Hour)
	case pec.KindAnomalia:
		return w.anomalia()
	case pec.KindTrasporto:
		return w.envelope()
	}
	f := &fx{kind: k, signer: issuer, text: w.text(k, at), dc: w.daticert(k, issuer, at)}
	f.hdr = []smime.Field{{Name: "Date", Value: pec.DateHeader(at)}, {Name: "From", Value: from}, {Name: "To", Value: to},
		{Name: "Subject", Value: prefixOf(k) + fxSubject}, {Name: "Message-ID", Value: fmt.Sprintf("<%s-%d@%s>", k, at.Unix(), issuer.domain)},
		{Name: "X-Ricevuta", Value: string(k)}, {Name: "X-Riferimento-Message-ID", Value: fxClientID}}
	switch k {
	case pec.KindAvvenutaConsegna:
		f.orig = w.original(w.t0)
	case pec.KindRilevazioneVirus:
		f.set("X-Mittente", w.sender)
	}
	return f
}

func prefixOf(k pec.Kind) string {
	x := &Msg{Kind: k, M: &pec.Message{Outer: &pec.Entity{}}}
	return prefix(x)
}

func (w *world) envelope() *fx {
	k, at := pec.KindTrasporto, w.t0
	f := &fx{kind: k, signer: w.alpha, text: w.text(k, at), dc: w.daticert(k, w.alpha, at), orig: w.original(at)}
	f.hdr = []smime.Field{
		{Name: "Received", Value: "from pec.alpha.test ([127.0.0.1]) by pec.beta.test with ESMTPS; " + pec.DateHeader(at)},
		{Name: "Received", Value: "from mua.example ([192.0.2.1]) by pec.alpha.test with ESMTPSA; " + pec.DateHeader(at)},
		{Name: "Return-Path", Value: "<" + w.sender + ">"},
		{Name: "Date", Value: pec.DateHeader(at)}, {Name: "From", Value: fmt.Sprintf("\"%s%s\" <%s>", pec.PerContoDi, w.sender, w.alpha.service())},
		{Name: "Reply-To", Value: w.sender}, {Name: "To", Value: w.rcpt}, {Name: "Subject", Value: pec.SubjectTrasporto + fxSubject},
		{Name: "Message-ID", Value: "<" + fxPECID + ">"}, {Name: "X-Riferimento-Message-ID", Value: fxClientID},
		{Name: "X-Trasporto", Value: string(pec.TrasportoPostaCertificata)}, {Name: "X-TipoRicevuta", Value: string(pec.TipoCompleta)}}
	return f
}

// ordinary is plain mail from outside PEC, as an anomaly wraps it.
func (w *world) ordinary(at time.Time) []byte {
	return []byte(lines("Received: from mail.example.org ([192.0.2.9]) by pec.beta.test with ESMTP; "+pec.DateHeader(at),
		"Return-Path: <"+fxOrdinary+">", "From: "+fxOrdinary, "To: "+w.rcpt, "Subject: Ciao", "Date: "+pec.DateHeader(at),
		"Message-ID: <ord-1@example.org>", "", "Ciao Bob."))
}

func (w *world) anomalia() *fx {
	at := w.t0
	g, o, z := pec.TextInstant(at)
	f := &fx{kind: pec.KindAnomalia, signer: w.beta, orig: w.ordinary(at), text: lines("Anomalia nel messaggio", "",
		fmt.Sprintf("Il giorno %s alle ore %s %s e' stato ricevuto il messaggio \"Ciao\" proveniente da %q ed indirizzato a:", g, o, z, fxOrdinary),
		w.rcpt, "Tali dati non sono stati certificati per il seguente errore: il mittente non e' un gestore di posta certificata.",
		"Il messaggio originale e' incluso in allegato.")}
	f.hdr = []smime.Field{
		{Name: "Received", Value: "from mail.example.org ([192.0.2.9]) by pec.beta.test with ESMTP; " + pec.DateHeader(at)},
		{Name: "Return-Path", Value: "<" + fxOrdinary + ">"},
		{Name: "Date", Value: pec.DateHeader(at)}, {Name: "From", Value: fmt.Sprintf("\"%s%s\" <%s>", pec.PerContoDi, fxOrdinary, w.beta.service())},
		{Name: "Reply-To", Value: fxOrdinary}, {Name: "To", Value: w.rcpt}, {Name: "Subject", Value: pec.SubjectAnomalia + "Ciao"},
		{Name: "Message-ID", Value: "<ord-1@example.org>"}, {Name: "X-Trasporto", Value: string(pec.TrasportoErrore)}}
	return f
}

var allKinds = []pec.Kind{pec.KindAccettazione, pec.KindNonAccettazione, pec.KindTrasporto, pec.KindPresaInCarico,
	pec.KindAvvenutaConsegna, pec.KindErroreConsegna, pec.KindPreavvisoErroreConsegna, pec.KindRilevazioneVirus, pec.KindAnomalia}

func (w *world) opts() Options {
	return Options{Trust: w.trust, Index: w.ix, CRLs: []*x509.RevocationList{w.crl}}
}

// TestFixturesAreCorrect: every fixture is classified as its kind and fails
// no rule, with the trust store and the index given — the ground the rule
// table stands on.
func TestFixturesAreCorrect(t *testing.T) {
	w := fixtures(t)
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			raw := w.msg(k).bytes(t)
			g := Grade(raw, w.opts())
			if g.Kind != k {
				t.Fatalf("classified %s", g.Kind)
			}
			for _, v := range g.Verdicts {
				if v.Status == Fail || v.Status == Error || v.Status == Warn {
					t.Errorf("%s %s: %s", v.Rule, v.Status, v.Detail)
				}
			}
		})
	}
}
