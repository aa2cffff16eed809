package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pecspec/pecspec/pec"
)

// The daticert DTD of RFC 6109 §4.4 (pec-rules §3.1) as data: content models
// are sequences of distinct names with a cardinality each, which a greedy
// match decides exactly. validateDaticert is tested against xmllint --dtdvalid.
type particle struct {
	name     string
	min, max int // max -1 = unbounded
}

type elemDecl struct {
	children []particle // nil with pcdata=false means EMPTY
	pcdata   bool
	attrs    map[string]attrDecl
}

type attrDecl struct {
	enum     []string // nil = CDATA
	required bool
}

var daticertDTD = map[string]elemDecl{
	"postacert": {children: []particle{{"intestazione", 1, 1}, {"dati", 1, 1}}, attrs: map[string]attrDecl{
		"tipo": {enum: []string{vAccettazione, vNonAccettazione, vPresaInCarico, vAvvenutaConsegna,
			vPostaCertificata, vErroreConsegna, vPreavviso, vRilevazioneVirus}, required: true},
		"errore": {enum: []string{eNessuno, eNoDest, eNoDominio, eVirus, eAltro}},
	}},
	"intestazione": {children: []particle{{"mittente", 1, 1}, {"destinatari", 1, -1}, {"risposte", 1, 1}, {"oggetto", 0, 1}}},
	"mittente":     {pcdata: true},
	"destinatari":  {pcdata: true, attrs: map[string]attrDecl{"tipo": {enum: []string{dCertificato, dEsterno}}}},
	"risposte":     {pcdata: true},
	"oggetto":      {pcdata: true},
	"dati": {children: []particle{{"gestore-emittente", 1, 1}, {"data", 1, 1}, {"identificativo", 1, 1},
		{"msgid", 0, 1}, {"ricevuta", 0, 1}, {"consegna", 0, 1}, {"ricezione", 0, -1}, {"errore-esteso", 0, 1}}},
	"gestore-emittente": {pcdata: true},
	"data":              {children: []particle{{"giorno", 1, 1}, {"ora", 1, 1}}, attrs: map[string]attrDecl{"zona": {required: true}}},
	"giorno":            {pcdata: true},
	"ora":               {pcdata: true},
	"identificativo":    {pcdata: true},
	"msgid":             {pcdata: true},
	"ricevuta":          {attrs: map[string]attrDecl{"tipo": {enum: []string{rCompleta, rBreve, rSintetica}, required: true}}},
	"consegna":          {pcdata: true},
	"ricezione":         {pcdata: true},
	"errore-esteso":     {pcdata: true},
}

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

// validateDaticert returns every DTD violation of the document (DAT-02).
func validateDaticert(root *node) []string {
	var errs []string
	if root.name != "postacert" {
		errs = append(errs, fmt.Sprintf("root element is <%s>, not <postacert>", root.name))
	}
	var walk func(n *node)
	walk = func(n *node) {
		errs = append(errs, validateNode(n)...)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	return errs
}

func validateNode(n *node) []string {
	d, ok := daticertDTD[n.name]
	if !ok {
		return []string{fmt.Sprintf("element <%s> is not declared", n.name)}
	}
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(n.attrs)) {
		a, ok := d.attrs[name]
		if v := n.attrs[name]; !ok {
			errs = append(errs, fmt.Sprintf("<%s> has undeclared attribute %s", n.name, name))
		} else if a.enum != nil && !slices.Contains(a.enum, v) {
			errs = append(errs, fmt.Sprintf("<%s %s=%q>: value not in %v", n.name, name, v, a.enum))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.attrs)) {
		if _, ok := n.attrs[name]; d.attrs[name].required && !ok {
			errs = append(errs, fmt.Sprintf("<%s> lacks required attribute %s", n.name, name))
		}
	}
	switch {
	case d.pcdata && len(n.children) > 0:
		errs = append(errs, fmt.Sprintf("<%s> holds elements; only text is allowed", n.name))
	case !d.pcdata && d.children == nil && (len(n.children) > 0 || n.text || n.space || n.cdata || n.misc):
		errs = append(errs, fmt.Sprintf("<%s> is declared EMPTY and has content", n.name))
	case !d.pcdata && (n.text || n.cdata):
		errs = append(errs, fmt.Sprintf("<%s> holds text or CDATA; only elements are allowed", n.name))
	case !d.pcdata:
		if msg := matchSequence(d.children, n.children); msg != "" {
			errs = append(errs, fmt.Sprintf("<%s>: %s", n.name, msg))
		}
	}
	return errs
}

// matchSequence matches children against a sequence of distinct particles.
func matchSequence(model []particle, children []*node) string {
	i := 0
	for _, p := range model {
		n := 0
		for i < len(children) && children[i].name == p.name && (p.max < 0 || n < p.max) {
			i++
			n++
		}
		if n < p.min {
			got := "end of content"
			if i < len(children) {
				got = "<" + children[i].name + ">"
			}
			return fmt.Sprintf("expected <%s>, found %s", p.name, got)
		}
	}
	if i < len(children) {
		if len(model) == 0 {
			return fmt.Sprintf("must be empty, found <%s>", children[i].name)
		}
		return fmt.Sprintf("unexpected <%s> at position %d", children[i].name, i+1)
	}
	return ""
}
