package load

import (
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// Kind is what an arrival is, for the histograms: the SMTP reply to the
// submission, each receipt of a delivered message, and every error notice
// together.
type Kind string

// The measured kinds.
const (
	// Submit is the SMTP reply to the end of DATA (RFC 5321 §4.1.1.4).
	Submit Kind = "submit"
	// Accettazione is the ricevuta di accettazione (RFC 6109 §3.1.4) in the
	// sender's mailbox.
	Accettazione Kind = Kind(pec.KindAccettazione)
	// PresaInCarico is the ricevuta di presa in carico (RFC 6109 §3.2.1) in
	// the target's service mailbox (its mailReceipt).
	PresaInCarico Kind = Kind(pec.KindPresaInCarico)
	// Consegna is the ricevuta di avvenuta consegna (RFC 6109 §3.3.2), one
	// per recipient, in the sender's mailbox.
	Consegna Kind = Kind(pec.KindAvvenutaConsegna)
	// Trasporto is the busta di trasporto (RFC 6109 §3.1.5) in a
	// recipient's mailbox.
	Trasporto Kind = Kind(pec.KindTrasporto)
	// Errore is every error notice: non-accettazione (§3.1.2), mancata
	// consegna (§3.3.3), the 12/24 h notices (§3.1.6), virus (§3.2.3) and
	// anomaly (§3.2.2) envelopes.
	Errore Kind = "errore"
)

// Kinds lists the measured kinds in report order.
var Kinds = []Kind{Submit, Accettazione, PresaInCarico, Consegna, Trasporto, Errore}

// kindAliases are the names SLA expressions may use.
var kindAliases = map[string]Kind{
	"submit": Submit, "smtp": Submit,
	"accettazione": Accettazione, "acceptance": Accettazione,
	"presa-in-carico": PresaInCarico, "presaincarico": PresaInCarico, "pic": PresaInCarico,
	"consegna": Consegna, "avvenuta-consegna": Consegna, "delivery": Consegna,
	"trasporto": Trasporto, "busta": Trasporto, "envelope": Trasporto,
	"errore": Errore, "errori": Errore,
}

// classify tells an arrival's kind from its X-Ricevuta / X-Trasporto fields
// (RFC 6109 Appendix A); detail is the wire value (for error counts); ok is
// false for ordinary mail.
func classify(ricevuta, trasporto string) (k Kind, detail string, ok bool) {
	r := strings.ToLower(strings.TrimSpace(ricevuta))
	t := strings.ToLower(strings.TrimSpace(trasporto))
	switch {
	case r == string(pec.RicevutaAccettazione):
		return Accettazione, r, true
	case r == string(pec.RicevutaPresaInCarico):
		return PresaInCarico, r, true
	case r == string(pec.RicevutaAvvenutaConsegna):
		return Consegna, r, true
	case r != "":
		return Errore, r, true
	case t == string(pec.TrasportoPostaCertificata):
		return Trasporto, t, true
	case t == string(pec.TrasportoErrore):
		return Errore, string(pec.KindAnomalia), true
	}
	return "", "", false
}
