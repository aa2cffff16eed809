package accesspoint

import (
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/compose"
)

// copied are the fields the busta di trasporto inherits unmodified from the
// original (RFC 6109 §2.1.1.2, §3.1.5; TRN-05).
var copied = []string{"Return-Path", "Received"}

// envelopeOf composes the busta di trasporto for the recipients of the
// submission: in memory for a small original; for a large one streamed into
// the spool — the original's body read from the submission's file, the CMS
// hash computed on the way — to be queued by reference.
func (p *Point) envelopeOf(a *accepted) (*Envelope, error) {
	outer, body, err := p.envelope(a)
	if err != nil {
		return nil, err
	}
	e := &Envelope{From: a.sub.From, To: a.sub.To}
	if !a.orig.large {
		body.OriginalBody = a.orig.body
		e.Data, err = p.Sealer.Sign(outer, body)
		return e, err
	}
	r, ascii, done, err := a.orig.streamedBody()
	if err != nil {
		return nil, err
	}
	defer done()
	body.Body, body.BodyASCII = r, ascii
	e.File, err = p.Sealer.SignTo(p.Spool, outer, body)
	return e, err
}

// release gives back the spool file of an envelope that will not be queued.
func (e *Envelope) release() {
	if e != nil && e.File != nil {
		e.File.Release()
	}
}

// envelope composes the busta di trasporto (RFC 6109 §3.1.5): inherited
// routing fields, From "Per conto di: <sender>" <service address>, the PEC
// msgid as Message-ID, the client's as X-Riferimento-Message-ID, and the
// original (with the PEC msgid) as postacert.eml; its outer header and its
// body, less the original's body, which the caller adds.
func (p *Point) envelope(a *accepted) ([]smime.Field, compose.Mixed, error) {
	var outer []smime.Field
	for _, name := range copied {
		for _, f := range a.header.All(name) {
			outer = append(outer, smime.Field{Name: f.Name, Value: f.FoldedValue()})
		}
	}
	outer = append(outer,
		smime.Field{Name: "Date", Value: pec.DateHeader(a.facts.Instant)},
		smime.Field{Name: "Subject", Value: compose.EncodeWord(pec.SubjectTrasporto + a.facts.Subject)},
		smime.Field{Name: "From", Value: `"` + pec.PerContoDi + a.sub.From + `" <` + p.Sealer.ServiceAddress + ">"},
	)
	if rt := a.header.All("Reply-To"); len(rt) > 0 {
		outer = append(outer, smime.Field{Name: rt[0].Name, Value: rt[0].FoldedValue()})
	} else {
		outer = append(outer, smime.Field{Name: "Reply-To", Value: a.sub.From})
	}
	for _, name := range []string{"To", "Cc"} {
		for _, f := range a.header.All(name) {
			outer = append(outer, smime.Field{Name: f.Name, Value: f.FoldedValue()})
		}
	}
	outer = append(outer, smime.Field{Name: "Message-ID", Value: "<" + a.facts.ID + ">"})
	if a.msgid != "" {
		outer = append(outer, smime.Field{Name: pec.HeaderRiferimentoMsgID, Value: a.msgid})
	}
	outer = append(outer, smime.Field{Name: pec.HeaderTrasporto, Value: string(pec.TrasportoPostaCertificata)})
	tipo := pec.TipoRicevuta(a.tipo)
	if tipo.Valid() {
		outer = append(outer, smime.Field{Name: pec.HeaderTipoRicevuta, Value: a.tipo})
	} else {
		tipo = pec.TipoCompleta // absent or unknown: completa (RFC 6109 §3.3.2.1)
	}
	d := p.Sealer.Postacert(pec.TipoPostaCertificata, pec.ErroreNessuno, a.facts, a.replyTo, a.msgid)
	d.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: tipo}
	dati, err := d.Marshal()
	if err != nil {
		return nil, compose.Mixed{}, err
	}
	return outer, compose.Mixed{Text: compose.TextTrasporto(a.facts), Daticert: dati, Original: a.originalHead}, nil
}
