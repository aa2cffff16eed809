package pec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPartsExactBytes(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want []string
	}{
		"crlf":     {"pre\r\n--b\r\nA: 1\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n", []string{"A: 1\r\n\r\nx", "\r\ny"}},
		"lf":       {"--b\nA: 1\n\nx\n--b--\n", []string{"A: 1\n\nx"}},
		"adjacent": {"--b\r\n--b\r\nA: 1\r\n\r\nz\r\n--b--", []string{"", "A: 1\r\n\r\nz"}},
		"padding":  {"--b  \r\n\r\nv\r\n--b-- trailing\r\n", []string{"\r\nv"}},
	} {
		e := &Entity{Header: headerOf("Content-Type", `multipart/mixed; boundary="b"`), Body: []byte(tc.body)}
		parts, err := e.Parts()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkParts(t, name, parts, tc.want)
	}
}

// checkParts compares the parts' raw bytes with want.
func checkParts(t *testing.T, name string, parts []*Entity, want []string) {
	t.Helper()
	if len(parts) != len(want) {
		t.Errorf("%s: %d parts, want %d", name, len(parts), len(want))
		return
	}
	for i, p := range parts {
		if string(p.Raw) != want[i] {
			t.Errorf("%s part %d = %q, want %q", name, i, p.Raw, want[i])
		}
	}
}

func TestPartsErrors(t *testing.T) {
	for name, body := range map[string]string{
		"unterminated": "--b\r\nx\r\n",
		"no-delimiter": "just text",
	} {
		e := &Entity{Header: headerOf("Content-Type", `multipart/mixed; boundary="b"`), Body: []byte(body)}
		if _, err := e.Parts(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for name, ct := range map[string]string{"not-multipart": "text/plain", "no-boundary": "multipart/mixed"} {
		e := &Entity{Header: headerOf("Content-Type", ct), Body: []byte("--b\r\n\r\nx\r\n--b--\r\n")}
		if parts, err := e.PartsLenient(); parts != nil || err == nil {
			t.Errorf("%s: %d parts, %v", name, len(parts), err)
		}
	}
}

// TestPartsLenient: a body cut before its close delimiter gives the parts a
// mail reader sees, the last running to the end, with ErrUnterminated.
func TestPartsLenient(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want []string
		cut  bool
	}{
		"closed":       {"--b\r\nA: 1\r\n\r\nx\r\n--b--\r\n", []string{"A: 1\r\n\r\nx"}, false},
		"cut-in-part":  {"--b\r\nA: 1\r\n\r\nx\r\n--b\r\nB: 2\r\n\r\nyy", []string{"A: 1\r\n\r\nx", "B: 2\r\n\r\nyy"}, true},
		"cut-at-delim": {"--b\r\nA: 1\r\n\r\nx\r\n--b\r\n", []string{"A: 1\r\n\r\nx", ""}, true},
		"no-close":     {"pre\n--b\nx\n", []string{"x\n"}, true},
	} {
		e := &Entity{Header: headerOf("Content-Type", `multipart/mixed; boundary="b"`), Body: []byte(tc.body)}
		parts, err := e.PartsLenient()
		if cut := errors.Is(err, ErrUnterminated); cut != tc.cut || (err != nil && !cut) {
			t.Errorf("%s: err %v, want cut=%v", name, err, tc.cut)
		}
		checkParts(t, name, parts, tc.want)
	}
}

// TestSplitSigned: the content part's bytes exactly as on the wire (what the
// detached signature covers), the signature part, the parameters lowercased.
func TestSplitSigned(t *testing.T) {
	raw := "Content-Type: multipart/signed; protocol=\"application/X-PKCS7-signature\"; micalg=SHA1; boundary=\"s\"\r\n\r\n" +
		"This is an S/MIME signed message\r\n\r\n--s\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\r\nt\r\n--m--\r\n" +
		"\r\n--s\r\nContent-Type: application/x-pkcs7-signature\r\n\r\nMIIB\r\n--s--\r\n"
	e, err := ReadEntity([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	s, err := SplitSigned(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\r\nt\r\n--m--\r\n"; string(s.Content.Raw) != want {
		t.Errorf("content %q, want %q", s.Content.Raw, want)
	}
	if string(s.Signature.Body) != "MIIB" || s.Protocol != "application/x-pkcs7-signature" || s.Micalg != "sha1" {
		t.Errorf("signature %q, protocol %q, micalg %q", s.Signature.Body, s.Protocol, s.Micalg)
	}
	for name, bad := range map[string]string{
		"three-parts": strings.Replace(raw, "--s--", "--s\r\n\r\nz\r\n--s--", 1),
		"cut":         raw[:strings.Index(raw, "--s--")],
		"not-signed":  strings.Replace(raw, "multipart/signed", "multipart/mixed", 1),
	} {
		e, _ := ReadEntity([]byte(bad))
		if _, err := SplitSigned(e); !errors.Is(err, ErrMIME) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"a\nb\n": "a\r\nb\r\n", "a\r\nb": "a\r\nb", "a\r\nb\nc": "a\r\nb\r\nc", "": "",
		"\n\n": "\r\n\r\n", "a\rb": "a\rb", "\r\n\n": "\r\n\r\n"} {
		if got := string(Canonical([]byte(in))); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
		if IsCanonical([]byte(in)) != (in == want) {
			t.Errorf("IsCanonical(%q) = %v", in, !(in == want))
		}
	}
}

// TestDecoded: each transfer encoding, byte for byte; a cut body decodes
// leniently to what precedes the fault.
func TestDecoded(t *testing.T) {
	for name, tc := range map[string]struct{ cte, body, want string }{
		"base64":    {"base64", "UHJv\r\ndmEg6A==\r\n", "Prova \xe8"},
		"base64-ws": {" Base64 ", "UH Jv\tdmE=", "Prova"},
		"qp":        {"quoted-printable", "=E8 stato accettato dal sist=\r\nema\r\n", "\xe8 stato accettato dal sistema\r\n"},
		"7bit":      {"7bit", "a\r\nb", "a\r\nb"},
		"none":      {"", "=E8", "=E8"},
	} {
		e := &Entity{Header: headerOf("Content-Transfer-Encoding", tc.cte), Body: []byte(tc.body)}
		got, err := e.Decoded()
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: Decoded = %q, %v; want %q", name, got, err, tc.want)
		}
	}
	cut := &Entity{Header: headerOf("Content-Transfer-Encoding", "base64"), Body: []byte("UHJvdmEg\r\ndmVy")}
	cut.Body = cut.Body[:len(cut.Body)-2]
	if got, err := cut.Decoded(); got != nil || !errors.Is(err, ErrMIME) {
		t.Errorf("cut base64: Decoded = %q, %v", got, err)
	}
	if got, err := cut.DecodedLenient(); string(got) != "Prova " || !errors.Is(err, ErrMIME) {
		t.Errorf("cut base64: DecodedLenient = %q, %v; want \"Prova \" and an error", got, err)
	}
}

// TestParseLenient: an unterminated multipart/signed keeps its parts and
// says so; a mailing list's wrapper is seen through.
func TestParseLenient(t *testing.T) {
	mixed := "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\ntesto\r\n" +
		"--m\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\n\r\n<postacert tipo=\"accettazione\"/>\r\n--m--\r\n"
	signed := "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=s\r\n\r\n" +
		"--s\r\n" + mixed + "\r\n--s\r\nContent-Type: application/pkcs7-signature\r\n\r\nMIIB"
	m := Parse([]byte("X-Ricevuta: accettazione\r\n" + signed))
	if m.Signed == nil || m.SignedFault == "" || m.MixedFault != "" || m.Daticert == nil || m.Text == nil ||
		string(m.Signed.Signature.Body) != "MIIB" || m.Postacert == nil || len(m.Problems) != 1 {
		t.Errorf("cut after the signature: %+v", m)
	}
	contentOnly := "X-Ricevuta: accettazione\r\n" + signed[:strings.Index(signed, "\r\n--s\r\nContent-Type: application")]
	if m := Parse([]byte(contentOnly)); m.Signed != nil || m.SignedFault == "" || m.Daticert == nil {
		t.Errorf("cut before the signature: signed %v, fault %q, daticert %v", m.Signed, m.SignedFault, m.Daticert)
	}
	wrapped := "X-Ricevuta: accettazione\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n--w\r\n" +
		strings.Replace(signed, "MIIB", "MIIB\r\n--s--", 1) + "\r\n--w\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--w--\r\n"
	m = Parse([]byte(wrapped))
	if m.Wrapper == nil || m.WrapperPart != 0 || m.Signed == nil || m.Daticert == nil || m.SignedFault != "" {
		t.Errorf("wrapped: wrapper %v part %d signed %v daticert %v fault %q", m.Wrapper != nil, m.WrapperPart, m.Signed != nil, m.Daticert != nil, m.SignedFault)
	}
	if string(m.Kind()) != "accettazione" {
		t.Errorf("wrapped kind %s", m.Kind())
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../shared/corpus/*.eml")
	for _, p := range files {
		if raw, err := os.ReadFile(p); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("Content-Type: multipart/signed; boundary=x\r\n\r\n--x\r\n--x\r\n--x--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		if m.Signed != nil && !bytes.Contains(raw, m.Signed.Content.Raw) {
			t.Fatalf("signed content is not a slice of the input")
		}
	})
}

// FuzzPartsLenient: the lenient split never panics, returns parts that are
// slices of the body, agrees with the strict split on well-formed bodies,
// and decodes every part leniently without a panic.
func FuzzPartsLenient(f *testing.F) {
	f.Add([]byte("--b\r\nA: 1\r\n\r\nx\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Transfer-Encoding: base64\r\n\r\nUHJv\r\ndmE"), "b")
	f.Add([]byte("pre\n--b\nx\n--b\n"), "b")
	f.Add([]byte("--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E8=\r\n=ZZ\r\n--b--"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		e := &Entity{Header: headerOf("Content-Type", "multipart/mixed; boundary=\""+boundary+"\""), Body: body}
		parts, err := e.PartsLenient()
		for _, p := range parts {
			if !bytes.Contains(body, p.Raw) {
				t.Fatalf("part %q is not a slice of the body", p.Raw)
			}
			p.DecodedLenient()
		}
		if strict, serr := e.Parts(); serr == nil && (err != nil || len(strict) != len(parts)) {
			t.Fatalf("lenient %d parts, strict %d (%v)", len(parts), len(strict), serr)
		}
	})
}
