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
	Outer     *Entity
	Signed    *Signed   // nil when not multipart/signed
	Mixed     []*Entity // parts of the signed multipart/mixed, in order
	Text      *Entity   // first part: text/plain or multipart/alternative
	Daticert  *Entity   // the application/xml part named daticert.xml (or certdata.xml)
	Original  *Entity   // the message/rfc822 part (postacert.eml, or the anomaly's original)
	Postacert *Postacert
	// Problems lists what could not be read, in order; the grader turns each
	// into a rule verdict, the reference into an anomaly.
	Problems []string
}

// Parse reads raw into the PEC model. It never fails on content: structural
// problems are recorded in Problems and the fields they prevent stay nil.
func Parse(raw []byte) *Message {
	m := &Message{}
	outer, err := ReadEntity(raw)
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
		return m
	}
	m.Outer = outer
	body := outer
	if t, _ := outer.MediaType(); t == "multipart/signed" {
		s, err := SplitSigned(outer)
		if err != nil {
			m.Problems = append(m.Problems, err.Error())
			return m
		}
		m.Signed = s
		body = s.Content
	}
	if t, _ := body.MediaType(); t != "multipart/mixed" {
		m.Problems = append(m.Problems, fmt.Sprintf("signed content is %s, not multipart/mixed", t))
		return m
	}
	parts, err := body.Parts()
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
		return m
	}
	m.Mixed = parts
	m.pickParts()
	return m
}

func (m *Message) pickParts() {
	for i, p := range m.Mixed {
		t, _ := p.MediaType()
		name := strings.ToLower(p.Filename())
		switch {
		case i == 0 && (t == "text/plain" || t == "multipart/alternative"):
			m.Text = p
		case m.Daticert == nil && (t == "application/xml" || t == "text/xml") &&
			(name == DaticertName || name == CertdataName):
			m.Daticert = p
		case m.Original == nil && t == "message/rfc822":
			m.Original = p
		}
	}
	if m.Daticert == nil {
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
// sconosciuto.
func (m *Message) Kind() Kind {
	ric := strings.ToLower(m.Header(HeaderRicevuta))
	tra := strings.ToLower(m.Header(HeaderTrasporto))
	switch {
	case ric != "" && tra != "":
		return KindSconosciuto
	case tra == string(TrasportoPostaCertificata):
		return KindTrasporto
	case tra == string(TrasportoErrore):
		return KindAnomalia
	case tra != "":
		return KindSconosciuto
	case ric != "":
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
