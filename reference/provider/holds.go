package provider

import (
	"context"
	"strings"
	"sync"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/receptionpoint"
)

// holdRule makes the instance withhold one step for the messages it matches
// (lab only, through the admin API): RFC 6109 §3.1.6 cases a, b and c need
// a receiving provider that stays silent. Empty fields match everything.
type holdRule struct {
	Step      receptionpoint.Step `json:"step"`
	Subject   string              `json:"subject,omitempty"`   // substring of the original subject
	Recipient string              `json:"recipient,omitempty"` // one of the original's recipients
}

func (r holdRule) matches(step receptionpoint.Step, m *pec.Message) bool {
	if r.Step != step {
		return false
	}
	p := m.Postacert
	if r.Subject != "" && (p.Intestazione.Oggetto == nil || !strings.Contains(*p.Intestazione.Oggetto, r.Subject)) {
		return false
	}
	if r.Recipient == "" {
		return true
	}
	for _, d := range p.Intestazione.Destinatari {
		if strings.EqualFold(strings.TrimSpace(d.Indirizzo), r.Recipient) {
			return true
		}
	}
	return false
}

type heldWork struct {
	step    receptionpoint.Step
	id      string
	subject string
	later   func(context.Context) error
}

// holds is the instance's set of rules and the work they withheld, in
// memory: a lab control, not provider state.
type holds struct {
	mu    sync.Mutex
	rules []holdRule
	held  []heldWork
}

// Hold implements receptionpoint.Holds.
func (h *holds) Hold(step receptionpoint.Step, m *pec.Message, later func(context.Context) error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rules {
		if r.matches(step, m) {
			subject := ""
			if o := m.Postacert.Intestazione.Oggetto; o != nil {
				subject = *o
			}
			h.held = append(h.held, heldWork{step: step, id: m.Postacert.Dati.Identificativo, subject: subject,
				later: later})
			return true
		}
	}
	return false
}

func (h *holds) add(r holdRule) {
	h.mu.Lock()
	h.rules = append(h.rules, r)
	h.mu.Unlock()
}

// release removes the rules of step ("" for all) and runs the work they held
// for messages whose subject contains subject ("" for all), in arrival order;
// it returns how many items ran and the first error.
func (h *holds) release(ctx context.Context, step receptionpoint.Step, subject string) (int, error) {
	h.mu.Lock()
	var run, keep []heldWork
	for _, w := range h.held {
		if (step == "" || w.step == step) && strings.Contains(w.subject, subject) {
			run = append(run, w)
		} else {
			keep = append(keep, w)
		}
	}
	var rules []holdRule
	for _, r := range h.rules {
		if (step != "" && r.Step != step) || !strings.Contains(r.Subject, subject) {
			rules = append(rules, r)
		}
	}
	h.held, h.rules = keep, rules
	h.mu.Unlock()
	var first error
	for _, w := range run {
		if err := w.later(ctx); err != nil && first == nil {
			first = err
		}
	}
	return len(run), first
}

// drop removes every rule and forgets the held work: it is never done.
func (h *holds) drop() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.held)
	h.rules, h.held = nil, nil
	return n
}

func (h *holds) state() map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]map[string]string, 0, len(h.held))
	for _, w := range h.held {
		ids = append(ids, map[string]string{"step": string(w.step), "id": w.id})
	}
	return map[string]any{"rules": append([]holdRule{}, h.rules...), "held": ids}
}
