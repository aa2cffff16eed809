package report

import "github.com/pecspec/pecspec/pec"

// The wire strings the grader checks, copied literally from pec-rules §2.2
// (headers and subject prefixes, RFC 6109 Appendix A and §3.x), §3.1 (the
// daticert DTD, RFC 6109 §4.4) and §4 (signature), and written nowhere else
// in the grader. The grader never takes a wire string from pec/, which the
// reference composes with: a wrong constant there is caught here, not
// shared (issue 14). pec.Kind values are used only as labels of a verdict.

// Header names (RFC 6109 §8.1, Appendix A). Matched case-insensitively
// (RFC 5322 §1.2.2).
const (
	hRicevuta     = "X-Ricevuta"
	hTrasporto    = "X-Trasporto"
	hVerifica     = "X-VerificaSicurezza"
	hTipoRicevuta = "X-TipoRicevuta"
	hRiferimento  = "X-Riferimento-Message-ID"
	hMittente     = "X-Mittente"
)

// X-Ricevuta values, which are also the daticert tipo values of the receipts
// (RFC 6109 Appendix A, §4.4); X-Trasporto values; X-VerificaSicurezza's one
// value.
const (
	vAccettazione     = "accettazione"
	vNonAccettazione  = "non-accettazione"
	vPresaInCarico    = "presa-in-carico"
	vAvvenutaConsegna = "avvenuta-consegna"
	vErroreConsegna   = "errore-consegna"
	vPreavviso        = "preavviso-errore-consegna"
	vRilevazioneVirus = "rilevazione-virus"
	vPostaCertificata = "posta-certificata" // X-Trasporto of the envelope and its daticert tipo
	vErrore           = "errore"            // X-Trasporto of the anomaly; X-VerificaSicurezza
)

// daticert attribute values (RFC 6109 §4.4): postacert/@errore,
// destinatari/@tipo, ricevuta/@tipo (= X-TipoRicevuta values, §3.3.2).
const (
	eNessuno     = "nessuno"
	eNoDest      = "no-dest"
	eNoDominio   = "no-dominio"
	eVirus       = "virus"
	eAltro       = "altro"
	dCertificato = "certificato"
	dEsterno     = "esterno"
	rCompleta    = "completa"
	rBreve       = "breve"
	rSintetica   = "sintetica"
)

// Part names, media types and words (RFC 6109 §4.3, §2.1; pec-rules A1, A2).
const (
	nDaticert     = "daticert.xml"
	nCertdata     = "certdata.xml"
	nPostacert    = "postacert.eml"
	nSignature    = "smime.p7s"
	ctSignature   = "application/pkcs7-signature"
	ctSignatureX  = "application/x-pkcs7-signature"
	ctXML         = "application/xml"
	perContoDi    = "Per conto di: "
	wCertificata  = "posta certificata"
	wOrdinaria    = "posta ordinaria"
	charsetLatin1 = "iso-8859-1"
)

// Subject prefixes (pec-rules §2.2, exact, followed by the original subject;
// A6: one space in "SUP. TEMPO").
const (
	sAccettazione       = "ACCETTAZIONE: "
	sNonAccettazione    = "AVVISO DI NON ACCETTAZIONE: "
	sNonAccettazioneVir = "AVVISO DI NON ACCETTAZIONE PER VIRUS: "
	sTrasporto          = "POSTA CERTIFICATA: "
	sPreavviso          = "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: "
	sPresaInCarico      = "PRESA IN CARICO: "
	sAnomalia           = "ANOMALIA MESSAGGIO: "
	sRilevazioneVirus   = "PROBLEMA DI SICUREZZA: "
	sErroreConsegnaVir  = "AVVISO DI MANCATA CONSEGNA PER VIRUS: "
	sAvvenutaConsegna   = "CONSEGNA: "
	sErroreConsegna     = "AVVISO DI MANCATA CONSEGNA: "
)

// ricevute maps each X-Ricevuta value to the kind label the grader reports.
var ricevute = map[string]pec.Kind{
	vAccettazione: pec.KindAccettazione, vNonAccettazione: pec.KindNonAccettazione,
	vPresaInCarico: pec.KindPresaInCarico, vAvvenutaConsegna: pec.KindAvvenutaConsegna,
	vErroreConsegna: pec.KindErroreConsegna, vPreavviso: pec.KindPreavvisoErroreConsegna,
	vRilevazioneVirus: pec.KindRilevazioneVirus,
}

// tipi is the daticert tipo each kind carries (DAT-03; RFC 6109 §4.4).
var tipi = map[pec.Kind]string{
	pec.KindAccettazione: vAccettazione, pec.KindNonAccettazione: vNonAccettazione,
	pec.KindPresaInCarico: vPresaInCarico, pec.KindAvvenutaConsegna: vAvvenutaConsegna,
	pec.KindErroreConsegna: vErroreConsegna, pec.KindPreavvisoErroreConsegna: vPreavviso,
	pec.KindRilevazioneVirus: vRilevazioneVirus, pec.KindTrasporto: vPostaCertificata,
}

// prefixes are the subject prefixes by kind, and by kind for the virus
// variants (X-VerificaSicurezza: errore) of non-accettazione and
// errore-consegna.
var (
	prefixes = map[pec.Kind]string{
		pec.KindAccettazione: sAccettazione, pec.KindNonAccettazione: sNonAccettazione,
		pec.KindTrasporto: sTrasporto, pec.KindPreavvisoErroreConsegna: sPreavviso,
		pec.KindPresaInCarico: sPresaInCarico, pec.KindAnomalia: sAnomalia,
		pec.KindRilevazioneVirus: sRilevazioneVirus, pec.KindErroreConsegna: sErroreConsegna,
		pec.KindAvvenutaConsegna: sAvvenutaConsegna,
	}
	virusPrefixes = map[pec.Kind]string{
		pec.KindNonAccettazione: sNonAccettazioneVir, pec.KindErroreConsegna: sErroreConsegnaVir,
	}
)

// Wire returns the grader's wire strings by role ("subject accettazione",
// "header X-Ricevuta", "tipo posta-certificata", …): the table a test of
// pec/ compares its constants with, so that a constant the reference and the
// grader would otherwise share is checked against pec-rules (issue 14).
func Wire() map[string]string {
	w := map[string]string{}
	for _, h := range []string{hRicevuta, hTrasporto, hVerifica, hTipoRicevuta, hRiferimento, hMittente} {
		w["header "+h] = h
	}
	for v := range ricevute {
		w["ricevuta "+v] = v
		w["tipo "+v] = v
	}
	w["tipo "+vPostaCertificata] = vPostaCertificata
	w["trasporto "+vPostaCertificata], w["trasporto "+vErrore], w["verifica "+vErrore] = vPostaCertificata, vErrore, vErrore
	for _, v := range []string{eNessuno, eNoDest, eNoDominio, eVirus, eAltro} {
		w["errore "+v] = v
	}
	for _, v := range []string{dCertificato, dEsterno} {
		w["destinatari "+v] = v
	}
	for _, v := range []string{rCompleta, rBreve, rSintetica} {
		w["ricevuta-tipo "+v] = v
	}
	for k, p := range prefixes {
		w["subject "+string(k)] = p
	}
	for k, p := range virusPrefixes {
		w["subject "+string(k)+" virus"] = p
	}
	w["name daticert"], w["name certdata"], w["name postacert"], w["name signature"] = nDaticert, nCertdata, nPostacert, nSignature
	w["type signature"], w["type signature legacy"], w["type xml"] = ctSignature, ctSignatureX, ctXML
	w["from per conto di"], w["text certificata"], w["text ordinaria"], w["charset text"] = perContoDi, wCertificata, wOrdinaria, charsetLatin1
	return w
}
