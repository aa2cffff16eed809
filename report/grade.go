package report

import (
	"fmt"
	"strings"
)

// Grade judges one message against every rule that applies to its kind. It
// never panics: a check that panics on hostile input becomes an error verdict.
func Grade(raw []byte, opts Options) Graded {
	x := newMsg(raw, opts)
	g := Graded{Kind: x.Kind}
	for _, r := range Catalogue() {
		if !r.Applies(x.Kind) {
			continue
		}
		g.Verdicts = append(g.Verdicts, run(r, func() outcome { return r.check(x) }, opts))
	}
	if len(g.Verdicts) == 0 {
		g.Verdicts = append(g.Verdicts, Verdict{Rule: "GEN-12", Level: Must, Section: "RFC6109 §2.1",
			Status: NA, Detail: "not a PEC system message (" + string(x.Kind) + "): no PEC rule applies"})
	}
	return g
}

// run applies one check, turning a panic into an error verdict.
func run(r Rule, check func() outcome, opts Options) (v Verdict) {
	v = Verdict{Rule: r.ID, Level: r.Level, Section: r.Section}
	defer func() {
		if p := recover(); p != nil {
			v.Status, v.Detail = Error, fmt.Sprintf("grader could not evaluate: %v", p)
		}
	}()
	o := check()
	v.Status, v.Detail = o.status, strings.Join(strings.Fields(o.detail), " ") // one line
	if opts.Strict && v.Status == Warn {
		v.Status, v.Detail = Fail, "strict: "+v.Detail
	}
	return v
}
