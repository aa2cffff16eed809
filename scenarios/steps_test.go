package scenarios

import (
	"bufio"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/report"
)

// stepLine is a Gherkin step line.
var stepLine = regexp.MustCompile(`^\s*(Given|When|Then|And|But)\s+(.*)$`)

// TestEveryStepIsDefined parses every feature and checks each step text
// matches exactly one registered step expression (Strict mode would fail the
// run on an undefined step; this finds it without a lab).
func TestEveryStepIsDefined(t *testing.T) {
	exprs := registeredExpressions()
	if len(exprs) == 0 {
		t.Fatal("no step registered")
	}
	for _, text := range featureSteps(t) {
		n := 0
		for _, re := range exprs {
			if re.MatchString(text) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("step %q matches %d step definitions, want 1", text, n)
		}
	}
}

// TestTagsNameKnownRules: every @XXX-nn tag names a rule of the catalogue and
// every scenario carries exactly one flow tag (STYLE 13).
func TestTagsNameKnownRules(t *testing.T) {
	known := map[string]bool{}
	for _, r := range report.Catalogue() {
		known[r.ID] = true
	}
	ruleTag := regexp.MustCompile(`^@[A-Z]{3}-\d{2}$`)
	fs.WalkDir(features.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := fs.ReadFile(features.FS, path)
		flows := 0
		for _, line := range strings.Split(string(data), "\n") {
			for _, tag := range strings.Fields(line) {
				switch {
				case strings.HasPrefix(tag, "@flow-"):
					flows++
				case ruleTag.MatchString(tag) && !known[tag[1:]]:
					t.Errorf("%s: tag %s names no rule of the catalogue", path, tag)
				}
			}
		}
		if flows != 1 {
			t.Errorf("%s: %d flow tags, want 1", path, flows)
		}
		return nil
	})
}

func featureSteps(t *testing.T) []string {
	var steps []string
	err := fs.WalkDir(features.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".feature") {
			return err
		}
		f, err := features.FS.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := stepLine.FindStringSubmatch(sc.Text()); m != nil {
				steps = append(steps, strings.TrimSpace(m[2]))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return steps
}
