// Package scenarios binds the Gherkin features to the probe and the grader
// and runs the suite with godog (STYLE 5, 23): a typed World per scenario in
// the context, Strict, randomized with a printed seed, concurrent, never
// stopping on the first failure. The target is configuration, never step text.
package scenarios

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
	"github.com/pecspec/pecspec/report"
)

// Options configure a run.
type Options struct {
	Target      *probe.Target
	Out         string        // junit.xml, cucumber.json, summary.json, evidence/
	Tags        string        // godog tag expression
	Concurrency int           // default 2
	Seed        int64         // scenario order; 0 picks one (printed)
	StepTimeout time.Duration // deadline of each waiting step; default 60s
	Console     io.Writer     // live progress and the final tables; nil = discard
	// Live: Console is a terminal; passed scenarios update one progress
	// line in place instead of printing a line each.
	Live     bool
	Features fs.FS // default features.FS
	// Expect lists the failures the run expects (--expect): the run passes
	// when every failure is expected and every expectation happened.
	Expect []Expectation
	// TargetFile is the path Target was read from, LabDir the lab it was
	// completed from with --lab (both kept in resume.json).
	TargetFile, LabDir string
	// Resume, when set, runs only the scenarios it suspended, from their
	// saved state; Previous are the results of the earlier run that are
	// kept in the summary (the scenarios that ended then).
	Resume   *ResumeState
	Previous []*ScenarioResult
	// Now is the clock of the real-time waits (default time.Now).
	Now func() time.Time
	// AnswerTimeout bounds each exchange with an endpoint (connection, TLS,
	// greeting, login, each reply): default probe.DefaultAnswerTimeout.
	AnswerTimeout time.Duration
	// SkipPreflight runs the scenarios without the preflight checks (each
	// scenario then meets a setup problem on its own).
	SkipPreflight bool
	TestingT      *testing.T
	// Shard runs only this part of the scenarios (--shard i/n, shard.go).
	Shard Shard
	// Several runs against one lab at once (a matrix, matrix.go) share:
	// Peer, a gamma already running, used as it is and left running (the
	// target file's peer section is not started again, and its inbox is
	// not saved by this run); Clock, the lock that makes a scenario moving
	// clocks (@exclusive) run alone across all of them; and MoveClocks, more
	// providers whose controllable clocks move with the target's (besides
	// its counterpart), so that every provider keeps one time.
	Peer       *peer.Peer
	Clock      *sync.RWMutex
	MoveClocks []*probe.Target
}

// Result counts a run's scenarios.
type Result struct {
	Scenarios, Passed, Failed, Undefined int
	// Pending scenarios wait in real time: resume them with --resume.
	Pending int
	// Skipped need a capability the target does not declare; Errors could
	// not be judged (harness errors: exit code 2), FirstError says why.
	Skipped, Errors int
	FirstError      string
	// Due is when the first pending scenario can go on.
	Due          time.Time
	MustFailures int
	// Outcome sorts the failures against Options.Expect.
	Outcome Outcome
	// Selected is how many scenarios the run selected (--tags); when the
	// run was interrupted (Interrupted says why) fewer ended.
	Selected    int
	Interrupted error
}

// ErrHarness marks problems of the harness or its configuration (exit code 2).
var ErrHarness = errors.New("scenarios: harness")

// Run runs the suite against opts.Target and writes the reports in opts.Out.
func Run(ctx context.Context, opts Options) (Result, error) {
	r, err := newRunner(opts)
	if err != nil {
		return Result{}, err
	}
	r.ctx = ctx
	ctx = probe.WithAnswerTimeout(ctx, r.opts.AnswerTimeout)
	ctx = probe.WithMaxMessage(ctx, largestMessage(opts.Target, opts.Target.Counterpart))
	if !opts.SkipPreflight {
		if err := r.preflight(ctx); err != nil {
			return Result{}, err
		}
	}
	if err := r.startPeer(ctx); err != nil {
		return Result{}, err
	}
	if r.opts.Peer == nil {
		defer r.peer.Close()
	}
	suite := godog.TestSuite{
		Name:                "pecspec",
		ScenarioInitializer: r.initialize,
		Options: &godog.Options{
			// junit.xml is written from the summary (junit.go): it knows
			// the expectations, godog does not.
			Format:         "cucumber", // to Output, below: a path in Format is split at its commas
			Output:         io.Discard,
			FS:             r.opts.Features,
			Strict:         true,
			Randomize:      r.opts.Seed,
			Concurrency:    r.opts.Concurrency,
			Tags:           r.tags(), // limits_steps.go: no @slow unless asked for
			TestingT:       opts.TestingT,
			DefaultContext: ctx,
			NoColors:       true,
		},
	}
	paths := r.paths()
	r.selected = map[string]bool{}
	if len(paths) > 0 {
		suite.Options.Paths = paths
		if err := r.selectScenarios(suite); err != nil {
			return Result{}, err
		}
	}
	fmt.Fprintf(r.console, "pecspec: target %s, %d scenarios, seed %d, concurrency %d\n", opts.Target.Name, len(r.selected), r.opts.Seed, r.opts.Concurrency)
	r.progress = newProgress(r.console, opts.Live, len(r.selected))
	r.started = time.Now()
	if len(paths) > 0 {
		f, err := os.Create(filepath.Join(opts.Out, CucumberFile))
		if err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrHarness, err)
		}
		// Buffered: godog's cucumber formatter writes in small pieces, a
		// system call each (4.8 of the harness's 39 CPU seconds in the 4×4
		// matrix test).
		w := bufio.NewWriterSize(f, 1<<16)
		suite.Options.Output = w
		suite.Run()
		if err := errors.Join(w.Flush(), f.Close()); err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrHarness, err)
		}
	} else if err := writeEmptyReports(opts.Out); err != nil {
		return Result{}, err // a shard with nothing to run
	}
	r.finished = time.Now()
	r.progress.end()
	if r.opts.Peer == nil {
		if err := r.savePeerInbox(); err != nil {
			return Result{}, err
		}
	}
	if err := r.writeResume(); err != nil {
		return Result{}, err
	}
	if err := r.writeReports(); err != nil {
		return Result{}, err
	}
	res := r.result()
	r.printTables(res)
	return res, nil
}

// selectScenarios reads which scenarios the run selects (its paths and --tags), so
// that the progress counts them and --expect tells an entry whose scenario
// was not selected from a stale one.
func (r *runner) selectScenarios(suite godog.TestSuite) error {
	feats, err := suite.RetrieveFeatures()
	if err != nil {
		return fmt.Errorf("%w: features: %v", ErrHarness, err)
	}
	r.selected = map[string]bool{}
	for _, f := range feats {
		for _, p := range f.Pickles {
			r.selected[p.Name] = true
		}
	}
	return nil
}

func newRunner(opts Options) (*runner, error) {
	if opts.Target == nil {
		return nil, fmt.Errorf("%w: no target", ErrHarness)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Int64N(1<<31) + 1
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 60 * time.Second
	}
	if opts.AnswerTimeout <= 0 {
		opts.AnswerTimeout = min(probe.DefaultAnswerTimeout, opts.StepTimeout)
	}
	if opts.Features == nil {
		opts.Features = features.FS
	}
	if opts.Console == nil {
		opts.Console = io.Discard
	}
	pickles, err := Pickles(opts.Features)
	if err != nil {
		return nil, fmt.Errorf("%w: features: %v", ErrHarness, err)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHarness, err)
	}
	trust, err := loadTrust(opts.Target)
	if err != nil {
		return nil, err
	}
	grading := report.Options{Trust: trust}
	for _, p := range []*probe.Target{opts.Target, opts.Target.Counterpart} {
		if p == nil {
			continue
		}
		for _, f := range p.CRLFiles() {
			crl, err := report.LoadCRL(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrHarness, err)
			}
			grading.CRLs = append(grading.CRLs, crl)
		}
	}
	if opts.Target.LDAPURL != "" {
		// The grader's own reading of the index the target uses: the infra
		// rules (SIG-09, CRT-01, ACC-05, PIC-02, ...) need it.
		ix, err := report.LoadIndex(opts.Target.LDAPURL)
		if err != nil {
			return nil, fmt.Errorf("%w: index %s: %v", ErrHarness, opts.Target.LDAPURL, err)
		}
		grading.Index = ix
	}
	r := &runner{opts: opts, console: opts.Console, trust: trust, pickles: pickles,
		evidence: &probe.Evidence{Out: opts.Out}, grading: grading, clock: opts.Clock,
		progress: newProgress(opts.Console, false, len(pickles))}
	if r.clock == nil {
		r.clock = &sync.RWMutex{}
	}
	if opts.Resume != nil {
		r.resume = map[string]Suspended{}
		for _, s := range opts.Resume.Scenarios {
			r.resume[s.Name] = s
		}
	}
	return r, nil
}

// paths are the feature paths godog runs: all of them, a shard's scenarios,
// or when resuming the suspended scenarios (feature:line).
func (r *runner) paths() []string {
	if r.resume == nil && r.opts.Shard.Sharded() {
		return shardPaths(r.pickles, r.opts.Tags, r.opts.Shard)
	}
	if r.resume == nil {
		return []string{"."}
	}
	var out []string
	for _, s := range r.opts.Resume.Scenarios {
		if !slices.Contains(out, s.Path) {
			out = append(out, s.Path)
		}
	}
	return out
}

// loadTrust reads the CA bundles of the target and its counterpart.
func loadTrust(t *probe.Target) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, p := range []*probe.Target{t, t.Counterpart} {
		if p == nil || p.Trust == "" {
			continue
		}
		pem, err := os.ReadFile(p.Path(p.Trust))
		if err != nil {
			return nil, fmt.Errorf("%w: trust of %s: %v", ErrHarness, p.Name, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: trust of %s: no PEM certificate", ErrHarness, p.Name)
		}
	}
	return pool, nil
}
