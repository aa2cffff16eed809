package pec

// Kind is the wire vocabulary for what a message is: the X-Ricevuta value for
// receipts and notices, "trasporto" for X-Trasporto: posta-certificata, "anomalia"
// for X-Trasporto: errore, "ordinaria" for ordinary mail and "sconosciuto" when it
// cannot be told. Reports and evidence file names use these values.
type Kind string

// Kinds of messages (RFC 6109 Appendix A; pecspec summary.json contract).
const (
	KindAccettazione            Kind = "accettazione"
	KindNonAccettazione         Kind = "non-accettazione"
	KindPresaInCarico           Kind = "presa-in-carico"
	KindAvvenutaConsegna        Kind = "avvenuta-consegna"
	KindErroreConsegna          Kind = "errore-consegna"
	KindPreavvisoErroreConsegna Kind = "preavviso-errore-consegna"
	KindRilevazioneVirus        Kind = "rilevazione-virus"
	KindTrasporto               Kind = "trasporto"
	KindAnomalia                Kind = "anomalia"
	KindOrdinaria               Kind = "ordinaria"
	KindSconosciuto             Kind = "sconosciuto"
)

// Ricevuta is a value of the X-Ricevuta header (RFC 6109 Appendix A).
type Ricevuta string

// X-Ricevuta values (RFC 6109 Appendix A).
const (
	RicevutaAccettazione            Ricevuta = "accettazione"
	RicevutaNonAccettazione         Ricevuta = "non-accettazione"
	RicevutaPresaInCarico           Ricevuta = "presa-in-carico"
	RicevutaAvvenutaConsegna        Ricevuta = "avvenuta-consegna"
	RicevutaErroreConsegna          Ricevuta = "errore-consegna"
	RicevutaPreavvisoErroreConsegna Ricevuta = "preavviso-errore-consegna"
	RicevutaRilevazioneVirus        Ricevuta = "rilevazione-virus"
)

// Ricevute lists every legal X-Ricevuta value (RFC 6109 Appendix A).
var Ricevute = []Ricevuta{
	RicevutaNonAccettazione, RicevutaAccettazione, RicevutaPreavvisoErroreConsegna,
	RicevutaPresaInCarico, RicevutaRilevazioneVirus, RicevutaErroreConsegna,
	RicevutaAvvenutaConsegna,
}

// Trasporto is a value of the X-Trasporto header (RFC 6109 Appendix A).
type Trasporto string

// X-Trasporto values (RFC 6109 Appendix A, §3.1.5, §3.2.2).
const (
	TrasportoPostaCertificata Trasporto = "posta-certificata"
	TrasportoErrore           Trasporto = "errore"
)

// TipoRicevuta is a value of X-TipoRicevuta and of daticert ricevuta/@tipo
// (RFC 6109 §3.3.2).
type TipoRicevuta string

// Receipt types (RFC 6109 §3.3.2.1–3).
const (
	TipoCompleta  TipoRicevuta = "completa"
	TipoBreve     TipoRicevuta = "breve"
	TipoSintetica TipoRicevuta = "sintetica"
)

// Valid reports whether t is one of the three receipt types.
func (t TipoRicevuta) Valid() bool {
	return t == TipoCompleta || t == TipoBreve || t == TipoSintetica
}

// KindOfRicevuta maps an X-Ricevuta value to its Kind; unknown values give
// KindSconosciuto.
func KindOfRicevuta(v Ricevuta) Kind {
	for _, r := range Ricevute {
		if r == v {
			return Kind(v)
		}
	}
	return KindSconosciuto
}
