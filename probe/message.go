package probe

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// Original describes a user's message to submit.
type Original struct {
	From         string
	To, Cc       []string
	Subject      string
	Body         string
	TipoRicevuta string // X-TipoRicevuta, "" to leave it out
	// Attachment, when not nil, makes the message multipart/mixed with the
	// text and this file (application/octet-stream, base64) named
	// AttachmentName: what a breve receipt replaces by its hash (RFC 6109
	// §3.3.2.2).
	Attachment     []byte
	AttachmentName string
}

// NewOriginal builds a plain RFC 5322 message (CRLF, text/plain UTF-8,
// quoted-printable, RFC 2047 subject) with a fresh Message-ID, and returns
// that Message-ID (with brackets) and the bytes.
func NewOriginal(from string, to, cc []string, subject, body string) (string, []byte) {
	return Original{From: from, To: to, Cc: cc, Subject: subject, Body: body}.Build()
}

// Build renders o.
func (o Original) Build() (string, []byte) {
	var r [12]byte
	_, _ = rand.Read(r[:])
	id := "<" + hex.EncodeToString(r[:]) + "@probe.pecspec.test>"
	var b bytes.Buffer
	field := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	field("Date", time.Now().Format(time.RFC1123Z))
	field("From", o.From)
	field("To", strings.Join(o.To, ", "))
	if len(o.Cc) > 0 {
		field("Cc", strings.Join(o.Cc, ", "))
	}
	field("Subject", mime.QEncoding.Encode("utf-8", o.Subject))
	field("Message-ID", id)
	if o.TipoRicevuta != "" {
		field("X-TipoRicevuta", o.TipoRicevuta)
	}
	field("MIME-Version", "1.0")
	boundary := ""
	if o.Attachment != nil {
		boundary = "pecspec-" + hex.EncodeToString(r[:6])
		field("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		field("Content-Type", `text/plain; charset="utf-8"`)
	} else {
		field("Content-Type", `text/plain; charset="utf-8"`)
	}
	field("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(o.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	if boundary != "" {
		b.WriteString("--" + boundary + "\r\n")
		field("Content-Type", `application/octet-stream; name="`+o.AttachmentName+`"`)
		field("Content-Disposition", `attachment; filename="`+o.AttachmentName+`"`)
		field("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(o.Attachment)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n--" + boundary + "--\r\n")
	}
	return id, b.Bytes()
}
