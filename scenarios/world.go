package scenarios

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
	"github.com/pecspec/pecspec/report"
)

// runner is the state of one run, shared by the scenarios (guarded by mu).
type runner struct {
	opts     Options
	console  io.Writer
	trust    *x509.CertPool
	evidence *probe.Evidence
	grading  report.Options
	peer     *peer.Peer // gamma, when the target file names it
	breaker  breaker    // endpoints found dead in this run (harness.go)

	// clock is held shared by every scenario and exclusively by those that
	// move the target's clock or hold the counterpart's work (@exclusive):
	// advancing a clock under another scenario would fire its timers.
	// Options.Clock shares it between runs.
	clock *sync.RWMutex

	mu                sync.Mutex
	results           []*ScenarioResult
	started, finished time.Time
	suspended         []Suspended          // scenarios waiting in real time (resume.go)
	resume            map[string]Suspended // by name, when resuming
	pickles           []Pickle
	controllable      *bool // the target's clock, once asked
	// clockOffset is how far the target's clock is ahead of real time,
	// as last read after moving it (control_steps.go).
	clockOffset time.Duration

	// ctx is the run's context: once it ends (SIGINT, SIGTERM, a closed
	// standard output) the run is interrupted — the scenarios under way end
	// in error, the others do not start (interrupt.go).
	ctx      context.Context
	progress *progress
	selected map[string]bool // the names of the scenarios the run selected
}

// now is the run's clock for real-time waits (Options.Now).
func (r *runner) now() time.Time {
	if r.opts.Now != nil {
		return r.opts.Now()
	}
	return time.Now()
}

// featureOf is the feature file of a godog uri ("delivery.feature:12" when
// the run selected scenarios by line).
func featureOf(uri string) string {
	f, _, _ := strings.Cut(uri, ":")
	return f
}

// pathOf is "feature:line" of the scenario named name in uri.
func (r *runner) pathOf(uri, name string) string {
	uri = featureOf(uri)
	for _, p := range r.pickles {
		if p.Feature == uri && p.Name == name {
			return fmt.Sprintf("%s:%d", uri, p.Line)
		}
	}
	return uri
}

// World is one scenario's state (STYLE 23: a typed struct in the context).
type World struct {
	r     *runner
	res   *ScenarioResult
	sub   report.Submission
	caps  []report.Captured
	boxes map[string]*probe.Mailbox
	// parties maps a handle (and handle@role) to the mailbox a step bound
	// it to ("bob at the counterpart"), so later steps mean the same one.
	parties map[string]*party
	sender  *party
	// rcpts are the submission's recipients, To then Cc.
	rcpts []*party
	// token is unique to the scenario and in the subject of what it sends:
	// the admin API holds match it.
	token  string
	unlock func() // releases the run's clock lock
	// done counts the steps that passed; replay the steps still to skip on
	// resume; elapsed is the real time waited so far in real-time mode, and
	// suspendAt when the waiting step may go on (resume.go).
	done, replay int
	elapsed      time.Duration
	suspendAt    time.Time
	path         string // feature:line of the scenario, for --resume
	// tried and refusal record a protocol-level submission attempt.
	tried   bool
	refusal error
	// variant is how the next certified message is built: "with an
	// attachment", "signed with S/MIME" (multipart/signed) or "... in
	// opaque form" (application/pkcs7-mime).
	variant string
	// tipo is the receipt type the submission asked for ("" = completa).
	tipo string
	// skip is the capability the scenario needs and the target lacks;
	// notRun marks a scenario the interrupted run does not start.
	skip   string
	notRun bool
	// transcripts are the scenario's SMTP and IMAP sessions (STYLE 17).
	transcripts probe.Transcripts
}

type worldKey struct{}

func world(ctx context.Context) *World { return ctx.Value(worldKey{}).(*World) }

// initialize registers the steps and the hooks of one scenario.
func (r *runner) initialize(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w := &World{r: r, boxes: map[string]*probe.Mailbox{}, parties: map[string]*party{},
			res: &ScenarioResult{Name: s.Name, Feature: featureOf(s.Uri), Steps: r.stepsOf(s)}, token: "T" + unknownLocal()[8:]}
		exclusive := false
		for _, t := range s.Tags {
			w.res.Tags = append(w.res.Tags, t.Name)
			exclusive = exclusive || t.Name == tagExclusive
		}
		w.notRun = r.interrupted() != nil
		w.skip = r.missingCapability(s.Tags)
		w.unlock = r.lockClock(exclusive && w.skip == "" && !w.notRun)
		w.res.Started = time.Now()
		w.path = r.pathOf(s.Uri, s.Name)
		w.res.FeatureName = r.featureName(s.Uri)
		w.res.ClockStart = r.offset()
		ctx = context.WithValue(ctx, worldKey{}, w)
		ctx = probe.WithTranscripts(ctx, &w.transcripts)
		if sus, ok := r.resume[s.Name]; ok {
			if err := w.restore(sus); err != nil {
				return ctx, err // the After hook still finds w, unlocks and records the failure
			}
		}
		return ctx, nil
	})
	sc.StepContext().Before(func(ctx context.Context, _ *godog.Step) (context.Context, error) {
		if w, ok := ctx.Value(worldKey{}).(*World); ok && (w.skip != "" || w.notRun) {
			return ctx, godog.ErrSkip
		}
		return ctx, nil
	})
	sc.StepContext().After(func(ctx context.Context, step *godog.Step, st godog.StepResultStatus, err error) (context.Context, error) {
		w, ok := ctx.Value(worldKey{}).(*World)
		if !ok {
			return ctx, nil
		}
		if st == godog.StepPassed {
			w.done++
		}
		w.res.setStep(step.Id, st)
		// nil: the step's own error stands; returning it again would make
		// godog report it twice ("err, err").
		return ctx, nil
	})
	reg := replaying{sc}
	registerSubmitSteps(reg)
	registerMailboxSteps(reg)
	registerPOP3Steps(reg)
	registerGradeSteps(reg)
	registerPeerSteps(reg)
	registerIndexSteps(reg)
	registerControlSteps(reg)
	registerLimitsSteps(reg)
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		w, ok := ctx.Value(worldKey{}).(*World)
		if !ok {
			return ctx, nil
		}
		for _, b := range w.boxes {
			b.Close()
		}
		w.unlock()
		w.finish(err)
		return ctx, nil
	})
}

// finish records the scenario's outcome and prints its progress line.
func (w *World) finish(err error) {
	if w.notRun {
		return // the run was interrupted before this scenario began
	}
	res := w.res
	res.Finished, res.Sender = time.Now(), w.sub.Sender
	res.ClockOffset = w.r.offset()
	res.Transcripts = w.transcripts.Sessions()
	var suspended errSuspended
	switch {
	case err != nil && w.r.interrupted() != nil:
		res.Status, res.FailedOn = "error", failedHarness
		res.Error = fmt.Sprintf("harness: %v before the scenario ended", w.r.interrupted())
	case w.skip != "":
		res.Status, res.Error = "skipped", "needs "+w.skip
	case err == nil:
		res.Status = "passed"
	case errors.Is(err, godog.ErrUndefined):
		res.Status, res.Error = "undefined", err.Error()
	case errors.As(err, &suspended):
		res.Status, res.Error = "pending", suspended.Error()
		w.r.mu.Lock()
		w.r.suspended = append(w.r.suspended, w.suspend())
		w.r.mu.Unlock()
	case errors.Is(err, godog.ErrPending):
		res.Status, res.Error = "pending", err.Error()
	default:
		res.Status, res.FailedRule, res.FailedOn = classifyFailure(err)
		res.Error = err.Error()
		switch res.FailedOn {
		case failedHarness:
			res.Error = "harness: " + res.Error
		case failedUnclassified:
			res.Error = "harness bug: the step failed without naming a rule: " + res.Error
		}
		if trace := fmt.Sprintf("%+v", err); trace != err.Error() && strings.Contains(trace, "runtime error") {
			// A panic in a step is a harness bug: show where (godog keeps the stack).
			w.r.progress.printf("harness panic in %q:\n%s\n", res.Name, trace)
		}
	}
	if len(w.caps) > 0 && w.sub.MessageID != "" {
		w.saveManifest()
	}
	w.r.mu.Lock()
	w.r.results = append(w.r.results, res)
	w.r.mu.Unlock()
	w.r.progress.scenario(res)
}

// tagExclusive marks scenarios that run alone (they move a clock).
const tagExclusive = "@exclusive"

func (r *runner) lockClock(exclusive bool) func() {
	if exclusive {
		r.clock.Lock()
		return r.clock.Unlock
	}
	r.clock.RLock()
	return r.clock.RUnlock
}

// mustOf returns the verdicts that fail the run: MUST failures, errors (a
// rule the grader could not evaluate on hostile input is not a pass) and
// unknowns (SIG-05: the signer's chain ends outside the CAs the target files
// declare — in a run the anchors are given, so a signer they do not vouch
// for is not a pass).
func mustOf(vs []report.Verdict) []report.Verdict {
	var out []report.Verdict
	for _, v := range vs {
		if failing(v) {
			out = append(out, v)
		}
	}
	return out
}

// failing reports whether v fails the run (mustOf).
func failing(v report.Verdict) bool {
	return v.Status == report.Fail || v.Status == report.Error || v.Status == report.Unknown
}

// saveManifest writes the scenario's transaction.json next to its evidence,
// so `pecspec grade --transaction` re-judges it offline.
func (w *World) saveManifest() {
	m := report.Manifest{Submission: w.sub}
	for i, msg := range w.res.Messages {
		if i < len(w.caps) && strings.HasPrefix(msg.File, "evidence/") {
			m.Messages = append(m.Messages, report.ManifestEntry{File: path.Base(msg.File), Mailbox: msg.Mailbox, Service: w.caps[i].Service, AtMX: w.caps[i].AtMX})
		}
	}
	if _, err := w.r.evidence.SaveJSON(w.res.Name, report.ManifestName, m); err != nil {
		fmt.Fprintf(w.r.console, "warning: %v\n", err)
	}
}
