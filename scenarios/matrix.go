package scenarios

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
)

// The interoperability matrix (`pecspec matrix`): N providers of one lab —
// reference instances and enrolled providers under test in any mix — and
// for every ordered pair (X sends, Y receives, X ≠ Y) the cross-provider
// scenarios (@interop) with X as the target and Y as its counterpart, every
// message of both graded; plus, once per provider, its single-provider
// scenarios (the rest) with a lab instance as counterpart. Each pair and
// each provider's scenarios are a unit: one run of the suite with its own
// output directory and report, as `pecspec run` writes it.
//
// Shared state. The units run concurrently (--concurrency), all against one
// lab, so they share: gamma, whose MX address is one (one peer serves every
// unit); the providers' clocks, which a matrix keeps together (aligned at
// the start; a scenario that moves a clock moves every provider's
// controllable clock, and runs alone across all units: one clock lock); and
// the mailboxes of the test accounts, which every scenario already shares
// safely (each waits for messages about its own submission). The scenarios
// that move clocks (@exclusive) run last, in units of their own, so that a
// provider whose clock cannot move drifts only after every pair has run.

// MatrixOptions configure a matrix.
type MatrixOptions struct {
	// Providers are the matrix's rows and columns, each a target alone (its
	// counterpart is the matrix's choice): at least two, names distinct.
	Providers []*probe.Target
	// Lab is a target file of the lab: its external domain, gamma and view
	// of the lab surround every unit; LabProviders are the lab's own
	// instances, counterparts of the single-provider units.
	Lab          *probe.Target
	LabProviders []*probe.Target
	Out          string
	// Concurrency is how many units run at once (default 4);
	// ScenarioConcurrency how many scenarios each runs at once (default 4).
	Concurrency, ScenarioConcurrency int
	Tags                             string // narrows every unit's scenarios
	// Expect lists each provider's known failures, by provider name: a
	// failure is matched against the expectations of the provider that
	// emitted the message it is about.
	Expect                     map[string][]Expectation
	Shard                      Shard // deals the units (by pair) over n shards
	StepTimeout, AnswerTimeout time.Duration
	Seed                       int64
	Console                    io.Writer // one line per unit and the final table; nil = discard
	Verbose                    bool      // every scenario's line too
}

// RunMatrix runs the matrix and writes matrix.html, matrix.json, junit.xml
// and every unit's reports in opts.Out.
func RunMatrix(ctx context.Context, opts MatrixOptions) (*Matrix, error) {
	m, err := newMatrixRun(opts)
	if err != nil {
		return nil, err
	}
	ctx = probe.WithAnswerTimeout(ctx, m.opts.AnswerTimeout)
	ctx = probe.WithMaxMessage(ctx, largestMessage(m.opts.Providers...))
	m.preflight(ctx)
	if err := m.startPeer(ctx); err != nil {
		return nil, err
	}
	defer m.peer.Close()
	if err := m.alignClocks(ctx); err != nil {
		return nil, err
	}
	m.result.Started = time.Now()
	m.runUnits(ctx)
	m.result.Finished = time.Now()
	if err := m.savePeerInbox(); err != nil {
		return nil, err
	}
	return m.finish()
}

// matrixRun is the state of a running matrix.
type matrixRun struct {
	opts    MatrixOptions
	units   []*unit
	peer    *peer.Peer
	clock   sync.RWMutex // shared by every unit (Options.Clock)
	console *lockedWriter
	result  *Matrix
}

func newMatrixRun(opts MatrixOptions) (*matrixRun, error) {
	if len(opts.Providers) < 2 {
		return nil, fmt.Errorf("%w: a matrix needs two providers or more", ErrHarness)
	}
	seen := map[string]bool{}
	for _, p := range opts.Providers {
		if seen[p.Name] {
			return nil, fmt.Errorf("%w: two providers are called %s", ErrHarness, p.Name)
		}
		seen[p.Name] = true
	}
	if opts.Lab == nil {
		return nil, fmt.Errorf("%w: a matrix runs in a lab: no lab target file", ErrHarness)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.ScenarioConcurrency <= 0 {
		opts.ScenarioConcurrency = 4
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 60 * time.Second
	}
	if opts.AnswerTimeout <= 0 {
		opts.AnswerTimeout = min(probe.DefaultAnswerTimeout, opts.StepTimeout)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Console == nil {
		opts.Console = io.Discard
	}
	m := &matrixRun{opts: opts, console: &lockedWriter{w: opts.Console}}
	m.units = planUnits(opts.Providers, opts.Shard)
	m.result = m.newMatrix()
	return m, nil
}

// startPeer runs gamma once for every unit (its MX address is one).
func (m *matrixRun) startPeer(ctx context.Context) error {
	g := m.opts.Lab.Peer
	if g == nil {
		return nil
	}
	p, err := peer.Start(*g, m.opts.Lab.Path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	m.peer = p
	return nil
}

// savePeerInbox keeps what gamma received in the whole matrix in peer/.
func (m *matrixRun) savePeerInbox() error {
	if m.peer == nil {
		return nil
	}
	r := &runner{opts: Options{Out: m.opts.Out}, peer: m.peer}
	return r.savePeerInbox()
}

// unitDir is where a unit writes its reports, relative to Out.
func (u *unit) unitDir() string {
	switch u.kind {
	case unitPair:
		return filepath.Join("pairs", u.sender, u.receiver)
	case unitClock:
		return filepath.Join("clock", u.sender)
	}
	return filepath.Join("single", u.sender)
}

// lockedWriter serialises the units' console lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, a...)
}

// prefixed is a unit's console: every line it writes, behind the unit's
// name.
type prefixed struct {
	l      *lockedWriter
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	p.l.printf("%s%s", p.prefix, b)
	return len(b), nil
}

// newMatrix is the matrix's result before any unit ran: its providers.
func (m *matrixRun) newMatrix() *Matrix {
	mx := &Matrix{Tags: m.opts.Tags, Seed: m.opts.Seed, Expect: m.opts.Expect}
	if m.opts.Shard.Sharded() {
		s := m.opts.Shard
		mx.Shard = &s
	}
	for _, name := range providerNames(m.opts.Providers) {
		p := m.provider(name)
		mx.Providers = append(mx.Providers, &MatrixProvider{Name: p.Name, ProviderName: p.ProviderName, Domains: p.Domains})
	}
	return mx
}

// finish judges the units, gives each unit's own summary and report the
// matrix's judgement, and writes the matrix's reports.
func (m *matrixRun) finish() (*Matrix, error) {
	for u, o := range m.result.judge(m.units) {
		u.summary.Outcome = o
		if err := WriteSummary(filepath.Join(m.opts.Out, u.unitDir()), u.summary); err != nil {
			return nil, err
		}
	}
	if err := WriteMatrix(m.opts.Out, m.result); err != nil {
		return nil, err
	}
	m.console.mu.Lock()
	m.result.PrintTable(m.console.w)
	m.console.mu.Unlock()
	return m.result, nil
}
