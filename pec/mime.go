package pec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// ErrMIME wraps every structural failure of the MIME walk.
var ErrMIME = errors.New("pec: mime")

// Limits of the MIME walk: hostile input gets an error, not unbounded work.
const (
	MaxDepth = 32    // nesting of multiparts
	MaxParts = 10000 // parts in one multipart
)

// Entity is one MIME entity: its header, its raw body bytes (still
// transfer-encoded) and the exact bytes it occupies in its parent, header
// included — what a detached signature covers (RFC 1847 §2.1).
type Entity struct {
	Header textproto.Header
	Body   []byte
	Raw    []byte
}

// ReadEntity splits raw into header and body at the first empty line. The
// header is parsed leniently (go-message textproto); the body is a sub-slice of
// raw, not a copy. An entity with no empty line is all header.
func ReadEntity(raw []byte) (*Entity, error) {
	off := headerEnd(raw)
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw[:off])))
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%w: header: %v", ErrMIME, err)
	}
	return &Entity{Header: h, Body: raw[off:], Raw: raw}, nil
}

// headerEnd returns the offset of the first body byte: just past the empty line
// that ends the header, or len(raw) when there is none.
func headerEnd(raw []byte) int {
	pos := 0
	for pos < len(raw) {
		nl := bytes.IndexByte(raw[pos:], '\n')
		if nl < 0 {
			return len(raw)
		}
		line := raw[pos : pos+nl]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return pos + nl + 1
		}
		pos += nl + 1
	}
	return len(raw)
}

// MediaType returns the lower-cased media type and parameters of the entity's
// Content-Type; a missing header is text/plain (RFC 2045 §5.2).
func (e *Entity) MediaType() (string, map[string]string) {
	v := e.Header.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{"charset": "us-ascii"}
	}
	t, params, err := mime.ParseMediaType(v)
	if err != nil {
		// Keep what can be read: the type before the first ';'.
		t = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		return t, map[string]string{}
	}
	return t, params
}

// Filename returns the name of the part: Content-Disposition filename, else
// Content-Type name, decoded from RFC 2047 when needed.
func (e *Entity) Filename() string {
	if v := e.Header.Get("Content-Disposition"); v != "" {
		if _, p, err := mime.ParseMediaType(v); err == nil && p["filename"] != "" {
			return p["filename"]
		}
	}
	_, p := e.MediaType()
	return p["name"]
}

// Decoded returns the body with its Content-Transfer-Encoding removed.
func (e *Entity) Decoded() ([]byte, error) {
	out, err := e.DecodedLenient()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodedLenient removes the Content-Transfer-Encoding as a mail reader
// does: on a fault (a cut base64 body, a bad quoted-printable escape) it
// returns what decodes before the fault together with the error. White
// space inside base64 is ignored (RFC 2045 §6.8).
func (e *Entity) DecodedLenient() ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(e.Header.Get("Content-Transfer-Encoding"))) {
	case "base64":
		return decodeBase64(e.Body)
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(e.Body)))
		if err != nil {
			return out, fmt.Errorf("%w: quoted-printable: %v", ErrMIME, err)
		}
		return out, nil
	default:
		return e.Body, nil
	}
}

// decodeBase64 decodes a base64 body; on an error the bytes decoded before
// it are returned with it.
func decodeBase64(body []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, body)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return out[:n], fmt.Errorf("%w: base64: %v", ErrMIME, err)
	}
	return out[:n], nil
}

// ErrUnterminated marks a multipart whose close delimiter is missing: the
// body was cut (RFC 2046 §5.1.1 requires the close delimiter).
var ErrUnterminated = fmt.Errorf("%w: close delimiter not found", ErrMIME)

// Parts splits a multipart body on its boundary. Each part's Raw is exactly the
// bytes between the delimiter line and the line break before the next
// delimiter (RFC 2046 §5.1.1): the bytes a multipart/signed signature covers.
// A missing close delimiter is an error (ErrUnterminated); PartsLenient
// recovers the parts of such a body.
func (e *Entity) Parts() ([]*Entity, error) {
	return e.parts(false)
}

// PartsLenient splits a multipart body as a mail reader does: when the close
// delimiter is missing it still returns the parts, the last one running to
// the end of the body, together with an error wrapping ErrUnterminated; a
// part whose header cannot be read is all body. Any other error comes with
// no parts.
func (e *Entity) PartsLenient() ([]*Entity, error) {
	return e.parts(true)
}

func (e *Entity) parts(lenient bool) ([]*Entity, error) {
	t, params := e.MediaType()
	if !strings.HasPrefix(t, "multipart/") {
		return nil, fmt.Errorf("%w: %s is not multipart", ErrMIME, t)
	}
	b := params["boundary"]
	if b == "" {
		return nil, fmt.Errorf("%w: %s without boundary", ErrMIME, t)
	}
	raws, cut, err := splitBoundary(e.Body, b)
	if err != nil {
		return nil, err
	}
	parts := make([]*Entity, 0, len(raws))
	for _, r := range raws {
		p, err := ReadEntity(r)
		switch {
		case err != nil && !lenient:
			return nil, err
		case err != nil:
			p = &Entity{Body: r, Raw: r}
		}
		parts = append(parts, p)
	}
	if cut {
		err = fmt.Errorf("%w: --%s-- missing, %d part(s) read to the end of the body", ErrUnterminated, b, len(parts))
		if !lenient {
			return nil, err
		}
		return parts, err
	}
	return parts, nil
}

// splitBoundary returns the raw parts of a multipart body. cut is true when
// the close delimiter is missing: the last part then runs to the end of the
// body. A body without any delimiter line is an error.
func splitBoundary(body []byte, boundary string) (parts [][]byte, cut bool, err error) {
	delim := []byte("--" + boundary)
	start := -1 // offset of the current part's first byte
	pos := 0
	for pos <= len(body) {
		nl := bytes.IndexByte(body[pos:], '\n')
		end := len(body)
		if nl >= 0 {
			end = pos + nl
		}
		line := bytes.TrimRight(body[pos:end], "\r")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			closing := bytes.HasPrefix(rest, []byte("--"))
			if closing || len(bytes.TrimRight(rest, " \t")) == 0 {
				if start >= 0 {
					// Adjacent delimiters make an empty part: its end,
					// before the delimiter's line break, precedes its start.
					parts = append(parts, body[start:max(start, trimEOL(body, pos))])
				}
				if closing {
					return parts, false, nil
				}
				if len(parts) >= MaxParts {
					return nil, false, fmt.Errorf("%w: more than %d parts", ErrMIME, MaxParts)
				}
				start = min(end+1, len(body))
			}
		}
		if nl < 0 {
			break
		}
		pos = end + 1
	}
	if start < 0 {
		return nil, false, fmt.Errorf("%w: no delimiter --%s in the body", ErrMIME, boundary)
	}
	return append(parts, body[start:]), true, nil
}

// trimEOL returns pos moved back over the CRLF (or LF) that precedes a
// delimiter line; that line break belongs to the delimiter (RFC 2046 §5.1.1).
func trimEOL(body []byte, pos int) int {
	if pos > 0 && body[pos-1] == '\n' {
		pos--
		if pos > 0 && body[pos-1] == '\r' {
			pos--
		}
	}
	return pos
}

// Base64Lines encodes data as base64 in lines of 76 characters, each ended
// by CRLF (RFC 2045 §6.8): the body of a base64 MIME part.
func Base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(append(out, enc[:76]...), "\r\n"...)
		enc = enc[76:]
	}
	return append(append(out, enc...), "\r\n"...)
}
