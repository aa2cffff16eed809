package report

import "testing"

// TestSubjectComparison: the original's subject as a provider can carry it in
// a header line and in XML (TRN-01, TRN-13, TRN-14, ANO-05).
func TestSubjectComparison(t *testing.T) {
	for _, c := range []struct {
		got, field string
		same       bool
	}{
		{"Prova", "Prova", true},
		{"Prova", "prova", false},
		{"caff\uFFFD \uFFFD\uFFFD fine", "caff\xe8 \xff\xfe fine", true}, // invalid bytes as U+FFFD
		{"caff? ?? fine", "caff\xe8 \xff\xfe fine", true},                // or as '?'
		{"caff fine", "caff\xe8 \xff\xfe fine", false},                   // dropped: not the same
		{"a\uFFFDb Bcc: x@example.org", "=?utf-8?q?a=00b=0D=0ABcc:_x@example.org?=", true},
		{"ab Bcc: x@example.org", "=?utf-8?q?a=00b=0D=0ABcc:_x@example.org?=", false},
		{"qapla\uFFFD", "=?x-klingon?q?qapla=FF?=", true}, // unknown charset: its bytes
		{"parola parola", "parola\r\n parola", true},      // folding white space
		{"caffè", "=?iso-8859-1?q?caff=E8?=", true},
		{"caff\uFFFD", "=?iso-8859-1?q?caff=E8?=", false}, // a valid character lost
	} {
		if got := sameSubject(c.got, originalSubject(c.field)); got != c.same {
			t.Errorf("sameSubject(%q, original %q) = %v, want %v", c.got, c.field, got, c.same)
		}
	}
	text := "Il giorno 02/12/2026 il messaggio \"CAFF? ?? FINE\" è stato inviato"
	if !containsSubject(text, originalSubject("caff\xe8 \xff\xfe fine")) {
		t.Errorf("containsSubject missed the subject in %q", text)
	}
	if containsSubject("il messaggio \"caff fine\"", originalSubject("caff\xe8 fine")) {
		t.Error("containsSubject found a subject with a character dropped")
	}
}
