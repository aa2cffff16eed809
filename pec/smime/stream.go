package smime

import (
	"bufio"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
)

// SignTo writes to w the message Sign returns, the content being written by
// write straight through to w and to the SHA-256 of the signature: the CMS
// messageDigest is computed while the content streams (a large message is
// never held in memory). Line ends are made canonical on the way (a bare LF
// becomes CRLF, RFC 5751 §3.1.1).
func SignTo(w io.Writer, outer []Field, write func(io.Writer) error, cert *x509.Certificate, key crypto.Signer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	boundary := newBoundary()
	hasMIME := false
	for _, f := range outer {
		hasMIME = hasMIME || strings.EqualFold(f.Name, "MIME-Version")
		bw.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	if !hasMIME {
		bw.WriteString("MIME-Version: 1.0\r\n")
	}
	bw.WriteString(`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg="sha-256"; boundary="` +
		boundary + "\"\r\n\r\n")
	bw.WriteString("This is an S/MIME signed message\r\n\r\n--" + boundary + "\r\n")
	h := sha256.New()
	canon := &crlfWriter{w: io.MultiWriter(bw, h)}
	if err := write(canon); err != nil {
		return fmt.Errorf("%w: content: %v", ErrSign, err)
	}
	der, err := detachedDigest(h.Sum(nil), cert, key, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSign, err)
	}
	bw.WriteString("\r\n--" + boundary + "\r\n")
	bw.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 76 {
		bw.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	bw.WriteString(enc + "\r\n\r\n--" + boundary + "--\r\n")
	return bw.Flush()
}

// crlfWriter writes through w with every bare LF made CRLF (pec.Canonical
// as a stream).
type crlfWriter struct {
	w      io.Writer
	lastCR bool
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := indexBareLF(p, c.lastCR)
		if i < 0 {
			if _, err := c.w.Write(p); err != nil {
				return 0, err
			}
			c.lastCR = p[len(p)-1] == '\r'
			return n, nil
		}
		if _, err := c.w.Write(p[:i]); err != nil {
			return 0, err
		}
		if _, err := c.w.Write([]byte("\r\n")); err != nil {
			return 0, err
		}
		p, c.lastCR = p[i+1:], false
	}
	return n, nil
}

// indexBareLF is the index of the first LF of p not preceded by CR (prevCR:
// the byte before p was CR), or -1.
func indexBareLF(p []byte, prevCR bool) int {
	for i, b := range p {
		if b != '\n' {
			continue
		}
		if (i == 0 && !prevCR) || (i > 0 && p[i-1] != '\r') {
			return i
		}
	}
	return -1
}
