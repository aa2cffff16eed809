package load

import (
	"math"
	"sync"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
)

// Grader judges one received message against the rule catalogue and returns
// its MUST failures (pec-rules §9). The caller injects it (cmd/pecspec wires
// the report package): the probe never imports the grader.
type Grader func(raw []byte) []Finding

// Finding is one failed rule.
type Finding struct {
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// GradeSummary is what the sampled receipts gave: speed must not hide wrong
// receipts.
type GradeSummary struct {
	Graded   int64            `json:"graded"`
	Skipped  int64            `json:"skipped"` // sampled, but larger than the fetch limit or the grader was busy
	Failures int64            `json:"must_failures"`
	ByRule   map[string]int64 `json:"by_rule,omitempty"`
	Examples []GradeExample   `json:"examples,omitempty"`
}

// GradeExample is a failing message kept as evidence.
type GradeExample struct {
	Kind     Kind      `json:"kind"`
	File     string    `json:"file,omitempty"`
	Findings []Finding `json:"findings"`
}

const maxExamples = 20

// sampler picks the arrivals to grade: the first of each kind, then one in
// every 1/fraction.
type sampler struct {
	mu    sync.Mutex
	every int64
	seen  map[Kind]int64
}

func newSampler(fraction float64) *sampler {
	if fraction <= 0 {
		return nil
	}
	return &sampler{every: max(1, int64(math.Round(1/fraction))), seen: map[Kind]int64{}}
}

func (s *sampler) pick(k Kind) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seen[k]
	s.seen[k]++
	return n%s.every == 0
}

type gradeJob struct {
	phase *Phase
	kind  Kind
	raw   []byte
}

// grading runs the grader off the receive path, one job at a time; a full
// queue skips the sample rather than slowing the receivers.
type grading struct {
	grade    Grader
	evidence *probe.Evidence
	jobs     chan gradeJob
	done     chan struct{}
}

func startGrading(g Grader, ev *probe.Evidence) *grading {
	gr := &grading{grade: g, evidence: ev, jobs: make(chan gradeJob, 32), done: make(chan struct{})}
	go func() {
		defer close(gr.done)
		for j := range gr.jobs {
			gr.run(j)
		}
	}()
	return gr
}

func (gr *grading) submit(j gradeJob) {
	select {
	case gr.jobs <- j:
	default:
		j.phase.mu.Lock()
		j.phase.Graded.Skipped++
		j.phase.mu.Unlock()
	}
}

// stop waits for the queued jobs.
func (gr *grading) stop() {
	close(gr.jobs)
	<-gr.done
}

func (gr *grading) run(j gradeJob) {
	fs := gr.grade(j.raw)
	file := ""
	p := j.phase
	p.mu.Lock()
	keep := len(fs) > 0 && len(p.Graded.Examples) < maxExamples
	p.mu.Unlock()
	if keep && gr.evidence != nil {
		file, _ = gr.evidence.Save("load", pec.Kind(j.kind), j.raw)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Graded.Graded++
	if len(fs) == 0 {
		return
	}
	p.Graded.Failures++
	if p.Graded.ByRule == nil {
		p.Graded.ByRule = map[string]int64{}
	}
	for _, f := range fs {
		p.Graded.ByRule[f.Rule]++
	}
	if keep {
		p.Graded.Examples = append(p.Graded.Examples, GradeExample{Kind: j.kind, File: file, Findings: fs})
	}
}
