package load

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Measures of an arrival, each kind has one histogram per measure.
const (
	// FromIntended is arrival − the message's scheduled send time: what a
	// user who wanted to send at that instant waited (no coordinated
	// omission: a stalled generator still counts from the schedule).
	FromIntended = "intended"
	// FromEOD is arrival − the end of DATA (the terminating dot written).
	FromEOD = "eod"
	// Daticert is the provider's own instant in daticert.xml (data/ora,
	// RFC 6109 §4.4; one second's resolution) − the end of DATA.
	Daticert = "daticert"
	// Skew is arrival − the daticert instant: how long after its stated
	// instant the message reached the mailbox (and the clocks' offset).
	Skew = "skew"
)

// Measures in report order.
var Measures = []string{FromIntended, FromEOD, Daticert, Skew}

// kindHists are one kind's histograms in a phase.
type kindHists struct {
	intended, eod  *Hist
	daticert, skew *Signed
	noDaticert     int64
}

func newKindHists() *kindHists {
	return &kindHists{intended: NewHist(), eod: NewHist(), daticert: NewSigned(), skew: NewSigned()}
}

// Phase is one stretch of a run at one offered rate: a steady run, or one
// step of a ramp. Its counters and histograms fill while it runs; finish
// computes the summary fields.
type Phase struct {
	Rate     float64       `json:"offered_rate"` // messages per second the schedule asked for
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"` // the sending window
	// Scheduled messages in the window; Sent began a transaction; Accepted
	// got 250 to DATA; Refused got an SMTP error or none; Unsent were
	// still waiting for a connection when the window closed.
	Scheduled, Sent, Accepted, Refused, Unsent int64
	// Complete got every expected receipt; Lost did not within the drain
	// timeout (LostKinds counts the missing receipts by kind).
	Complete  int64          `json:"complete"`
	Lost      int64          `json:"lost"`
	LostKinds map[Kind]int64 `json:"lost_receipts,omitempty"`
	// Errors counts SMTP replies by code ("451 4.3.0", "no reply") and
	// error notices by X-Ricevuta / X-Trasporto value.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Unmatched arrivals of this run whose message was already complete,
	// lost or refused (duplicates, or late).
	Unmatched int64 `json:"unmatched"`
	// SubmitRate is accepted submissions per second over the window;
	// AchievedRate is complete messages per second between the first and
	// the last completion (a steady latency does not lower it; a target
	// that falls behind spreads its completions out).
	SubmitRate   float64              `json:"submit_rate"`
	AchievedRate float64              `json:"achieved_rate"`
	Stats        map[Kind]KindStats   `json:"stats"`
	Hists        map[Kind]EncodedHist `json:"histograms"`
	SLA          []SLAResult          `json:"sla,omitempty"`
	Graded       GradeSummary         `json:"graded"`
	// GeneratorCPU is the CPU time this process spent during the phase
	// (submitting, watching, grading): the share of the machine the
	// measurement itself took.
	GeneratorCPU float64 `json:"generator_cpu_s"`

	mu                          sync.Mutex
	hists                       map[Kind]*kindHists
	firstComplete, lastComplete time.Time
	open                        int64 // tracked messages not yet complete or lost
	idle                        chan struct{}
}

func newPhase(rate float64, start time.Time, d time.Duration) *Phase {
	p := &Phase{Rate: rate, Start: start, Duration: d, LostKinds: map[Kind]int64{}, Errors: map[string]int64{},
		hists: map[Kind]*kindHists{}, idle: make(chan struct{}, 1)}
	for _, k := range Kinds {
		p.hists[k] = newKindHists()
	}
	return p
}

// recordSubmit records a submission's outcome: its reply latency, or its
// error by reply code.
func (p *Phase) recordSubmit(intended, eod, reply time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.Refused++
		p.Errors[errorKey(err)]++
		return
	}
	p.Accepted++
	h := p.hists[Submit]
	if h == nil {
		return // finished
	}
	h.intended.Record(reply.Sub(intended))
	h.eod.Record(reply.Sub(eod))
}

// errorKey is an SMTP error's reply code and enhanced code, or "no reply".
func errorKey(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			return fmt.Sprintf("smtp %d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		return fmt.Sprintf("smtp %d", se.Code)
	}
	return "smtp no reply"
}

// recordArrival records one receipt of a tracked message.
func (p *Phase) recordArrival(k Kind, detail string, intended, eod time.Time, a *Arrival) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k == Errore {
		p.Errors[detail]++
	}
	h := p.hists[k]
	if h == nil {
		return // finished
	}
	h.intended.Record(a.At.Sub(intended))
	if !eod.IsZero() {
		h.eod.Record(a.At.Sub(eod))
	}
	if a.Daticert == nil {
		h.noDaticert++
		return
	}
	inst, err := a.Daticert.Dati.Data.Instant()
	if err != nil {
		h.noDaticert++
		return
	}
	if !eod.IsZero() {
		h.daticert.Record(inst.Sub(eod))
	}
	h.skew.Record(a.At.Sub(inst))
}

// opened counts a tracked message; closed one that completed or was lost.
func (p *Phase) opened() {
	p.mu.Lock()
	p.open++
	p.mu.Unlock()
}

func (p *Phase) closed(complete bool, at time.Time, missing map[Kind]int) {
	p.mu.Lock()
	p.open--
	if complete {
		p.Complete++
		if at.After(p.lastComplete) {
			p.lastComplete = at
		}
		if p.firstComplete.IsZero() || at.Before(p.firstComplete) {
			p.firstComplete = at
		}
	} else {
		p.Lost++
		for k, n := range missing {
			p.LostKinds[k] += int64(n)
		}
	}
	open := p.open
	p.mu.Unlock()
	if open == 0 {
		select {
		case p.idle <- struct{}{}:
		default:
		}
	}
}

func (p *Phase) openCount() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func (p *Phase) unmatched() {
	p.mu.Lock()
	p.Unmatched++
	p.mu.Unlock()
}
