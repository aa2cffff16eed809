package report

import (
	"fmt"
	"maps"
	"slices"
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
