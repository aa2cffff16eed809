package antivirus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// Structure limits: the MIME nesting a message may have for the virus scan to
// vouch for it (issue 15). A scanner stops descending at some depth (clamd's
// MaxRecursion) and what lies below is not scanned, so the reference refuses
// deeper messages itself, whatever the scanner's configuration. Depth counts
// every multipart body and every attached message (message/rfc822, /global)
// entered on the way down; the top-level message is at depth 0.
const (
	// MaxDepthSubmission is the access point's limit on an original.
	MaxDepthSubmission = 32
	// MaxDepthReception is the reception point's limit on a received
	// message: an envelope wraps its original in up to 3 levels
	// (multipart/signed, multipart/mixed, message/rfc822); 8 leave room for
	// other providers' layouts.
	MaxDepthReception = MaxDepthSubmission + 8
)

// Structure errors.
var (
	// ErrTooDeep: the MIME nesting exceeds the limit.
	ErrTooDeep = errors.New("antivirus: MIME nesting too deep to be scanned")
	// ErrPartial: a message/partial fragment (RFC 2046 §5.2.2) cannot be
	// scanned: the content is whole only once a client reassembles it.
	ErrPartial = errors.New("antivirus: message/partial fragments cannot be scanned")
)

// maxHeaderBytes bounds what is read of one header block for its
// Content-Type; a longer block is read on without being kept.
const maxHeaderBytes = 1 << 20

// CheckStructure reads one message from r as a stream (memory bounded by one
// header block, whatever its size) and returns ErrTooDeep when its nesting
// exceeds maxDepth or ErrPartial for a message/partial fragment; nil
// otherwise, or r's read error. Malformed MIME is read leniently, as mail
// clients do: an unterminated multipart ends with the message.
func CheckStructure(r io.Reader, maxDepth int) error {
	w := walker{r: bufio.NewReaderSize(r, 32<<10), max: maxDepth}
	return w.run()
}

// walker follows the MIME tree line by line: a stack of the open multiparts'
// boundaries, each with the depth of its parts.
type walker struct {
	r     *bufio.Reader
	max   int
	stack []frame
	deep  int // depth of the entity whose header is read next
}

type frame struct {
	boundary string
	depth    int // depth of this multipart's parts
}

func (w *walker) run() error {
	for {
		ct, err := w.header()
		if err != nil {
			return err
		}
		if next, err := w.enter(ct); err != nil || next {
			if err != nil {
				return err
			}
			continue // an attached message: its header follows at once
		}
		more, err := w.body()
		if err != nil || !more {
			return err
		}
	}
}

// enter applies the Content-Type of the entity at depth w.deep: a multipart
// opens a frame, an attached message makes the next header one level deeper
// (next is true).
func (w *walker) enter(ct string) (next bool, err error) {
	media, params, err := mime.ParseMediaType(ct)
	if err != nil && media != "" {
		params = map[string]string{"boundary": lenientBoundary(ct)}
	}
	switch {
	case media == "message/partial":
		return false, ErrPartial
	case media == "message/rfc822" || media == "message/global":
		return true, w.descend()
	case strings.HasPrefix(media, "multipart/") && params["boundary"] != "":
		if err := w.descend(); err != nil {
			return false, err
		}
		w.stack = append(w.stack, frame{boundary: params["boundary"], depth: w.deep})
	}
	return false, nil
}

func (w *walker) descend() error {
	w.deep++
	if w.deep > w.max {
		return fmt.Errorf("%w: more than %d levels", ErrTooDeep, w.max)
	}
	return nil
}

// lenientBoundary reads the boundary parameter of a Content-Type that
// mime.ParseMediaType refuses, as lenient mail clients would.
func lenientBoundary(ct string) string {
	// ASCII-only lowering keeps byte offsets: strings.ToLower does not
	// (invalid UTF-8 becomes a three-byte U+FFFD).
	i := strings.Index(asciiLower(ct), "boundary=")
	if i < 0 {
		return ""
	}
	v := ct[i+len("boundary="):]
	if strings.HasPrefix(v, `"`) {
		v, _, _ = strings.Cut(v[1:], `"`)
		return v
	}
	v, _, _ = strings.Cut(v, ";")
	return strings.TrimSpace(v)
}

// asciiLower lowers A–Z only, so the result has the same length as s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// header reads one header block and returns its first Content-Type value
// (the one go-message, and so the reference's own parser, takes).
func (w *walker) header() (string, error) {
	var ct []byte
	seen, inCT, size := false, false, 0
	for {
		line, err := w.line()
		if len(line) == 0 || err != nil {
			return string(ct), ignoreEOF(err)
		}
		size += len(line)
		switch {
		case size > maxHeaderBytes:
		case line[0] == ' ' || line[0] == '\t':
			if inCT {
				ct = append(ct, line...)
			}
		default:
			name, value, _ := bytes.Cut(line, []byte(":"))
			inCT = !seen && bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Type"))
			if inCT {
				ct, seen = append(ct, value...), true
			}
		}
	}
}

// body reads up to the next boundary of an open multipart and positions the
// walker at the header of the part that follows (more is true), or reads to
// the end of the message (more is false).
func (w *walker) body() (more bool, err error) {
	for {
		line, err := w.line()
		if err != nil {
			return false, ignoreEOF(err)
		}
		if len(w.stack) == 0 || !bytes.HasPrefix(line, []byte("--")) {
			continue
		}
		for i := len(w.stack) - 1; i >= 0; i-- {
			rest, ok := bytes.CutPrefix(line[2:], []byte(w.stack[i].boundary))
			rest = bytes.TrimRight(rest, " \t")
			if ok && len(rest) == 0 { // a part of frame i begins; inner ones end
				w.stack, w.deep = w.stack[:i+1], w.stack[i].depth
				return true, nil
			}
			if ok && string(rest) == "--" { // frame i closes, and the inner ones
				w.stack = w.stack[:i]
				break
			}
		}
	}
}

// line reads one line without its line break. A line longer than the buffer
// is skipped whole and stands as "x": it is text, never a boundary (at most
// 70 characters, RFC 2046 §5.1.1) nor a Content-Type worth reading.
func (w *walker) line() ([]byte, error) {
	line, err := w.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return bytes.TrimRight(line, "\r\n"), err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = w.r.ReadSlice('\n')
	}
	return []byte("x"), err
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
