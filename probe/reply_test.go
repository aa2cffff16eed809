package probe

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
		ok   bool
	}{
		{"220 ready\r\n", 220, true},
		{"250-pec.alpha.test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n", 250, true},
		{"530 5.7.0 Must issue a STARTTLS command first\r\n", 530, true},
		{"\x15\x03\x03\x00\x02\x02\x46", 0, false}, // a TLS alert, no line end
		{"xyz hello\r\n", 0, false},
		{"25\r\n", 0, false},
		{"250-only continuation\r\n", 0, false},
		{"235\r\n", 235, true}, // a bare final line (RFC 5321 §4.2)
	} {
		code, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if (err == nil) != tc.ok || code != tc.code {
			t.Errorf("%q: code %d, err %v; want %d, ok %v", tc.in, code, err, tc.code, tc.ok)
		}
	}
}

// FuzzReadReply: whatever a server sends, readReply returns a code or an
// error, never panics, and a code comes only from a final "NNN " line.
func FuzzReadReply(f *testing.F) {
	f.Add("220 ready\r\n")
	f.Add("250-a\r\n250 b\r\n")
	f.Add("\x15\x03\x03\x00\x02\x02\x46")
	f.Fuzz(func(t *testing.T, in string) {
		code, err := readReply(bufio.NewReader(strings.NewReader(in)))
		if err == nil && (code < 0 || code > 999) {
			t.Fatalf("code %d from %q", code, in)
		}
	})
}
