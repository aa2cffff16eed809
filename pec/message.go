package pec

import (
	"fmt"
	"strings"
)

// Message is a PEC message read into its model (RFC 6109 §2.1, §4.3): the
// outer header, the signed split when it is multipart/signed, and the
// standard parts of the signed multipart/mixed when they can be found. Fields
// are nil when the message does not have them; Problems says why.
type Message struct {
	Outer   *Entity
	Signed  *Signed // nil when not multipart/signed
	Content *Entity // the multipart/mixed read: the signed content, or the body itself when unsigned

	Mixed     []*Entity // parts of the signed multipart/mixed, in order
	Text      *Entity   // first part: text/plain or multipart/alternative
	Daticert  *Entity   // the application/xml part named daticert.xml (or certdata.xml)
	Original  *Entity   // the message/rfc822 part (postacert.eml, or the anomaly's original)
	Postacert *Postacert
	// Problems lists what could not be read, in order; the grader turns each
	// into a rule verdict, the reference into an anomaly. The faults below
	// are listed here too.
	Problems []string
	// SignedFault and MixedFault say why the multipart/signed and the signed
	// multipart/mixed are not well formed although their parts were read (a
	// missing close delimiter: the parts run to the end of the body, as a
	// mail reader reads them); "" when they are.
	SignedFault, MixedFault string
	// Wrapper is set when the multipart/signed was found as a part of a
	// top-level multipart/mixed, as a mailing list wraps a message to append
	// a footer: Wrapper is that top-level entity (Outer is it too, for the
	// header) and WrapperPart the index of the signed part in it.
	Wrapper     *Entity
	WrapperPart int
}

// Parse reads raw into the PEC model. It never fails on content: structural
// problems are recorded in Problems and the fields they prevent stay nil.
// It reads leniently, as a mail reader: an unterminated multipart gives the
// parts up to the end of the body (SignedFault, MixedFault), and a signed
// message inside a mailing-list wrapper is found (Wrapper).
func Parse(raw []byte) *Message { return parse(raw, true) }

// ParseParts is Parse without reading the certification data: Daticert is
// found, Postacert stays nil. It is for a reader that reads daticert.xml on
// its own terms (the grader) and need not pay for it twice.
func ParseParts(raw []byte) *Message { return parse(raw, false) }

func parse(raw []byte, daticert bool) *Message {
	m := &Message{}
	outer, err := ReadEntity(raw)
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
		return m
	}
	m.Outer = outer
	body := outer
	if t, _ := outer.MediaType(); t == "multipart/mixed" {
		body = m.unwrap(outer)
	}
	if t, _ := body.MediaType(); t == "multipart/signed" {
		if body = m.readSigned(body); body == nil {
			return m
		}
	}
	m.Content = body
	if t, _ := body.MediaType(); t != "multipart/mixed" {
		m.Problems = append(m.Problems, fmt.Sprintf("signed content is %s, not multipart/mixed", t))
		return m
	}
	parts, fault := m.split(body)
	if parts == nil {
		return m
	}
	m.Mixed, m.MixedFault = parts, fault
	m.pickParts(daticert)
	return m
}

// split reads the parts of a multipart leniently: nil, with the problem
// recorded, when none can be read; else the parts and the fault read past
// (also recorded), "" when there is none.
func (m *Message) split(e *Entity) ([]*Entity, string) {
	parts, err := e.PartsLenient()
	switch {
	case parts == nil:
		m.Problems = append(m.Problems, err.Error())
		return nil, ""
	case err != nil:
		t, _ := e.MediaType()
		fault := t + ": " + err.Error()
		m.Problems = append(m.Problems, fault)
		return parts, fault
	}
	return parts, ""
}

// readSigned splits a multipart/signed leniently and returns its content;
// nil when not even the content part can be read.
func (m *Message) readSigned(e *Entity) *Entity {
	_, params := e.MediaType()
	parts, fault := m.split(e)
	if parts == nil {
		return nil
	}
	m.SignedFault = fault
	if len(parts) != 2 {
		fault := fmt.Sprintf("%v: multipart/signed has %d parts, want 2", ErrMIME, len(parts))
		m.Problems = append(m.Problems, fault)
		if m.SignedFault == "" {
			m.SignedFault = fault
		}
		if len(parts) != 1 {
			return nil
		}
		return parts[0] // cut before the signature: the content is still there
	}
	m.Signed = &Signed{Content: parts[0], Signature: parts[1],
		Protocol: strings.ToLower(params["protocol"]), Micalg: strings.ToLower(params["micalg"])}
	return parts[0]
}

// unwrap returns the multipart/signed part of a top-level multipart/mixed
// that carries no certification data of its own (a mailing list's wrapper
// around a signed message), recording the wrapping; else outer itself.
func (m *Message) unwrap(outer *Entity) *Entity {
	parts, _ := outer.PartsLenient()
	signed := -1
	for i, p := range parts {
		t, _ := p.MediaType()
		if isDaticertPart(p, t) {
			return outer
		}
		if t == "multipart/signed" && signed < 0 {
			signed = i
		}
	}
	if signed < 0 {
		return outer
	}
	m.Wrapper, m.WrapperPart = outer, signed
	m.Problems = append(m.Problems, fmt.Sprintf("multipart/signed found as part %d of %d of a top-level multipart/mixed (a wrapper)", signed+1, len(parts)))
	return parts[signed]
}

func isDaticertPart(p *Entity, t string) bool {
	name := strings.ToLower(p.Filename())
	return (t == "application/xml" || t == "text/xml") && (name == DaticertName || name == CertdataName)
}

func (m *Message) pickParts(daticert bool) {
	for i, p := range m.Mixed {
		t, _ := p.MediaType()
		switch {
		case i == 0 && (t == "text/plain" || t == "multipart/alternative"):
			m.Text = p
		case m.Daticert == nil && isDaticertPart(p, t):
			m.Daticert = p
		case m.Original == nil && t == "message/rfc822":
			m.Original = p
		}
	}
	if m.Daticert == nil || !daticert {
		return
	}
	data, err := m.Daticert.Decoded()
	if err != nil {
		m.Problems = append(m.Problems, "daticert.xml: "+err.Error())
		return
	}
	pc, err := ParseDaticert(strings.NewReader(string(data)))
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
		return
	}
	m.Postacert = pc
}

// Header returns the value of the outer header field name (case-insensitive,
// GEN-13), or "" when absent.
func (m *Message) Header(name string) string {
	if m.Outer == nil {
		return ""
	}
	return strings.TrimSpace(m.Outer.Header.Get(name))
}

// Kind tells what the message is from its identifying headers (GEN-12):
// X-Trasporto posta-certificata → trasporto, errore → anomalia, an X-Ricevuta
// value → that value, neither → ordinaria; unknown or contradictory markers →
// sconosciuto. Header names are case-insensitive (RFC 5322 §1.2.2), values
// are compared exactly as RFC 6109 Appendix A gives them ("ACCETTAZIONE" is
// not "accettazione"); only the white space around a value is dropped.
func (m *Message) Kind() Kind {
	if m.Outer == nil {
		return KindOrdinaria
	}
	hasRic, hasTra := m.Outer.Header.Has(HeaderRicevuta), m.Outer.Header.Has(HeaderTrasporto)
	ric, tra := m.Header(HeaderRicevuta), m.Header(HeaderTrasporto)
	switch {
	case hasRic && hasTra:
		return KindSconosciuto
	case tra == string(TrasportoPostaCertificata):
		return KindTrasporto
	case tra == string(TrasportoErrore):
		return KindAnomalia
	case hasTra:
		return KindSconosciuto
	case hasRic:
		return KindOfRicevuta(Ricevuta(ric))
	}
	return KindOrdinaria
}

// PlainText returns the decoded text/plain of the human-readable part: the
// part itself, or the text/plain inside a multipart/alternative (RFC 6109
// §4.3.1). The bytes keep the part's charset.
func (m *Message) PlainText() ([]byte, error) {
	if m.Text == nil {
		return nil, fmt.Errorf("%w: no text part", ErrMIME)
	}
	t, _ := m.Text.MediaType()
	if t != "multipart/alternative" {
		return m.Text.Decoded()
	}
	parts, err := m.Text.Parts()
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if pt, _ := p.MediaType(); pt == "text/plain" {
			return p.Decoded()
		}
	}
	return nil, fmt.Errorf("%w: multipart/alternative without text/plain", ErrMIME)
}
