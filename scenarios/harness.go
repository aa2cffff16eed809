package scenarios

import (
	"errors"
	"fmt"
	"sync"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/probe"
)

// Two kinds of step failure never mix. A conformance finding names the rule
// of pec-rules §9 it breaks (ruleError, or the verdicts of a grading step):
// the scenario fails and the run exits 1. A harness error says nothing about
// the target — it could not be reached or talked to, a login was refused,
// the target file lacks something, the lab failed: the scenario ends in
// error and the run exits 2. A step failure that is neither is a harness bug
// and is reported as such (FailedOn "unclassified"), never as a finding.

// harnessError is a step failure that is the harness's or the setup's.
type harnessError struct{ err error }

func (e *harnessError) Error() string { return e.err.Error() }
func (e *harnessError) Unwrap() error { return e.err }

// harnessf makes a harness error.
func harnessf(format string, a ...any) error { return &harnessError{fmt.Errorf(format, a...)} }

// How a failed scenario failed (ScenarioResult.FailedOn).
const (
	failedGrading      = "grading"      // the verdicts of a grading step are the failure
	failedHarness      = "harness"      // status error: the setup, not the target
	failedUnclassified = "unclassified" // status error: a step failed without naming a rule
)

// classifyFailure sorts a scenario's error: its status, the rule it names
// and how it failed.
func classifyFailure(err error) (status, rule, on string) {
	var re *ruleError
	switch {
	case errors.As(err, &re) && re.rule != "":
		return "failed", re.rule, ""
	case errors.Is(err, errGrading):
		return "failed", "", failedGrading
	case isHarness(err):
		return "error", "", failedHarness
	}
	return "error", "", failedUnclassified
}

func isHarness(err error) bool {
	var he *harnessError
	return errors.As(err, &he) || errors.Is(err, ErrHarness) || probe.IsHarness(err)
}

// refusal is the server's reply when err is one: its answer to what the
// step sent (an *smtp.SMTPError), not a failure to reach it.
func refusal(err error) (*smtp.SMTPError, bool) {
	var se *smtp.SMTPError
	if err != nil && !isHarness(err) && errors.As(err, &se) {
		return se, true
	}
	return nil, false
}

// breaker remembers the endpoints that did not answer or could not be
// reached in this run: later calls fail at once with the first reason, so a
// dead or stuck target ends the suite in one answer timeout, not one per
// scenario.
type breaker struct {
	mu   sync.Mutex
	dead map[string]error
}

// call runs f against addr unless addr is known dead, and remembers addr
// when f finds it dead.
func (b *breaker) call(addr string, f func() error) error {
	b.mu.Lock()
	first := b.dead[addr]
	b.mu.Unlock()
	if first != nil {
		return &harnessError{fmt.Errorf("%s did not answer earlier in this run: %w", addr, first)}
	}
	err := f()
	if errors.Is(err, probe.ErrNoAnswer) || errors.Is(err, probe.ErrUnreachable) {
		b.mu.Lock()
		if b.dead == nil {
			b.dead = map[string]error{}
		}
		if b.dead[addr] == nil {
			b.dead[addr] = err
		}
		b.mu.Unlock()
	}
	return err
}
