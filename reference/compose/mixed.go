package compose

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"mime/quotedprintable"
	"strings"
)

// Mixed is the multipart/mixed body of a system message (RFC 6109 §4.3): the
// text first, then daticert.xml, then the original message when there is one.
type Mixed struct {
	Text     string // UTF-8 text; written as ISO-8859-1 quoted-printable (RFC 6109 §4.3.1)
	Daticert []byte // nil for the busta di anomalia (RFC 6109 §3.2.2)
	Original []byte // the message/rfc822 part, nil when the type carries none
	// OriginalName is the attachment name of the original: postacert.eml for
	// envelopes and receipts (RFC 6109 §4.3.2); the anomaly uses it too.
	OriginalName string
}

// Bytes writes the entity: its own Content-Type header and the body, CRLF.
func (m Mixed) Bytes() []byte {
	boundary := newBoundary()
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n")
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	part := func(header string, body []byte) {
		b.WriteString("\r\n--" + boundary + "\r\n" + header + "\r\n\r\n")
		b.Write(body)
	}
	part("Content-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable",
		latin1QP(m.Text))
	if m.Daticert != nil {
		part("Content-Type: application/xml; name=\"daticert.xml\"\r\n"+
			"Content-Transfer-Encoding: base64\r\nContent-Disposition: inline; filename=\"daticert.xml\"",
			base64Lines(m.Daticert))
	}
	if m.Original != nil {
		name := m.OriginalName
		if name == "" {
			name = "postacert.eml"
		}
		cte := "7bit"
		if !isASCII(m.Original) {
			cte = "8bit"
		}
		part("Content-Type: message/rfc822; name=\""+name+"\"\r\n"+
			"Content-Transfer-Encoding: "+cte+"\r\nContent-Disposition: inline; filename=\""+name+"\"",
			withFinalCRLF(m.Original))
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}

func newBoundary() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return "----pecref-" + hex.EncodeToString(r[:])
}

// latin1QP converts UTF-8 text to ISO-8859-1 (runes above U+00FF become '?')
// and quoted-printable encodes it with CRLF line ends.
func latin1QP(s string) []byte {
	var l1 bytes.Buffer
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch {
		case r == '\n':
			l1.WriteString("\r\n")
		case r < 0x100:
			l1.WriteByte(byte(r))
		default:
			l1.WriteByte('?')
		}
	}
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	_, _ = w.Write(l1.Bytes())
	_ = w.Close()
	return withFinalCRLF(out.Bytes())
}

func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
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
