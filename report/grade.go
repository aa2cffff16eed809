package report

import (
	"fmt"
	"strings"
)

// Grade judges one message against every rule that applies to its kind. It
// never panics: a check that panics on hostile input becomes an error
// verdict. A rule whose data is missing is na, naming the failed rule that
// is the root cause (deps.go); what is no RFC 5322 message at all gets
// GEN-12 only.
func Grade(raw []byte, opts Options) Graded {
	x := newMsg(raw, opts)
	g := Graded{Kind: x.Kind}
	if x.notMessage {
		r := ruleByID("GEN-12")
		g.Verdicts = []Verdict{run(r, func() outcome { return fail("%s", x.why) }, opts)}
		return g
	}
	roots := map[int]string{}
	for _, r := range Catalogue() {
		if !r.Applies(x.Kind) {
			continue
		}
		if root, blocked := x.blocked(r); blocked {
			roots[len(g.Verdicts)] = root
			g.Verdicts = append(g.Verdicts, Verdict{Rule: r.ID, Level: r.Level, Section: r.Section, Status: NA})
			continue
		}
		g.Verdicts = append(g.Verdicts, run(r, func() outcome { return r.check(x) }, opts))
	}
	for i, root := range roots {
		g.Verdicts[i].Detail = notJudged(root, g.Verdicts)
	}
	if len(g.Verdicts) == 0 {
		g.Verdicts = append(g.Verdicts, Verdict{Rule: "GEN-12", Level: Must, Section: "RFC6109 §2.1",
			Status: NA, Detail: "not a PEC system message (" + string(x.Kind) + "): no PEC rule applies"})
	}
	return g
}

// ruleByID returns the catalogue's rule id (the zero Rule when there is none).
func ruleByID(id string) Rule {
	for _, r := range Catalogue() {
		if r.ID == id {
			return r
		}
	}
	return Rule{}
}

// maxDetail caps a verdict's detail: a 50 MB Subject is not echoed whole.
const maxDetail = 200

// run applies one check, turning a panic into an error verdict. The detail
// is one line, never empty, capped at maxDetail characters (with the
// original length); an observed rule only ever warns (pec-rules §9 "O").
func run(r Rule, check func() outcome, opts Options) (v Verdict) {
	v = Verdict{Rule: r.ID, Level: r.Level, Section: r.Section}
	defer func() {
		if p := recover(); p != nil {
			v.Status, v.Detail = Error, capDetail(fmt.Sprintf("grader could not evaluate: %v", p))
		}
	}()
	o := check()
	v.Status, v.Detail = o.status, capDetail(strings.Join(strings.Fields(o.detail), " "))
	if v.Detail == "" {
		v.Detail = "(" + string(v.Status) + ")"
	}
	if r.Level == Observed && (v.Status == Fail || v.Status == Error || v.Status == Unknown) {
		v.Status = map[Status]Status{Fail: Warn, Error: NA, Unknown: NA}[v.Status]
	}
	if opts.Strict && v.Status == Warn {
		v.Status, v.Detail = Fail, "strict: "+v.Detail
	}
	return v
}

// capDetail shortens s to maxDetail characters, saying how long it was.
func capDetail(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	n, cut := 0, len(s)
	for i := range s {
		if n == maxDetail {
			cut = i
		}
		n++
	}
	if n <= maxDetail {
		return s
	}
	return fmt.Sprintf("%s… (%d characters)", s[:cut], n)
}
