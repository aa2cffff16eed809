package compose

import (
	"bytes"
	"net/mail"
	"strings"
)

// Field is one header field exactly as it was on the wire: Raw holds the name,
// the colon, the value and its continuation lines, without the final line
// break. Fields copied "unmodified" (RFC 6109 §3.1.5, §3.2.2) are copied from Raw.
type Field struct {
	Name string
	Raw  []byte
}

// Value returns the unfolded value with surrounding space removed.
func (f Field) Value() string {
	_, v, _ := bytes.Cut(f.Raw, []byte(":"))
	v = bytes.ReplaceAll(v, []byte("\r\n"), nil)
	v = bytes.ReplaceAll(v, []byte("\n"), nil)
	return strings.TrimSpace(string(v))
}

// FoldedValue returns the value as on the wire (continuation lines kept, CRLF),
// without the leading space after the colon: what a copied field is written with.
func (f Field) FoldedValue() string {
	_, v, _ := bytes.Cut(f.Raw, []byte(":"))
	return strings.TrimLeft(string(v), " \t")
}

// Header is the ordered list of fields of a message.
type Header []Field

// SplitMessage splits raw into its header fields and its body (the bytes after
// the empty line). Lines may end in CRLF or LF; Raw keeps them as they were.
func SplitMessage(raw []byte) (Header, []byte) {
	var h Header
	pos := 0
	for pos < len(raw) {
		nl := bytes.IndexByte(raw[pos:], '\n')
		end := len(raw)
		if nl >= 0 {
			end = pos + nl
		}
		line := bytes.TrimRight(raw[pos:end], "\r")
		next := end + 1
		if len(line) == 0 {
			if next > len(raw) {
				next = len(raw)
			}
			return h, raw[next:]
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h) > 0 {
			last := &h[len(h)-1]
			last.Raw = append(append(last.Raw, "\r\n"...), line...)
		} else {
			name, _, _ := bytes.Cut(line, []byte(":"))
			h = append(h, Field{Name: strings.TrimSpace(string(name)), Raw: append([]byte(nil), line...)})
		}
		if nl < 0 {
			break
		}
		pos = next
	}
	return h, nil
}

// Get returns the unfolded value of the first field called name
// (case-insensitive, GEN-13), or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value()
		}
	}
	return ""
}

// All returns every field called name, in order.
func (h Header) All(name string) []Field {
	var out []Field
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// Has reports whether a field called name is present.
func (h Header) Has(name string) bool { return len(h.All(name)) > 0 }

// Bytes writes the header with CRLF line ends, followed by the empty line.
func (h Header) Bytes() []byte {
	var b bytes.Buffer
	for _, f := range h {
		b.Write(bytes.ReplaceAll(bytes.ReplaceAll(f.Raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// NewField builds a field from a name and an already-encoded value.
func NewField(name, value string) Field {
	return Field{Name: name, Raw: []byte(name + ": " + value)}
}

// Subject returns the decoded (RFC 2047) subject of h, cleaned (CleanText)
// and without surrounding space.
func (h Header) Subject() string {
	s := h.Get("Subject")
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.TrimSpace(CleanText(s))
}

// Addresses returns the addr-specs of every field called name (To, Cc, ...),
// in order; unparsable lists give what could be read.
func (h Header) Addresses(name string) []string {
	var out []string
	for _, f := range h.All(name) {
		list, err := mail.ParseAddressList(f.Value())
		if err != nil {
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// Address returns the first addr-spec of field name, or "".
func (h Header) Address(name string) string {
	if a := h.Addresses(name); len(a) > 0 {
		return a[0]
	}
	return ""
}

// EncodeWord encodes s for the value of a Subject field: as is when it is
// printable ASCII, folded at spaces when long; else, or when a long piece has
// no space to fold at, RFC 2047 Q-encoded UTF-8 words, one per line. No line
// of the field is longer than 998 octets (RFC 5322 §2.1.1), whatever s, and
// the field decodes back to s.
func EncodeWord(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f || s[i] < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		if folded, ok := foldASCII(s, len("Subject: ")); ok {
			return folded
		}
	}
	return strings.Join(qWords(s), "\r\n ")
}
