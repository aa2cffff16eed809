package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/report"
)

func registerGradeSteps(sc stepRegistrar) {
	sc.Step(`^every captured message passes the MUST rules$`, messagesPass)
	sc.Step(`^the transaction passes the MUST rules$`, transactionPasses)
}

// messagesPass fails listing every MUST failure of the captured messages.
func messagesPass(ctx context.Context) error {
	w := world(ctx)
	if len(w.res.Messages) == 0 {
		return harnessf("no message was captured")
	}
	var lines []string
	for _, m := range w.res.Messages {
		for _, v := range mustOf(m.Verdicts) {
			lines = append(lines, fmt.Sprintf("%s %s [%s]: %s (%s)", v.Rule, m.Kind, v.Section, v.Detail, m.File))
		}
	}
	return failures(lines)
}

// transactionPasses grades the captured messages as one transaction (the
// multi rules); only scenarios that capture the whole flow ask for it.
func transactionPasses(ctx context.Context) error {
	w := world(ctx)
	vs := report.GradeTransaction(w.sub, w.caps, w.r.grading)
	w.res.Transaction = vs
	var lines []string
	for _, v := range mustOf(vs) {
		lines = append(lines, fmt.Sprintf("%s [%s]: %s", v.Rule, v.Section, v.Detail))
	}
	return failures(lines)
}

// errGrading marks the failure of a grading step: the failed verdicts are
// the failure (scenarios.Failures does not count it again).
var errGrading = errors.New("MUST failures")

func failures(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%d):\n%s", errGrading, len(lines), strings.Join(lines, "\n"))
}
