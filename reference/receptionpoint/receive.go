package receptionpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/index"
)

// ErrTemporary marks failures of the provider's own components: the sending
// MTA should retry.
var ErrTemporary = errors.New("receptionpoint: temporary failure")

// Receive applies the decision table of RFC 6109 §2.2.2 (pec-rules §7.2) to one
// incoming message. It returns nil once everything it produced is durable.
func (p *Point) Receive(ctx context.Context, in Incoming) error {
	m := pec.Parse(in.Data)
	prov, why, err := p.origin(ctx, in.Data)
	if err != nil {
		return err
	}
	if prov == nil {
		// Signature existence, origin or validity failed: ordinary mail,
		// delivered in a busta di anomalia (RFC 6109 §2.2.2, §3.2.2), to
		// the mailboxes that take ordinary mail.
		return p.ordinary(ctx, in, m, why)
	}
	kind := m.Kind()
	why = envelopeProblem(m)
	if kind == pec.KindTrasporto && why == "" {
		return p.envelope(ctx, in, m, prov)
	}
	// Delivered as it is or in an anomaly: scanned first like ordinary mail.
	if ctx, err = p.refuseInfected(ctx, in); err != nil {
		return err
	}
	switch {
	case kind == pec.KindTrasporto:
		return p.anomaly(ctx, in, m, why)
	case isNotice(kind):
		if m.Postacert == nil {
			return p.anomaly(ctx, in, m, "avviso privo dei dati di certificazione")
		}
		return p.notice(ctx, in, m)
	default:
		return p.anomaly(ctx, in, m, fmt.Sprintf("messaggio firmato di tipo non riconosciuto (%s)", kind))
	}
}

// origin checks signature existence, validity and origin (RFC 6109 §2.2.2
// steps 1–3). A nil provider with a reason means "not PEC"; an error means
// the check itself could not run (index down).
func (p *Point) origin(ctx context.Context, raw []byte) (*index.Provider, string, error) {
	cert, _, err := smime.VerifyMessage(raw, p.Trust, p.Clock.Now())
	if err != nil {
		p.log().Info("signature not valid", "role", "receptionpoint", "err", err)
		return nil, "la firma digitale del messaggio non risulta attendibile", nil
	}
	prov, err := p.Directory.ByCertHash(ctx, index.CertHash(cert))
	switch {
	case errors.Is(err, index.ErrNotFound):
		return nil, "il certificato di firma non appartiene a un gestore dell'indice", nil
	case err != nil:
		return nil, "", fmt.Errorf("%w: index: %v", ErrTemporary, err)
	}
	return prov, "", nil
}

// isNotice reports whether kind is a receipt or notice (an X-Ricevuta value).
func isNotice(kind pec.Kind) bool {
	return pec.KindOfRicevuta(pec.Ricevuta(kind)) != pec.KindSconosciuto
}

// envelopeProblem is the formal check of a busta di trasporto (RFC 6109
// §2.2.2 step 4): "" when it is correct, else why not, in Italian for the
// anomaly text.
func envelopeProblem(m *pec.Message) string {
	switch {
	case len(m.Problems) > 0:
		return "struttura del messaggio non conforme: " + m.Problems[0]
	case m.Postacert == nil:
		return "dati di certificazione assenti"
	case m.Postacert.Tipo != pec.TipoPostaCertificata:
		return "dati di certificazione di tipo " + string(m.Postacert.Tipo) + " in una busta di trasporto"
	case m.Original == nil:
		return "messaggio originale assente"
	case strings.Trim(m.Header("Message-ID"), "<>") != strings.TrimSpace(m.Postacert.Dati.Identificativo):
		return "Message-ID diverso dall'identificativo dei dati di certificazione"
	}
	return ""
}
