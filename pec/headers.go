package pec

// Header names of the PEC model (RFC 6109 §8.1, Appendix A). Header names are
// case-insensitive (GEN-13): compare with textproto canonical forms or
// strings.EqualFold, never byte for byte.
const (
	HeaderRicevuta            = "X-Ricevuta"
	HeaderTrasporto           = "X-Trasporto"
	HeaderVerificaSicurezza   = "X-VerificaSicurezza"
	HeaderTipoRicevuta        = "X-TipoRicevuta"
	HeaderRiferimentoMsgID    = "X-Riferimento-Message-ID"
	HeaderMittente            = "X-Mittente"
	VerificaSicurezzaErrore   = "errore"
	DaticertName              = "daticert.xml" // RFC 6109 §4.3.3 says certdata.xml; see pec-rules A1
	CertdataName              = "certdata.xml"
	PostacertName             = "postacert.eml" // RFC 6109 §4.3.2
	SignatureName             = "smime.p7s"
	ServiceLocalPart          = "posta-certificata" // RFC 6109 §2.2.6, pec-rules A2
	PerContoDi                = "Per conto di: "    // display-name prefix of envelopes, pec-rules A2
	TextCharset               = "ISO-8859-1"        // RFC 6109 §4.3.1
	SignatureProtocol         = "application/pkcs7-signature"
	SignatureProtocolLegacy   = "application/x-pkcs7-signature"
	MaxRecipientsSizeDefault  = 30 << 20 // RFC 6109 §3.1.1: 30 MB size × recipients
	SubjectAccettazione       = "ACCETTAZIONE: "
	SubjectNonAccettazione    = "AVVISO DI NON ACCETTAZIONE: "
	SubjectNonAccettazioneVir = "AVVISO DI NON ACCETTAZIONE PER VIRUS: "
	SubjectTrasporto          = "POSTA CERTIFICATA: "
	SubjectPreavviso          = "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: " // pec-rules A6
	SubjectPresaInCarico      = "PRESA IN CARICO: "
	SubjectAnomalia           = "ANOMALIA MESSAGGIO: "
	SubjectRilevazioneVirus   = "PROBLEMA DI SICUREZZA: "
	SubjectErroreConsegnaVir  = "AVVISO DI MANCATA CONSEGNA PER VIRUS: "
	SubjectAvvenutaConsegna   = "CONSEGNA: "
	SubjectErroreConsegna     = "AVVISO DI MANCATA CONSEGNA: "
)

// Type words of the acceptance receipt text (RFC 6109 §3.1.4, observed Italian).
const (
	WordCertificata = "posta certificata"
	WordOrdinaria   = "posta ordinaria"
)
