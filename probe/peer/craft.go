package peer

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/probe"
)

// Craft selects how an envelope gamma builds is spoiled.
type Craft int

// The crafted envelopes (RFC 6109 §2.2.2 decision table at the receiver).
const (
	Correct   Craft = iota // a correct busta di trasporto: presa in carico, delivery
	Virus                  // correct, but the original carries the EICAR string: rilevazione virus
	Malformed              // signed by gamma, without daticert.xml: busta di anomalia
	Tampered               // a correct envelope edited after signing: anomalia (ordinary mail)
	Unlisted               // correct, signed by a provider not in the index: anomalia
	// MalformedNotice is a notice signed by gamma (X-Ricevuta:
	// avvenuta-consegna) without daticert.xml: busta di anomalia.
	MalformedNotice
)

// Envelope builds the busta di trasporto gamma sends for original, a user
// message from a user of gamma to rcpts (RFC 6109 §3.1.5): the signed
// multipart/mixed of text, daticert.xml (tipo posta-certificata) and
// postacert.eml. virus is appended to the original's body for Virus.
func (p *Peer) Envelope(c Craft, from string, rcpts []string, subject, msgid string, original, virus []byte) ([]byte, error) {
	now := p.Now()
	id := p.newID(now)
	if c == Virus {
		original = append(append(bytes.TrimRight(original, "\r\n"), "\r\n"...), append(virus, "\r\n"...)...)
	}
	original = withPECMsgID(original, id, msgid)
	d := &pec.Postacert{Tipo: pec.TipoPostaCertificata, Errore: pec.ErroreNessuno,
		Intestazione: pec.Intestazione{Mittente: from, Risposte: from, Oggetto: pec.Str(subject)},
		Dati: pec.Dati{GestoreEmittente: p.Cfg.ProviderName, Data: pec.DataOf(now), Identificativo: id,
			Msgid: pec.Str(msgid), Ricevuta: &pec.RicevutaTipo{Tipo: pec.TipoCompleta}}}
	for _, r := range rcpts {
		d.Intestazione.Destinatari = append(d.Intestazione.Destinatari, pec.Destinatario{Tipo: pec.DestCertificato, Indirizzo: r})
	}
	dati, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	if c == Malformed || c == MalformedNotice {
		dati = nil
	}
	outer := []smime.Field{
		{Name: "Date", Value: pec.DateHeader(now)},
		{Name: "From", Value: `"` + pec.PerContoDi + from + `" <` + p.serviceAddress(c) + ">"},
		{Name: "Reply-To", Value: from},
		{Name: "To", Value: strings.Join(rcpts, ", ")},
		{Name: "Subject", Value: mime.QEncoding.Encode("utf-8", pec.SubjectTrasporto+subject)},
		{Name: "Message-ID", Value: "<" + id + ">"},
		{Name: pec.HeaderRiferimentoMsgID, Value: msgid},
		{Name: pec.HeaderTrasporto, Value: string(pec.TrasportoPostaCertificata)},
	}
	if c == MalformedNotice {
		outer[len(outer)-1] = smime.Field{Name: pec.HeaderRicevuta, Value: string(pec.RicevutaAvvenutaConsegna)}
		outer[1].Value = p.Cfg.ServiceAddress
		outer[4].Value = mime.QEncoding.Encode("utf-8", pec.SubjectAvvenutaConsegna+subject)
		original = nil
	}
	giorno, ora, zona := pec.TextInstant(now)
	text := "Messaggio di posta certificata\r\n\r\nIl giorno " + giorno + " alle ore " + ora + " " + zona +
		" il messaggio \"" + subject + "\" è stato inviato da \"" + from + "\" indirizzato a:\r\n" +
		strings.Join(rcpts, "\r\n") + "\r\nIl messaggio originale è incluso in allegato.\r\nIdentificativo messaggio: " + id + "\r\n"
	cert, key := p.signer(c)
	msg, err := smime.Sign(outer, mixed(text, dati, original), cert, key)
	if err != nil {
		return nil, err
	}
	if c == Tampered {
		// One byte of the signed original changes after signing (SIG-04
		// at the receiver: the signature no longer verifies).
		if msg, err = probe.Tamper(msg); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPeer, err)
		}
	}
	return msg, nil
}

// VirusNotice builds the avviso di rilevazione virus gamma, as receiving
// provider, sends about env (an envelope the target sent it) for rcpt, to
// the sending provider's mailReceipt to (RFC 6109 §3.2.3).
func (p *Peer) VirusNotice(env *pec.Message, rcpt, to string) ([]byte, error) {
	reason := "5.7.1 - virus rilevato nel messaggio (" + p.Cfg.Name + ")"
	return p.notice(env, noticeSpec{tipo: pec.TipoRilevazioneVirus, errore: pec.ErroreVirus, ricevuta: pec.RicevutaRilevazioneVirus,
		prefix: pec.SubjectRilevazioneVirus, to: to, consegna: rcpt, reason: reason,
		text: func(subj, from, when string) string {
			return "Problema di sicurezza\r\n\r\nIl giorno " + when + " nel messaggio \"" + subj + "\" proveniente da \"" + from +
				"\" e destinato a \"" + rcpt + "\" è stato rilevato un virus.\r\nIl messaggio non è stato consegnato.\r\nErrore: " + reason
		}})
}

// PresaInCarico builds the ricevuta di presa in carico gamma sends the
// sending provider's mailReceipt to for env, listing rcpts as received (RFC
// 6109 §3.2.1).
func (p *Peer) PresaInCarico(env *pec.Message, rcpts []string, to string) ([]byte, error) {
	return p.notice(env, noticeSpec{tipo: pec.TipoPresaInCarico, errore: pec.ErroreNessuno, ricevuta: pec.RicevutaPresaInCarico,
		prefix: pec.SubjectPresaInCarico, to: to, ricezione: rcpts,
		text: func(subj, from, when string) string {
			return "Ricevuta di presa in carico\r\n\r\nIl giorno " + when + " il messaggio \"" + subj + "\" proveniente da \"" +
				from + "\" è stato accettato dal sistema " + p.Cfg.ProviderName + " per i destinatari:\r\n" + strings.Join(rcpts, "\r\n")
		}})
}

// Consegna builds the ricevuta di avvenuta consegna (completa: with the
// original) gamma sends the sender for env's recipient rcpt (RFC 6109
// §3.3.2).
func (p *Peer) Consegna(env *pec.Message, rcpt string) ([]byte, error) {
	if env.Postacert == nil || env.Original == nil {
		return nil, fmt.Errorf("%w: the envelope has no daticert or original", ErrPeer)
	}
	return p.notice(env, noticeSpec{tipo: pec.TipoAvvenutaConsegna, errore: pec.ErroreNessuno, ricevuta: pec.RicevutaAvvenutaConsegna,
		prefix: pec.SubjectAvvenutaConsegna, to: env.Postacert.Intestazione.Mittente, consegna: rcpt,
		tipoRicevuta: pec.TipoCompleta, original: env.Original.Body,
		text: func(subj, from, when string) string {
			return "Ricevuta di avvenuta consegna\r\n\r\nIl giorno " + when + " il messaggio \"" + subj + "\" proveniente da \"" +
				from + "\" ed indirizzato a \"" + rcpt + "\" è stato consegnato nella casella di destinazione.\r\n" +
				"Il messaggio originale è incluso in allegato."
		}})
}

// noticeSpec is what differs between the notices gamma sends.
type noticeSpec struct {
	tipo         pec.Tipo
	errore       pec.Errore
	ricevuta     pec.Ricevuta
	prefix, to   string
	consegna     string   // the recipient the notice is about
	ricezione    []string // presa in carico: the recipients received
	reason       string   // errore-esteso
	tipoRicevuta pec.TipoRicevuta
	original     []byte
	text         func(subject, from, when string) string
}

// notice builds and signs a receipt or notice about env, dated on gamma's
// clock (RFC 6109 §4.3, §4.4).
func (p *Peer) notice(env *pec.Message, n noticeSpec) ([]byte, error) {
	if env.Postacert == nil {
		return nil, fmt.Errorf("%w: the envelope has no daticert", ErrPeer)
	}
	in := env.Postacert
	// The target's daticert values go into gamma's header fields and RCPT:
	// a line break in them (XML may encode one) would inject fields.
	if strings.ContainsAny(in.Intestazione.Mittente+pec.Deref(in.Dati.Msgid)+n.to+pec.Deref(in.Intestazione.Oggetto), "\r\n") {
		return nil, fmt.Errorf("%w: a line break in the envelope's daticert", ErrPeer)
	}
	now := p.Now()
	d := &pec.Postacert{Tipo: n.tipo, Errore: n.errore, Intestazione: in.Intestazione,
		Dati: pec.Dati{GestoreEmittente: p.Cfg.ProviderName, Data: pec.DataOf(now), Identificativo: in.Dati.Identificativo,
			Msgid: in.Dati.Msgid, Ricezione: n.ricezione}}
	if n.consegna != "" {
		d.Dati.Consegna = pec.Str(n.consegna)
	}
	if n.reason != "" {
		d.Dati.ErroreEsteso = pec.Str(n.reason)
	}
	if n.tipoRicevuta != "" {
		d.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: n.tipoRicevuta}
	}
	dati, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	subject := pec.Deref(in.Intestazione.Oggetto)
	outer := []smime.Field{
		{Name: "Date", Value: pec.DateHeader(now)},
		{Name: "From", Value: p.Cfg.ServiceAddress},
		{Name: "To", Value: n.to},
		{Name: "Subject", Value: mime.QEncoding.Encode("utf-8", n.prefix+subject)},
		{Name: "Message-ID", Value: "<" + p.newID(now) + ">"},
		{Name: pec.HeaderRicevuta, Value: string(n.ricevuta)},
	}
	if n.ricevuta == pec.RicevutaRilevazioneVirus {
		outer = append(outer, smime.Field{Name: pec.HeaderMittente, Value: in.Intestazione.Mittente})
	}
	if in.Dati.Msgid != nil {
		outer = append(outer, smime.Field{Name: pec.HeaderRiferimentoMsgID, Value: *in.Dati.Msgid})
	}
	giorno, ora, zona := pec.TextInstant(now)
	text := n.text(subject, in.Intestazione.Mittente, giorno+" alle ore "+ora+" "+zona) +
		"\r\nIdentificativo messaggio: " + in.Dati.Identificativo + "\r\n"
	return smime.Sign(outer, mixed(text, dati, n.original), p.cert, p.key)
}

// signer is gamma's key, or the unlisted provider's for Unlisted.
func (p *Peer) signer(c Craft) (*x509.Certificate, crypto.Signer) {
	if c == Unlisted {
		return p.ucert, p.unlisted
	}
	return p.cert, p.key
}

// serviceAddress is the From of gamma's system messages, or the unlisted
// provider's (the address of its certificate) for Unlisted.
func (p *Peer) serviceAddress(c Craft) string {
	if c == Unlisted && len(p.ucert.EmailAddresses) > 0 {
		return p.ucert.EmailAddresses[0]
	}
	return p.Cfg.ServiceAddress
}

func (p *Peer) newID(t time.Time) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return "gamma" + t.UTC().Format("20060102150405") + "." + hex.EncodeToString(r[:]) + "@" + p.Cfg.Domain
}

// mixed writes the multipart/mixed entity of a PEC system message (RFC 6109
// §4.3): text (UTF-8, base64), daticert.xml when not nil, the original as
// message/rfc822 postacert.eml when not nil.
func mixed(text string, dati, original []byte) []byte {
	var r [12]byte
	_, _ = rand.Read(r[:])
	boundary := "----gamma-" + hex.EncodeToString(r[:])
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n")
	part := func(header string, body []byte) {
		b.WriteString("\r\n--" + boundary + "\r\n" + header + "\r\n\r\n")
		b.Write(body)
		if !bytes.HasSuffix(body, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	part("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64", pec.Base64Lines([]byte(text)))
	if dati != nil {
		part("Content-Type: application/xml; name=\"daticert.xml\"\r\nContent-Transfer-Encoding: base64\r\n"+
			"Content-Disposition: inline; filename=\"daticert.xml\"", pec.Base64Lines(dati))
	}
	if original != nil {
		part("Content-Type: message/rfc822; name=\"postacert.eml\"\r\nContent-Transfer-Encoding: 8bit\r\n"+
			"Content-Disposition: inline; filename=\"postacert.eml\"", original)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// UnlistedDomain is the domain of the provider that is not in the index
// (the address of its certificate).
func (p *Peer) UnlistedDomain() string {
	_, d, _ := strings.Cut(p.serviceAddress(Unlisted), "@")
	return d
}

// withPECMsgID gives the original the PEC msgid as its Message-ID and keeps
// the client's in X-Riferimento-Message-ID, as the envelope carries it (RFC
// 6109 §2.2.1, §3.1.5).
func withPECMsgID(original []byte, id, clientID string) []byte {
	head, body, ok := bytes.Cut(original, []byte("\r\n\r\n"))
	if !ok {
		return original
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if bytes.HasPrefix(bytes.ToLower(line), []byte("message-id:")) {
			continue
		}
		out.Write(line)
		out.WriteString("\r\n")
	}
	out.WriteString("Message-ID: <" + id + ">\r\n" + pec.HeaderRiferimentoMsgID + ": " + clientID + "\r\n\r\n")
	out.Write(body)
	return out.Bytes()
}
