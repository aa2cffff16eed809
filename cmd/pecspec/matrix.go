package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/scenarios"
)

const matrixUsage = `usage: pecspec matrix [flags] [PROVIDER...]

Run the interoperability matrix of the providers of a running lab (pecspec
lab up [--enrol FILE]...): for every ordered pair X → Y (X sends, Y
receives) the cross-provider scenarios (@interop) with X as the target and Y
as its counterpart, every message of both graded; then each provider's own
scenarios once, and its clock scenarios alone. PROVIDER names the lab's
providers to include (alpha, beta, an enrolled name, or its target file);
none: all of them. Without --lab the reference lab is started in OUT/lab
(alpha × beta). A provider whose preflight fails is marked unreachable, row
and column; the other pairs still run. Writes matrix.html (one cell per
pair, linking to its report.html), matrix.json, junit.xml (one suite per
pair) and each unit's reports under pairs/X/Y/, single/X/, clock/X/.

flags:
  --lab DIR                   the running lab whose providers meet
  --out DIR                   reports directory (default out-matrix)
  --tags EXPR                 narrows every unit's scenarios (godog tag expression)
  --expect NAME=FILE          the known failures of provider NAME (an --expect
                              file of pecspec run); repeat it, or give one YAML
                              map name → file. A failure is charged to the
                              provider whose message failed
  --concurrency N             units (pairs, providers' own scenarios) at once (default 4)
  --scenario-concurrency N    scenarios each unit runs at once (default 4)
  --shard I/N                 run only part I of N of the units, dealt by pair;
                              join the parts with pecspec report merge
  --timeout D                 deadline of each waiting step (default 60s)
  --answer-timeout D          deadline of each exchange with an endpoint
  --seed N                    scenario order of every unit (default 1)
  --pecref PATH               pecref binary for the reference lab (without --lab)
  -v                          print every scenario's line, behind its unit's name

exit codes:
  0  every cell passed (failures the --expect files list are allowed)
  1  a conformance finding in some cell (its rule named), or a stale expectation
  2  a harness error: bad flags or files, no lab, a provider unreachable (named),
     a scenario the harness could not judge, or the run interrupted

examples:
  pecspec lab up --dir .lab --enrol acme.yaml --enrol other.yaml &
  pecspec matrix --lab .lab --expect acme=acme-known.yaml
  pecspec matrix --lab .lab --shard 1/4 --out out/m1   # then: pecspec report merge out/m*
`

// matrixFlags are the flags of `pecspec matrix`.
type matrixFlags struct {
	labDir, out, tags, pecref, shardSpec string
	expect                               multiFlag
	concurrency, scenarios               int
	timeout, answer                      time.Duration
	seed                                 int64
	shard                                scenarios.Shard
	verbose                              bool
	providers                            []string
}

// matrixFlagSet defines the flags of `pecspec matrix` on fs (matrixUsage
// describes them).
func matrixFlagSet(fs *flag.FlagSet, f *matrixFlags) {
	fs.StringVar(&f.labDir, "lab", "", "")
	fs.StringVar(&f.out, "out", "out-matrix", "")
	fs.StringVar(&f.tags, "tags", "", "")
	fs.Var(&f.expect, "expect", "")
	fs.IntVar(&f.concurrency, "concurrency", 4, "")
	fs.IntVar(&f.scenarios, "scenario-concurrency", 4, "")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "")
	fs.DurationVar(&f.answer, "answer-timeout", probe.DefaultAnswerTimeout, "")
	fs.Int64Var(&f.seed, "seed", 1, "")
	fs.StringVar(&f.pecref, "pecref", "", "")
	fs.BoolVar(&f.verbose, "v", false, "")
	fs.StringVar(&f.shardSpec, "shard", "", "")
}

func parseMatrix(args []string) (*matrixFlags, error) {
	f := &matrixFlags{}
	fs := newFlagSet("matrix")
	matrixFlagSet(fs, f)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if f.shard, err = scenarios.ParseShard(f.shardSpec); err != nil {
		return nil, err
	}
	if f.concurrency < 1 || f.scenarios < 1 {
		return nil, fmt.Errorf("--concurrency and --scenario-concurrency: at least 1")
	}
	f.providers = rest
	return f, nil
}

// cmdMatrix runs `pecspec matrix`: every ordered pair of the providers, and
// each provider's own scenarios, in one lab.
func cmdMatrix(args []string) int {
	f, err := parseMatrix(args)
	if err != nil {
		return usageError("matrix", err)
	}
	ctx, stop := interruptible()
	defer stop()
	if f.labDir == "" {
		if len(f.providers) > 0 && !allLabNames(f.providers) {
			return fail("matrix: target files need the lab that enrolled them: give --lab DIR (pecspec lab up --enrol FILE...)")
		}
		dir := filepath.Join(f.out, "lab")
		l, err := lab.Up(ctx, lab.Options{Dir: dir, Pecref: f.pecref})
		if err != nil {
			return fail("lab: %v", err)
		}
		defer l.Down()
		f.labDir = dir
	} else if _, ok := lab.Running(f.labDir); !ok {
		return fail("matrix: no lab runs in %s: start one with pecspec lab up [--enrol FILE]... --dir %s", f.labDir, f.labDir)
	}
	opts, err := matrixOptions(f)
	if err != nil {
		return fail("%v", err)
	}
	for _, sub := range []string{"pairs", "single", "clock", "peer"} { // an earlier matrix's units
		if err := os.RemoveAll(filepath.Join(f.out, sub)); err != nil {
			return fail("clean %s: %v", f.out, err)
		}
	}
	m, err := scenarios.RunMatrix(ctx, opts)
	if err != nil {
		return fail("%v", err)
	}
	return matrixExit(m, f.shard, filepath.Join(f.out, "matrix.html"))
}

// matrixOptions reads the providers, the lab's parties and the
// expectations.
func matrixOptions(f *matrixFlags) (scenarios.MatrixOptions, error) {
	opts := scenarios.MatrixOptions{Out: f.out, Concurrency: f.concurrency, ScenarioConcurrency: f.scenarios,
		Tags: f.tags, Shard: f.shard, StepTimeout: f.timeout, AnswerTimeout: f.answer, Seed: f.seed,
		Console: os.Stdout, Verbose: f.verbose}
	labProviders, all, err := labParties(f.labDir)
	if err != nil {
		return opts, err
	}
	opts.LabProviders = labProviders
	if opts.Lab, err = probe.LoadTarget(filepath.Join(f.labDir, "reference.yaml")); err != nil {
		return opts, err
	}
	if len(f.providers) == 0 {
		opts.Providers = all
	}
	for _, arg := range f.providers {
		p, err := matrixProvider(f.labDir, arg, all)
		if err != nil {
			return opts, err
		}
		opts.Providers = append(opts.Providers, p)
	}
	opts.Expect, err = matrixExpect(f.expect)
	return opts, err
}

// labParties reads the providers a running lab offers: its instances (the
// counterparts of the providers' own scenarios) and every provider it has a
// target file for (instances and enrolled providers under test), each
// without its counterpart.
func labParties(dir string) (instances, all []*probe.Target, err error) {
	files, _ := filepath.Glob(filepath.Join(dir, "target-*.yaml"))
	sort.Strings(files)
	seen := map[string]bool{}
	for _, file := range files {
		t, err := probe.LoadTarget(file)
		if err != nil {
			return nil, nil, err
		}
		if seen[t.Name] {
			continue // target-put.yaml is also target-<name>.yaml
		}
		seen[t.Name] = true
		t.Counterpart = nil
		all = append(all, t)
		if _, err := os.Stat(filepath.Join(dir, t.Name+".yaml")); err == nil {
			instances = append(instances, t)
		}
	}
	if len(instances) == 0 {
		return nil, nil, fmt.Errorf("%s holds no lab's target files", dir)
	}
	return instances, all, nil
}

// matrixProvider is a provider named on the command line: a provider of the
// lab by name, or a target file (the enrolment file of a provider the lab
// enrolled is completed from the lab's file for it).
func matrixProvider(labDir, arg string, all []*probe.Target) (*probe.Target, error) {
	for _, p := range all {
		if p.Name == arg {
			return p, nil
		}
	}
	if _, err := os.Stat(arg); err != nil {
		return nil, fmt.Errorf("matrix: %q is neither a provider of the lab in %s nor a target file", arg, labDir)
	}
	t, err := probe.LoadTarget(arg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(labDir, "target-"+t.Name+".yaml")); err == nil {
		return loadEnrolled(labDir, arg)
	}
	t.Counterpart = nil
	return t, nil
}

// matrixExpect reads --expect: NAME=FILE, or a YAML map of name → file
// (relative to the map).
func matrixExpect(args []string) (map[string][]scenarios.Expectation, error) {
	files := map[string]string{}
	for _, a := range args {
		if name, file, ok := strings.Cut(a, "="); ok {
			files[name] = file
			continue
		}
		data, err := os.ReadFile(a)
		if err != nil {
			return nil, fmt.Errorf("--expect %s: %v", a, err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("--expect %s: want NAME=FILE or a YAML map of provider name to expect file: %v", a, err)
		}
		for name, file := range m {
			if !filepath.IsAbs(file) {
				file = filepath.Join(filepath.Dir(a), file)
			}
			files[name] = file
		}
	}
	out := map[string][]scenarios.Expectation{}
	for name, file := range files {
		exps, err := scenarios.LoadExpectations(file)
		if err != nil {
			return nil, err
		}
		out[name] = exps
	}
	return out, nil
}

// allLabNames: every argument names a reference instance.
func allLabNames(args []string) bool {
	for _, a := range args {
		if a != "alpha" && a != "beta" {
			return false
		}
	}
	return true
}

// matrixExit: harness problems (exit 2) before findings (exit 1).
func matrixExit(m *scenarios.Matrix, shard scenarios.Shard, page string) int {
	problems := m.Problems()
	switch {
	case len(problems) > 0:
		fmt.Fprintf(os.Stderr, "pecspec: matrix: %d harness problems; first: %s\n", len(problems), oneLine(fmt.Errorf("%s", problems[0])))
		return exitHarness
	case m.Ran() == 0 && !shard.Sharded():
		fmt.Fprintln(os.Stderr, "pecspec: matrix: no scenario matched")
		return exitHarness
	case m.Unexpected() > 0 || (m.StaleCount() > 0 && !shard.Sharded()):
		fmt.Fprintf(os.Stderr, "pecspec: matrix: %d scenarios with unexpected failures, %d stale expectations; see %s\n",
			m.Unexpected(), m.StaleCount(), page)
		return exitFail
	}
	return exitOK
}
