package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pecspec/pecspec/pec"
)

// The grader's own XML reader for daticert.xml (RFC 6109 §4.3.3, §4.4): a
// tree of elements with what validity needs to know (text, white space,
// CDATA, comments), read as XML 1.0 says and never expanding an entity.

// node is an element of the parsed document.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	chars    []byte // character data, CDATA sections included (capped)
	text     bool   // holds character data other than literal white space
	space    bool   // holds literal white space
	cdata    bool   // holds a CDATA section (never allowed in element content)
	misc     bool   // holds a comment or processing instruction
}

// errXML is a well-formedness failure (DAT-01), as opposed to a validity one;
// errEntity a reference to an entity the document declares, which the
// grader never expands (it cannot read the document without doing so).
var (
	errXML    = errors.New("not well-formed")
	errEntity = errors.New("entity not expanded")
)

// xmlInfo is what the prolog said: the declared encoding, a byte order mark,
// a DOCTYPE (read past, never loaded or expanded).
type xmlInfo struct {
	encoding string // as declared; "" when not declared (UTF-8)
	bom      bool
	doctype  bool
}

// utf8 reports whether the document is in UTF-8, as RFC 6109 §4.3.3 requires.
func (i xmlInfo) utf8() bool {
	return i.encoding == "" || strings.EqualFold(i.encoding, "utf-8") || strings.EqualFold(i.encoding, "utf8")
}

const maxChars = 64 << 10 // character data kept per element

var (
	bom       = []byte{0xef, 0xbb, 0xbf}
	reEntDecl = regexp.MustCompile(`<!ENTITY\s+([^\s%]+)`)
	reEntRef  = regexp.MustCompile(`invalid character entity &([^;\s]+);`)
)

// parseXML reads a document into nodes as XML 1.0 says a non-validating
// processor does: a UTF-8 byte order mark and a DOCTYPE (SYSTEM identifier
// or internal subset) are legal and skipped, nothing external is loaded and
// no entity is ever expanded (XXE, billion laughs): a reference to a
// declared entity gives errEntity. A document declared ISO-8859-1 or
// US-ASCII is read (DAT-01 fails it for not being UTF-8); another encoding
// is not.
func parseXML(data []byte) (*node, xmlInfo, error) {
	var info xmlInfo
	if bytes.HasPrefix(data, bom) {
		data, info.bom = data[len(bom):], true
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		info.encoding = label
		switch strings.ToLower(label) {
		case "utf-8", "utf8":
			return in, nil
		case "iso-8859-1", "latin1", "iso_8859-1", "us-ascii", "ascii":
			return latin1Reader(in), nil
		}
		return nil, fmt.Errorf("encoding %q cannot be read", label)
	}
	if !utf8.Valid(data) && !declaresSingleByte(data) {
		return nil, info, fmt.Errorf("%w: not UTF-8 (and no other encoding declared)", errXML)
	}
	b := &treeBuilder{data: data}
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, info, b.syntaxError(err)
		}
		if err := b.add(tok, data[off:dec.InputOffset()], &info); err != nil {
			return nil, info, err
		}
	}
	if b.root == nil {
		return nil, info, fmt.Errorf("%w: no root element", errXML)
	}
	return b.root, info, nil
}

// declaresSingleByte reports whether the XML declaration names an encoding
// other than UTF-8 (the bytes are then checked by that encoding's reader).
func declaresSingleByte(data []byte) bool {
	head := data[:min(len(data), 200)]
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return false
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return false
	}
	decl := strings.ToLower(string(head[:end]))
	return strings.Contains(decl, "encoding") && !strings.Contains(decl, "utf-8") && !strings.Contains(decl, "utf8")
}

// latin1Reader converts ISO-8859-1 to UTF-8 (each byte is its code point).
func latin1Reader(in io.Reader) io.Reader {
	raw, err := io.ReadAll(io.LimitReader(in, pec.MaxDaticertSize+1))
	if err != nil {
		return in
	}
	var out bytes.Buffer
	for _, c := range raw {
		out.WriteRune(rune(c))
	}
	return &out
}

// treeBuilder assembles the nodes from the tokens, with what each token's
// raw bytes show and the decoder does not say (CDATA, character references).
type treeBuilder struct {
	data     []byte
	stack    []*node
	root     *node
	entities []string // declared in the DOCTYPE
}

func (b *treeBuilder) add(tok xml.Token, raw []byte, info *xmlInfo) error {
	switch t := tok.(type) {
	case xml.Directive:
		if !bytes.HasPrefix(t, []byte("DOCTYPE")) || info.doctype || b.root != nil {
			return fmt.Errorf("%w: declaration <!%.20s…> outside a DOCTYPE", errXML, t)
		}
		info.doctype = true
		for _, m := range reEntDecl.FindAllSubmatch(t, -1) {
			b.entities = append(b.entities, string(m[1]))
		}
	case xml.StartElement:
		return b.start(t)
	case xml.EndElement:
		b.stack = b.stack[:len(b.stack)-1]
	case xml.CharData:
		return b.chars(t, raw)
	case xml.Comment, xml.ProcInst:
		if len(b.stack) > 0 {
			b.stack[len(b.stack)-1].misc = true
		}
	}
	return nil
}

func (b *treeBuilder) start(t xml.StartElement) error {
	if len(b.stack) >= 64 {
		return fmt.Errorf("%w: nested deeper than 64", errXML)
	}
	n := &node{name: t.Name.Local, attrs: map[string]string{}}
	for _, a := range t.Attr {
		n.attrs[a.Name.Local] = a.Value
	}
	switch {
	case len(b.stack) > 0:
		parent := b.stack[len(b.stack)-1]
		parent.children = append(parent.children, n)
	case b.root != nil:
		return fmt.Errorf("%w: more than one root element", errXML)
	default:
		b.root = n
	}
	b.stack = append(b.stack, n)
	return nil
}

func (b *treeBuilder) chars(t xml.CharData, raw []byte) error {
	blank := len(bytes.TrimSpace(t)) == 0
	if len(b.stack) == 0 {
		if !blank {
			return fmt.Errorf("%w: text outside the root element", errXML)
		}
		return nil
	}
	n := b.stack[len(b.stack)-1]
	switch {
	case bytes.HasPrefix(raw, []byte("<![CDATA[")):
		n.cdata = true
	case !blank || bytes.Contains(raw, []byte("&")):
		n.text = true // a character reference to white space is not white space (XML 1.0 §3.2.1)
	default:
		n.space = true
	}
	if room := maxChars - len(n.chars); room > 0 {
		n.chars = append(n.chars, t[:min(len(t), room)]...)
	}
	return nil
}

// syntaxError tells a reference to a declared entity (never expanded) from
// a document that is not well-formed.
func (b *treeBuilder) syntaxError(err error) error {
	if m := reEntRef.FindStringSubmatch(err.Error()); m != nil && slices.Contains(b.entities, m[1]) {
		return fmt.Errorf("%w: &%s; is declared in the DOCTYPE; the grader expands no entity", errEntity, m[1])
	}
	return fmt.Errorf("%w: %v", errXML, err)
}
