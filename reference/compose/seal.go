package compose

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
)

// Sealer signs system messages with the provider's key, which lives in its
// token (RFC 6109 §2.1, §5.1): Key is a PKCS#11 crypto.Signer.
type Sealer struct {
	ProviderName   string // gestore-emittente (RFC 6109 §4.4), = providerName in the index
	ServiceAddress string // posta-certificata@<domain>, = rfc822Name of Cert (SIG-08)
	Domain         string // the provider's mail domain, for message IDs
	Cert           *x509.Certificate
	Key            crypto.Signer
	// HTML gives every system message a text/html alternative of its text
	// (Mixed.HTML).
	HTML bool
}

// Notice is a receipt or notice to seal: its identifying header, subject
// prefix, addressee, facts and certification data (RFC 6109 §2.2, table #1–#11).
type Notice struct {
	Ricevuta pec.Ricevuta
	Prefix   string // subject prefix, e.g. pec.SubjectAccettazione
	To       string
	Text     string
	Daticert *pec.Postacert
	Original []byte // postacert.eml, when the type carries it
	RefMsgID string // X-Riferimento-Message-ID: the client's msgid, with brackets
	Subject  string // the original subject, decoded
	Instant  time.Time
	Extra    []smime.Field // e.g. X-VerificaSicurezza, X-Mittente
}

// Seal writes n as a signed message.
func (s *Sealer) Seal(n Notice) ([]byte, error) {
	outer, body, err := s.notice(n)
	if err != nil {
		return nil, err
	}
	return s.Sign(outer, body)
}

// notice is the outer header and the body of n's sealed message.
func (s *Sealer) notice(n Notice) ([]smime.Field, Mixed, error) {
	dati, err := n.Daticert.Marshal()
	if err != nil {
		return nil, Mixed{}, err
	}
	outer := []smime.Field{
		{Name: "Date", Value: pec.DateHeader(n.Instant)},
		{Name: "From", Value: s.ServiceAddress},
		{Name: "To", Value: n.To},
		{Name: "Subject", Value: EncodeWord(n.Prefix + n.Subject)},
		{Name: "Message-ID", Value: "<" + s.NewID(n.Instant) + ">"},
		{Name: pec.HeaderRicevuta, Value: string(n.Ricevuta)},
	}
	if n.RefMsgID != "" && !omitsRiferimento(s.ServiceAddress) {
		outer = append(outer, smime.Field{Name: pec.HeaderRiferimentoMsgID, Value: n.RefMsgID})
	}
	outer = append(outer, n.Extra...)
	return outer, Mixed{Text: n.Text, Daticert: dati, Original: n.Original}, nil
}

// Sign seals an arbitrary outer header and body (envelopes build their own
// header); the body is written straight into the signed message.
func (s *Sealer) Sign(outer []smime.Field, body Mixed) ([]byte, error) {
	body.HTML = body.HTML || s.HTML
	msg, err := smime.SignWith(outer, body.Size(), body.WriteTo, s.Cert, s.Key)
	if err != nil {
		return nil, fmt.Errorf("compose: sign: %w", err)
	}
	return msg, nil
}

// NewID returns a fresh PEC msgid `opec<yyyymmddhhmmss>.<random hex>@<domain>`:
// alphanumeric string and dots at the provider's mail domain, unique
// (RFC 6109 §2.2.1, TRN-06, TRN-07). No brackets.
func (s *Sealer) NewID(t time.Time) string {
	var r [10]byte
	_, _ = rand.Read(r[:])
	return "opec" + t.UTC().Format("20060102150405") + "." + hex.EncodeToString(r[:]) + "@" + s.Domain
}

// Postacert starts the certification data common to every type (RFC 6109
// §4.4): the intestazione from the facts and the dati up to msgid. Callers add
// ricevuta, consegna, ricezione and errore-esteso.
func (s *Sealer) Postacert(tipo pec.Tipo, errore pec.Errore, f Facts, replyTo, msgid string) *pec.Postacert {
	if replyTo == "" {
		replyTo = f.Sender
	}
	p := &pec.Postacert{Tipo: tipo, Errore: errore}
	p.Intestazione.Mittente = f.Sender
	for _, r := range f.Recipients {
		tipo := pec.DestEsterno
		if r.Certified {
			tipo = pec.DestCertificato
		}
		p.Intestazione.Destinatari = append(p.Intestazione.Destinatari, pec.Destinatario{Tipo: tipo, Indirizzo: r.Address})
	}
	p.Intestazione.Risposte = replyTo
	p.Intestazione.Oggetto = pec.Str(f.Subject)
	p.Dati.GestoreEmittente = s.ProviderName
	p.Dati.Data = pec.DataOf(f.Instant)
	p.Dati.Identificativo = f.ID
	if msgid != "" {
		p.Dati.Msgid = pec.Str(msgid)
	}
	return p
}

// FactsFrom reads the facts back from received certification data: what the
// reception and delivery points need to word their receipts.
func FactsFrom(p *pec.Postacert) Facts {
	f := Facts{Sender: p.Intestazione.Mittente, ID: p.Dati.Identificativo}
	if p.Intestazione.Oggetto != nil {
		f.Subject = *p.Intestazione.Oggetto
	}
	for _, d := range p.Intestazione.Destinatari {
		f.Recipients = append(f.Recipients, Recipient{
			Address:   strings.TrimSpace(d.Indirizzo),
			Certified: d.Tipo != pec.DestEsterno,
		})
	}
	return f
}
