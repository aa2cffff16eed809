package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pecspec/pecspec/features"
)

// Merging: `pecspec report merge DIR...` joins the outputs of the shards of
// one run (pecspec run --shard i/n, each in its own --out directory) into
// one: summary.json with every scenario, judged again against the shards'
// expectations (an expectation one shard did not match may be matched in
// another), junit.xml and cucumber.json with every test case, report.html
// rendered from the joined summary, every evidence folder, gamma's inbox
// numbered on across the shards, and resume.json with every scenario still
// waiting in real time.

// ErrMerge wraps every problem of the inputs of a merge (exit code 2).
var ErrMerge = fmt.Errorf("%w: merge", ErrHarness)

// Merge joins the run outputs in dirs into out and returns the joined
// summary. out must not be one of dirs.
func Merge(out string, dirs []string) (*Summary, error) {
	parts, err := readParts(out, dirs)
	if err != nil {
		return nil, err
	}
	s, err := joinSummaries(parts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMerge, err)
	}
	for _, step := range []func() error{
		func() error { return copyEvidence(out, dirs) },
		func() error { return renumberPeer(out, dirs) },
		func() error { return mergeCucumber(out, dirs) },
		func() error { return mergeResume(out, dirs) },
		func() error { return WriteSummary(out, s) },
		func() error { return fixCucumber(filepath.Join(out, CucumberFile), s) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// part is one input of a merge: its directory and summary.
type part struct {
	dir string
	s   *Summary
}

// readParts reads each directory's summary.json and checks that they are
// shards of one run: the same target, no scenario twice, every shard there.
func readParts(out string, dirs []string) ([]part, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no directory to merge", ErrMerge)
	}
	summaries, err := readInputs(out, dirs, ReadSummary)
	if err != nil {
		return nil, err
	}
	var parts []part
	for i, s := range summaries {
		parts = append(parts, part{dirs[i], s})
	}
	return parts, checkShards(parts)
}

// readInputs reads each input directory of a merge with read; out may not
// be one of them.
func readInputs[T any](out string, dirs []string, read func(string) (T, error)) ([]T, error) {
	var all []T
	for _, d := range dirs {
		if same, _ := sameDir(d, out); same {
			return nil, fmt.Errorf("%w: the output directory %s is one of the inputs", ErrMerge, out)
		}
		v, err := read(d)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	return all, nil
}

// ReadSummary reads dir/summary.json.
func ReadSummary(dir string) (*Summary, error) {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v (is %s a run's --out directory?)", ErrMerge, err, dir)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %s/summary.json: %v", ErrMerge, dir, err)
	}
	return &s, nil
}

// checkShards: one target; when the parts are shards, one count and every
// index once; no scenario in two parts.
func checkShards(parts []part) error {
	var errs []error
	seen := map[string]string{}
	indices := map[int]string{}
	count := 0
	for _, p := range parts {
		if p.s.Target != parts[0].s.Target {
			errs = append(errs, fmt.Errorf("%w: %s ran against %s, %s against %s", ErrMerge, parts[0].dir, parts[0].s.Target, p.dir, p.s.Target))
		}
		for _, sc := range p.s.Scenarios {
			if other, ok := seen[sc.Name]; ok {
				errs = append(errs, fmt.Errorf("%w: %q is in both %s and %s", ErrMerge, sc.Name, other, p.dir))
			}
			seen[sc.Name] = p.dir
		}
		if sh := p.s.Shard; sh != nil {
			if count != 0 && sh.Count != count {
				errs = append(errs, fmt.Errorf("%w: %s is shard %s, another input of %d shards", ErrMerge, p.dir, sh, count))
			}
			count = sh.Count
			if other, ok := indices[sh.Index]; ok {
				errs = append(errs, fmt.Errorf("%w: %s and %s are both shard %s", ErrMerge, other, p.dir, sh))
			}
			indices[sh.Index] = p.dir
		}
	}
	for i := 1; i <= count; i++ {
		if _, ok := indices[i]; !ok {
			errs = append(errs, fmt.Errorf("%w: shard %d/%d is missing", ErrMerge, i, count))
		}
	}
	return errors.Join(errs...)
}

// joinSummaries makes one summary of the parts: every scenario, counted
// again, judged against every expectation the parts were judged against.
func joinSummaries(parts []part) (*Summary, error) {
	first := parts[0].s
	j := &Summary{Target: first.Target, ProviderName: first.ProviderName, TargetFile: first.TargetFile,
		Harness: first.Harness, Tags: first.Tags, Seed: first.Seed}
	for _, p := range parts {
		s := p.s
		if j.Started.IsZero() || (!s.Started.IsZero() && s.Started.Before(j.Started)) {
			j.Started = s.Started
		}
		if s.Finished.After(j.Finished) {
			j.Finished = s.Finished
		}
		j.Scenarios = append(j.Scenarios, s.Scenarios...)
		j.ClockOffset = max(j.ClockOffset, s.ClockOffset)
		if j.Interrupted == "" {
			j.Interrupted = s.Interrupted
		}
		for _, e := range s.Expect {
			if !slices.Contains(j.Expect, e) {
				j.Expect = append(j.Expect, e)
			}
		}
	}
	j.recount()
	j.Outcome = j.judge(j.Expect)
	return j, nil
}

// WriteSummary writes s as dir/summary.json and renders dir/report.html and
// dir/junit.xml from it (WriteReports, the run's own writers).
func WriteSummary(dir string, s *Summary) error { return WriteReports(dir, s, features.FS) }

// mergeResume joins the parts' resume.json: every scenario still waiting.
func mergeResume(out string, dirs []string) error {
	var joined *ResumeState
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, ResumeFile)); err != nil {
			continue
		}
		st, err := LoadResume(d)
		if err != nil {
			return err
		}
		if joined == nil {
			joined = &ResumeState{Target: st.Target, Lab: st.Lab}
		}
		joined.Scenarios = append(joined.Scenarios, st.Scenarios...)
	}
	if joined == nil {
		return nil
	}
	sort.Slice(joined.Scenarios, func(i, j int) bool { return joined.Scenarios[i].Name < joined.Scenarios[j].Name })
	return writeJSONFile(filepath.Join(out, ResumeFile), joined)
}

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(data, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) (bool, error) {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err := errors.Join(err1, err2); err != nil {
		return false, err
	}
	return strings.TrimRight(aa, "/") == strings.TrimRight(bb, "/"), nil
}
