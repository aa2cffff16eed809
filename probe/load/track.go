package load

import (
	"mime"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// receipt kinds a message waits for, as indexes into the counters.
const (
	iAcc = iota
	iPic
	iCons
	iTras
	nWait
)

// waited are the kinds with a counter.
var waited = [nWait]Kind{Accettazione, PresaInCarico, Consegna, Trasporto}

// tracked is a submitted message waiting for its receipts.
type tracked struct {
	seq            int64
	phase          *Phase
	intended, eod  time.Time
	want, got      [nWait]int
	first          [nWait]time.Time
	notAccepted    bool // a non-accettazione ends it (RFC 6109 §3.1.2)
	firstErrorSeen time.Time
}

func (t *tracked) complete() bool {
	if t.notAccepted {
		return true
	}
	for i := range t.want {
		if t.got[i] < t.want[i] {
			return false
		}
	}
	return true
}

func (t *tracked) missing() map[Kind]int {
	m := map[Kind]int{}
	for i := range t.want {
		if d := t.want[i] - t.got[i]; d > 0 {
			m[waited[i]] = d
		}
	}
	return m
}

// MessageResult is one message's outcome, for Options.OnMessage.
type MessageResult struct {
	Seq      int64
	Intended time.Time
	EOD      time.Time
	// First is the first arrival of each receipt kind.
	First map[Kind]time.Time
	Lost  bool
}

func (t *tracked) result(lost bool) MessageResult {
	r := MessageResult{Seq: t.seq, Intended: t.intended, EOD: t.eod, First: map[Kind]time.Time{}, Lost: lost}
	for i, at := range t.first {
		if !at.IsZero() {
			r.First[waited[i]] = at
		}
	}
	if !t.firstErrorSeen.IsZero() {
		r.First[Errore] = t.firstErrorSeen
	}
	return r
}

// count applies one receipt: a mancata consegna answers for its recipient
// (no avvenuta consegna nor envelope will come, RFC 6109 §3.3.3).
func (t *tracked) count(k Kind, detail string, at time.Time) {
	i := -1
	switch k {
	case Accettazione:
		i = iAcc
	case PresaInCarico:
		i = iPic
	case Consegna:
		i = iCons
	case Trasporto:
		i = iTras
	case Errore:
		if t.firstErrorSeen.IsZero() {
			t.firstErrorSeen = at
		}
		switch detail {
		case string(pec.RicevutaNonAccettazione):
			t.notAccepted = true
		case string(pec.RicevutaErroreConsegna):
			t.got[iCons]++
			t.got[iTras]++
		}
	}
	if i >= 0 {
		t.got[i]++
		if t.first[i].IsZero() {
			t.first[i] = at
		}
	}
}

// messageToken finds the run and sequence of an arrival: in
// X-Riferimento-Message-ID (receipts) or the subject (envelopes).
func messageToken(get func(string) string) (run string, seq int64, ok bool) {
	if run, seq, ok = parseToken(get(pec.HeaderRiferimentoMsgID)); ok {
		return run, seq, ok
	}
	subject := get("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = d
	}
	return parseToken(subject)
}
