package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	gherkin "github.com/cucumber/gherkin/go/v26"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/pecspec/pecspec/report"
)

// Pickle is one scenario as it runs (a Scenario Outline gives one per
// Examples row): its name, feature file and title, tags, step texts and
// their keywords (Given, When, Then, And, But).
type Pickle struct {
	Name         string
	Feature      string
	FeatureTitle string
	Line         int64 // of its Scenario (or Scenario Outline) keyword
	Tags         []string
	Steps        []string
	Keywords     []string
}

// Pickles parses every .feature file of fsys.
func Pickles(fsys fs.FS) ([]Pickle, error) {
	var out []Pickle
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".feature") {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		n := 0
		ids := func() string { n++; return strconv.Itoa(n) }
		doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), ids)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		lines, keywords := scenarioLines(doc), stepKeywords(doc)
		for _, p := range gherkin.Pickles(*doc, path, ids) {
			pk := pickleOf(p)
			if len(p.AstNodeIds) > 0 {
				pk.Line = lines[p.AstNodeIds[0]]
			}
			if doc.Feature != nil {
				pk.FeatureTitle = doc.Feature.Name
			}
			for _, s := range p.Steps {
				kw := ""
				if len(s.AstNodeIds) > 0 {
					kw = keywords[s.AstNodeIds[0]]
				}
				pk.Keywords = append(pk.Keywords, kw)
			}
			out = append(out, pk)
		}
		return nil
	})
	return out, err
}

// scenarioLines maps each scenario's AST id to its line.
func scenarioLines(doc *messages.GherkinDocument) map[string]int64 {
	out := map[string]int64{}
	if doc.Feature == nil {
		return out
	}
	add := func(sc *messages.Scenario) {
		if sc != nil {
			out[sc.Id] = sc.Location.Line
		}
	}
	for _, c := range doc.Feature.Children {
		add(c.Scenario)
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				add(rc.Scenario)
			}
		}
	}
	return out
}

// stepKeywords maps each step's AST id to its keyword, trimmed.
func stepKeywords(doc *messages.GherkinDocument) map[string]string {
	out := map[string]string{}
	if doc.Feature == nil {
		return out
	}
	steps := func(ss []*messages.Step) {
		for _, s := range ss {
			out[s.Id] = strings.TrimSpace(s.Keyword)
		}
	}
	for _, c := range doc.Feature.Children {
		switch {
		case c.Background != nil:
			steps(c.Background.Steps)
		case c.Scenario != nil:
			steps(c.Scenario.Steps)
		case c.Rule != nil:
			for _, rc := range c.Rule.Children {
				if rc.Background != nil {
					steps(rc.Background.Steps)
				}
				if rc.Scenario != nil {
					steps(rc.Scenario.Steps)
				}
			}
		}
	}
	return out
}

func pickleOf(p *messages.Pickle) Pickle {
	pk := Pickle{Name: p.Name, Feature: p.Uri}
	for _, t := range p.Tags {
		pk.Tags = append(pk.Tags, t.Name)
	}
	for _, s := range p.Steps {
		pk.Steps = append(pk.Steps, s.Text)
	}
	return pk
}

// CoverageRow is one rule of pec-rules §9 and the scenarios whose tags say
// they grade it.
type CoverageRow struct {
	report.Requirement
	Scenarios []string `json:"scenarios"`
}

// Coverage maps every rule of §9 to the scenarios of fsys tagged with it.
func Coverage(fsys fs.FS) ([]CoverageRow, error) {
	pickles, err := Pickles(fsys)
	if err != nil {
		return nil, err
	}
	by := map[string][]string{}
	for _, p := range pickles {
		for _, t := range p.Tags {
			by[strings.TrimPrefix(t, "@")] = append(by[strings.TrimPrefix(t, "@")], p.Name)
		}
	}
	var rows []CoverageRow
	for _, r := range report.Requirements() {
		sc := by[r.ID]
		sort.Strings(sc)
		rows = append(rows, CoverageRow{Requirement: r, Scenarios: sc})
	}
	return rows, nil
}

// UncoveredMessageMust lists the message-level MUST rules no scenario grades.
func UncoveredMessageMust(rows []CoverageRow) []string {
	var out []string
	for _, r := range rows {
		if r.MessageLevel && r.Level == report.Must && len(r.Scenarios) == 0 {
			out = append(out, r.ID)
		}
	}
	return out
}

// WriteCoverage prints the coverage table: one line per rule, its level,
// scope, the number of scenarios and the first of them, then the totals.
func WriteCoverage(w io.Writer, rows []CoverageRow) error {
	covered := 0
	for _, r := range rows {
		first := "-- not covered --"
		if len(r.Scenarios) > 0 {
			covered++
			first = r.Scenarios[0]
			if len(r.Scenarios) > 1 {
				first += fmt.Sprintf(" (+%d)", len(r.Scenarios)-1)
			}
		}
		if _, err := fmt.Fprintf(w, "%-7s %-8s %-8s %3d  %s\n", r.ID, r.Level, r.Scope, len(r.Scenarios), first); err != nil {
			return err
		}
	}
	missing := UncoveredMessageMust(rows)
	_, err := fmt.Fprintf(w, "\n%d of %d rules graded by at least one scenario; message-level MUST rules not covered: %d %s\n",
		covered, len(rows), len(missing), strings.Join(missing, " "))
	return err
}
