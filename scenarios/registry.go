package scenarios

import (
	"regexp"

	"github.com/cucumber/godog"
)

// registeredExpressions returns the step expressions the step files register,
// by running them against a recording context.
func registeredExpressions() []*regexp.Regexp {
	var out []*regexp.Regexp
	rec := &recorder{}
	registerSubmitSteps(rec)
	registerMailboxSteps(rec)
	registerPOP3Steps(rec)
	registerGradeSteps(rec)
	registerControlSteps(rec)
	registerPeerSteps(rec)
	registerIndexSteps(rec)
	registerLimitsSteps(rec)
	for _, e := range rec.exprs {
		out = append(out, regexp.MustCompile(e))
	}
	return out
}

// stepRegistrar is the part of godog.ScenarioContext the step files use.
type stepRegistrar interface {
	Step(expr, stepFunc interface{})
}

var _ stepRegistrar = (*godog.ScenarioContext)(nil)

type recorder struct{ exprs []string }

func (r *recorder) Step(expr, _ interface{}) { r.exprs = append(r.exprs, expr.(string)) }
