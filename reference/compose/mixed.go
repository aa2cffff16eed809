package compose

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"html"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// Mixed is the multipart/mixed body of a system message (RFC 6109 §4.3): the
// text first, then daticert.xml, then the original message when there is one.
type Mixed struct {
	Text     string // UTF-8 text; written quoted-printable in ISO-8859-1 (RFC 6109 §4.3.1) when it can be (textQP)
	Daticert []byte // nil for the busta di anomalia (RFC 6109 §3.2.2)
	Original []byte // the message/rfc822 part, nil when the type carries none
	// OriginalBody, when set, follows Original (then only the original's
	// header): a large original is written from the submission's own bytes
	// instead of a copy of them.
	OriginalBody []byte
	// Body, when set, follows Original (then only the original's header)
	// streamed from a file: a large original is never held in memory.
	// BodyASCII says whether it is 7-bit, for the part's encoding, which is
	// written before it.
	Body      io.Reader
	BodyASCII bool
	// OriginalName is the attachment name of the original: postacert.eml for
	// envelopes and receipts (RFC 6109 §4.3.2); the anomaly uses it too.
	OriginalName string
	// HTML makes the text part multipart/alternative: the text/plain and an
	// HTML rendering of the same text (RFC 6109 §4.3.1; GEN-04…07), as most
	// observed providers send.
	HTML bool
}

// Bytes writes the entity: its own Content-Type header and the body, CRLF.
func (m Mixed) Bytes() []byte {
	var b bytes.Buffer
	// One allocation of the final size: a large original is not copied
	// again by the buffer's doubling.
	b.Grow(m.Size())
	m.WriteTo(&b)
	return b.Bytes()
}

// Size bounds the length of the entity (what WriteTo writes).
func (m Mixed) Size() int {
	return len(m.Original) + len(m.OriginalBody) + len(m.Daticert)*4/3 + len(m.Text)*6 + 2048
}

// WriteTo writes the entity to b: the signer writes it straight into the
// message it builds (smime.SignWith), so a large original is copied once.
func (m Mixed) WriteTo(b *bytes.Buffer) { _ = m.Write(b) }

// Write writes the entity to w (the streaming signer, smime.SignTo).
func (m Mixed) Write(w io.Writer) error {
	b := &errWriter{w: w}
	boundary := newBoundary()
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n")
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	part := func(header string, body []byte) {
		b.WriteString("\r\n--" + boundary + "\r\n" + header + "\r\n\r\n")
		b.Write(body)
	}
	if m.HTML {
		part("Content-Type: multipart/alternative; boundary=\"alt-"+boundary+"\"", alternative("alt-"+boundary, m.Text))
	} else {
		cs, body := textQP(m.Text)
		part("Content-Type: text/plain; charset=\""+cs+"\"\r\nContent-Transfer-Encoding: quoted-printable", body)
	}
	if m.Daticert != nil {
		part("Content-Type: application/xml; name=\"daticert.xml\"\r\n"+
			"Content-Transfer-Encoding: base64\r\nContent-Disposition: inline; filename=\"daticert.xml\"",
			pec.Base64Lines(m.Daticert))
	}
	if m.Original != nil {
		name := m.OriginalName
		if name == "" {
			name = "postacert.eml"
		}
		cte := "7bit"
		if !isASCII(m.Original) || !isASCII(m.OriginalBody) || (m.Body != nil && !m.BodyASCII) {
			cte = "8bit"
		}
		header := "Content-Type: message/rfc822; name=\"" + name + "\"\r\n" +
			"Content-Transfer-Encoding: " + cte + "\r\nContent-Disposition: inline; filename=\"" + name + "\""
		last := toCRLF(m.Original) // no copy unless a bare LF needs one
		part(header, last)
		if len(m.OriginalBody) > 0 {
			last = toCRLF(m.OriginalBody)
			b.Write(last)
		}
		if m.Body != nil {
			last = b.copyFrom(m.Body) // the signer's writer makes its line ends CRLF
		}
		if !bytes.HasSuffix(last, []byte("\r\n")) && !bytes.HasSuffix(last, []byte("\n")) {
			b.WriteString("\r\n")
		}
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.err
}

// errWriter keeps the first write error (the entity is written in many small
// writes) and can copy a stream, remembering its last bytes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
	return len(p), nil
}

func (e *errWriter) WriteString(s string) { e.Write([]byte(s)) }

// copyFrom copies r and returns its last two bytes.
func (e *errWriter) copyFrom(r io.Reader) []byte {
	buf := make([]byte, 64<<10)
	var last []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			e.Write(buf[:n])
			last = append(last[:0], buf[max(0, n-2):n]...)
		}
		if err == io.EOF {
			return last
		}
		if err != nil {
			if e.err == nil {
				e.err = err
			}
			return last
		}
	}
}

func newBoundary() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return "----pecref-" + hex.EncodeToString(r[:])
}

// textQP encodes a UTF-8 text for a text part, quoted-printable with CRLF
// line ends: in ISO-8859-1, the charset RFC 6109 §4.3.1 names, when every
// character of it has one there; else in UTF-8, so that the text still
// carries the very subject and addresses the daticert holds (DAT-19, TRN-14;
// GEN-08 takes UTF-8 with a warning) rather than '?' in their place.
func textQP(s string) (charset string, body []byte) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	raw := []byte(s)
	charset = "utf-8"
	if l1, ok := latin1(s); ok {
		raw, charset = l1, "iso-8859-1"
	}
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	_, _ = w.Write(bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n")))
	_ = w.Close()
	return charset, withFinalCRLF(out.Bytes())
}

// latin1 is s in ISO-8859-1, ok false when some character has no byte there.
func latin1(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

func withFinalCRLF(b []byte) []byte {
	b = toCRLF(b)
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b
	}
	return append(b, "\r\n"...)
}

func toCRLF(b []byte) []byte {
	if bytes.Count(b, []byte("\n")) == bytes.Count(b, []byte("\r\n")) {
		return b
	}
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// alternative is the body of a multipart/alternative with text as
// text/plain and as text/html (RFC 6109 §4.3.1): the HTML carries exactly
// the text's lines, escaped, and references nothing and runs nothing
// (GEN-05, GEN-06, GEN-07).
func alternative(boundary, text string) []byte {
	var b bytes.Buffer
	cs, body := textQP(text)
	b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=\"" + cs + "\"\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.Write(body)
	cs, body = textQP(htmlOf(text))
	b.WriteString("--" + boundary + "\r\nContent-Type: text/html; charset=\"" + cs + "\"\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	b.Write(body)
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// htmlOf renders text as a minimal HTML page: one paragraph per block of
// lines, a <br> between lines.
func htmlOf(text string) string {
	var b strings.Builder
	b.WriteString("<html><body>\n")
	for _, para := range strings.Split(strings.ReplaceAll(strings.TrimSpace(text), "\r\n", "\n"), "\n\n") {
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(l)
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
