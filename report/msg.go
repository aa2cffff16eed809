package report

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pecspec/pecspec/pec"
)

// Msg is one message as the grader sees it: the raw bytes, the MIME model
// read from them, the classification, and what the checks derive once
// (texts, the certification data, the signature, the chain).
type Msg struct {
	Raw  []byte
	M    *pec.Message
	Kind pec.Kind
	Opts Options

	why        string // why the kind is sconosciuto (GEN-12)
	notMessage bool   // not an RFC 5322 message at all: only GEN-12 is judged
	text, html string // decoded human-readable parts, UTF-8
	textFault  string // why the text part decoded only in part
	dc         *certData
	xml        *xmlResult
	sig        *sigInfo
	ch         *chainInfo
	orig       *pec.Entity // the embedded original, once read
	origRead   bool
}

func newMsg(raw []byte, opts Options) *Msg {
	raw = skipMboxLine(raw)
	x := &Msg{Raw: raw, M: pec.ParseParts(raw), Opts: opts}
	if x.M.Outer == nil {
		x.M.Outer = &pec.Entity{}
	}
	x.Kind, x.why, x.notMessage = classify(x)
	x.readTexts()
	if root, _, ok := x.daticertXML(); ok && root.name == "postacert" {
		x.dc = readCertData(root)
	}
	return x
}

// Classify tells what a message is, in the kind vocabulary (GEN-12), as
// Grade does.
func Classify(raw []byte) pec.Kind { return newMsg(raw, Options{}).Kind }

func (x *Msg) header(name string) string { return x.M.Header(name) }

// readTexts decodes the text part (and the HTML alternative) to UTF-8.
func (x *Msg) readTexts() {
	if x.M.Text == nil {
		return
	}
	if t, _ := x.M.Text.MediaType(); t == "text/plain" {
		x.text, x.textFault = decodeText(x.M.Text)
		return
	}
	parts, _ := x.M.Text.PartsLenient()
	for _, p := range parts {
		switch t, _ := p.MediaType(); t {
		case "text/plain":
			x.text, x.textFault = decodeText(p)
		case "text/html":
			x.html, _ = decodeText(p)
		}
	}
}

// decodeText removes the transfer encoding, leniently (what decodes before a
// fault is kept, the fault returned), and converts ISO-8859-1 to UTF-8.
func decodeText(e *pec.Entity) (string, string) {
	b, err := e.DecodedLenient()
	fault := ""
	if err != nil {
		fault = err.Error()
	}
	_, params := e.MediaType()
	cs := strings.ToLower(params["charset"])
	if cs == "utf-8" || cs == "us-ascii" || (cs == "" && utf8.Valid(b)) {
		return string(b), fault
	}
	var out strings.Builder
	out.Grow(len(b))
	for _, c := range b {
		out.WriteRune(rune(c))
	}
	return out.String(), fault
}

// subject is the decoded Subject.
func (x *Msg) subject() string {
	s := x.header("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// date is the Date header.
func (x *Msg) date() (time.Time, bool) {
	t, err := mail.ParseDate(x.header("Date"))
	return t, err == nil
}

// at is the instant certificates are judged at: the message's Date, else
// the CMS signing time, else now.
func (x *Msg) at() time.Time {
	if t, ok := x.date(); ok {
		return t
	}
	if s := x.signature(); !s.signingTime.IsZero() {
		return s.signingTime
	}
	return time.Now()
}

// skipMboxLine drops the "From " line an mbox export puts before a message.
func skipMboxLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if nl := bytes.IndexByte(raw, '\n'); nl >= 0 {
			return raw[nl+1:]
		}
	}
	return raw
}

// fromAddr is the addr-spec of From.
func (x *Msg) fromAddr() (string, string) {
	a, err := mail.ParseAddress(x.header("From"))
	if err != nil {
		return "", ""
	}
	return a.Address, a.Name
}

// addrs returns the addr-specs of a header of the given entity.
func addrs(e *pec.Entity, name string) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, v := range e.Header.Values(name) {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			continue
		}
		for _, a := range list {
			out = append(out, strings.ToLower(a.Address))
		}
	}
	return out
}

// original returns the embedded original message as an entity, read once;
// nil when there is none or it cannot be read.
func (x *Msg) original() *pec.Entity {
	if x.origRead {
		return x.orig
	}
	x.origRead = true
	if x.M.Original == nil {
		return nil
	}
	body, err := x.M.Original.Decoded()
	if err != nil {
		return nil
	}
	if e, err := pec.ReadEntity(body); err == nil {
		x.orig = e
	}
	return x.orig
}

// normID strips angle brackets and spaces (pec-rules A20).
func normID(s string) string { return strings.Trim(strings.TrimSpace(s), "<>") }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

func containsFold(haystack, needle string) bool {
	return needle != "" && strings.Contains(strings.ToLower(haystack), strings.ToLower(needle))
}

func isASCII(b []byte) bool { return !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x80 }) }
