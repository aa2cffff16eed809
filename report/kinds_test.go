package report

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The kinds of the fixtures, by the label the grader reports; for receipts
// the label is the X-Ricevuta value, written here literally.
const (
	A   = "accettazione"
	NA_ = "non-accettazione"
	T   = "trasporto"
	P   = "presa-in-carico"
	C   = "avvenuta-consegna"
	E   = "errore-consegna"
	PR  = "preavviso-errore-consegna"
	V   = "rilevazione-virus"
	AN  = "anomalia"
)

// fxPrefix are the subject prefixes of pec-rules §2.2, literally.
var fxPrefix = map[string]string{
	A: "ACCETTAZIONE: ", NA_: "AVVISO DI NON ACCETTAZIONE: ", T: "POSTA CERTIFICATA: ", P: "PRESA IN CARICO: ",
	C: "CONSEGNA: ", E: "AVVISO DI MANCATA CONSEGNA: ", PR: "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: ",
	V: "PROBLEMA DI SICUREZZA: ", AN: "ANOMALIA MESSAGGIO: ",
}

// Fixture identifiers of one transaction.
const (
	fxSubject  = "Prova PEC"
	fxClientID = "<client-1@mua.example>"
	fxPECID    = "opec.0001.20261123@pec.alpha.test"
	fxOrdinary = "mario@example.org"
)

// Italian legal time and its renderings (RFC 6109 §4.2, §4.4), the test's own.
var fxRome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

func dateHeader(t time.Time) string { return t.In(fxRome).Format("Mon, 02 Jan 2006 15:04:05 -0700") }

func dataOf(t time.Time) (zona, giorno, ora string) {
	l := t.In(fxRome)
	return l.Format("-0700"), l.Format("02/01/2006"), l.Format("15:04:05")
}

func str(s string) *string { return &s }

// dat is the certification data of a fixture; xml writes it with the
// element and attribute names of RFC 6109 §4.4 (pec-rules §3.1), literally.
type dat struct {
	tipo, errore       string
	mittente, risposte string
	dest               []dst
	oggetto            *string
	gestore            string
	zona, giorno, ora  string
	id                 string
	msgid              *string
	ricevuta           *string
	consegna           *string
	ricezione          []string
	esteso             *string
}

type dst struct{ tipo, addr string }

func (d *dat) setTime(t time.Time) { d.zona, d.giorno, d.ora = dataOf(t) }

func xmlEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func (d *dat) xml() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, "<postacert tipo=%q errore=%q>\n  <intestazione>\n    <mittente>%s</mittente>\n", d.tipo, d.errore, xmlEsc(d.mittente))
	for _, r := range d.dest {
		fmt.Fprintf(&b, "    <destinatari tipo=%q>%s</destinatari>\n", r.tipo, xmlEsc(r.addr))
	}
	fmt.Fprintf(&b, "    <risposte>%s</risposte>\n", xmlEsc(d.risposte))
	opt := func(name string, v *string) {
		if v != nil {
			fmt.Fprintf(&b, "    <%s>%s</%s>\n", name, xmlEsc(*v), name)
		}
	}
	opt("oggetto", d.oggetto)
	fmt.Fprintf(&b, "  </intestazione>\n  <dati>\n    <gestore-emittente>%s</gestore-emittente>\n", xmlEsc(d.gestore))
	fmt.Fprintf(&b, "    <data zona=%q>\n      <giorno>%s</giorno>\n      <ora>%s</ora>\n    </data>\n", d.zona, d.giorno, d.ora)
	fmt.Fprintf(&b, "    <identificativo>%s</identificativo>\n", xmlEsc(d.id))
	opt("msgid", d.msgid)
	if d.ricevuta != nil {
		fmt.Fprintf(&b, "    <ricevuta tipo=%q/>\n", *d.ricevuta)
	}
	opt("consegna", d.consegna)
	for _, r := range d.ricezione {
		opt("ricezione", &r)
	}
	opt("errore-esteso", d.esteso)
	b.WriteString("  </dati>\n</postacert>\n")
	return b.String()
}

// original is the client's message as the envelope carries it: Message-ID
// replaced by the PEC msgid and the client's kept in X-Riferimento-Message-ID.
func (w *world) original(at time.Time) []byte {
	return []byte(lines(
		"Received: from mua.example ([192.0.2.1]) by pec.alpha.test with ESMTPSA; "+dateHeader(at),
		"From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "Date: "+dateHeader(at),
		"Message-ID: <"+fxPECID+">", "X-Riferimento-Message-ID: "+fxClientID, "MIME-Version: 1.0",
		"Content-Type: text/plain; charset=UTF-8", "", "Ciao Bob."))
}

// daticert returns the certification data of a message of kind k at t.
func (w *world) daticert(k string, issuer *ident, at time.Time) *dat {
	tipo := k
	if k == T {
		tipo = "posta-certificata"
	}
	d := &dat{tipo: tipo, errore: "nessuno", mittente: w.sender, dest: []dst{{"certificato", w.rcpt}}, risposte: w.sender,
		oggetto: str(fxSubject), gestore: issuer.name, id: fxPECID, msgid: str(fxClientID)}
	d.setTime(at)
	switch k {
	case T:
		d.ricevuta = str("completa")
	case C:
		d.ricevuta, d.consegna = str("completa"), str(w.rcpt)
	case P:
		d.ricezione = []string{w.rcpt}
	case NA_:
		d.errore, d.esteso = "altro", str("destinatario non valido")
	case E:
		d.errore, d.esteso, d.consegna = "no-dest", str("5.1.1 - Beta PEC - utente inesistente"), str(w.rcpt)
	case PR:
		d.consegna = str(w.rcpt)
	case V:
		d.errore, d.esteso, d.consegna = "virus", str("virus Eicar-Test-Signature"), str(w.rcpt)
	}
	return d
}

// phrase is what each kind's text says happened (pec-rules §2.3 wording).
var phrase = map[string]string{
	A:   "e' stato accettato dal sistema ed inoltrato.",
	NA_: "e' stato rilevato un problema che ne impedisce l'accettazione a causa di: destinatario non valido. Il messaggio non e' stato accettato.",
	T:   "Il messaggio originale e' incluso in allegato.",
	P:   "e' stato accettato dal sistema.",
	C:   "e' stato posto nella casella di destinazione.",
	E:   "e' stato rilevato un errore: 5.1.1 - Beta PEC - utente inesistente. Il messaggio e' stato rifiutato dal sistema.",
	PR:  "non e' stato consegnato nelle prime 12 ore dalla spedizione. Il sistema inviera' un altro avviso se nelle successive dodici ore non arrivera' conferma.",
	V:   "e' stato rilevato un problema di sicurezza: virus Eicar-Test-Signature.",
}

// text is the human-readable part of a receipt or envelope.
func (w *world) text(k string, at time.Time) string {
	z, g, o := dataOf(at)
	return lines(k, "",
		fmt.Sprintf("Il giorno %s alle ore %s (%s) il messaggio %q proveniente da %q ed indirizzato a:", g, o, z, fxSubject, w.sender),
		w.rcpt+" (\"posta certificata\")", phrase[k], "Identificativo messaggio: "+fxPECID)
}

// msg returns the fixture of a kind, correct in every rule.
func (w *world) msg(k string) *fx {
	at := w.t0
	issuer, from, to := w.alpha, w.alpha.service(), w.sender
	switch k {
	case P, V:
		issuer, from, to = w.beta, w.beta.service(), w.alpha.service()
	case C, E:
		issuer, from = w.beta, w.beta.service()
	case PR:
		at = w.t0.Add(12 * time.Hour)
	case AN:
		return w.anomalia()
	case T:
		return w.envelope()
	}
	f := &fx{kind: k, signer: issuer, text: w.text(k, at), dc: w.daticert(k, issuer, at)}
	f.hdr = []field{{"Date", dateHeader(at)}, {"From", from}, {"To", to},
		{"Subject", fxPrefix[k] + fxSubject}, {"Message-ID", fmt.Sprintf("<%s-%d@%s>", k, at.Unix(), issuer.domain)},
		{"X-Ricevuta", k}, {"X-Riferimento-Message-ID", fxClientID}}
	switch k {
	case C:
		f.orig = w.original(w.t0)
	case V:
		f.set("X-Mittente", w.sender)
	}
	return f
}

func (w *world) envelope() *fx {
	at := w.t0
	f := &fx{kind: T, signer: w.alpha, text: w.text(T, at), dc: w.daticert(T, w.alpha, at), orig: w.original(at)}
	f.hdr = []field{
		{"Received", "from pec.alpha.test ([127.0.0.1]) by pec.beta.test with ESMTPS; " + dateHeader(at)},
		{"Received", "from mua.example ([192.0.2.1]) by pec.alpha.test with ESMTPSA; " + dateHeader(at)},
		{"Return-Path", "<" + w.sender + ">"},
		{"Date", dateHeader(at)}, {"From", fmt.Sprintf("\"Per conto di: %s\" <%s>", w.sender, w.alpha.service())},
		{"Reply-To", w.sender}, {"To", w.rcpt}, {"Subject", "POSTA CERTIFICATA: " + fxSubject},
		{"Message-ID", "<" + fxPECID + ">"}, {"X-Riferimento-Message-ID", fxClientID},
		{"X-Trasporto", "posta-certificata"}, {"X-TipoRicevuta", "completa"}}
	return f
}

// ordinary is plain mail from outside PEC, as an anomaly wraps it.
func (w *world) ordinary(at time.Time) []byte {
	return []byte(lines("Received: from mail.example.org ([192.0.2.9]) by pec.beta.test with ESMTP; "+dateHeader(at),
		"Return-Path: <"+fxOrdinary+">", "From: "+fxOrdinary, "To: "+w.rcpt, "Subject: Ciao", "Date: "+dateHeader(at),
		"Message-ID: <ord-1@example.org>", "", "Ciao Bob."))
}

func (w *world) anomalia() *fx {
	at := w.t0
	z, g, o := dataOf(at)
	f := &fx{kind: AN, signer: w.beta, orig: w.ordinary(at), text: lines("Anomalia nel messaggio", "",
		fmt.Sprintf("Il giorno %s alle ore %s (%s) e' stato ricevuto il messaggio \"Ciao\" proveniente da %q ed indirizzato a:", g, o, z, fxOrdinary),
		w.rcpt, "Tali dati non sono stati certificati per il seguente errore: il mittente non e' un gestore di posta certificata.",
		"Il messaggio originale e' incluso in allegato.")}
	f.hdr = []field{
		{"Received", "from mail.example.org ([192.0.2.9]) by pec.beta.test with ESMTP; " + dateHeader(at)},
		{"Return-Path", "<" + fxOrdinary + ">"},
		{"Date", dateHeader(at)}, {"From", fmt.Sprintf("\"Per conto di: %s\" <%s>", fxOrdinary, w.beta.service())},
		{"Reply-To", fxOrdinary}, {"To", w.rcpt}, {"Subject", "ANOMALIA MESSAGGIO: Ciao"},
		{"Message-ID", "<ord-1@example.org>"}, {"X-Trasporto", "errore"}}
	return f
}

var allKinds = []string{A, NA_, T, P, C, E, PR, V, AN}

func (w *world) opts() Options {
	return Options{Trust: w.trust, Index: w.ix, CRLs: []*x509.RevocationList{w.crl}}
}

// TestFixturesAreCorrect: every fixture is classified as its kind and fails
// no rule, with the trust store and the index given — the ground the rule
// table stands on.
func TestFixturesAreCorrect(t *testing.T) {
	w := fixtures(t)
	for _, k := range allKinds {
		t.Run(k, func(t *testing.T) {
			raw := w.msg(k).bytes(t)
			g := Grade(raw, w.opts())
			if string(g.Kind) != k {
				t.Fatalf("classified %s", g.Kind)
			}
			for _, v := range g.Verdicts {
				if v.Status != Pass && v.Status != NA {
					t.Errorf("%s %s: %s", v.Rule, v.Status, v.Detail)
				}
			}
		})
	}
}
