package report

import (
	"encoding/xml"
	"io"
)

// JUnit output: one testsuite per graded message (and per transaction), one
// testcase per verdict named by its rule; fail is a failure, error and
// unknown (undecided) an error, na skipped, and a warning passes with its
// detail in system-out — the shape CI systems (Jenkins, GitLab, GitHub) read.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Fail    int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name    string      `xml:"name,attr"`
	Tests   int         `xml:"tests,attr"`
	Fail    int         `xml:"failures,attr"`
	Errors  int         `xml:"errors,attr"`
	Skipped int         `xml:"skipped,attr"`
	Cases   []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Failure   *junitText `xml:"failure,omitempty"`
	Error     *junitText `xml:"error,omitempty"`
	Skipped   *junitText `xml:"skipped,omitempty"`
	Out       string     `xml:"system-out,omitempty"`
}

type junitText struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnitSuite is one named set of verdicts for WriteJUnit.
type JUnitSuite struct {
	Name     string
	Verdicts []Verdict
}

// WriteJUnit writes suites as a JUnit XML report.
func WriteJUnit(w io.Writer, suites []JUnitSuite) error {
	var out junitSuites
	for _, s := range suites {
		js := junitSuite{Name: s.Name}
		for _, v := range s.Verdicts {
			c := junitCase{Name: v.Rule + " " + string(v.Level), Classname: s.Name}
			msg := v.Rule + " [" + string(v.Level) + ", " + v.Section + "]: " + v.Detail
			switch v.Status {
			case Fail:
				c.Failure, js.Fail = &junitText{Message: msg, Text: v.Detail}, js.Fail+1
			case Error, Unknown:
				c.Error, js.Errors = &junitText{Message: string(v.Status) + ": " + msg, Text: v.Detail}, js.Errors+1
			case NA:
				c.Skipped, js.Skipped = &junitText{Message: v.Detail}, js.Skipped+1
			case Warn:
				c.Out = "warn: " + msg
			}
			js.Cases = append(js.Cases, c)
		}
		js.Tests = len(js.Cases)
		out.Tests, out.Fail, out.Errors = out.Tests+js.Tests, out.Fail+js.Fail, out.Errors+js.Errors
		out.Suites = append(out.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
