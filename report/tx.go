package report

import (
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// Captured is one message captured for a transaction, with where it was read.
type Captured struct {
	Mailbox string // the mailbox it was read from
	Service bool   // true for a provider's service mailbox (mailReceipt)
	// AtMX is true for a message read at the receiving provider's MX (the
	// probe's peer provider) rather than from a mailbox: it reached that
	// provider, not a user, so it counts as no delivery.
	AtMX bool
	Raw  []byte
}

// Submission is what the probe submitted.
type Submission struct {
	Sender    string
	To, Cc    []string
	MessageID string // the client's Message-ID
	// Relayed is true when the probe's peer provider sent a ready envelope
	// to the graded provider's MX: no access point of the graded provider
	// was involved, so the sender-side rules (ACC-09, VIR-07) do not apply.
	Relayed bool `json:",omitempty"`
	// Ordinary is true when the probe sent ordinary (non-PEC) mail to the
	// graded provider's MX: no accettazione is owed (ACC-09).
	Ordinary bool `json:",omitempty"`
}

// Tx is one transaction as the multi rules see it.
type Tx struct {
	Sub  Submission
	Msgs []*Msg
	Caps []Captured
	Opts Options
}

// GradeTransaction judges the messages captured for one submission against the
// transaction rules (those marked (multi) in pec-rules §9).
func GradeTransaction(sub Submission, caps []Captured, opts Options) []Verdict {
	tx := &Tx{Sub: sub, Caps: caps, Opts: opts}
	for _, c := range caps {
		tx.Msgs = append(tx.Msgs, newMsg(c.Raw, opts))
	}
	var out []Verdict
	for _, r := range Catalogue() {
		if r.txCheck != nil {
			out = append(out, run(r, func() outcome { return r.txCheck(tx) }, opts))
		}
	}
	return out
}

// of returns the messages of a kind.
func (tx *Tx) of(k pec.Kind) []*Msg {
	var out []*Msg
	for _, m := range tx.Msgs {
		if m.Kind == k {
			out = append(out, m)
		}
	}
	return out
}

func (tx *Tx) one(k pec.Kind) *Msg {
	if m := tx.of(k); len(m) > 0 {
		return m[0]
	}
	return nil
}

func daticertInstant(x *Msg) (time.Time, bool) {
	if x.dc == nil {
		return time.Time{}, false
	}
	t, err := x.dc.instant()
	return t, err == nil
}

// certified returns the PEC (certificato) recipients: by the index when the
// grader has one (the graded provider's own classification is not trusted
// for the rules that judge it), else those the accettazione classed
// certificato, else all submitted recipients.
func (tx *Tx) certified() []string {
	if ix := tx.Opts.Index; ix != nil {
		var out []string
		for _, r := range append(append([]string(nil), tx.Sub.To...), tx.Sub.Cc...) {
			r = strings.ToLower(strings.TrimSpace(r))
			if _, d, ok := strings.Cut(r, "@"); ok && ix.ByDomain(d) != nil {
				out = append(out, r)
			}
		}
		return out
	}
	if acc := tx.one(pec.KindAccettazione); acc != nil && acc.dc != nil {
		var out []string
		for _, d := range acc.dc.Destinatari {
			if d.Tipo != dEsterno {
				out = append(out, strings.ToLower(d.Addr))
			}
		}
		return out
	}
	var out []string
	for _, r := range append(tx.Sub.To, tx.Sub.Cc...) {
		out = append(out, strings.ToLower(r))
	}
	return out
}

func multi(id, sec, title string, f func(*Tx) outcome) Rule {
	return Rule{ID: id, Level: Must, Section: sec, Title: title, Multi: true, txCheck: f}
}
