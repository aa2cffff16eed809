package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

func testScanner() *imapScanner {
	return &imapScanner{lineMax: 32, literalMax: 100, responseMax: 132}
}

// scanAll scans in in one call, or octet by octet: the result must not
// depend on how the stream arrives.
func scanAll(in string, bytewise bool) error {
	s := testScanner()
	if !bytewise {
		return s.scan([]byte(in))
	}
	for i := range len(in) {
		if err := s.scan([]byte{in[i]}); err != nil {
			return err
		}
	}
	return nil
}

// TestIMAPScanner: lines, literals ({N}, {N+}, ~{N}; RFC 3501 §4.3,
// RFC 7888, RFC 3516) and their bounds, whatever the literal holds.
func TestIMAPScanner(t *testing.T) {
	lit := "{999}\r\n\r\nabc" // a literal's octets are not lines
	for _, tc := range []struct {
		name, in string
		over     bool
	}{
		{"lines", "* OK hi\r\n* 1 EXISTS\r\nA1 OK done\r\n", false},
		{"a literal", "* 1 FETCH (BODY[] {12}\r\n" + lit + ")\r\n* OK next\r\n", false},
		{"non-synchronizing and literal8", "* 1 FETCH (A {2+}\r\nab B ~{2}\r\nab)\r\n", false},
		{"LF alone", "* 1 FETCH (A {3}\nabc)\n", false},
		{"a brace not at the line's end", "* OK {5}x\r\n" + strings.Repeat("y", 20) + "\r\n", false},
		{"a line at the bound", strings.Repeat("x", 30) + "\r\n", false},
		{"a line over the bound", strings.Repeat("x", 33), true},
		{"line text over the bound across literals", "* 1 FETCH (A {1}\r\nx B {1}\r\nx " + strings.Repeat("c", 20), true},
		{"a literal over the bound", "* 1 FETCH (BODY[] {101}\r\n", true},
		{"digits without end", "* 1 FETCH (BODY[] {99999999999999999999999999}\r\n", true},
		{"a response over the bound", "* 1 FETCH (A {80}\r\n" + strings.Repeat("a", 80) + " B {80}\r\n", true},
		{"two responses at the bound", "* 1 FETCH (A {80}\r\n" + strings.Repeat("a", 80) + ")\r\n* 2 FETCH (A {80}\r\n", false},
	} {
		for _, bytewise := range []bool{false, true} {
			err := scanAll(tc.in, bytewise)
			if (err != nil) != tc.over || (err != nil && !errors.Is(err, ErrOverBound)) {
				t.Errorf("%s (octet by octet %v): %v, want over the bound %v", tc.name, bytewise, err, tc.over)
			}
		}
	}
}

// FuzzIMAPScanner: whatever a server sends, the scanner never panics, the
// result does not depend on where the stream is cut, and while it accepts,
// the current line and literal stay within their bounds.
func FuzzIMAPScanner(f *testing.F) {
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nabcde)\r\n"), uint8(7))
	f.Add([]byte("* OK {99999999999999}\r\n"), uint8(3))
	f.Add([]byte("a {1+}\nx ~{2}\r\nyy\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		whole := testScanner()
		werr := whole.scan(in)
		k := min(int(cut), len(in))
		split := testScanner()
		serr := split.scan(in[:k])
		if serr == nil {
			serr = split.scan(in[k:])
		}
		if (werr == nil) != (serr == nil) {
			t.Fatalf("whole: %v; cut at %d: %v", werr, k, serr)
		}
		if werr == nil && (whole.text > whole.lineMax || whole.literal > whole.literalMax || whole.total > whole.responseMax) {
			t.Fatalf("accepted with text %d, literal %d, total %d", whole.text, whole.literal, whole.total)
		}
	})
}

// TestBoundPerCommand: the SMTP bound counts what answers one command: a
// session whose replies add up to more, each under it, is read whole.
func TestBoundPerCommand(t *testing.T) {
	client, server := net.Pipe()
	c := boundSMTP(client)
	defer c.Close()
	reply := func(n int) error {
		go server.Write([]byte(strings.Repeat("250-x\r\n", n/7) + "250 ok\r\n"))
		_, err := io.ReadFull(c, make([]byte, n/7*7+8))
		return err
	}
	for range 3 {
		if err := reply(40 << 10); err != nil {
			t.Fatalf("a 40 KiB reply: %v", err)
		}
		go io.ReadFull(server, make([]byte, 6))
		if _, err := c.Write([]byte("NOOP\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := reply(70 << 10); !errors.Is(err, ErrOverBound) || !errors.Is(c.Err(), ErrOverBound) {
		t.Errorf("a 70 KiB reply: %v, want ErrOverBound", err)
	}
}

// TestLiteralMax: the literal bound follows the declared message size.
func TestLiteralMax(t *testing.T) {
	for _, tc := range []struct{ declared, want int64 }{
		{0, IMAPLiteralMin}, {50 << 20, IMAPLiteralMin}, {100 << 20, 201 << 20}, {-1, IMAPLiteralMin},
	} {
		if got := literalMax(WithMaxMessage(context.Background(), tc.declared)); got != tc.want {
			t.Errorf("declared %d: %d, want %d", tc.declared, got, tc.want)
		}
	}
}
