package antivirus_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/reference/antivirus"
)

var head = fixtures.EvasionHeader("alice@pec.alpha.test", "bob@pec.beta.test", "prova")

func TestCheckStructure(t *testing.T) {
	const max = antivirus.MaxDepthSubmission
	lf := strings.ReplaceAll(string(fixtures.NestedMultipart(head, max+1)), "\r\n", "\n")
	for name, tc := range map[string]struct {
		msg  []byte
		want error
	}{
		"flat":                    {[]byte(head + "Content-Type: text/plain\r\n\r\nciao\r\n"), nil},
		"no header":               {[]byte("\r\nciao\r\n"), nil},
		"empty":                   {nil, nil},
		"multipart at the limit":  {fixtures.NestedMultipart(head, max), nil},
		"multipart one deeper":    {fixtures.NestedMultipart(head, max+1), antivirus.ErrTooDeep},
		"multipart 1000":          {fixtures.NestedMultipart(head, 1000), antivirus.ErrTooDeep},
		"multipart, LF only":      {[]byte(lf), antivirus.ErrTooDeep},
		"rfc822 at the limit":     {fixtures.NestedRFC822(head, max/2), nil},
		"rfc822 one deeper":       {fixtures.NestedRFC822(head, max/2+1), antivirus.ErrTooDeep},
		"rfc822 30":               {fixtures.NestedRFC822(head, 30), antivirus.ErrTooDeep},
		"partial":                 {fixtures.PartialFragments(head)[0], antivirus.ErrPartial},
		"siblings are not nested": {siblings(3 * max), nil},
		"closed levels unwind":    {closedThenDeep(max), nil},
		"unterminated multipart":  {fixtures.NestedMultipart(head, 5)[:200], nil},
		"bad boundary parameter":  {badBoundary(max + 1), antivirus.ErrTooDeep},
		"lines over the buffer":   {append(fixtures.NestedMultipart(head, 3), strings.Repeat("y", 100<<10)+"\r\n"...), nil},
	} {
		if err := antivirus.CheckStructure(bytes.NewReader(tc.msg), max); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if err := antivirus.CheckStructure(iotest.ErrReader(io.ErrUnexpectedEOF), max); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error: %v", err)
	}
	// An envelope around an original at the submission limit passes reception.
	env := "Content-Type: multipart/signed; boundary=s\r\n\r\n--s\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n" +
		"--m\r\nContent-Type: message/rfc822\r\n\r\n" + string(fixtures.NestedMultipart(head, max)) + "--m--\r\n--s--\r\n"
	if err := antivirus.CheckStructure(strings.NewReader(env), antivirus.MaxDepthReception); err != nil {
		t.Errorf("envelope of an original at the limit: %v", err)
	}
}

// siblings is a multipart with n parts side by side, each a multipart: depth 2.
func siblings(n int) []byte {
	var b strings.Builder
	b.WriteString(head + "Content-Type: multipart/mixed; boundary=top\r\n\r\n")
	for range n {
		b.WriteString("--top\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\nx\r\n--in--\r\n")
	}
	b.WriteString("--top--\r\n")
	return []byte(b.String())
}

// closedThenDeep opens and closes max levels, then opens max levels again as
// the next part: each branch alone is within the limit.
func closedThenDeep(max int) []byte {
	inner := string(fixtures.NestedMultipart("", max-1))
	return []byte(head + "Content-Type: multipart/mixed; boundary=top\r\n\r\n--top\r\n" + inner +
		"--top\r\n" + inner + "--top--\r\n")
}

// badBoundary nests multiparts whose Content-Type has an unquoted boundary
// with a space, which strict parsers refuse and lenient clients take.
func badBoundary(depth int) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i := range depth {
		b.WriteString("Content-Type: multipart/mixed; boundary=b" + strings.Repeat("x", i) + " y\r\n\r\n--b" + strings.Repeat("x", i) + " y\r\n")
	}
	b.WriteString("\r\nciao\r\n")
	return []byte(b.String())
}

func FuzzCheckStructure(f *testing.F) {
	f.Add(fixtures.NestedMultipart(head, 3))
	f.Add(fixtures.NestedRFC822(head, 2))
	f.Add(fixtures.PartialFragments(head)[1])
	f.Add(badBoundary(3))
	f.Fuzz(func(t *testing.T, msg []byte) {
		err := antivirus.CheckStructure(bytes.NewReader(msg), 4)
		if err != nil && !errors.Is(err, antivirus.ErrTooDeep) && !errors.Is(err, antivirus.ErrPartial) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// TestLenientBoundaryInvalidUTF8 is the fuzzer's find: bytes that are not
// UTF-8 before "boundary=" moved the offset past the end of the value.
func TestLenientBoundaryInvalidUTF8(t *testing.T) {
	msg := "Content-Type: multipart/mixed; \xff\xff\xff boundary=\r\n\r\nciao\r\n"
	err := antivirus.CheckStructure(strings.NewReader(msg), 4)
	if err != nil {
		t.Fatalf("CheckStructure: %v", err)
	}
}
