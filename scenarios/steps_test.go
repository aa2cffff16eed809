package scenarios

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/report"
)

func pickles(t *testing.T) []Pickle {
	t.Helper()
	ps, err := Pickles(features.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("no scenario in the features")
	}
	return ps
}

// TestEveryStepIsDefined parses every feature and checks each step text (with
// the Examples rows substituted) matches exactly one registered step
// expression (Strict mode would fail the run on an undefined step; this
// finds it without a lab).
func TestEveryStepIsDefined(t *testing.T) {
	exprs := registeredExpressions()
	if len(exprs) == 0 {
		t.Fatal("no step registered")
	}
	for _, p := range pickles(t) {
		for _, text := range p.Steps {
			n := 0
			for _, re := range exprs {
				if re.MatchString(text) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: step %q matches %d step definitions, want 1", p.Name, text, n)
			}
		}
	}
}

// TestTagsNameKnownRules: every @XXX-nn tag names a rule of pec-rules §9 and
// every scenario carries exactly one flow tag (STYLE 13) and at least one rule.
func TestTagsNameKnownRules(t *testing.T) {
	known := map[string]bool{}
	for _, r := range report.Requirements() {
		known[r.ID] = true
	}
	ruleTag := regexp.MustCompile(`^@[A-Z]{3}-\d{2}$`)
	flowTags := map[string]bool{"@flow-acceptance": true, "@flow-non-acceptance": true, "@flow-take-charge": true,
		"@flow-delivery": true, "@flow-non-delivery": true, "@flow-timeout": true, "@flow-virus": true,
		"@flow-anomaly": true, "@flow-external": true, "@flow-multi-recipient": true, "@flow-same-domain": true,
		"@flow-index": true, "@flow-limits": true}
	for _, p := range pickles(t) {
		flows, rules := 0, 0
		for _, tag := range p.Tags {
			switch {
			case strings.HasPrefix(tag, "@flow-"):
				flows++
				if !flowTags[tag] {
					t.Errorf("%s: unknown flow tag %s", p.Name, tag)
				}
			case ruleTag.MatchString(tag):
				rules++
				if !known[tag[1:]] {
					t.Errorf("%s: tag %s names no rule of pec-rules §9", p.Name, tag)
				}
			case tag == tagExclusive, tag == tagSlow, tag == tagInterop:
			case strings.HasPrefix(tag, tagNeeds), strings.HasPrefix(tag, tagCounterpartNeeds):
				c := strings.TrimPrefix(strings.TrimPrefix(tag, tagNeeds), tagCounterpartNeeds)
				if Capabilities[c] == "" {
					t.Errorf("%s: tag %s names no capability", p.Name, tag)
				}
			default:
				t.Errorf("%s: tag %s is neither a flow, a rule, a capability, %s, %s nor %s", p.Name, tag, tagExclusive, tagSlow, tagInterop)
			}
		}
		if flows != 1 || rules == 0 {
			t.Errorf("%s (%s): %d flow tags and %d rule tags, want 1 and at least 1", p.Name, p.Feature, flows, rules)
		}
	}
}

// knownGaps are the message-level MUST rules that no scenario grades yet,
// each with what it needs (none today: gamma, signed originals, HTML notices
// and the lab CRL closed the last ones). The test below is a ratchet: a new
// gap fails, and so does a gap that a scenario covers but is still listed.
var knownGaps = map[string]string{}

// TestCoverageOfMessageRules: every message-level MUST rule of §9 is graded
// by at least one scenario (issue 5 "done when"), but for knownGaps.
func TestCoverageOfMessageRules(t *testing.T) {
	rows, err := Coverage(features.FS)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]bool{}
	for _, id := range UncoveredMessageMust(rows) {
		missing[id] = true
		if knownGaps[id] == "" {
			t.Errorf("no scenario grades the message-level MUST rule %s", id)
		}
	}
	for id := range knownGaps {
		if !missing[id] {
			t.Errorf("%s is covered now: remove it from knownGaps", id)
		}
	}
}

// TestStepFailuresAreClassified reads the step files and fails on a step
// error made on the spot (fmt.Errorf, errors.New) that is neither a
// ruleError, a harness error nor a grading failure: such a failure would
// name no rule (issue "Any provider can join the lab", item 4). Errors passed
// on from the probe are classified by their kind at the end of the scenario.
func TestStepFailuresAreClassified(t *testing.T) {
	files, _ := filepath.Glob("*_steps.go")
	files = append(files, "parties.go")
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			ret, ok := n.(*ast.ReturnStmt)
			if !ok {
				return true
			}
			for _, r := range ret.Results {
				if call, ok := r.(*ast.CallExpr); ok && bareError(call) {
					t.Errorf("%s: a step error that names no rule and is no harness error", fset.Position(call.Pos()))
				}
			}
			return true
		})
	}
}

// bareError: fmt.Errorf or errors.New not wrapping ErrHarness or errGrading.
func bareError(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, _ := sel.X.(*ast.Ident)
	switch {
	case pkg == nil:
		return false
	case pkg.Name == "errors" && sel.Sel.Name == "New":
		return true
	case pkg.Name != "fmt" || sel.Sel.Name != "Errorf" || len(call.Args) < 2:
		return pkg.Name == "fmt" && sel.Sel.Name == "Errorf"
	}
	first, _ := call.Args[1].(*ast.Ident)
	return first == nil || (first.Name != "ErrHarness" && first.Name != "errGrading")
}
