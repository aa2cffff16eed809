package pec

import (
	"bytes"
	"fmt"
	"strings"
)

// Signed is a multipart/signed message split into what the signature covers
// and the signature (RFC 1847 §2.1, RFC 5751 §3.4.3; RFC 6109 §2.1).
type Signed struct {
	// Content is the first body part exactly as it appears on the wire, header
	// included: the bytes the detached CMS signature covers.
	Content *Entity
	// Signature is the second body part (application/(x-)pkcs7-signature).
	Signature *Entity
	// Protocol and Micalg are the parameters of the multipart/signed type.
	Protocol, Micalg string
}

// SplitSigned splits a multipart/signed entity. It fails when the entity is not
// multipart/signed or does not have exactly two parts.
func SplitSigned(e *Entity) (*Signed, error) {
	t, params := e.MediaType()
	if t != "multipart/signed" {
		return nil, fmt.Errorf("%w: content type is %q, not multipart/signed", ErrMIME, t)
	}
	parts, err := e.Parts()
	if err != nil {
		return nil, err
	}
	if len(parts) != 2 {
		return nil, fmt.Errorf("%w: multipart/signed has %d parts, want 2", ErrMIME, len(parts))
	}
	return &Signed{
		Content:   parts[0],
		Signature: parts[1],
		Protocol:  strings.ToLower(params["protocol"]),
		Micalg:    strings.ToLower(params["micalg"]),
	}, nil
}

// Canonical returns b with every line ending as CRLF: the canonical form a
// signature is computed over (RFC 5751 §3.1.1). b is returned unchanged when
// it already is canonical.
func Canonical(b []byte) []byte {
	if IsCanonical(b) {
		return b
	}
	lf := bytes.Count(b, []byte("\n"))
	crlf := bytes.Count(b, []byte("\r\n"))
	out := make([]byte, 0, len(b)+lf-crlf)
	for i := 0; i < len(b); i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b[i])
	}
	return out
}

// IsCanonical reports whether every LF in b ends a CRLF (Canonical(b) is b).
func IsCanonical(b []byte) bool {
	return bytes.Count(b, []byte("\n")) == bytes.Count(b, []byte("\r\n"))
}
