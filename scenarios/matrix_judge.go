package scenarios

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pecspec/pecspec/report"
)

// Matrix is matrix.json: the providers, one cell per ordered pair and per
// provider's own units, each with its counts, its failed rules and a link to
// its report.
type Matrix struct {
	Started   time.Time                `json:"started"`
	Finished  time.Time                `json:"finished"`
	Tags      string                   `json:"tags,omitempty"`
	Seed      int64                    `json:"seed"`
	Shard     *Shard                   `json:"shard,omitempty"`
	LabError  string                   `json:"lab_error,omitempty"` // the lab's own preflight failed
	Providers []*MatrixProvider        `json:"providers"`
	Cells     []*Cell                  `json:"cells"` // pairs (sender-major), then single, then clock units
	Expect    map[string][]Expectation `json:"expect,omitempty"`

	// LabUnreachable are the lab instances, counterparts of the providers'
	// own scenarios, that failed their preflight (when not providers).
	LabUnreachable map[string]string `json:"lab_unreachable,omitempty"`
}

// MatrixProvider is one row and column of the matrix and its summary.
type MatrixProvider struct {
	Name         string   `json:"name"`
	ProviderName string   `json:"provider_name"`
	Domains      []string `json:"domains"`
	// Unreachable is why its preflight failed: its row and column did not run.
	Unreachable string `json:"unreachable,omitempty"`
	// Failures attributed to it (the messages it emitted), by rule: as the
	// sender of pairs, as the receiver, and in its own scenarios.
	AsSender   map[string]int `json:"as_sender"`
	AsReceiver map[string]int `json:"as_receiver"`
	Alone      map[string]int `json:"alone"`
	// Stale are its expectations no failure matched (unsharded matrices;
	// a merge judges the shards together).
	Stale []Expectation `json:"stale,omitempty"`
}

// Cell is one unit's result.
type Cell struct {
	Sender   string `json:"sender"`
	Receiver string `json:"receiver,omitempty"`
	Kind     string `json:"kind"`   // pair, single, clock
	Status   string `json:"status"` // ran, unreachable, error, other-shard
	Reason   string `json:"reason,omitempty"`
	// Outcome colours the cell: pass, expected (failures all expected),
	// fail, error (the harness could not judge), unreachable, not-run
	// (another shard's), empty (the tags selected none of its scenarios).
	Outcome   string      `json:"outcome"`
	Scenarios int         `json:"scenarios"`
	Passed    int         `json:"passed"`
	Failed    int         `json:"failed"`   // with an unexpected failure
	Expected  int         `json:"expected"` // failed, every failure expected
	Errors    int         `json:"errors"`
	Skipped   int         `json:"skipped"`
	Pending   int         `json:"pending"`
	WorstRule string      `json:"worst_rule,omitempty"`
	Rules     []RuleCount `json:"rules,omitempty"`
	Report    string      `json:"report,omitempty"` // the unit's report.html, relative to matrix.html
	Dir       string      `json:"dir"`
	Seconds   float64     `json:"seconds"`
}

// RuleCount is how often a rule failed in a cell, and whose message it was.
type RuleCount struct {
	Rule     string `json:"rule"`
	Failures int    `json:"failures"`
	Expected int    `json:"expected"`
	By       string `json:"by,omitempty"` // the provider that emitted the failing messages; "" a failed step
}

// Cell outcomes.
const (
	outcomePass        = "pass"
	outcomeExpected    = "expected"
	outcomeFail        = "fail"
	outcomeError       = "error"
	outcomeUnreachable = "unreachable"
	outcomeNotRun      = "not-run"
	outcomeEmpty       = "empty" // the tags selected none of the unit's scenarios
)

var unitKinds = map[unitKind]string{unitPair: "pair", unitSingle: "single", unitClock: "clock"}

// attributed is one failure with the provider it is charged to.
type attributed struct {
	Failure
	by string // provider name, "" when no message shows whose it is
}

// failuresOf lists a scenario's failures, each charged to the provider
// whose service domain sent the failing message; a transaction rule or a
// failed step (a message that never came) is charged to no one.
func (m *Matrix) failuresOf(sc *ScenarioResult) []attributed {
	var out []attributed
	add := func(by string, vs []report.Verdict) {
		for _, v := range vs {
			if v.Status == report.Fail || v.Status == report.Error {
				out = append(out, attributed{Failure{Scenario: sc.Name, Rule: v.Rule, Detail: string(v.Status) + ": " + v.Detail}, by})
			}
		}
	}
	for _, msg := range sc.Messages {
		add(m.providerOfAddress(msg.From), msg.Verdicts)
	}
	add("", sc.Transaction)
	if sc.Status == "failed" && sc.FailedOn != failedGrading {
		out = append(out, attributed{Failure{Scenario: sc.Name, Rule: sc.FailedRule, Detail: sc.Status + ": " + sc.Error}, ""})
	}
	return out
}

// providerOfAddress is the matrix provider one of whose domains addr is at.
func (m *Matrix) providerOfAddress(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	for _, p := range m.Providers {
		if containsFold(p.Domains, d) {
			return p.Name
		}
	}
	return ""
}

// judge fills the cells from the units' summaries: each failure is
// expected when the expectations of the provider it is charged to match it
// (either provider of the unit for a failure charged to no one). It
// returns, per unit, the outcome for its own summary.
func (m *Matrix) judge(units []*unit) map[*unit]Outcome {
	used := map[string][]bool{}
	for name, exps := range m.Expect {
		used[name] = make([]bool, len(exps))
	}
	outcomes := map[*unit]Outcome{}
	m.Cells = nil
	for _, p := range m.Providers {
		p.AsSender, p.AsReceiver, p.Alone = map[string]int{}, map[string]int{}, map[string]int{}
	}
	for _, u := range units {
		c := &Cell{Sender: u.sender, Receiver: u.receiver, Kind: unitKinds[u.kind], Status: u.status, Reason: u.reason,
			Dir: u.unitDir(), Seconds: u.took.Seconds()}
		if u.summary != nil {
			outcomes[u] = m.judgeUnit(c, u, used)
		}
		c.Outcome = c.outcome()
		m.Cells = append(m.Cells, c)
	}
	m.markStale(used)
	return outcomes
}

// judgeUnit counts one unit's scenarios and failures into c.
func (m *Matrix) judgeUnit(c *Cell, u *unit, used map[string][]bool) Outcome {
	var o Outcome
	rules := map[[2]string]*RuleCount{}
	c.Report = u.unitDir() + "/report.html"
	for _, sc := range u.summary.Scenarios {
		c.Scenarios++
		unexpected := 0
		for _, f := range m.failuresOf(sc) {
			expected := m.expected(f, u, used)
			rc := rules[[2]string{f.Rule, f.by}]
			if rc == nil {
				rc = &RuleCount{Rule: f.Rule, By: f.by}
				rules[[2]string{f.Rule, f.by}] = rc
			}
			rc.Failures++
			if expected {
				rc.Expected++
				o.Expected = append(o.Expected, f.Failure)
			} else {
				unexpected++
				o.Unexpected = append(o.Unexpected, f.Failure)
			}
			m.charge(u, f)
		}
		switch sc.Status {
		case "passed":
			c.Passed++
		case "failed":
			if unexpected > 0 {
				c.Failed++
			} else {
				c.Expected++
			}
		case "skipped":
			c.Skipped++
		case "pending":
			c.Pending++
		default: // error, undefined
			c.Errors++
		}
	}
	for _, rc := range rules {
		c.Rules = append(c.Rules, *rc)
	}
	sort.Slice(c.Rules, func(i, j int) bool { return c.Rules[i].Rule < c.Rules[j].Rule })
	c.WorstRule = worstRule(c.Rules)
	return o
}

// expected matches f against the expectations of the provider it is
// charged to (of both providers of the unit when it is charged to no one)
// and marks the ones that match as used.
func (m *Matrix) expected(f attributed, u *unit, used map[string][]bool) bool {
	who := []string{f.by}
	if f.by == "" {
		who = []string{u.sender, u.receiver}
	}
	hit := false
	for _, name := range who {
		for i, e := range m.Expect[name] {
			if e.matches(f.Failure) {
				used[name][i], hit = true, true
			}
		}
	}
	return hit
}

// charge adds a failure to its provider's summary.
func (m *Matrix) charge(u *unit, f attributed) {
	p := m.providerNamed(f.by)
	if p == nil {
		return
	}
	switch {
	case u.kind != unitPair:
		p.Alone[f.Rule]++
	case f.by == u.sender:
		p.AsSender[f.Rule]++
	default:
		p.AsReceiver[f.Rule]++
	}
}

// markStale lists the expectations nothing matched (an unsharded matrix).
func (m *Matrix) markStale(used map[string][]bool) {
	for _, p := range m.Providers {
		p.Stale = nil
		if m.Shard != nil && m.Shard.Sharded() {
			continue
		}
		for i, e := range m.Expect[p.Name] {
			if !used[p.Name][i] {
				p.Stale = append(p.Stale, e)
			}
		}
	}
}

// worstRule is the rule with the most unexpected failures (then the most
// expected ones), lowest ID first on a tie.
func worstRule(rules []RuleCount) string {
	best, bestKey := "", [2]int{}
	for _, r := range rules {
		key := [2]int{r.Failures - r.Expected, r.Expected}
		if best == "" || key[0] > bestKey[0] || (key[0] == bestKey[0] && key[1] > bestKey[1]) {
			best, bestKey = r.Rule, key
		}
	}
	return best
}

// outcome colours a cell.
func (c *Cell) outcome() string {
	switch {
	case c.Status == unitElsewhere:
		return outcomeNotRun
	case c.Status == unitUnreachable:
		return outcomeUnreachable
	case c.Status == unitFailed || c.Errors > 0:
		return outcomeError
	case c.Scenarios == 0:
		return outcomeEmpty
	case c.Failed > 0:
		return outcomeFail
	case c.Expected > 0:
		return outcomeExpected
	}
	return outcomePass
}

func (m *Matrix) providerNamed(name string) *MatrixProvider {
	for _, p := range m.Providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// unreachable reports whether the named provider failed its preflight.
func (m *Matrix) unreachable(name string) bool { return m.reason(name) != "" }

func (m *Matrix) reason(name string) string {
	if p := m.providerNamed(name); p != nil {
		return p.Unreachable
	}
	return m.LabUnreachable[name]
}

// markUnreachable records why a provider failed its preflight.
func (m *Matrix) markUnreachable(name, why string) {
	if p := m.providerNamed(name); p != nil {
		p.Unreachable = why
		return
	}
	if m.LabUnreachable == nil {
		m.LabUnreachable = map[string]string{}
	}
	m.LabUnreachable[name] = why // a lab instance used as a counterpart
}

// cell returns the cell of a unit kind for sender (and receiver).
func (m *Matrix) cell(kind, sender, receiver string) *Cell {
	i := slices.IndexFunc(m.Cells, func(c *Cell) bool {
		return c.Kind == kind && c.Sender == sender && c.Receiver == receiver
	})
	if i < 0 {
		return nil
	}
	return m.Cells[i]
}
