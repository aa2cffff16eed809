package pec

import "testing"

// TestKind reads literal headers: names are case-insensitive, values exact
// (RFC 6109 Appendix A), the kind strings are the wire vocabulary.
func TestKind(t *testing.T) {
	for head, want := range map[string]string{
		"X-Ricevuta: accettazione":                           "accettazione",
		"X-Ricevuta: non-accettazione":                       "non-accettazione",
		"X-Ricevuta: presa-in-carico":                        "presa-in-carico",
		"X-Ricevuta: avvenuta-consegna":                      "avvenuta-consegna",
		"X-Ricevuta: errore-consegna":                        "errore-consegna",
		"X-Ricevuta: preavviso-errore-consegna":              "preavviso-errore-consegna",
		"X-Ricevuta: rilevazione-virus":                      "rilevazione-virus",
		"x-ricevuta:   accettazione  ":                       "accettazione",
		"X-RICEVUTA: accettazione":                           "accettazione",
		"X-Ricevuta: ACCETTAZIONE":                           "sconosciuto",
		"X-Ricevuta: Accettazione":                           "sconosciuto",
		"X-Ricevuta: mancata-consegna":                       "sconosciuto",
		"X-Ricevuta: accettazione\r\nX-Trasporto: errore":    "sconosciuto",
		"X-Trasporto: posta-certificata":                     "trasporto",
		"X-Trasporto: errore":                                "anomalia",
		"x-trasporto: posta-certificata":                     "trasporto",
		"X-Trasporto: POSTA-CERTIFICATA":                     "sconosciuto",
		"X-Trasporto: posta certificata":                     "sconosciuto",
		"X-Trasporto:":                                       "sconosciuto",
		"Subject: POSTA CERTIFICATA: x\r\nFrom: a@b.example": "ordinaria",
	} {
		m := Parse([]byte(head + "\r\n\r\nbody\r\n"))
		if got := string(m.Kind()); got != want {
			t.Errorf("Kind of %q = %q, want %q", head, got, want)
		}
	}
}

// TestKindOfRicevuta: the seven X-Ricevuta values and nothing else.
func TestKindOfRicevuta(t *testing.T) {
	for _, v := range []string{"non-accettazione", "accettazione", "preavviso-errore-consegna", "presa-in-carico",
		"rilevazione-virus", "errore-consegna", "avvenuta-consegna"} {
		if got := string(KindOfRicevuta(Ricevuta(v))); got != v {
			t.Errorf("KindOfRicevuta(%q) = %q", v, got)
		}
	}
	for _, v := range []string{"", "mancata-consegna", "Accettazione", "posta-certificata"} {
		if got := string(KindOfRicevuta(Ricevuta(v))); got != "sconosciuto" {
			t.Errorf("KindOfRicevuta(%q) = %q, want sconosciuto", v, got)
		}
	}
}

// TestParseParts: the same model as Parse but for the certification data,
// which it leaves unread.
func TestParseParts(t *testing.T) {
	raw := []byte("X-Ricevuta: accettazione\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nt\r\n" +
		"--m\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\n\r\n<postacert tipo=\"accettazione\"/>\r\n--m--\r\n")
	full, parts := Parse(raw), ParseParts(raw)
	if full.Postacert == nil || parts.Postacert != nil || parts.Daticert == nil || parts.Text == nil || len(parts.Mixed) != len(full.Mixed) {
		t.Errorf("Parse %+v, ParseParts %+v", full, parts)
	}
}
