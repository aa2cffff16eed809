package compose

import (
	"bufio"
	"mime"
	"net/textproto"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileSubjects are Subject field values as a hostile client sends them.
var hostileSubjects = map[string]string{
	"NUL":               "prima\x00dopo",
	"invalid UTF-8":     "caff\xe8 \xff\xfe fine \xc3",
	"controls":          "a\x01b\x1bc\x7fd",
	"encoded NUL, CRLF": "=?utf-8?q?a=00b=0D=0ABcc:_x@example.org?=",
	"unknown charset":   "=?x-klingon?q?qapla=FF?=",
	"long, spaces":      strings.Repeat("parola ", 1500),
	"long, no spaces":   strings.Repeat("x", 5000),
	"long, non-ASCII":   strings.Repeat("àèìòù€😀", 700),
	"runs of spaces":    strings.Repeat("a    b ", 300),
}

// TestHostileSubjects: the cleaned subject is valid UTF-8 made of XML
// characters; the Subject field built from it has no line over 78 octets and
// decodes, whether unfolded as RFC 5322 says or as net/textproto does, to
// exactly the prefix and that subject (DAT-20, GEN-14; issue 15).
func TestHostileSubjects(t *testing.T) {
	for name, raw := range hostileSubjects {
		h, _ := SplitMessage([]byte("Subject: " + raw + "\r\n\r\n"))
		subj := h.Subject()
		if !utf8.ValidString(subj) {
			t.Errorf("%s: subject %q is not UTF-8", name, subj)
		}
		for _, r := range subj {
			if !xmlChar(r) || r == '\r' || r == '\n' || r == '\t' {
				t.Errorf("%s: subject keeps %U", name, r)
			}
		}
		want := "ACCETTAZIONE: " + subj
		field := "Subject: " + EncodeWord(want)
		for _, line := range strings.Split(field, "\r\n") {
			if len(line) > 78 {
				t.Errorf("%s: line of %d octets: %.40q…", name, len(line), line)
			}
		}
		rfc := strings.TrimPrefix(strings.ReplaceAll(field, "\r\n", ""), "Subject: ")
		tp, err := textproto.NewReader(bufio.NewReader(strings.NewReader(field + "\r\n\r\n"))).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for how, v := range map[string]string{"RFC 5322": rfc, "net/textproto": tp.Get("Subject")} {
			got, err := new(mime.WordDecoder).DecodeHeader(v)
			if err != nil || strings.TrimSpace(got) != strings.TrimSpace(want) {
				t.Errorf("%s: unfolded as %s decodes to %.60q (%v), want %.60q", name, how, got, err, want)
			}
		}
	}
	if got := CleanText("già \uFFFD pulito"); got != "già \uFFFD pulito" {
		t.Errorf("clean text changed: %q", got)
	}
}
