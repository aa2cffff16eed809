package accesspoint

import (
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/txlog"
)

// accettazione composes the ricevuta di accettazione (RFC 6109 §3.1.4): to the
// sender as in the reverse-path, From the service address, the list of
// recipients with their type, daticert tipo accettazione; same instant and
// identificativo as the envelope (ACC-07, ACC-08).
func (p *Point) accettazione(a *accepted) ([]byte, *txlog.Record, error) {
	d := p.Sealer.Postacert(pec.TipoAccettazione, pec.ErroreNessuno, a.facts, a.replyTo, a.msgid)
	return p.Sealer.SealEvent(compose.Notice{
		Ricevuta: pec.RicevutaAccettazione,
		Prefix:   pec.SubjectAccettazione,
		To:       a.sub.From,
		Text:     compose.TextAccettazione(a.facts),
		Daticert: d,
		RefMsgID: a.msgid,
		Subject:  a.facts.Subject,
		Instant:  a.facts.Instant,
	}, txlog.EventAccettazione, p.Sealer.ProviderName)
}
