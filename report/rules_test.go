package report

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every rule of the catalogue is shown a message (or transaction) it passes
// and the same one spoilt in one way that makes it fail (warn for SHOULD and
// observed rules): no rule that always passes, none that cannot pass.

type edit func(w *world, f *fx)

// single is a rule case on one message of a kind: prep makes the rule apply
// (both sides), bad spoils the message.
type single struct {
	rule string
	kind string
	prep edit
	bad  edit
}

func hdr(name, value string) edit { return func(_ *world, f *fx) { f.set(name, value) } }

// after edits the signed bytes (the signature no longer matches).
func after(old, new string) edit {
	return func(_ *world, f *fx) {
		f.after = func(b []byte) []byte { return []byte(strings.Replace(string(b), old, new, 1)) }
	}
}

func text(old, new string) edit {
	return func(_ *world, f *fx) { f.text = strings.Replace(f.text, old, new, 1) }
}

func textRe(re, new string) edit {
	return func(_ *world, f *fx) { f.text = regexp.MustCompile(re).ReplaceAllString(f.text, new) }
}

func dc(mod func(d *dat)) edit { return func(_ *world, f *fx) { mod(f.dc) } }

// xmlEdit edits the written daticert.
func xmlEdit(old, new string) edit {
	return func(_ *world, f *fx) { f.dcRaw = strings.Replace(f.dc.xml(), old, new, 1) }
}

func signer(pick func(w *world) *ident) edit { return func(w *world, f *fx) { f.signer = pick(w) } }

func both(es ...edit) edit {
	return func(w *world, f *fx) {
		for _, e := range es {
			e(w, f)
		}
	}
}

// certWith signs with a certificate whose profile mod spoils.
func certWith(mod func(*x509.Certificate)) edit {
	return func(w *world, f *fx) { f.signer = w.issue(w.alpha.name, w.alpha.domain, mod) }
}

// forgedIssuer signs with a certificate that names the fixture CA as its
// issuer (name and key identifier) but is signed by another key.
func forgedIssuer(w *world, f *fx) {
	id := *w.alpha
	tmpl := *w.alpha.cert
	tmpl.SerialNumber = big.NewInt(serialNo.Add(1) + 1000)
	parent := &x509.Certificate{Subject: w.ca.Subject, SubjectKeyId: w.ca.SubjectKeyId}
	id.cert = mustCert(x509.CreateCertificate(rand.Reader, &tmpl, parent, w.key.Public(), otherKey()))
	f.signer = &id
}

var (
	otherOnce sync.Once
	other     *rsa.PrivateKey
)

// otherKey is an RSA key no fixture certificate holds.
func otherKey() *rsa.PrivateKey {
	otherOnce.Do(func() { other, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return other
}

// nonASCIISubject gives the message a subject with an è, RFC 2047-encoded.
func nonASCIISubject(_ *world, f *fx) {
	f.set("Subject", "ACCETTAZIONE: =?UTF-8?Q?Prova_=C3=A8?=")
	f.dc.oggetto = str("Prova è")
}

func html(_ *world, f *fx) {
	f.html = "<html><body><pre>" + strings.ReplaceAll(f.text, "\"", "&quot;") + "</pre></body></html>"
}

func virusNAC(w *world, f *fx) {
	f.set("X-VerificaSicurezza", "errore").set("Subject", "AVVISO DI NON ACCETTAZIONE PER VIRUS: "+fxSubject)
	f.dc.errore, f.dc.esteso = "virus", str("virus Eicar-Test-Signature")
	f.text = strings.Replace(f.text, "destinatario non valido", "virus Eicar-Test-Signature", 1)
}

func virusERR(w *world, f *fx) {
	f.set("X-VerificaSicurezza", "errore").set("Subject", "AVVISO DI MANCATA CONSEGNA PER VIRUS: "+fxSubject)
	f.dc.errore, f.dc.esteso = "virus", str("virus Eicar-Test-Signature")
	f.text = strings.Replace(f.text, "5.1.1 - Beta PEC - utente inesistente", "virus Eicar-Test-Signature", 1)
}

func sintetica(_ *world, f *fx) { f.dc.ricevuta, f.orig = str("sintetica"), nil }

// otherZone is the zona Italy does not use at t.
func otherZone(t time.Time) string {
	if z, _, _ := dataOf(t); z == "+0100" {
		return "+0200"
	}
	return "+0100"
}

var singles = []single{
	{rule: "GEN-01", kind: A, bad: func(_ *world, f *fx) { f.unsign = true }},
	{rule: "GEN-02", kind: A, bad: after("Content-Type: multipart/mixed", "Content-Type: multipart/related")},
	{rule: "GEN-03", kind: A, bad: func(_ *world, f *fx) { f.lead = "Content-Type: application/octet-stream\r\n\r\nxx\r\n" }},
	{rule: "GEN-04", kind: A, prep: html, bad: func(_ *world, f *fx) { f.htmlCT = "text/plain; charset=ISO-8859-1" }},
	{rule: "GEN-05", kind: A, prep: html, bad: func(_ *world, f *fx) { f.html = strings.Replace(f.html, "<pre>", `<img src="cid:logo"><pre>`, 1) }},
	{rule: "GEN-06", kind: A, prep: html, bad: func(_ *world, f *fx) { f.html = strings.Replace(f.html, "<pre>", `<script>x()</script><pre>`, 1) }},
	{rule: "GEN-07", kind: A, prep: html, bad: func(_ *world, f *fx) { f.html = strings.Replace(f.html, fxPECID, "", 1) }},
	{rule: "GEN-08", kind: A, bad: func(_ *world, f *fx) { f.textCT = "text/plain; charset=windows-1252" }},
	{rule: "GEN-09", kind: A, bad: text("dal sistema", "dal sistema \xe8")},
	{rule: "GEN-10", kind: A, bad: func(_ *world, f *fx) { f.dcName = "certificazione.xml" }},
	{rule: "GEN-11", kind: C, bad: func(_ *world, f *fx) { f.origCT = "Content-Type: message/rfc822; name=\"originale.eml\"" }},
	{rule: "GEN-12", kind: A, bad: hdr("X-Trasporto", "posta-certificata")},
	{rule: "GEN-13", kind: A, prep: hdr("X-TIPORICEVUTA", "completa"), bad: hdr("X-Tipo-Ricevuta", "normale")},
	{rule: "GEN-14", kind: A, bad: hdr("Subject", "Accettazione: "+fxSubject)},
	{rule: "GEN-15", kind: A, bad: hdr("X-Riferimento-Message-ID", "")},
	{rule: "GEN-16", kind: A, bad: func(w *world, f *fx) { f.set("Date", dateHeader(w.t0.Add(time.Hour))) }},
	{rule: "GEN-17", kind: A, bad: textRe(` \([+-]\d{4}\)`, "")},
	{rule: "GEN-18", kind: A, bad: text("Identificativo messaggio: "+fxPECID, "Identificativo messaggio: altro@pec.alpha.test")},
	{rule: "GEN-20", kind: C, prep: hdr("X-TipoRicevuta", "completa"), bad: hdr("X-TipoRicevuta", "normale")},
	{rule: "GEN-19", kind: A, bad: func(_ *world, f *fx) { f.mid = "Content-Type: application/pdf; name=\"x.pdf\"\r\n\r\nxx\r\n" }},

	{rule: "SIG-01", kind: A, bad: after("Content-Type: application/pkcs7-signature; name", "Content-Type: application/octet-stream; name")},
	{rule: "SIG-02", kind: A, bad: func(_ *world, f *fx) { f.attach = true }},
	{rule: "SIG-03", kind: A, bad: func(_ *world, f *fx) { f.noCert = true }},
	{rule: "SIG-04", kind: A, bad: after("dal sistema", "dal sistemA")},
	{rule: "SIG-05", kind: A, bad: forgedIssuer},
	{rule: "SIG-06", kind: A, bad: func(w *world, f *fx) { f.set("Date", dateHeader(w.t0.Add(30*24*time.Hour))) }},
	{rule: "SIG-07", kind: A, bad: both(signer(func(w *world) *ident { return w.rogue }), hdr("From", "posta-certificata@pec.rogue.test"))},
	{rule: "SIG-08", kind: A, bad: hdr("From", "posta-certificata@pec.other.test")},
	{rule: "SIG-09", kind: A, bad: both(signer(func(w *world) *ident { return w.rogue }), hdr("From", "posta-certificata@pec.rogue.test"))},
	{rule: "SIG-10", kind: A, bad: both(signer(func(w *world) *ident { return w.gamma }), hdr("From", "posta-certificata@pec.gamma.test"))},
	{rule: "SIG-11", kind: A, bad: after(`micalg="sha-256"`, `micalg="sha-512"`)},
	{rule: "SIG-12", kind: A, bad: func(_ *world, f *fx) { f.sha1 = true }},
	{rule: "SIG-14", kind: A, bad: both(certWith(func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Hour) }),
		func(w *world, f *fx) { f.set("Date", dateHeader(w.t0.Add(-2*time.Hour))) })},
	{rule: "SIG-13", kind: A, bad: func(w *world, f *fx) {
		weak, _ := rsa.GenerateKey(rand.Reader, 1024)
		id := *w.alpha
		id.key = weak
		tmpl := *w.alpha.cert
		tmpl.SerialNumber = big.NewInt(9999)
		id.cert = mustCert(x509.CreateCertificate(rand.Reader, &tmpl, w.ca, weak.Public(), w.caKey))
		f.signer = &id
	}},

	{rule: "CRT-01", kind: A, bad: both(signer(func(w *world) *ident { return w.delta }), hdr("From", "posta-certificata@pec.delta.test"))},
	{rule: "CRT-02", kind: A, bad: certWith(func(c *x509.Certificate) { c.EmailAddresses = nil })},
	{rule: "CRT-03", kind: A, bad: certWith(func(c *x509.Certificate) {
		c.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "posta-certificata@pec.alpha.test"}}
	})},
	{rule: "CRT-04", kind: A, bad: certWith(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })},
	{rule: "CRT-05", kind: A, bad: certWith(func(c *x509.Certificate) { c.Issuer, c.AuthorityKeyId = pkix.Name{CommonName: "fixture PEC CA"}, nil })},
	{rule: "CRT-06", kind: A, bad: certWith(func(c *x509.Certificate) { c.SubjectKeyId = nil })},
	{rule: "CRT-07", kind: A, bad: certWith(func(c *x509.Certificate) { c.BasicConstraintsValid = true })},
	{rule: "CRT-08", kind: A, bad: certWith(func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
	})},

	{rule: "DAT-01", kind: A, bad: xmlEdit("</postacert>", "")},
	{rule: "DAT-02", kind: A, bad: xmlEdit("<dati>", "<dati><extra/>")},
	{rule: "DAT-03", kind: A, bad: dc(func(d *dat) { d.tipo = "presa-in-carico" })},
	{rule: "DAT-04", kind: A, bad: dc(func(d *dat) { d.errore = "grave" })},
	{rule: "DAT-05", kind: A, bad: func(w *world, f *fx) {
		m := regexp.MustCompile(`(?s)(<mittente>.*?</mittente>)(\s*)(<destinatari.*?</destinatari>)`)
		f.dcRaw = m.ReplaceAllString(f.dc.xml(), "$3$2$1")
	}},
	{rule: "DAT-06", kind: A, bad: dc(func(d *dat) { d.dest[0].tipo = "altro" })},
	{rule: "DAT-07", kind: A, bad: func(w *world, f *fx) {
		m := regexp.MustCompile(`(?s)(<data .*?</data>)(\s*)(<identificativo>.*?</identificativo>)`)
		f.dcRaw = m.ReplaceAllString(f.dc.xml(), "$3$2$1")
	}},
	{rule: "DAT-08", kind: A, bad: dc(func(d *dat) { d.zona = "+1" })},
	{rule: "DAT-09", kind: A, bad: dc(func(d *dat) { d.giorno = "31/02/2026" })},
	{rule: "DAT-10", kind: A, bad: dc(func(d *dat) { d.ora = "25:00:00" })},
	{rule: "DAT-11", kind: A, bad: dc(func(d *dat) { d.id = "senzadominio" })},
	{rule: "DAT-12", kind: A, bad: dc(func(d *dat) { d.msgid = str("<altro@mua.example>") })},
	{rule: "DAT-13", kind: T, bad: dc(func(d *dat) { d.ricevuta = nil })},
	{rule: "DAT-14", kind: A, bad: dc(func(d *dat) { d.consegna = str("bob@pec.beta.test") })},
	{rule: "DAT-15", kind: A, bad: dc(func(d *dat) { d.ricezione = []string{"bob@pec.beta.test"} })},
	{rule: "DAT-16", kind: NA_, bad: dc(func(d *dat) { d.esteso = nil })},
	{rule: "DAT-17", kind: A, bad: dc(func(d *dat) { d.errore = "virus" })},
	{rule: "DAT-18", kind: A, bad: dc(func(d *dat) { d.gestore = "Qualcun Altro" })},
	{rule: "DAT-19", kind: A, bad: text(`proveniente da "alice@pec.alpha.test"`, `proveniente da "eve@pec.alpha.test"`)},
	{rule: "DAT-20", kind: A, prep: nonASCIISubject, bad: dc(func(d *dat) { d.oggetto = str("Prova e") })},

	{rule: "ACC-01", kind: A, bad: hdr("Subject", "ACCETTAZIONE - "+fxSubject)},
	{rule: "ACC-02", kind: A, bad: hdr("From", `"Per conto di: alice@pec.alpha.test" <posta-certificata@pec.alpha.test>`)},
	{rule: "ACC-03", kind: A, bad: hdr("To", "bob@pec.beta.test")},
	{rule: "ACC-04", kind: A, bad: text(`("posta certificata")`, "")},
	{rule: "ACC-05", kind: A, bad: dc(func(d *dat) { d.dest[0].tipo = "esterno" })},
	{rule: "ACC-06", kind: A, bad: dc(func(d *dat) { d.dest = nil })},

	{rule: "NAC-01", kind: NA_, bad: hdr("Subject", "NON ACCETTAZIONE: "+fxSubject)},
	{rule: "NAC-02", kind: NA_, bad: func(w *world, f *fx) { f.orig = w.original(w.t0) }},
	{rule: "NAC-03", kind: NA_, bad: dc(func(d *dat) { d.errore = "nessuno" })},
	{rule: "NAC-04", kind: NA_, bad: text("Il messaggio non e' stato accettato.", "")},
	{rule: "NAC-06", kind: NA_, prep: virusNAC, bad: hdr("X-VerificaSicurezza", "")},
	{rule: "NAC-07", kind: NA_, prep: virusNAC, bad: text("virus Eicar-Test-Signature", "un problema")},

	{rule: "TRN-01", kind: T, bad: hdr("Subject", "POSTA CERTIFICATA - "+fxSubject)},
	{rule: "TRN-02", kind: T, bad: hdr("From", "posta-certificata@pec.alpha.test")},
	{rule: "TRN-03", kind: T, bad: hdr("Sender", "someone@pec.alpha.test")},
	{rule: "TRN-04", kind: T, bad: hdr("Reply-To", "someone@pec.alpha.test")},
	{rule: "TRN-05", kind: T, bad: hdr("To", "carol@pec.beta.test")},
	{rule: "TRN-06", kind: T, bad: hdr("Message-ID", "<"+fxPECID)},
	{rule: "TRN-08", kind: T, bad: hdr("X-Riferimento-Message-ID", "<altro@mua.example>")},
	{rule: "TRN-09", kind: T, bad: hdr("X-TipoRicevuta", "veloce")},
	{rule: "TRN-10", kind: T, bad: func(w *world, f *fx) { f.orig = append([]byte("Message-ID: <dup@mua.example>\r\n"), f.orig...) }},
	{rule: "TRN-11", kind: T, bad: dc(func(d *dat) { d.id = "altro@pec.alpha.test" })},
	{rule: "TRN-12", kind: T, bad: dc(func(d *dat) { d.ricevuta = str("breve") })},
	{rule: "TRN-13", kind: T, bad: dc(func(d *dat) { d.mittente = "eve@pec.alpha.test" })},
	{rule: "TRN-14", kind: T, bad: text(fmt.Sprintf("%q", fxSubject), "")},
	{rule: "TRN-15", kind: T, bad: hdr("Return-Path", "<eve@pec.alpha.test>")},
	{rule: "TRN-16", kind: T, bad: func(w *world, f *fx) {
		f.hdr[0].value = "from pec.alpha.test ([127.0.0.1]) by pec.beta.test with ESMTP; " + dateHeader(w.t0)
	}},

	{rule: "PIC-01", kind: P, bad: hdr("Subject", "PRESA IN CARICO - "+fxSubject)},
	{rule: "PIC-02", kind: P, bad: hdr("To", "alice@pec.alpha.test")},
	{rule: "PIC-04", kind: P, bad: dc(func(d *dat) { d.ricezione = []string{"carol@pec.beta.test"} })},

	{rule: "CON-01", kind: C, bad: hdr("Subject", "CONSEGNA - "+fxSubject)},
	{rule: "CON-03", kind: C, bad: dc(func(d *dat) { d.consegna = str("carol@pec.beta.test") })},
	{rule: "CON-04", kind: C, bad: func(_ *world, f *fx) {
		f.origCT = "Content-Type: message/rfc822; name=\"postacert.eml\"\r\nContent-Transfer-Encoding: base64"
		f.orig = []byte("!!! not base64 !!!\r\n")
	}},
	{rule: "CON-06", kind: C, prep: sintetica, bad: func(w *world, f *fx) { f.orig = w.original(w.t0) }},
	{rule: "CON-10", kind: C, bad: text(`bob@pec.beta.test ("posta certificata")`, "")},

	{rule: "ERR-01", kind: E, bad: hdr("Subject", "MANCATA CONSEGNA: "+fxSubject)},
	{rule: "ERR-02", kind: E, bad: dc(func(d *dat) { d.errore = "nessuno" })},
	{rule: "ERR-03", kind: E, bad: text("Il messaggio e' stato rifiutato dal sistema.", "")},
	{rule: "ERR-05", kind: E, bad: dc(func(d *dat) { d.errore = "altro" })},
	{rule: "VIR-06", kind: E, prep: virusERR, bad: hdr("Subject", "AVVISO DI MANCATA CONSEGNA: "+fxSubject)},

	{rule: "TIM-01", kind: PR, bad: hdr("Subject", "AVVISO DI MANCATA CONSEGNA PER SUP.  TEMPO MASSIMO: "+fxSubject)},
	{rule: "TIM-06", kind: PR, bad: hdr("To", "bob@pec.beta.test")},
	{rule: "TIM-07", kind: PR, bad: textRe(`12 ore|dodici ore`, "ore")},
	{rule: "TIM-10", kind: A, bad: func(w *world, f *fx) { f.dc.zona = otherZone(w.t0) }},

	{rule: "VIR-01", kind: V, bad: hdr("X-Mittente", "")},
	{rule: "VIR-02", kind: V, bad: hdr("To", "alice@pec.alpha.test")},
	{rule: "VIR-04", kind: V, bad: func(w *world, f *fx) { f.orig = w.original(w.t0) }},
	{rule: "VIR-08", kind: A, bad: hdr("X-VerificaSicurezza", "errore")},

	{rule: "ANO-01", kind: AN, bad: hdr("Subject", "ANOMALIA: Ciao")},
	{rule: "ANO-02", kind: AN, bad: hdr("Reply-To", "someone@example.org")},
	{rule: "ANO-03", kind: AN, bad: hdr("Message-ID", "<new@pec.beta.test>")},
	{rule: "ANO-04", kind: AN, bad: func(w *world, f *fx) { f.dc = w.daticert(T, w.beta, w.t0) }},
	{rule: "ANO-05", kind: AN, bad: text(`"Ciao"`, "")},
	{rule: "ANO-06", kind: AN, bad: both(signer(func(w *world) *ident { return w.alpha }), hdr("From", `"Per conto di: mario@example.org" <posta-certificata@pec.alpha.test>`))},
}

// verdict finds the verdict of rule id.
func verdict(vs []Verdict, id string) (Verdict, bool) {
	for _, v := range vs {
		if v.Rule == id {
			return v, true
		}
	}
	return Verdict{}, false
}

func spoilt(v Verdict) bool { return v.Status == Fail || v.Status == Warn }

func TestSingleRules(t *testing.T) {
	w := fixtures(t)
	for _, c := range singles {
		t.Run(c.rule, func(t *testing.T) {
			build := func(e edit) []Verdict {
				f := w.msg(c.kind)
				if c.prep != nil {
					c.prep(w, f)
				}
				if e != nil {
					e(w, f)
				}
				return Grade(f.bytes(t), w.opts()).Verdicts
			}
			good, ok := verdict(build(nil), c.rule)
			if !ok || good.Status != Pass {
				t.Fatalf("correct %s: %s %s: %s", c.kind, c.rule, good.Status, good.Detail)
			}
			bad, ok := verdict(build(c.bad), c.rule)
			if !ok || !spoilt(bad) {
				t.Fatalf("spoilt %s: %s %s: %s", c.kind, c.rule, bad.Status, bad.Detail)
			}
			if r := ruleByID(c.rule); r.Level == Must && bad.Status != Fail {
				t.Errorf("MUST rule %s gave %s", c.rule, bad.Status)
			}
			t.Logf("%s fails as: %s", c.rule, bad.Detail)
		})
	}
}
