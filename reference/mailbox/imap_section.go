package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// span is where a body section's bytes are in the file (RFC 9051 §6.4.5
// section-spec): the range [off, end), filtered to some header fields when
// fields or notFields is set.
type span struct {
	off, end          int64
	fields, notFields []string
}

// bodySpan locates section s. The header ends at the first blank line (or
// at the end of a file that has none); a part is found in the MIME tree
// (part numbering of RFC 9051 §6.4.5); a part that does not exist is empty.
func bodySpan(s *imap.FetchItemBodySection, in *msgInfo, size int64) span {
	if len(s.Part) == 0 {
		switch s.Specifier {
		case imap.PartSpecifierNone:
			return span{off: 0, end: size}
		case imap.PartSpecifierText:
			return span{off: in.hdrEnd, end: size}
		default: // HEADER, HEADER.FIELDS[.NOT], and MIME taken as HEADER
			return span{off: 0, end: in.hdrEnd, fields: s.HeaderFields, notFields: s.HeaderFieldsNot}
		}
	}
	p := in.root.find(s.Part)
	if p == nil {
		return span{}
	}
	m := p // the message a message/rfc822 part holds, for HEADER and TEXT
	if p.msg != nil {
		m = p.msg
	}
	switch s.Specifier {
	case imap.PartSpecifierMIME:
		return span{off: p.hdr, end: p.body}
	case imap.PartSpecifierHeader:
		return span{off: m.hdr, end: m.body, fields: s.HeaderFields, notFields: s.HeaderFieldsNot}
	case imap.PartSpecifierText:
		return span{off: m.body, end: m.end}
	}
	return span{off: p.body, end: p.end}
}

// find is the entity a section-part names: "1" of a message that is not
// multipart is the message itself, a message/rfc822 part is entered, a
// number past a part's children names nothing (nil).
func (root *mimePart) find(path []int) *mimePart {
	cur := root
	if !cur.multi && len(path) > 0 && path[0] == 1 {
		path = path[1:]
	}
	for _, n := range path {
		if cur.msg != nil {
			cur = cur.msg
		}
		if !cur.multi {
			if n != 1 {
				return nil
			}
			continue
		}
		if n < 1 || n > len(cur.children) {
			return nil
		}
		cur = cur.children[n-1]
	}
	return cur
}

// writeBodySection writes BODY[section]<partial>, streamed from the file:
// a range is copied from its offset, header fields are filtered from the
// header as it is read (once to size the literal, once to send it).
func writeBodySection(rw *imapserver.FetchResponseWriter, s *imap.FetchItemBodySection, f *os.File, sp span) (rerr, werr error) {
	if sp.fields == nil && sp.notFields == nil {
		off, n := window(sp.end-sp.off, s.Partial)
		return sendLiteral(rw.WriteBodySection(s, n), n, func(w io.Writer) error {
			_, err := io.Copy(w, io.NewSectionReader(f, sp.off+off, n))
			return err
		})
	}
	keep := fieldFilter(sp)
	produce := func(w io.Writer) error {
		return filterHeader(io.NewSectionReader(f, sp.off, sp.end-sp.off), keep, w)
	}
	var c counter
	cerr := produce(&c) // a header read in part is sent as read, and the FETCH ends in NO
	off, n := window(c.n, s.Partial)
	rerr, werr = sendLiteral(rw.WriteBodySection(s, n), n, func(w io.Writer) error {
		return produce(&skipWriter{w: w, skip: off})
	})
	return errors.Join(cerr, rerr), werr
}

// window is the <offset.count> of partial within total bytes (RFC 9051
// §6.4.5: an offset past the end gives the empty string).
func window(total int64, p *imap.SectionPartial) (off, n int64) {
	if p == nil {
		return 0, total
	}
	off = min(max(p.Offset, 0), total)
	return off, min(max(p.Size, 0), total-off)
}

// sendLiteral fills a literal of exactly n bytes from produce and closes it.
// The size was announced before the bytes (RFC 9051 §4.3), so if produce
// falls short or fails (a file that cannot be read to the end), the rest is
// padded with spaces: the client's parser stays in step with the
// connection, and the read error is returned for the command to end in NO.
// A write error is the connection's: returned as werr, it ends the session.
func sendLiteral(wc io.WriteCloser, n int64, produce func(io.Writer) error) (rerr, werr error) {
	lw := &literalWriter{w: wc, left: n}
	rerr = produce(lw)
	for lw.err == nil && lw.left > 0 {
		if rerr == nil {
			rerr = io.ErrUnexpectedEOF
		}
		lw.Write(spaces[:min(lw.left, int64(len(spaces)))])
	}
	if lw.err != nil {
		wc.Close()
		return nil, lw.err
	}
	return rerr, wc.Close()
}

var spaces = bytes.Repeat([]byte(" "), 4096)

// literalWriter writes at most left bytes to w, taking (and dropping) any
// more, and remembers a write error.
type literalWriter struct {
	w    io.Writer
	left int64
	err  error
}

func (l *literalWriter) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	q := p[:min(int64(len(p)), l.left)]
	if len(q) > 0 {
		if _, err := l.w.Write(q); err != nil {
			l.err = err
			return 0, err
		}
		l.left -= int64(len(q))
	}
	return len(p), nil
}

// counter counts the bytes written to it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	k := min(s.skip, int64(n))
	s.skip -= k
	if _, err := s.w.Write(p[k:]); err != nil {
		return 0, err
	}
	return n, nil
}

// fieldFilter is the field-name test of HEADER.FIELDS or HEADER.FIELDS.NOT.
func fieldFilter(sp span) func(string) bool {
	set := map[string]bool{}
	for _, k := range append(sp.fields, sp.notFields...) {
		set[strings.ToLower(k)] = true
	}
	not := sp.fields == nil
	return func(name string) bool { return set[strings.ToLower(name)] != not }
}

// filterHeader copies from the header in r the fields keep accepts, as they
// are written (folded lines included), then the blank line (RFC 9051
// §6.4.5 HEADER.FIELDS, HEADER.FIELDS.NOT). Malformed lines are left out,
// as parseHeader leaves them.
func filterHeader(r io.Reader, keep func(string) bool, w io.Writer) error {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); readers.Put(br) }()
	on, start, last := false, true, byte('\n')
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > 0 {
			if start && frag[0] != ' ' && frag[0] != '\t' {
				if string(frag) == "\r\n" || string(frag) == "\n" {
					break // the blank line
				}
				k, _, ok := bytes.Cut(frag, []byte(":"))
				k = bytes.TrimSpace(k)
				on = ok && validFieldName(k) && keep(string(k))
			}
			if on {
				if _, werr := w.Write(frag); werr != nil {
					return werr
				}
				last = frag[len(frag)-1]
			}
			start = frag[len(frag)-1] == '\n'
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		} else if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
	}
	end := "\r\n"
	if last != '\n' {
		end = "\r\n\r\n"
	}
	_, err := io.WriteString(w, end)
	return err
}
