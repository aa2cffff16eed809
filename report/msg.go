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

// Msg is one message as the grader sees it: the raw bytes, the PEC model read
// from them, and what the checks derive once (texts, dates, the signature).
type Msg struct {
	Raw  []byte
	M    *pec.Message
	Kind pec.Kind
	Opts Options

	text, html string // decoded human-readable parts, UTF-8
	sig        *sigInfo
	xml        *xmlResult
}

func newMsg(raw []byte, opts Options) *Msg {
	x := &Msg{Raw: raw, M: pec.Parse(raw), Opts: opts}
	if x.M.Outer == nil {
		x.M.Outer = &pec.Entity{}
	}
	x.Kind = x.M.Kind()
	x.readTexts()
	return x
}

// Classify tells what a message is, in the kind vocabulary (GEN-12).
func Classify(raw []byte) pec.Kind { return pec.Parse(raw).Kind() }

func (x *Msg) header(name string) string { return x.M.Header(name) }

// readTexts decodes the text part (and the HTML alternative) to UTF-8.
func (x *Msg) readTexts() {
	if x.M.Text == nil {
		return
	}
	if t, _ := x.M.Text.MediaType(); t == "text/plain" {
		x.text = decodeText(x.M.Text)
		return
	}
	parts, err := x.M.Text.Parts()
	if err != nil {
		return
	}
	for _, p := range parts {
		switch t, _ := p.MediaType(); t {
		case "text/plain":
			x.text = decodeText(p)
		case "text/html":
			x.html = decodeText(p)
		}
	}
}

// decodeText removes the transfer encoding and converts ISO-8859-1 to UTF-8.
func decodeText(e *pec.Entity) string {
	b, err := e.Decoded()
	if err != nil {
		return ""
	}
	_, params := e.MediaType()
	cs := strings.ToLower(params["charset"])
	if cs == "utf-8" || cs == "us-ascii" || (cs == "" && utf8.Valid(b)) {
		return string(b)
	}
	var out strings.Builder
	for _, c := range b {
		out.WriteRune(rune(c))
	}
	return out.String()
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

// at is the instant certificates are judged at: the message's Date, else now.
func (x *Msg) at() time.Time {
	if t, ok := x.date(); ok {
		return t
	}
	return time.Now()
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

// original returns the embedded original message as an entity.
func (x *Msg) original() *pec.Entity {
	if x.M.Original == nil {
		return nil
	}
	body, err := x.M.Original.Decoded()
	if err != nil {
		return nil
	}
	e, err := pec.ReadEntity(body)
	if err != nil {
		return nil
	}
	return e
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
