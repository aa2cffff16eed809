package mailbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// BINARY and BINARY.SIZE (RFC 3516; RFC 9051 §6.4.5): a part's body with
// its Content-Transfer-Encoding undone, decoded as it is read from the file
// (base64 or quoted-printable through the standard decoders), once to size
// the literal and once to send it, so no part is held in memory. BINARY[]
// is the message's header followed by its decoded body.

// knownCTE reports whether cte is a transfer encoding BINARY can undo (RFC
// 2045 §6.1; "" is the 7bit default).
func knownCTE(cte string) bool {
	switch cte {
	case "", "7bit", "8bit", "binary", "base64", "quoted-printable":
		return true
	}
	return false
}

// binaryPart is the entity BINARY[part] decodes (nil if none) and whether
// its header comes first (the whole message).
func binaryPart(in *msgInfo, part []int) (*mimePart, bool) {
	if len(part) == 0 {
		return in.root, true
	}
	return in.root.find(part), false
}

// checkBinary answers NO [UNKNOWN-CTE] (RFC 3516 §4.3) if a BINARY item of
// o names a part whose transfer encoding is not known, before anything of
// the message is written.
func checkBinary(in *msgInfo, o *imap.FetchOptions) error {
	parts := make([][]int, 0, len(o.BinarySection)+len(o.BinarySectionSize))
	for _, s := range o.BinarySection {
		parts = append(parts, s.Part)
	}
	for _, s := range o.BinarySectionSize {
		parts = append(parts, s.Part)
	}
	for _, part := range parts {
		if p, _ := binaryPart(in, part); p != nil && !knownCTE(p.cte) {
			return no(imap.ResponseCodeUnknownCTE, fmt.Sprintf("unknown Content-Transfer-Encoding %q", p.cte))
		}
	}
	return nil
}

// decoded writes the decoded bytes of p (after its header when withHeader)
// to w. Decoding stops at the first byte the decoder rejects, the same way
// at each pass; a read error of the file is returned.
func decoded(f *os.File, p *mimePart, withHeader bool) func(io.Writer) error {
	return func(w io.Writer) error {
		if p == nil {
			return nil
		}
		if withHeader {
			if _, err := io.Copy(w, io.NewSectionReader(f, p.hdr, p.body-p.hdr)); err != nil {
				return err
			}
		}
		src := &readErr{r: io.NewSectionReader(f, p.body, p.end-p.body)}
		var r io.Reader = src
		switch p.cte {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, &base64Only{r: src})
		case "quoted-printable":
			r = quotedprintable.NewReader(src)
		}
		// A decoding error (malformed encoding) ends the data there; a write
		// error is the literal's, which sendLiteral reports.
		io.Copy(w, r)
		return src.err
	}
}

// binarySize is the size BINARY.SIZE reports, and BINARY's literal has.
func binarySize(f *os.File, in *msgInfo, part []int) (int64, error) {
	p, withHeader := binaryPart(in, part)
	var c counter
	err := decoded(f, p, withHeader)(&c)
	return c.n, err
}

// writeBinarySection writes BINARY[part]<partial>.
func writeBinarySection(rw *imapserver.FetchResponseWriter, s *imap.FetchItemBinarySection, f *os.File, in *msgInfo) (rerr, werr error) {
	total, cerr := binarySize(f, in, s.Part)
	p, withHeader := binaryPart(in, s.Part)
	off, n := window(total, s.Partial)
	rerr, werr = sendLiteral(rw.WriteBinarySection(s, n), n, func(w io.Writer) error {
		return decoded(f, p, withHeader)(&skipWriter{w: w, skip: off})
	})
	return errors.Join(cerr, rerr), werr
}

// readErr remembers the read error of r other than its end.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// base64Only passes on the base64 alphabet and padding only, dropping line
// breaks and the other bytes RFC 2045 §6.8 says a decoder ignores.
type base64Only struct{ r io.Reader }

func (b *base64Only) Read(p []byte) (int, error) {
	for {
		n, err := b.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
