package report

import (
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The original's subject as a provider can carry it (TRN-01, TRN-13, TRN-14,
// ANO-05). A Subject is one header line and daticert.xml is XML 1.0 (RFC 6109
// §4.3.3, §4.4): a NUL, a control character, an invalid UTF-8 byte or a line
// break of the original cannot be written there as it is. The grader
// therefore compares subjects after its own reading of both sides: RFC 2047
// words decoded (a charset it does not know is read as its raw bytes), every
// character XML 1.0 cannot hold and every invalid byte read as U+FFFD, runs of
// white space (line breaks and tabs included) as one space. A U+FFFD of the
// original then stands for any one character of the provider's (a provider may
// write '?' where another writes U+FFFD); every other character must be the
// same.

// subjectDecoder decodes RFC 2047 words; an unknown charset gives its bytes.
var subjectDecoder = &mime.WordDecoder{CharsetReader: func(_ string, in io.Reader) (io.Reader, error) {
	return in, nil
}}

// originalSubject is the original's Subject header decoded.
func originalSubject(field string) string {
	if d, err := subjectDecoder.DecodeHeader(field); err == nil {
		return strings.TrimSpace(d)
	}
	return strings.TrimSpace(field)
}

// subjectRunes is s as the comparison reads it.
func subjectRunes(s string) []rune {
	out := make([]rune, 0, len(s))
	space := false
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == '\r' || r == '\n' || r == '\t' || r == ' ':
			space = len(out) > 0
			continue
		case r == utf8.RuneError || !xmlChar(r):
			r = unicode.ReplacementChar
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
	}
	return out
}

// xmlChar: XML 1.0 §2.2 Char, less white space (handled apart).
func xmlChar(r rune) bool {
	return r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// sameSubject reports whether got carries the original subject orig.
func sameSubject(got, orig string) bool {
	g, o := subjectRunes(got), subjectRunes(orig)
	return len(g) == len(o) && matchAt(g, o, 0, false)
}

// containsSubject reports whether text gives the original subject orig,
// letter case aside.
func containsSubject(text, orig string) bool {
	t, o := subjectRunes(text), subjectRunes(orig)
	for i := 0; i+len(o) <= len(t); i++ {
		if matchAt(t, o, i, true) {
			return true
		}
	}
	return false
}

// matchAt compares o with t from position i.
func matchAt(t, o []rune, i int, fold bool) bool {
	for k, r := range o {
		c := t[i+k]
		switch {
		case r == unicode.ReplacementChar || c == r:
		case fold && unicode.ToLower(c) == unicode.ToLower(r):
		default:
			return false
		}
	}
	return true
}
