package mailbox

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// lazyMsg reads one message file for SEARCH, at most once per need: the
// file is opened on the first criterion that needs it, the header parsed
// once, the body streamed per criterion. Nothing outlives close.
type lazyMsg struct {
	box *box
	uid imap.UID

	opened bool
	f      *os.File
	size   int64
	hdr    textproto.Header
	hdrLen int64 // bytes of the header, blank line included
	hdrOK  bool  // the header could be read
}

// open opens the file once and reads its header, leniently (parseHeader);
// false if the file is gone or unreadable.
func (l *lazyMsg) open() bool {
	if !l.opened {
		l.opened = true
		f, err := l.box.open(l.uid)
		if err != nil {
			return false
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return false
		}
		w := newWalker(f, st.Size())
		raw, end, _ := w.header()
		l.hdr, l.hdrLen, l.hdrOK = parseHeader(raw), end, w.err == nil
		w.done()
		l.f, l.size = f, st.Size()
	}
	return l.f != nil
}

func (l *lazyMsg) close() {
	if l.f != nil {
		l.f.Close()
	}
}

// header is the message's header (false if the file cannot be read or the
// header not parsed).
func (l *lazyMsg) header() (textproto.Header, bool) {
	if !l.open() || !l.hdrOK {
		return textproto.Header{}, false
	}
	return l.hdr, true
}

// headerHas reports whether a field key contains value (RFC 9051 §6.4.4
// HEADER; an empty value matches any message that has the field), raw or
// with its encoded words decoded (RFC 2047).
func (l *lazyMsg) headerHas(key, value string) bool {
	h, ok := l.header()
	if !ok {
		return false
	}
	vs := h.Values(key)
	if value == "" {
		return len(vs) > 0
	}
	for _, v := range vs {
		if containsFoldString(v, value) || containsFoldString(decodeWords(v), value) {
			return true
		}
	}
	return false
}

// headerTextHas reports whether any header field contains s (the header
// half of TEXT).
func (l *lazyMsg) headerTextHas(s string) bool {
	h, ok := l.header()
	if !ok {
		return false
	}
	for f := h.Fields(); f.Next(); {
		if line := f.Key() + ": " + f.Value(); containsFoldString(line, s) || containsFoldString(decodeWords(line), s) {
			return true
		}
	}
	return false
}

// errFound stops a MIME walk at the first match.
var errFound = errors.New("found")

// bodyHas reports whether the body contains s (RFC 9051 §6.4.4 BODY): each
// leaf part is searched with its transfer encoding (and UTF-8/ASCII charset)
// decoded, streamed from the file; a body go-message cannot walk is searched
// raw.
func (l *lazyMsg) bodyHas(s string) bool {
	h, ok := l.header()
	if !ok {
		return false
	}
	e, err := gomessage.New(gomessage.Header{Header: h}, l.body())
	if e == nil {
		found, _ := containsFold(l.body(), s)
		return found
	}
	err = e.Walk(func(_ []int, part *gomessage.Entity, err error) error {
		if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
			return nil
		}
		if mt, _, _ := part.Header.ContentType(); strings.HasPrefix(mt, "multipart/") {
			return nil // its parts follow
		}
		if found, _ := containsFold(part.Body, s); found {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true
	}
	if err != nil { // a broken multipart: fall back to the raw bytes
		found, _ := containsFold(l.body(), s)
		return found
	}
	return false
}

// body is a fresh reader of the message's body.
func (l *lazyMsg) body() io.Reader { return io.NewSectionReader(l.f, l.hdrLen, l.size-l.hdrLen) }

// decodeWords decodes RFC 2047 encoded words, or returns s as it is.
func decodeWords(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func containsFoldString(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// containsFold reports whether r contains needle, ignoring case (Unicode
// lower case), reading r in 32 KiB windows that overlap by enough bytes to
// catch a match across two windows.
func containsFold(r io.Reader, needle string) (bool, error) {
	n := []byte(strings.ToLower(needle))
	if len(n) == 0 {
		return true, nil
	}
	keep := 4*len(n) + utf8.UTFMax // a folded rune can be shorter than its original
	buf := make([]byte, 0, 32<<10+keep)
	for {
		k, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if bytes.Contains(bytes.ToLower(buf), n) {
			return true, nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		buf = buf[:copy(buf, buf[len(buf)-keep:])]
	}
}
