package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// The MIME walk (RFC 2045, RFC 2046 §5.1) reads a message file once, line
// by line through a fixed buffer, and records where each entity's header
// and body are (byte offsets) with the few fields BODYSTRUCTURE reports
// (RFC 9051 §7.5.2). FETCH then streams any section from those offsets and
// no part is ever held in memory: the walk allocates its buffer, the parsed
// headers (at most maxHeader bytes each) and the tree.
const (
	maxHeader = 256 << 10 // bytes of one header parsed; the rest is skipped, not failed
	maxParts  = 5000      // entities per message; past it, parts are read as plain body
	maxDepth  = 50        // nesting of multiparts and message/rfc822
)

// mimePart is one entity of a message: [hdr, body) is its header (blank line
// included), [body, end) its body.
type mimePart struct {
	hdr, body, end int64
	lines          int64 // newlines in the body
	typ, sub       string
	params         map[string]string
	id, desc, cte  string
	disp           *imap.BodyStructureDisposition
	lang           []string
	loc            string
	multi          bool           // a multipart with a boundary: children follow
	children       []*mimePart    // of a multipart
	msg            *mimePart      // the message a message/rfc822 (or /global) body holds
	env            *imap.Envelope // of a message: the root, or msg
}

// line is one line of the file: where it starts, its length, the length of
// its line break (0 for a last line without one) and the first bytes.
type line struct {
	off, n    int64
	nl        int
	prevNL    int   // line break length of the line before it
	nlsBefore int64 // newlines before it
	head      []byte
	eof       bool
}

// walker reads lines of one file.
type walker struct {
	br     *bufio.Reader
	off    int64
	nls    int64
	lastNL int
	err    error // a read error other than the end of the file
	head   [128]byte
	hdr    []byte
	bounds []string // boundaries of the enclosing multiparts, innermost last
	pend   line     // a delimiter line read and not yet consumed
	hasPen bool
	parts  int
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func newWalker(r io.ReaderAt, size int64) *walker {
	br := readers.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(r, 0, size))
	return &walker{br: br}
}

func (w *walker) done() {
	w.br.Reset(nil)
	readers.Put(w.br)
}

// walkMIME reads the structure of the message in r.
func walkMIME(r io.ReaderAt, size int64) (*mimePart, error) {
	w := newWalker(r, size)
	defer w.done()
	p := w.entity(0, "text/plain", 0, true)
	return p, w.err
}

// next returns the next line (the pending delimiter first); collect appends
// its bytes to the header being read.
func (w *walker) next(collect bool) line {
	if w.hasPen {
		w.hasPen = false
		return w.pend
	}
	L := line{off: w.off, prevNL: w.lastNL, nlsBefore: w.nls}
	hn := 0
	var last2 [2]byte
	for {
		frag, err := w.br.ReadSlice('\n')
		hn += copy(w.head[hn:], frag)
		if collect && len(w.hdr) < maxHeader {
			w.hdr = append(w.hdr, frag[:min(len(frag), maxHeader-len(w.hdr))]...)
		}
		if k := len(frag); k >= 2 {
			last2 = [2]byte{frag[k-2], frag[k-1]}
		} else if k == 1 {
			last2 = [2]byte{last2[1], frag[0]}
		}
		L.n += int64(len(frag))
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) && w.err == nil {
			w.err = err
		}
		if err != nil && L.n == 0 {
			L.eof = true
			return L
		}
		break
	}
	switch {
	case last2 == [2]byte{'\r', '\n'}:
		L.nl = 2
	case last2[1] == '\n':
		L.nl = 1
	}
	if L.nl > 0 {
		w.nls++
	}
	L.head = w.head[:hn]
	w.off += L.n
	w.lastNL = L.nl
	return L
}

// unread makes L, a delimiter line, the next line again.
func (w *walker) unread(L line) { w.pend, w.hasPen = L, true }

// delim reports which enclosing boundary L delimits (its index in bounds,
// -1 for none) and whether it closes it (RFC 2046 §5.1.1: "--" boundary,
// "--" boundary "--", then optional white space).
func (w *walker) delim(L line) (int, bool) {
	if len(w.bounds) == 0 || L.eof || L.n > int64(len(w.head)) || !bytes.HasPrefix(L.head, []byte("--")) {
		return -1, false
	}
	s := bytes.TrimRight(L.head[2:], " \t\r\n")
	for i := len(w.bounds) - 1; i >= 0; i-- {
		b := w.bounds[i]
		if string(s) == b {
			return i, false
		}
		if len(s) == len(b)+2 && string(s[:len(b)]) == b && string(s[len(b):]) == "--" {
			return i, true
		}
	}
	return -1, false
}

// header reads an entity's header up to and including the blank line. It
// stops early at a delimiter (left unread) or at the end of the file: the
// header is then all there is and the body empty.
func (w *walker) header() (raw []byte, body int64, cut bool) {
	w.hdr = w.hdr[:0]
	for {
		mark := len(w.hdr)
		L := w.next(true)
		if L.eof {
			return w.hdr, w.off, false
		}
		if i, _ := w.delim(L); i >= 0 {
			w.hdr = w.hdr[:mark]
			w.unread(L)
			return w.hdr, L.off, true
		}
		if L.n == int64(L.nl) { // the blank line
			w.hdr = w.hdr[:mark]
			return w.hdr, L.off + L.n, false
		}
	}
}
