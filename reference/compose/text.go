package compose

import (
	"fmt"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// Facts are the data items a human-readable text carries (RFC 6109 §3.x body
// models; pec-rules A23: grade the items, not the sentences). The same facts
// go into daticert.xml, so the text and the XML agree (DAT-19).
type Facts struct {
	Instant    time.Time
	Subject    string
	Sender     string
	Recipients []Recipient // the list forms (accettazione, trasporto, presa in carico, anomalia)
	Recipient  string      // the per-recipient forms (consegna, errore-consegna, ...)
	ID         string      // identificativo: the PEC msgid
	Error      string      // the error description of notices and anomalies
}

// Recipient is one To/Cc recipient and whether its domain is a PEC domain.
type Recipient struct {
	Address   string
	Certified bool
}

// Word is the recipient's type word in the accettazione text (RFC 6109 §3.1.4).
func (r Recipient) Word() string {
	if r.Certified {
		return pec.WordCertificata
	}
	return pec.WordOrdinaria
}

func (f Facts) when() string {
	g, o, z := pec.TextInstant(f.Instant)
	return fmt.Sprintf("Il giorno %s alle ore %s %s", g, o, z)
}

func (f Facts) list(words bool) string {
	var b strings.Builder
	for _, r := range f.Recipients {
		b.WriteString(r.Address)
		if words {
			fmt.Fprintf(&b, " (\"%s\")", r.Word())
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (f Facts) idLine() string { return "Identificativo messaggio: " + f.ID + "\n" }

// quoted puts a data item between double quotes as it is, unescaped: the text
// must carry the very subject and addresses the daticert holds (DAT-19,
// TRN-14, ANO-05), quotes and backslashes included.
func quoted(s string) string { return `"` + s + `"` }

// TextAccettazione is the body of the ricevuta di accettazione (RFC 6109 §3.1.4).
func TextAccettazione(f Facts) string {
	return "Ricevuta di accettazione\n\n" + f.when() + " il messaggio\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n" +
		"ed indirizzato a:\n" + f.list(true) +
		"è stato accettato dal sistema ed inoltrato.\n" + f.idLine()
}

// TextTrasporto is the body of the busta di trasporto (RFC 6109 §3.1.5).
func TextTrasporto(f Facts) string {
	return "Messaggio di posta certificata\n\n" + f.when() + " il messaggio\n" +
		quoted(f.Subject) + " è stato inviato da " + quoted(f.Sender) + "\n" +
		"indirizzato a:\n" + f.list(false) +
		"Il messaggio originale è incluso in allegato.\n" + f.idLine()
}

// TextPresaInCarico is the body of the ricevuta di presa in carico (RFC 6109 §3.2.1).
func TextPresaInCarico(f Facts) string {
	return "Ricevuta di presa in carico\n\n" + f.when() + " il messaggio\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n" +
		"ed indirizzato a:\n" + f.list(false) +
		"è stato accettato dal sistema.\n" + f.idLine()
}

// TextConsegna is the body of the ricevuta di avvenuta consegna (RFC 6109
// §3.3.2); kind names the receipt type in the title.
func TextConsegna(f Facts, tipo pec.TipoRicevuta) string {
	title := map[pec.TipoRicevuta]string{
		pec.TipoCompleta:  "Ricevuta di avvenuta consegna",
		pec.TipoBreve:     "Ricevuta breve di avvenuta consegna",
		pec.TipoSintetica: "Ricevuta sintetica di avvenuta consegna",
	}[tipo]
	return title + "\n\n" + f.when() + " il messaggio\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n" +
		"ed indirizzato a " + quoted(f.Recipient) + "\n" +
		"è stato posto nella casella di destinazione.\n" + f.idLine()
}

// TextErroreConsegna is the body of the avviso di mancata consegna (RFC 6109 §3.3.3).
func TextErroreConsegna(f Facts) string {
	return "Avviso di mancata consegna\n\n" + f.when() + " nel messaggio\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n" +
		"ed indirizzato a " + quoted(f.Recipient) + "\n" +
		"è stato rilevato il seguente errore: " + f.Error + "\n" +
		"Il messaggio è stato rifiutato dal sistema.\n" + f.idLine()
}

// TextAnomalia is the body of the busta di anomalia (RFC 6109 §3.2.2): no
// identificativo line, the error and the attached original.
func TextAnomalia(f Facts) string {
	return "Anomalia nel messaggio\n\n" + f.when() + " è stato ricevuto il messaggio\n" +
		quoted(f.Subject) + " proveniente da " + quoted(f.Sender) + "\n" +
		"ed indirizzato a:\n" + f.list(false) +
		"Tali dati non sono stati certificati per il seguente errore:\n" + f.Error + "\n" +
		"Il messaggio originale è incluso in allegato.\n"
}
