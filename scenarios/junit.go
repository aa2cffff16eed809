package scenarios

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// The files a run writes in its output directory.
const (
	SummaryFile  = "summary.json"
	ReportFile   = "report.html"
	JUnitFile    = "junit.xml"
	CucumberFile = "cucumber.json"
	EvidenceDir  = "evidence"
)

// junit.xml agrees with the exit code, as a CI reads it: a <failure> for a
// conformance finding (exit 1: an unexpected failure, naming its rules; a
// stale expectation; a scenario waiting in real time), an <error> for what
// the harness could not judge (exit 2), <skipped> for a scenario whose
// failures were all expected (with the expect file's reason) or that needs
// a capability the target lacks. classname is the feature.

// junitCounts are the attributes of <testsuites> and <testsuite>.
type junitCounts struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	junitCounts
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	junitCounts
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// expectationsSuite holds the --expect entries that are test cases of
// their own: stale ones fail, those the run did not exercise are skipped.
const expectationsSuite = "expectations (--expect)"

// WriteJUnit writes the run summarised by s as JUnit XML.
func WriteJUnit(w io.Writer, s *Summary) error {
	by := map[string]*junitSuite{}
	for _, sc := range s.Scenarios {
		class := sc.FeatureName
		if class == "" {
			class = sc.Feature
		}
		st := by[class]
		if st == nil {
			st = &junitSuite{junitCounts: junitCounts{Name: class}, Timestamp: s.Started.UTC().Format(time.RFC3339)}
			by[class] = st
		}
		st.add(junitCaseOf(s, sc, class))
	}
	exp := &junitSuite{junitCounts: junitCounts{Name: expectationsSuite}}
	for _, e := range s.Outcome.Stale {
		exp.add(junitCase{Classname: expectationsSuite, Name: "stale: " + e.describe(), Time: "0.000",
			Failure: &junitProblem{Type: "stale", Message: "the expected failure did not happen: " + e.describe(),
				Text: "reason given: " + e.Reason + "\nremove the entry from the expect file, or find why it no longer fails"}})
	}
	why := "this run did not exercise it: neither met nor stale"
	if s.Tags != "" {
		why = "this run (--tags " + s.Tags + ") did not exercise it: neither met nor stale"
	}
	for _, e := range s.Outcome.NotRun {
		exp.add(junitCase{Classname: expectationsSuite, Name: "not run: " + e.describe(), Time: "0.000",
			Skipped: &junitProblem{Message: why}})
	}
	if len(exp.Cases) > 0 {
		by[expectationsSuite] = exp
	}
	all := junitSuites{junitCounts: junitCounts{Name: "pecspec " + s.Target, Time: seconds(s.Finished.Sub(s.Started))}}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := by[n]
		all.Suites = append(all.Suites, *st)
		all.Tests += st.Tests
		all.Failures += st.Failures
		all.Errors += st.Errors
		all.Skipped += st.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (st *junitSuite) add(c junitCase) {
	st.Cases = append(st.Cases, c)
	st.Tests++
	var total, t float64
	if _, err := fmt.Sscan(st.Time, &total); err != nil {
		total = 0
	}
	if _, err := fmt.Sscan(c.Time, &t); err == nil {
		total += t
	}
	st.Time = fmt.Sprintf("%.3f", total)
	switch {
	case c.Failure != nil:
		st.Failures++
	case c.Error != nil:
		st.Errors++
	case c.Skipped != nil:
		st.Skipped++
	}
}

// junitCaseOf is one scenario as a test case.
func junitCaseOf(s *Summary, sc *ScenarioResult, class string) junitCase {
	c := junitCase{Classname: class, Name: sc.Name, Time: seconds(sc.Finished.Sub(sc.Started))}
	var unexpected, expected []Failure
	for _, f := range s.Outcome.Unexpected {
		if f.Scenario == sc.Name {
			unexpected = append(unexpected, f)
		}
	}
	for _, f := range s.Outcome.Expected {
		if f.Scenario == sc.Name {
			expected = append(expected, f)
		}
	}
	switch {
	case len(unexpected) > 0:
		msg := firstLine(unexpected[0].String())
		if len(unexpected) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(unexpected)-1)
		}
		c.Failure = &junitProblem{Type: strings.Join(rulesOf(unexpected), " "), Message: msg,
			Text: failureText(unexpected, expected)}
	case sc.Status == "error" || sc.Status == "undefined" || sc.Status == "ambiguous":
		c.Error = &junitProblem{Type: "harness", Message: firstLine(sc.Error), Text: sc.Error}
	case sc.Status == "pending":
		c.Failure = &junitProblem{Type: "pending", Message: firstLine(sc.Error), Text: sc.Error}
	case len(expected) > 0:
		c.Skipped = &junitProblem{Message: "expected failure: " + expected[0].Rule + " (" + expected[0].Reason + ")",
			Text: failureText(nil, expected)}
	case sc.Status == "skipped":
		c.Skipped = &junitProblem{Message: sc.Error}
	case sc.Status != "passed":
		// A failed scenario always has a failure (Summary.Failures): this
		// is a harness bug, never a pass.
		c.Error = &junitProblem{Type: "harness", Message: sc.Status + ": " + firstLine(sc.Error), Text: sc.Error}
	}
	return c
}

func failureText(unexpected, expected []Failure) string {
	var b strings.Builder
	for _, f := range unexpected {
		fmt.Fprintf(&b, "%s\n", f.String())
	}
	for _, f := range expected {
		fmt.Fprintf(&b, "expected (%s): %s\n", f.Reason, f.String())
	}
	return b.String()
}

func rulesOf(fs []Failure) []string {
	var out []string
	for _, f := range fs {
		r := f.Rule
		if r == "" {
			r = "unclassified"
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.3f", d.Seconds())
}

// String is "GEN-15: fail: detail".
func (f Failure) String() string {
	if f.Rule == "" {
		return f.Detail
	}
	return f.Rule + ": " + f.Detail
}

// describe names the entry: "GEN-15 in <scenario>", "GEN-15", "<scenario>".
func (e Expectation) describe() string {
	switch {
	case e.Rule != "" && e.Scenario != "":
		return e.Rule + " in " + e.Scenario
	case e.Rule != "":
		return e.Rule
	}
	return e.Scenario
}
