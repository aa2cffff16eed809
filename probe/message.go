package probe

import (
	"bytes"
	"crypto/rand"
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
	field("Content-Type", `text/plain; charset="utf-8"`)
	field("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(o.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return id, b.Bytes()
}
