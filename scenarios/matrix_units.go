package scenarios

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// unitKind is what a unit of the matrix runs.
type unitKind int

const (
	unitPair   unitKind = iota // the @interop scenarios, sender as target, receiver as counterpart
	unitSingle                 // one provider's other scenarios, a lab instance as counterpart
	unitClock                  // one provider's scenarios that move clocks (@exclusive): last
)

// Unit states (Unit.Status in matrix.json).
const (
	unitRan         = "ran"
	unitUnreachable = "unreachable" // a provider of the unit failed its preflight
	unitFailed      = "error"       // the run itself failed (harness)
	unitElsewhere   = "other-shard" // another shard runs it
)

// unit is one run of the suite in the matrix.
type unit struct {
	kind             unitKind
	sender, receiver string // receiver is "" but for pairs
	mine             bool   // this shard runs it
	status, reason   string
	summary          *Summary
	took             time.Duration
}

// planUnits lists the matrix's units in a fixed order — every ordered pair,
// then every provider's single-provider and clock units, providers by name —
// and deals them round-robin over the shards.
func planUnits(providers []*probe.Target, shard Shard) []*unit {
	names := providerNames(providers)
	var us []*unit
	for _, x := range names {
		for _, y := range names {
			if x != y {
				us = append(us, &unit{kind: unitPair, sender: x, receiver: y})
			}
		}
	}
	for _, kind := range []unitKind{unitSingle, unitClock} {
		for _, x := range names {
			us = append(us, &unit{kind: kind, sender: x})
		}
	}
	for k, u := range us {
		u.mine = shard.Takes(k)
		if !u.mine {
			u.status = unitElsewhere
		}
	}
	return us
}

func providerNames(providers []*probe.Target) []string {
	var names []string
	for _, p := range providers {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// tags selects a unit's scenarios, within the matrix's own tag expression.
func (u *unit) tags(user string) string {
	own := map[unitKind]string{unitPair: tagInterop, unitSingle: "~" + tagInterop + " && ~" + tagExclusive,
		unitClock: tagExclusive + " && ~" + tagInterop}[u.kind]
	if strings.TrimSpace(user) == "" {
		return own + " && ~" + tagSlow // as a run without --tags: the limits scenarios only when asked
	}
	return user + " && " + own
}

// name is how the console and the reports call the unit.
func (u *unit) name() string {
	switch u.kind {
	case unitPair:
		return u.sender + " → " + u.receiver
	case unitClock:
		return u.sender + " (clock)"
	}
	return u.sender + " (single)"
}

// provider returns the matrix provider called name.
func (m *matrixRun) provider(name string) *probe.Target {
	for _, p := range m.opts.Providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// unitTarget composes the target of a unit: the sender, surrounded by the
// lab's parties, with the receiver as counterpart (a pair) or a lab
// instance other than itself (its own scenarios).
func (m *matrixRun) unitTarget(u *unit) *probe.Target {
	x := *m.provider(u.sender)
	x.Surround(m.opts.Lab)
	if u.kind == unitPair {
		y := *m.provider(u.receiver)
		y.Counterpart = nil
		x.Counterpart = &y
	} else {
		x.Counterpart = m.labCounterpart(x.Name)
	}
	return &x
}

// labCounterpart is the counterpart of a provider's own scenarios: the
// lab target file's counterpart (beta), or for that one the file's target
// (alpha), or else the first other lab instance.
func (m *matrixRun) labCounterpart(name string) *probe.Target {
	candidates := []*probe.Target{m.opts.Lab.Counterpart, m.opts.Lab}
	for _, p := range append(candidates, m.opts.LabProviders...) {
		if p != nil && p.Name != name {
			c := *p
			c.Counterpart, c.External, c.Peer, c.Lab = nil, nil, nil, nil
			return &c
		}
	}
	return nil
}

// clockParties are every provider the matrix keeps one time for: its own
// and the lab's instances.
func (m *matrixRun) clockParties() []*probe.Target {
	out := append([]*probe.Target(nil), m.opts.Providers...)
	for _, p := range m.opts.LabProviders {
		if m.provider(p.Name) == nil {
			out = append(out, p)
		}
	}
	return out
}

// runUnits runs this shard's units: pairs and single-provider units first,
// Concurrency at a time, then the clock units.
func (m *matrixRun) runUnits(ctx context.Context) {
	var first, last []*unit
	for _, u := range m.units {
		switch {
		case !u.mine || u.status != "":
		case u.kind == unitClock:
			last = append(last, u)
		default:
			first = append(first, u)
		}
	}
	for _, phase := range [][]*unit{first, last} {
		work := make(chan *unit)
		var wg sync.WaitGroup
		for range m.opts.Concurrency {
			wg.Go(func() {
				for u := range work {
					m.runUnit(ctx, u)
				}
			})
		}
		for _, u := range phase {
			work <- u
		}
		close(work)
		wg.Wait()
	}
}

// runUnit runs one unit into its directory.
func (m *matrixRun) runUnit(ctx context.Context, u *unit) {
	start := time.Now()
	out := filepath.Join(m.opts.Out, u.unitDir())
	var console io.Writer = io.Discard
	if m.opts.Verbose {
		console = prefixed{l: m.console, prefix: "[" + u.name() + "] "}
	}
	_ = os.RemoveAll(out)
	_, err := Run(ctx, Options{Target: m.unitTarget(u), Out: out, Tags: u.tags(m.opts.Tags),
		Concurrency: m.opts.ScenarioConcurrency, Seed: m.opts.Seed, StepTimeout: m.opts.StepTimeout,
		AnswerTimeout: m.opts.AnswerTimeout, Console: console, Expect: m.unitExpect(u), SkipPreflight: true,
		Peer: m.peer, Clock: &m.clock, MoveClocks: m.clockParties()})
	u.took = time.Since(start)
	if err == nil {
		u.summary, err = ReadSummary(out)
	}
	if err != nil {
		u.status, u.reason = unitFailed, oneLine(err)
		m.console.printf("%-28s harness error: %s\n", u.name(), u.reason)
		return
	}
	u.status = unitRan
	t := u.summary.Totals
	m.console.printf("%-28s %3d scenarios: %d passed, %d failed, %d in error, %d skipped (%v)\n", u.name(),
		t.Scenarios, t.Passed, t.Failed, t.Errors, t.Skipped, u.took.Round(time.Millisecond))
}

// unitExpect are the expectations of the unit's providers: its own report
// shows them; the matrix judges each failure against its emitter's alone.
func (m *matrixRun) unitExpect(u *unit) []Expectation {
	out := append([]Expectation(nil), m.opts.Expect[u.sender]...)
	if u.receiver != "" {
		out = append(out, m.opts.Expect[u.receiver]...)
	}
	return out
}

// alignClocks moves every controllable clock of the matrix to the one
// furthest ahead (clocks only move forward): an earlier run may have
// advanced some, and a pair's transaction rules compare both providers'
// instants.
func (m *matrixRun) alignClocks(ctx context.Context) error {
	type reading struct {
		p      *probe.Target
		offset time.Duration
	}
	r := &runner{opts: Options{StepTimeout: m.opts.StepTimeout}}
	var rs []reading
	var ahead time.Duration
	for _, p := range m.clockParties() {
		if !slices.Contains(p.Capabilities, "controllable-clock") || p.Admin == nil || m.result.unreachable(p.Name) {
			continue
		}
		var st struct {
			Controllable bool      `json:"controllable"`
			Now          time.Time `json:"now"`
		}
		if err := r.adminCall(ctx, p, http.MethodGet, "/clock", nil, &st); err != nil || !st.Controllable {
			continue // the units' preflight or steps report it
		}
		off := st.Now.Sub(time.Now())
		rs = append(rs, reading{p, off})
		ahead = max(ahead, off)
	}
	for _, x := range rs {
		if d := (ahead - x.offset).Round(time.Second); d >= time.Second {
			q := url.Values{"by": {d.String()}}
			if err := r.adminCall(ctx, x.p, http.MethodPost, "/clock/advance?"+q.Encode(), nil, nil); err != nil {
				return err
			}
			m.console.printf("%-28s clock advanced by %v to the matrix's time\n", x.p.Name, d)
		}
	}
	return nil
}
