package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
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
		"tipo": {enum: []string{"accettazione", "non-accettazione", "presa-in-carico", "avvenuta-consegna",
			"posta-certificata", "errore-consegna", "preavviso-errore-consegna", "rilevazione-virus"}, required: true},
		"errore": {enum: []string{"nessuno", "no-dest", "no-dominio", "virus", "altro"}},
	}},
	"intestazione": {children: []particle{{"mittente", 1, 1}, {"destinatari", 1, -1}, {"risposte", 1, 1}, {"oggetto", 0, 1}}},
	"mittente":     {pcdata: true},
	"destinatari":  {pcdata: true, attrs: map[string]attrDecl{"tipo": {enum: []string{"certificato", "esterno"}}}},
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
	"ricevuta":          {attrs: map[string]attrDecl{"tipo": {enum: []string{"completa", "breve", "sintetica"}, required: true}}},
	"consegna":          {pcdata: true},
	"ricezione":         {pcdata: true},
	"errore-esteso":     {pcdata: true},
}

// node is an element of the parsed document.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     bool // holds non-whitespace character data
}

// errXML is a well-formedness failure (DAT-01), as opposed to a validity one.
var errXML = errors.New("not well-formed")

// parseXML reads a document into nodes, refusing DOCTYPE and entity
// declarations so no entity is ever expanded (XXE, billion laughs).
func parseXML(data []byte) (*node, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8", errXML)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not UTF-8", label)
	}
	var stack []*node
	var root *node
	for depth := 0; ; {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errXML, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fmt.Errorf("%w: DOCTYPE or declarations are not allowed", errXML)
		case xml.StartElement:
			if depth++; depth > 64 {
				return nil, fmt.Errorf("%w: nested deeper than 64", errXML)
			}
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else if root != nil {
				return nil, fmt.Errorf("%w: more than one root element", errXML)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			depth--
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && len(bytes.TrimSpace(t)) > 0 {
				stack[len(stack)-1].text = true
			} else if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", errXML)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errXML)
	}
	return root, nil
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
	for name, v := range n.attrs {
		a, ok := d.attrs[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("<%s> has undeclared attribute %s", n.name, name))
		} else if a.enum != nil && !slices.Contains(a.enum, v) {
			errs = append(errs, fmt.Sprintf("<%s %s=%q>: value not in %v", n.name, name, v, a.enum))
		}
	}
	for name, a := range d.attrs {
		if _, ok := n.attrs[name]; a.required && !ok {
			errs = append(errs, fmt.Sprintf("<%s> lacks required attribute %s", n.name, name))
		}
	}
	switch {
	case d.pcdata && len(n.children) > 0:
		errs = append(errs, fmt.Sprintf("<%s> holds elements; only text is allowed", n.name))
	case !d.pcdata && n.text:
		errs = append(errs, fmt.Sprintf("<%s> holds text; only elements are allowed", n.name))
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
