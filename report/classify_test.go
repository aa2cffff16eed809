package report

import (
	"crypto/rand"
	"strings"
	"testing"
)

// TestNotAMessage: what is no RFC 5322 message is sconosciuto with one
// verdict, GEN-12 failed, saying why.
func TestNotAMessage(t *testing.T) {
	junk := make([]byte, 512)
	rand.Read(junk)
	for name, raw := range map[string]string{
		"empty":    "",
		"blank":    "\r\n\r\n  \r\n",
		"random":   "\x00\x01" + string(junk),
		"dtd":      "<!ELEMENT postacert (intestazione, dati)>\n<!ATTLIST postacert tipo CDATA #REQUIRED>\n",
		"daticert": validDaticert,
		"readme":   "# pecspec\n\nA conformance harness for PEC.\n",
		"note":     "Note: nothing here\n\nbody\n",
	} {
		g := Grade([]byte(raw), Options{})
		if g.Kind != "sconosciuto" || len(g.Verdicts) != 1 || g.Verdicts[0].Rule != "GEN-12" || g.Verdicts[0].Status != Fail ||
			!strings.Contains(g.Verdicts[0].Detail, "RFC 5322") && !strings.Contains(g.Verdicts[0].Detail, "empty") {
			t.Errorf("%s: kind %s, verdicts %+v", name, g.Kind, g.Verdicts)
		}
	}
	if g := Grade([]byte("From: a@example.org\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\nSubject: ciao\r\n\r\nciao\r\n"), Options{}); g.Kind != "ordinaria" {
		t.Errorf("ordinary mail: %s", g.Kind)
	}
}

// TestIdentifyingHeaderMutations: a PEC message (signed, certification
// data, PEC subject) whose X-Trasporto or X-Ricevuta is removed, misspelt
// or misstated is sconosciuto and fails GEN-12: never ordinaria, never
// clean. Values are exact (RFC 6109 Appendix A).
func TestIdentifyingHeaderMutations(t *testing.T) {
	w := fixtures(t)
	type mutation struct {
		kind   string
		header string // "" removes it
		value  string
	}
	for name, m := range map[string]mutation{
		"envelope without X-Trasporto":     {T, "", ""},
		"envelope, X-Trasport":             {T, "X-Trasport", "posta-certificata"},
		"envelope, value capitalised":      {T, "X-Trasporto", "Posta-Certificata"},
		"envelope, value with a space":     {T, "X-Trasporto", "posta certificata"},
		"envelope, empty value":            {T, "X-Trasporto", " "},
		"anomaly without X-Trasporto":      {AN, "", ""},
		"accettazione without X-Ricevuta":  {A, "", ""},
		"accettazione, ACCETTAZIONE":       {A, "X-Ricevuta", "ACCETTAZIONE"},
		"accettazione, X-Ricevute":         {A, "X-Ricevute", "accettazione"},
		"consegna without X-Ricevuta":      {C, "", ""},
		"consegna, mancata-consegna":       {C, "X-Ricevuta", "mancata-consegna"},
		"presa in carico, both headers":    {P, "X-Trasporto", "posta-certificata"},
		"errore-consegna without header":   {E, "", ""},
		"rilevazione-virus, value changed": {V, "X-Ricevuta", "rilevazione virus"},
	} {
		f := w.msg(m.kind)
		id := "X-Ricevuta"
		if m.kind == T || m.kind == AN {
			id = "X-Trasporto"
		}
		if !strings.HasPrefix(name, "presa") {
			f.set(id, "")
		}
		if m.header != "" {
			f.hdr = append(f.hdr, field{m.header, m.value})
		}
		g := Grade(f.bytes(t), w.opts())
		if g.Kind != "sconosciuto" {
			t.Errorf("%s: classified %s", name, g.Kind)
			continue
		}
		if v := verdictOf(t, g, "GEN-12"); v.Status != Fail {
			t.Errorf("%s: GEN-12 %s: %s", name, v.Status, v.Detail)
		}
		checkVerdicts(t, name, g)
	}
}

// TestSconosciutoStillJudged: a notice with a value RFC 6109 does not know,
// unsigned, from postmaster, gets the kind-independent rules, not GEN-12
// alone.
func TestSconosciutoStillJudged(t *testing.T) {
	raw := lines("From: postmaster@pec.example.org", "To: alice@pec.alpha.test", "Date: Mon, 01 Jan 2024 10:00:00 +0100",
		"Subject: Mancata consegna: prova", "X-Ricevuta: mancata-consegna", "MIME-Version: 1.0",
		"Content-Type: text/plain", "", "Il messaggio non e' stato consegnato.")
	g := Grade([]byte(raw), Options{NoTrust: true})
	want := map[string]Status{"GEN-12": Fail, "GEN-01": Fail, "GEN-02": Fail, "GEN-03": NA, "SIG-01": NA}
	for id, st := range want {
		if v := verdictOf(t, g, id); v.Status != st {
			t.Errorf("%s %s, want %s: %s", id, v.Status, st, v.Detail)
		}
	}
	checkVerdicts(t, "postmaster", g)
}

// TestTipoRicevutaLookalike: "X-Tipo-Ricevuta: normale" on a receipt, as an
// independent implementation sends it, is noted by GEN-13 (another header
// than X-TipoRicevuta); "X-TipoRicevuta: normale" fails GEN-20.
func TestTipoRicevutaLookalike(t *testing.T) {
	w := fixtures(t)
	f := w.msg(C)
	f.set("X-Tipo-Ricevuta", "normale")
	g := Grade(f.bytes(t), w.opts())
	if v := verdictOf(t, g, "GEN-13"); v.Status != Warn || !strings.Contains(v.Detail, "X-Tipo-Ricevuta: normale") {
		t.Errorf("GEN-13 %s: %s", v.Status, v.Detail)
	}
	f = w.msg(C)
	f.set("X-TipoRicevuta", "normale")
	if v := verdictOf(t, Grade(f.bytes(t), w.opts()), "GEN-20"); v.Status != Fail {
		t.Errorf("GEN-20 %s: %s", v.Status, v.Detail)
	}
}
