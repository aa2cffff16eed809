package compose

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// wordDecoder decodes RFC 2047 encoded words. A charset Go does not know is
// read as it is (its non-UTF-8 bytes then become U+FFFD in CleanText) rather
// than leaving the encoded word in the subject.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil }}

// CleanText makes a text taken from a message (the subject) fit for the
// certification data and for the header fields and texts built from it:
// invalid UTF-8 and the characters XML 1.0 does not allow (NUL and the other
// C0 controls but tab, U+FFFE, U+FFFF) become U+FFFD, line breaks and tabs
// become spaces. Receipts for a hostile subject stay valid XML and carry in their
// Subject exactly what their oggetto says (DAT-01, DAT-20, GEN-14; issue 15).
func CleanText(s string) string {
	clean := true
	for i, r := range s {
		if !xmlChar(r) || r == '\r' || r == '\n' || r == '\t' || (r == utf8.RuneError && invalidAt(s, i)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case !xmlChar(r) || (r == utf8.RuneError && invalidAt(s, i)):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether r is a Char of XML 1.0 (§2.2).
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// invalidAt reports whether the RuneError at s[i] stands for an invalid byte
// rather than a U+FFFD written in the text.
func invalidAt(s string, i int) bool {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n == 1
}

// maxLine is where header fields are folded (RFC 5322 §2.1.1: 78 SHOULD).
const maxLine = 76

// foldASCII folds s at single spaces so that no line is longer than maxLine
// (the first one shares its line with the field name); ok is false when some
// piece has no such space to break at.
func foldASCII(s string, first int) (string, bool) {
	var b strings.Builder
	line, limit := 0, maxLine-first
	for len(s) > 0 {
		cut := breakAt(s, limit-line)
		if cut < 0 {
			return "", false
		}
		b.WriteString(s[:cut])
		line += cut
		s = s[cut:]
		if len(s) > 0 {
			b.WriteString("\r\n")
			line, limit = 0, maxLine
		}
	}
	return b.String(), true
}

// breakAt is where to fold s: len(s) when it fits in room, else the last
// single space (between two non-spaces) within room, else -1.
func breakAt(s string, room int) int {
	if len(s) <= room {
		return len(s)
	}
	for i := min(room, len(s)-1); i > 0; i-- {
		if s[i] == ' ' && s[i-1] != ' ' && i+1 < len(s) && s[i+1] != ' ' {
			return i
		}
	}
	return -1
}

// qWords encodes s as RFC 2047 Q-encoded UTF-8 words of at most 75
// characters each (§2; the first shares its line with the field name, so
// shorter), never splitting a character between two (§5).
func qWords(s string) []string {
	const open, end = "=?utf-8?q?", "?="
	limit := maxLine + 2 - len("Subject: ")
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc strings.Builder
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if w.Len() > 0 && len(open)+w.Len()+enc.Len()+len(end) > limit {
			words = append(words, open+w.String()+end)
			w.Reset()
			limit = 75
		}
		w.WriteString(enc.String())
	}
	return append(words, open+w.String()+end)
}
