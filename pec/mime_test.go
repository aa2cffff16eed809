package pec

import (
	"bytes"
	"os"
	"path/filepath"
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
		if len(parts) != len(tc.want) {
			t.Errorf("%s: %d parts, want %d", name, len(parts), len(tc.want))
			continue
		}
		for i, p := range parts {
			if string(p.Raw) != tc.want[i] {
				t.Errorf("%s part %d = %q, want %q", name, i, p.Raw, tc.want[i])
			}
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
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"a\nb\n": "a\r\nb\r\n", "a\r\nb": "a\r\nb", "a\r\nb\nc": "a\r\nb\r\nc", "": ""} {
		if got := string(Canonical([]byte(in))); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
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
