package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pecspec/pecspec/internal/version"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// Summary is summary.json (the run's output contract).
type Summary struct {
	Target       string `json:"target"`
	ProviderName string `json:"provider_name,omitempty"` // the target's providerName
	TargetFile   string `json:"target_file,omitempty"`
	// Harness is the pecspec build that ran (module version, commit).
	Harness  version.Info `json:"harness"`
	Tags     string       `json:"tags,omitempty"` // the --tags expression
	Seed     int64        `json:"seed"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	// ClockOffset is how far the target's clock was ahead of real time at
	// the end of the run, when the run moved it (the timeout scenarios
	// advance it to fire the 12 h and 24 h timers): the evidence of the
	// scenarios after the move is dated ahead by as much.
	ClockOffset time.Duration `json:"clock_offset_ns,omitempty"`
	// Interrupted says why the run stopped early (a signal, a closed
	// standard output): the scenarios it lists are those that ended.
	Interrupted string `json:"interrupted,omitempty"`
	Totals      Totals `json:"totals"`
	// Outcome is the run's failures sorted against --expect (all of them
	// unexpected without one); the run passes when it has neither
	// unexpected failures nor stale expectations.
	Outcome   Outcome           `json:"outcome"`
	Scenarios []*ScenarioResult `json:"scenarios"`
	// Shard is the part of the run this summary covers (--shard), and
	// Expect the expectations it was judged against: `pecspec report
	// merge` judges the joined shards again, since an expectation no
	// scenario of one shard matched may be matched in another.
	Shard  *Shard        `json:"shard,omitempty"`
	Expect []Expectation `json:"expect,omitempty"`
}

// Totals count scenarios and verdicts, overall and per rule.
type Totals struct {
	Scenarios    int                              `json:"scenarios"`
	Passed       int                              `json:"passed"`
	Failed       int                              `json:"failed"`
	Undefined    int                              `json:"undefined"`
	Pending      int                              `json:"pending"` // waiting in real time (resume.json)
	Skipped      int                              `json:"skipped"` // the target lacks a capability they need
	Errors       int                              `json:"errors"`  // harness errors: the run could not judge them
	Messages     int                              `json:"messages"`
	MustFailures int                              `json:"must_failures"`
	Verdicts     map[report.Status]int            `json:"verdicts"`
	Rules        map[string]map[report.Status]int `json:"rules"`
}

// ScenarioResult is one scenario in summary.json.
type ScenarioResult struct {
	Name        string   `json:"name"`
	Feature     string   `json:"feature"`                // its file
	FeatureName string   `json:"feature_name,omitempty"` // its title
	Tags        []string `json:"tags"`
	Status      string   `json:"status"`
	Error       string   `json:"error,omitempty"`
	FailedRule  string   `json:"failed_rule,omitempty"` // the rule a failed step names
	// FailedOn is "grading" when a grading step failed: the failed verdicts
	// themselves account for the failure; "harness" for a scenario in
	// error (the setup, not the target), "unclassified" for a step that
	// failed without naming a rule (a harness bug).
	FailedOn    string           `json:"failed_on,omitempty"`
	Sent        []string         `json:"sent"`
	Messages    []MessageResult  `json:"messages"`
	Transaction []report.Verdict `json:"transaction"`
	Started     time.Time        `json:"started"`
	Finished    time.Time        `json:"finished"`
	// Sender and Submitted: who submitted the scenario's message and when
	// (the first arrow of the report's sequence diagram).
	Sender    string    `json:"sender,omitempty"`
	Submitted time.Time `json:"submitted,omitempty"`
	// Steps are its Gherkin steps with their status.
	Steps []StepResult `json:"steps,omitempty"`
	// Transcripts are the SMTP and IMAP sessions the probe held, secrets
	// masked, bodies elided (probe.Transcripts).
	Transcripts []probe.Session `json:"transcripts,omitempty"`
	// ClockStart and ClockOffset: how far the target's clock was ahead of
	// real time when the scenario started and when it ended.
	ClockStart  time.Duration `json:"clock_start_ns,omitempty"`
	ClockOffset time.Duration `json:"clock_offset_ns,omitempty"`
}

// MessageResult is one captured message and its verdicts.
type MessageResult struct {
	File     string    `json:"file"`
	Kind     pec.Kind  `json:"kind"`
	Mailbox  string    `json:"mailbox"`
	From     string    `json:"from"`     // the From address: who sent it
	Captured time.Time `json:"captured"` // when the probe read it
	// LabTime is Captured on the target's clock (the lab's clock may be
	// ahead of real time: Summary.ClockOffset).
	LabTime time.Time `json:"lab_time,omitzero"`
	Date    time.Time `json:"date"` // its Date header (the sending provider's clock)
	// AtMX: captured at the receiving MX (gamma's, run by the harness),
	// not read from a mailbox.
	AtMX     bool             `json:"at_mx,omitempty"`
	Verdicts []report.Verdict `json:"verdicts"`
}

func (r *runner) summary() *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Summary{Target: r.opts.Target.Name, ProviderName: r.opts.Target.ProviderName, TargetFile: r.opts.TargetFile,
		Harness: version.Read(), Tags: r.opts.Tags, Seed: r.opts.Seed, Started: r.started, Finished: r.finished,
		ClockOffset: r.clockOffset, Scenarios: append([]*ScenarioResult(nil), r.results...), Expect: r.opts.Expect}
	if r.opts.Shard.Sharded() {
		s.Shard = &r.opts.Shard
	}
	if err := r.interrupted(); err != nil {
		s.Interrupted = err.Error()
	}
	ran := map[string]bool{}
	for _, sc := range r.results {
		ran[sc.Name] = true
	}
	for _, sc := range r.opts.Previous { // a resumed run keeps the earlier run's other scenarios
		if !ran[sc.Name] {
			s.Scenarios = append(s.Scenarios, sc)
		}
	}
	s.recount()
	s.Outcome = s.judge(r.opts.Expect)
	return s
}

// recount sorts the scenarios by name and counts them and their verdicts
// into Totals.
func (s *Summary) recount() {
	sort.Slice(s.Scenarios, func(i, j int) bool { return s.Scenarios[i].Name < s.Scenarios[j].Name })
	t := &s.Totals
	*t = Totals{Verdicts: map[report.Status]int{}, Rules: map[string]map[report.Status]int{}}
	count := func(vs []report.Verdict) {
		for _, v := range vs {
			t.Verdicts[v.Status]++
			if t.Rules[v.Rule] == nil {
				t.Rules[v.Rule] = map[report.Status]int{}
			}
			t.Rules[v.Rule][v.Status]++
			if failing(v) {
				t.MustFailures++
			}
		}
	}
	for _, sc := range s.Scenarios {
		t.Scenarios++
		switch sc.Status {
		case "passed":
			t.Passed++
		case "pending":
			t.Pending++
		case "undefined":
			t.Undefined++
		case "skipped":
			t.Skipped++
		case "error":
			t.Errors++
		default:
			t.Failed++
		}
		t.Messages += len(sc.Messages)
		for _, m := range sc.Messages {
			count(m.Verdicts)
		}
		count(sc.Transaction)
	}
}

// writeReports writes the run's reports (WriteReports) and makes godog's
// cucumber.json agree with them.
func (r *runner) writeReports() error {
	s := r.summary()
	if err := WriteReports(r.opts.Out, s, r.opts.Features); err != nil {
		return err
	}
	return fixCucumber(filepath.Join(r.opts.Out, CucumberFile), s)
}

// WriteReports writes summary.json, report.html and junit.xml of the run
// summarised by s into dir; features are the suite's (the coverage table).
// Every report of a run, or of runs merged, is rendered from a Summary.
func WriteReports(dir string, s *Summary, features fs.FS) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	if err := writeFile(filepath.Join(dir, SummaryFile), append(data, '\n')); err != nil {
		return err
	}
	var page, junit bytes.Buffer
	if err := WriteHTML(&page, s, features); err != nil {
		return err
	}
	if err := WriteJUnit(&junit, s); err != nil {
		return fmt.Errorf("%w: junit.xml: %v", ErrHarness, err)
	}
	if err := writeFile(filepath.Join(dir, ReportFile), page.Bytes()); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, JUnitFile), junit.Bytes())
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}

func (r *runner) result() Result {
	t := r.summary().Totals
	res := Result{Scenarios: t.Scenarios, Passed: t.Passed, Failed: t.Failed, Undefined: t.Undefined,
		Pending: t.Pending, Skipped: t.Skipped, Errors: t.Errors, MustFailures: t.MustFailures,
		Outcome: r.summary().Outcome, Selected: len(r.selected), Interrupted: r.interrupted()}
	for _, sc := range r.summary().Scenarios {
		if sc.Status == "error" && res.FirstError == "" {
			res.FirstError = sc.Name + ": " + sc.Error
		}
	}
	r.mu.Lock()
	for _, s := range r.suspended {
		if res.Due.IsZero() || s.Due.Before(res.Due) {
			res.Due = s.Due
		}
	}
	r.mu.Unlock()
	return res
}

// printTables prints the totals by flow tag and by rule family.
func (r *runner) printTables(res Result) {
	s := r.summary()
	w := r.console
	fmt.Fprintf(w, "\n%-22s %9s %7s %7s\n", "flow", "scenarios", "passed", "failed")
	flows := map[string][3]int{}
	for _, sc := range s.Scenarios {
		for _, tag := range sc.Tags {
			if strings.HasPrefix(tag, "@flow-") {
				f := flows[tag]
				f[0]++
				switch sc.Status {
				case "passed":
					f[1]++
				case "failed":
					f[2]++
				}
				flows[tag] = f
			}
		}
	}
	for _, name := range sortedKeys(flows) {
		f := flows[name]
		fmt.Fprintf(w, "%-22s %9d %7d %7d\n", name, f[0], f[1], f[2])
	}
	fmt.Fprintf(w, "\n%-8s %6s %6s %6s %6s %6s\n", "family", "pass", "fail", "warn", "na", "error")
	fams := map[string]map[report.Status]int{}
	for rule, c := range s.Totals.Rules {
		fam, _, _ := strings.Cut(rule, "-")
		if fams[fam] == nil {
			fams[fam] = map[report.Status]int{}
		}
		for st, n := range c {
			fams[fam][st] += n
		}
	}
	for _, fam := range sortedKeys(fams) {
		c := fams[fam]
		fmt.Fprintf(w, "%-8s %6d %6d %6d %6d %6d\n", fam, c[report.Pass], c[report.Fail], c[report.Warn], c[report.NA], c[report.Error])
	}
	for _, f := range s.Outcome.Expected {
		fmt.Fprintf(w, "expected failure  %s  %s: %s\n", f.Rule, f.Scenario, f.Detail)
	}
	for _, sc := range s.Scenarios {
		switch sc.Status {
		case "skipped":
			fmt.Fprintf(w, "skipped           %s: %s\n", sc.Name, sc.Error)
		case "error":
			fmt.Fprintf(w, "harness error     %s: %s\n", sc.Name, firstLine(sc.Error))
		}
	}
	for _, e := range s.Outcome.Stale {
		fmt.Fprintf(w, "STALE expectation %s  %s: it no longer fails (%s)\n", e.Rule, e.Scenario, e.Reason)
	}
	for _, e := range s.Outcome.NotRun {
		fmt.Fprintf(w, "not run           %s: this run did not exercise it, neither met nor stale (%s)\n", e.describe(), e.Reason)
	}
	if s.Interrupted != "" {
		fmt.Fprintf(w, "INTERRUPTED       %s: %d of %d scenarios ended\n", s.Interrupted, len(s.Scenarios), res.Selected)
	}
	fmt.Fprintf(w, "\n%d scenarios: %d passed, %d failed, %d in error, %d skipped, %d undefined, %d pending; %d messages, %d MUST failures (%s)\n",
		res.Scenarios, res.Passed, res.Failed, res.Errors, res.Skipped, res.Undefined, res.Pending, s.Totals.Messages,
		res.MustFailures, s.Finished.Sub(s.Started).Round(time.Millisecond))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
