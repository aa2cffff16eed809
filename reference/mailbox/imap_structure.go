package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"mime"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// entity reads one entity from the current line: its header, then its body
// by type (a multipart's parts, a message/rfc822's message, or lines up to
// the next enclosing delimiter). isMsg marks a message (the root or one a
// message/rfc822 holds), whose envelope is kept.
func (w *walker) entity(start int64, defType string, depth int, isMsg bool) *mimePart {
	w.parts++
	p := &mimePart{hdr: start}
	raw, body, cut := w.header()
	p.body = body
	h := parseHeader(raw)
	p.fields(h, defType)
	if isMsg {
		p.env = imapserver.ExtractEnvelope(h)
	}
	if cut {
		p.end = p.body
		return p
	}
	nlStart := w.nls
	deep := depth >= maxDepth || w.parts >= maxParts
	switch {
	case p.typ == "multipart" && p.params["boundary"] != "" && !deep:
		p.multi = true
		w.multipart(p, depth)
	case p.typ == "message" && (p.sub == "rfc822" || p.sub == "global") && !deep:
		p.msg = w.entity(p.body, "text/plain", depth+1, true)
	default:
		w.leaf()
	}
	w.close(p, nlStart)
	for _, c := range p.children {
		c.clamp(p.end)
	}
	if p.msg != nil {
		p.msg.clamp(p.end)
	}
	return p
}

// clamp ends q and its parts at end at the latest. A part read to its end
// can have taken the line break that, by RFC 2046 §5.1.1, belongs to the
// delimiter ending the part that holds it (an empty part right before it).
func (q *mimePart) clamp(end int64) {
	q.hdr, q.body, q.end = min(q.hdr, end), min(q.body, end), min(q.end, end)
	for _, c := range q.children {
		c.clamp(end)
	}
	if q.msg != nil {
		q.msg.clamp(end)
	}
}

// multipart reads the parts of p (RFC 2046 §5.1.1): preamble and epilogue
// are skipped, each delimiter starts a part, the close delimiter or a
// delimiter of an enclosing multipart (left unread) ends them.
func (w *walker) multipart(p *mimePart, depth int) {
	w.bounds = append(w.bounds, p.params["boundary"])
	own := len(w.bounds) - 1
	defer func() { w.bounds = w.bounds[:own] }()
	childType := "text/plain"
	if p.sub == "digest" {
		childType = "message/rfc822" // RFC 2046 §5.1.5
	}
	closed := false
	for {
		L := w.next(false)
		if L.eof {
			return
		}
		i, isClose := w.delim(L)
		switch {
		case i < 0 || closed:
			if i >= 0 && i < own {
				w.unread(L)
				return
			}
		case i < own:
			w.unread(L)
			return
		case isClose || w.parts >= maxParts:
			closed = true
		default:
			p.children = append(p.children, w.entity(L.off+L.n, childType, depth+1, false))
		}
	}
}

// leaf skips a body up to the next enclosing delimiter (left unread).
func (w *walker) leaf() {
	for {
		L := w.next(false)
		if L.eof {
			return
		}
		if i, _ := w.delim(L); i >= 0 {
			w.unread(L)
			return
		}
	}
}

// close sets p's end and line count: the body ends at the end of the file,
// or before the line break that precedes the delimiter left unread (RFC
// 2046 §5.1.1: that line break belongs to the delimiter).
func (w *walker) close(p *mimePart, nlStart int64) {
	if !w.hasPen {
		p.end, p.lines = w.off, w.nls-nlStart
		return
	}
	L := w.pend
	end, nls := L.off-int64(L.prevNL), L.nlsBefore
	if end < p.body {
		end, nls = p.body, nlStart
	} else if L.prevNL > 0 {
		nls--
	}
	p.end, p.lines = end, nls-nlStart
}

// fields takes from h what BODYSTRUCTURE reports. A missing or unparsable
// Content-Type is defType or text/plain; charset=us-ascii (RFC 2045 §5.2).
func (p *mimePart) fields(h textproto.Header, defType string) {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) || !strings.Contains(mt, "/") {
		mt, params = defType, nil
		if h.Get("Content-Type") != "" {
			mt = "text/plain"
		}
		if mt == "text/plain" {
			params = map[string]string{"charset": "us-ascii"}
		}
	}
	for k, v := range params {
		params[k] = decodeWords(v)
	}
	p.typ, p.sub, _ = strings.Cut(mt, "/")
	p.params = params
	p.id, p.desc = h.Get("Content-Id"), h.Get("Content-Description")
	p.cte = strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if d, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil || errors.Is(err, mime.ErrInvalidMediaParameter) {
		p.disp = &imap.BodyStructureDisposition{Value: d, Params: dp}
	}
	if v := h.Get("Content-Language"); v != "" {
		for _, l := range strings.Split(v, ",") {
			p.lang = append(p.lang, strings.TrimSpace(l))
		}
	}
	p.loc = h.Get("Content-Location")
}

// structure is p's BODYSTRUCTURE (RFC 9051 §7.5.2), extended data included.
func (p *mimePart) structure() imap.BodyStructure {
	if p.multi {
		mp := &imap.BodyStructureMultiPart{Subtype: p.sub, Extended: &imap.BodyStructureMultiPartExt{
			Params: p.params, Disposition: p.disp, Language: p.lang, Location: p.loc}}
		for _, c := range p.children {
			mp.Children = append(mp.Children, c.structure())
		}
		return writable(mp)
	}
	sp := &imap.BodyStructureSinglePart{Type: p.typ, Subtype: p.sub, Params: p.params, ID: p.id,
		Description: p.desc, Encoding: p.cte, Size: uint32(min(p.end-p.body, 1<<32-1)),
		Extended: &imap.BodyStructureSinglePartExt{Disposition: p.disp, Language: p.lang, Location: p.loc}}
	if p.msg != nil {
		sp.MessageRFC822 = &imap.BodyStructureMessageRFC822{Envelope: p.msg.env, BodyStructure: p.msg.structure(),
			NumLines: p.lines}
	}
	if p.typ == "text" {
		sp.Text = &imap.BodyStructureText{NumLines: p.lines}
	}
	return sp
}

// writable makes a body structure go-imap can write: a multipart without
// parts (a malformed message) would make it panic, so it is given one empty
// text/plain part.
func writable(mp *imap.BodyStructureMultiPart) imap.BodyStructure {
	if len(mp.Children) == 0 {
		mp.Children = []imap.BodyStructure{&imap.BodyStructureSinglePart{Type: "text", Subtype: "plain",
			Text: &imap.BodyStructureText{}, Extended: &imap.BodyStructureSinglePartExt{}}}
	}
	return mp
}

// parseHeader parses a header leniently (RFC 5322 §2.2): a line without a
// colon or with a malformed field name, and a continuation line with no
// field to continue, are left out instead of ending the header there.
func parseHeader(raw []byte) textproto.Header {
	var clean bytes.Buffer
	keep := false
	for len(raw) > 0 {
		ln, rest, _ := bytes.Cut(raw, []byte("\n"))
		raw = rest
		ln = bytes.TrimRight(ln, "\r")
		if len(ln) > 0 && (ln[0] == ' ' || ln[0] == '\t') {
			if keep {
				clean.Write(ln)
				clean.WriteString("\r\n")
			}
			continue
		}
		k, _, ok := bytes.Cut(ln, []byte(":"))
		keep = ok && validFieldName(bytes.TrimSpace(k))
		if keep {
			clean.Write(ln)
			clean.WriteString("\r\n")
		}
	}
	clean.WriteString("\r\n")
	h, _ := textproto.ReadHeader(bufio.NewReader(&clean))
	return h
}

// validFieldName: printable US-ASCII but colon (RFC 5322 §2.2).
func validFieldName(k []byte) bool {
	for _, c := range k {
		if c < 33 || c > 126 {
			return false
		}
	}
	return len(k) > 0
}
