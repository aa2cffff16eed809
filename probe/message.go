package probe

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
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
	// Signer, when set, signs the message with the user's own S/MIME
	// identity: multipart/signed, or application/pkcs7-mime when Opaque
	// (what a breve receipt must keep intact, BRV-05 and BRV-06).
	Signer *UserSigner
	Opaque bool
}

// UserSigner is a user's personal S/MIME identity (a software key: the
// user's signature, not a provider's, which lives in a token).
type UserSigner struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewOriginal builds a plain RFC 5322 message (CRLF, text/plain UTF-8,
// quoted-printable, RFC 2047 subject) with a fresh Message-ID, and returns
// that Message-ID (with brackets) and the bytes.
func NewOriginal(from string, to, cc []string, subject, body string) (string, []byte) {
	return Original{From: from, To: to, Cc: cc, Subject: subject, Body: body}.Build()
}

// Build renders o. A signing failure (a broken key) leaves the message
// unsigned with an X-Pecspec-Sign-Error field, so the scenario sees it.
func (o Original) Build() (string, []byte) {
	var r [12]byte
	_, _ = rand.Read(r[:])
	id := "<" + hex.EncodeToString(r[:]) + "@probe.pecspec.test>"
	fields := []smime.Field{
		{Name: "Date", Value: time.Now().Format(time.RFC1123Z)},
		{Name: "From", Value: o.From},
		{Name: "To", Value: strings.Join(o.To, ", ")},
	}
	if len(o.Cc) > 0 {
		fields = append(fields, smime.Field{Name: "Cc", Value: strings.Join(o.Cc, ", ")})
	}
	fields = append(fields, smime.Field{Name: "Subject", Value: mime.QEncoding.Encode("utf-8", o.Subject)},
		smime.Field{Name: "Message-ID", Value: id})
	if o.TipoRicevuta != "" {
		fields = append(fields, smime.Field{Name: "X-TipoRicevuta", Value: o.TipoRicevuta})
	}
	entity := o.entity(hex.EncodeToString(r[:6]))
	if o.Signer != nil {
		msg, err := o.sign(fields, entity)
		if err == nil {
			return id, msg
		}
		fields = append(fields, smime.Field{Name: "X-Pecspec-Sign-Error", Value: err.Error()})
	}
	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	b.Write(entity)
	return id, b.Bytes()
}

// entity is the MIME body with its own Content-* fields: text/plain, or
// multipart/mixed with the attachment.
func (o Original) entity(tag string) []byte {
	var b bytes.Buffer
	text := func() {
		b.WriteString("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(o.Body, "\r\n", "\n"), "\n", "\r\n")))
		_ = w.Close()
		if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	if o.Attachment == nil {
		text()
		return b.Bytes()
	}
	boundary := "pecspec-" + tag
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n--" + boundary + "\r\n")
	text()
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/octet-stream; name=\"" + o.AttachmentName + "\"\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"" + o.AttachmentName + "\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	b.Write(pec.Base64Lines(o.Attachment))
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// sign wraps entity in the user's S/MIME signature: detached
// (multipart/signed, RFC 8551 §3.5.3) or opaque (application/pkcs7-mime
// signed-data, §3.5.2).
func (o Original) sign(fields []smime.Field, entity []byte) ([]byte, error) {
	if !o.Opaque {
		return smime.Sign(fields, entity, o.Signer.Cert, o.Signer.Key)
	}
	sd, err := pkcs7.NewSignedData(pec.Canonical(entity))
	if err != nil {
		return nil, fmt.Errorf("opaque signature: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(o.Signer.Cert, o.Signer.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("opaque signature: %w", err)
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("opaque signature: %w", err)
	}
	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=\"smime.p7m\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n")
	b.Write(pec.Base64Lines(der))
	return b.Bytes(), nil
}
