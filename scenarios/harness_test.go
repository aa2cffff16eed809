package scenarios

import (
	"errors"
	"fmt"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/probe"
)

// TestClassifyFailure: a finding names its rule; a setup problem is a
// harness error; a step failure that names no rule is a harness bug, never a
// finding (exit code 2, not 1).
func TestClassifyFailure(t *testing.T) {
	refused := &smtp.SMTPError{Code: 550, Message: "no"}
	for _, tc := range []struct {
		name             string
		err              error
		status, rule, on string
	}{
		{"rule", &ruleError{rule: "PIC-05", err: errors.New("no presa in carico")}, "failed", "PIC-05", ""},
		{"grading", fmt.Errorf("%w (1): GEN-15", errGrading), "failed", "", failedGrading},
		{"no answer", fmt.Errorf("%w: greeting", probe.ErrNoAnswer), "error", "", failedHarness},
		{"login", fmt.Errorf("%w: AUTH", probe.ErrLogin), "error", "", failedHarness},
		{"harness", harnessf("no peer"), "error", "", failedHarness},
		{"rule without id", &ruleError{err: errors.New("x")}, "error", "", failedUnclassified},
		{"bare", errors.New("something"), "error", "", failedUnclassified},
		{"bare SMTP reply", refused, "error", "", failedUnclassified},
	} {
		status, rule, on := classifyFailure(tc.err)
		if status != tc.status || rule != tc.rule || on != tc.on {
			t.Errorf("%s: %s %q %q, want %s %q %q", tc.name, status, rule, on, tc.status, tc.rule, tc.on)
		}
	}
	if _, ok := refusal(fmt.Errorf("%w: %v", probe.ErrLogin, refused)); ok {
		t.Error("a refused login reads as a refusal of the submission")
	}
	if se, ok := refusal(fmt.Errorf("probe: submit: %w", refused)); !ok || se.Code != 550 {
		t.Error("the server's reply is not read as its refusal")
	}
}

// TestBreaker: once an endpoint did not answer, later calls fail at once
// with the first reason; other endpoints and other errors are not affected.
func TestBreaker(t *testing.T) {
	var b breaker
	calls := 0
	dead := func() error { calls++; return fmt.Errorf("%w: silence", probe.ErrNoAnswer) }
	if err := b.call("a:1", dead); !errors.Is(err, probe.ErrNoAnswer) {
		t.Fatal(err)
	}
	err := b.call("a:1", dead)
	if calls != 1 || !isHarness(err) || !errors.Is(err, probe.ErrNoAnswer) {
		t.Errorf("second call: calls %d, err %v", calls, err)
	}
	if err := b.call("b:1", func() error { return nil }); err != nil {
		t.Errorf("another endpoint: %v", err)
	}
	_ = b.call("c:1", func() error { return fmt.Errorf("%w", probe.ErrLogin) })
	if err := b.call("c:1", func() error { return nil }); err != nil {
		t.Errorf("a refused login is not a dead endpoint: %v", err)
	}
}

// TestCheckCapabilities: a misspelt capability would silently skip
// scenarios, and a mandatory feature is no capability: both are refused.
func TestCheckCapabilities(t *testing.T) {
	if err := checkCapabilities([]string{"controllable-clock", "sends-to-ordinary-mail"}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"antivirus", "controlable-clock"} {
		if err := checkCapabilities([]string{bad}); err == nil || !errors.Is(err, ErrHarness) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
