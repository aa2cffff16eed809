package report

import (
	"fmt"
	"strings"
	"time"
)

// certData is the certification data (daticert.xml, RFC 6109 §4.4) as the
// grader reads it from its own XML tree, with the element and attribute
// names of its own DTD table (dtd.go): never through pec.Postacert, whose
// names the reference also composes with. Text is trimmed; an optional
// element absent is nil.
type certData struct {
	Tipo        string
	Errore      string // as written; "" when the attribute is absent (DTD default nessuno)
	Mittente    string
	Destinatari []destinatario
	Risposte    string
	Oggetto     *string
	Gestore     string
	Zona        string
	Giorno      string
	Ora         string
	ID          string // identificativo
	Msgid       *string
	Ricevuta    *string // ricevuta/@tipo
	Consegna    *string
	Ricezione   []string
	Esteso      *string // errore-esteso
}

// destinatario is one destinatari element: the address and its tipo ("" when
// absent: certificato by the DTD default).
type destinatario struct {
	Tipo, Addr string
}

// readCertData reads the tree of a daticert.xml. Repeated elements that the
// DTD allows once are read from their first occurrence (DAT-02 fails them).
func readCertData(root *node) *certData {
	d := &certData{Tipo: root.attrs["tipo"], Errore: root.attrs["errore"]}
	if in := root.child("intestazione"); in != nil {
		d.Mittente = in.textOf("mittente")
		d.Risposte = in.textOf("risposte")
		d.Oggetto = in.optText("oggetto")
		for _, c := range in.children {
			if c.name == "destinatari" {
				d.Destinatari = append(d.Destinatari, destinatario{Tipo: c.attrs["tipo"], Addr: c.value()})
			}
		}
	}
	dati := root.child("dati")
	if dati == nil {
		return d
	}
	d.Gestore, d.ID = dati.textOf("gestore-emittente"), dati.textOf("identificativo")
	if data := dati.child("data"); data != nil {
		d.Zona, d.Giorno, d.Ora = strings.TrimSpace(data.attrs["zona"]), data.textOf("giorno"), data.textOf("ora")
	}
	d.Msgid, d.Consegna, d.Esteso = dati.optText("msgid"), dati.optText("consegna"), dati.optText("errore-esteso")
	if r := dati.child("ricevuta"); r != nil {
		t := r.attrs["tipo"]
		d.Ricevuta = &t
	}
	for _, c := range dati.children {
		if c.name == "ricezione" {
			d.Ricezione = append(d.Ricezione, c.value())
		}
	}
	return d
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *node) value() string { return strings.TrimSpace(string(n.chars)) }

func (n *node) textOf(name string) string {
	if c := n.child(name); c != nil {
		return c.value()
	}
	return ""
}

func (n *node) optText(name string) *string {
	if c := n.child(name); c != nil {
		v := c.value()
		return &v
	}
	return nil
}

// errore is postacert/@errore with the DTD default applied.
func (d *certData) errore() string {
	if d.Errore == "" {
		return eNessuno
	}
	return d.Errore
}

// ricevuta is ricevuta/@tipo, "" when the element is absent.
func (d *certData) ricevuta() string {
	if d.Ricevuta == nil {
		return ""
	}
	return *d.Ricevuta
}

// instant is the time data/giorno, ora and zona give (RFC 6109 §4.2, §4.4).
func (d *certData) instant() (time.Time, error) {
	t, err := time.Parse("02/01/2006 15:04:05 -0700", d.Giorno+" "+d.Ora+" "+d.Zona)
	if err != nil {
		return t, fmt.Errorf("giorno %q ora %q zona %q: %v", d.Giorno, d.Ora, d.Zona, err)
	}
	return t, nil
}

// addrs are the destinatari addresses, lowercased.
func (d *certData) addrs() []string {
	out := make([]string, 0, len(d.Destinatari))
	for _, r := range d.Destinatari {
		out = append(out, strings.ToLower(r.Addr))
	}
	return out
}

// lists tells whether addr is among the destinatari (case-insensitive).
func (d *certData) lists(addr string) bool {
	for _, r := range d.Destinatari {
		if strings.EqualFold(r.Addr, strings.TrimSpace(addr)) {
			return true
		}
	}
	return false
}
