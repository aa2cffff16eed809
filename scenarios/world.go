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
	"github.com/pecspec/pecspec/report"
)

// runner is the state of one run, shared by the scenarios (guarded by mu).
type runner struct {
	opts     Options
	console  io.Writer
	trust    *x509.CertPool
	evidence *probe.Evidence
	grading  report.Options

	mu                sync.Mutex
	results           []*ScenarioResult
	started, finished time.Time
}

// World is one scenario's state (STYLE 23: a typed struct in the context).
type World struct {
	r     *runner
	res   *ScenarioResult
	sub   report.Submission
	caps  []report.Captured
	boxes map[string]*probe.Mailbox
	// bound maps a handle to the provider and account a step bound it to
	// ("bob at the counterpart"), so later steps mean the same mailbox.
	bound  map[string]binding
	failed []string // MUST failures found by the grading steps
}

type binding struct {
	provider *probe.Target
	account  probe.Account
}

type worldKey struct{}

func world(ctx context.Context) *World { return ctx.Value(worldKey{}).(*World) }

// initialize registers the steps and the hooks of one scenario.
func (r *runner) initialize(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w := &World{r: r, boxes: map[string]*probe.Mailbox{}, bound: map[string]binding{}, res: &ScenarioResult{Name: s.Name, Feature: s.Uri}}
		for _, t := range s.Tags {
			w.res.Tags = append(w.res.Tags, t.Name)
		}
		return context.WithValue(ctx, worldKey{}, w), nil
	})
	registerSubmitSteps(sc)
	registerMailboxSteps(sc)
	registerGradeSteps(sc)
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		w := world(ctx)
		for _, b := range w.boxes {
			b.Close()
		}
		w.finish(err)
		return ctx, nil
	})
}

// finish records the scenario's outcome and prints its progress line.
func (w *World) finish(err error) {
	res := w.res
	switch {
	case err == nil:
		res.Status = "passed"
	case errors.Is(err, godog.ErrUndefined):
		res.Status, res.Error = "undefined", err.Error()
	case errors.Is(err, godog.ErrPending):
		res.Status, res.Error = "pending", err.Error()
	default:
		res.Status, res.Error = "failed", err.Error()
		if trace := fmt.Sprintf("%+v", err); trace != err.Error() && strings.Contains(trace, "runtime error") {
			// A panic in a step is a harness bug: show where (godog keeps the stack).
			fmt.Fprintf(w.r.console, "harness panic in %q:\n%s\n", res.Name, trace)
		}
	}
	if len(w.caps) > 0 && w.sub.MessageID != "" {
		res.Transaction = report.GradeTransaction(w.sub, w.caps, w.r.grading)
		w.saveManifest()
	}
	w.r.mu.Lock()
	w.r.results = append(w.r.results, res)
	w.r.mu.Unlock()
	must := 0
	for _, m := range res.Messages {
		must += len(mustOf(m.Verdicts))
	}
	must += len(mustOf(res.Transaction))
	line := fmt.Sprintf("%-9s %s  (%d messages, %d MUST failures)", strings.ToUpper(res.Status), res.Name, len(res.Messages), must)
	if res.Error != "" && res.Status != "passed" {
		line += "\n          " + strings.ReplaceAll(res.Error, "\n", "\n          ")
	}
	fmt.Fprintln(w.r.console, line)
}

func mustOf(vs []report.Verdict) []report.Verdict {
	var out []report.Verdict
	for _, v := range vs {
		if v.Status == report.Fail {
			out = append(out, v)
		}
	}
	return out
}

// account finds a handle ("alice"): as bound earlier in the scenario, else in
// the target, then in the counterpart.
func (w *World) account(handle string) (*probe.Target, probe.Account, error) {
	if b, ok := w.bound[handle]; ok {
		return b.provider, b.account, nil
	}
	t := w.r.opts.Target
	for _, p := range []*probe.Target{t, t.Counterpart} {
		if p == nil {
			continue
		}
		if a, ok := p.Account(handle); ok {
			return p, a, nil
		}
	}
	return nil, probe.Account{}, fmt.Errorf("no account %q in the target file", handle)
}

// counterpartAccount finds a handle in the counterpart only.
func (w *World) counterpartAccount(handle string) (probe.Account, error) {
	cp := w.r.opts.Target.Counterpart
	if cp == nil {
		return probe.Account{}, fmt.Errorf("the target file names no counterpart provider")
	}
	a, ok := cp.Account(handle)
	if !ok {
		return probe.Account{}, fmt.Errorf("no account %q at the counterpart %s", handle, cp.Name)
	}
	return a, nil
}

// mailbox returns an open IMAP session on acct at provider p (one per
// scenario and account).
func (w *World) mailbox(ctx context.Context, p *probe.Target, acct probe.Account) (*probe.Mailbox, error) {
	if b, ok := w.boxes[strings.ToLower(acct.Address)]; ok {
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	b, err := probe.OpenMailbox(ctx, p.IMAP, w.r.trust, acct)
	if err != nil {
		return nil, err
	}
	w.boxes[strings.ToLower(acct.Address)] = b
	return b, nil
}

// saveManifest writes the scenario's transaction.json next to its evidence,
// so `pecspec grade --transaction` re-judges it offline.
func (w *World) saveManifest() {
	m := report.Manifest{Submission: w.sub}
	for i, msg := range w.res.Messages {
		if i < len(w.caps) && strings.HasPrefix(msg.File, "evidence/") {
			m.Messages = append(m.Messages, report.ManifestEntry{File: path.Base(msg.File), Mailbox: msg.Mailbox, Service: w.caps[i].Service})
		}
	}
	if _, err := w.r.evidence.SaveJSON(w.res.Name, report.ManifestName, m); err != nil {
		fmt.Fprintf(w.r.console, "warning: %v\n", err)
	}
}
