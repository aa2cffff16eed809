package load

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Point is one second of the run: latencies of what arrived in it (from the
// intended send time), what was submitted and completed, the messages in
// flight and the generator's own memory.
type Point struct {
	T         float64               `json:"t"`       // seconds since the run started
	Offered   float64               `json:"offered"` // the schedule's rate, messages/s (0 while draining)
	Submitted int64                 `json:"submitted"`
	Completed int64                 `json:"completed"`
	InFlight  int64                 `json:"in_flight"`
	RSSMiB    float64               `json:"rss_mib"`
	Kinds     map[Kind]PointLatency `json:"kinds,omitempty"`
}

// PointLatency summarizes one kind's arrivals in one second.
type PointLatency struct {
	Count int64   `json:"n"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// series collects the per-second points; its memory grows by one small
// point a second, nothing per message.
type series struct {
	mu                   sync.Mutex
	t0                   time.Time
	rate                 float64
	iv                   map[Kind]*Hist
	submitted, completed int64
	points               []Point
}

func newSeries(t0 time.Time) *series {
	s := &series{t0: t0, iv: map[Kind]*Hist{}}
	for _, k := range Kinds {
		s.iv[k] = NewHist()
	}
	return s
}

func (s *series) setRate(r float64) {
	s.mu.Lock()
	s.rate = r
	s.mu.Unlock()
}

func (s *series) record(k Kind, d time.Duration) {
	s.mu.Lock()
	s.iv[k].Record(d)
	if k == Submit {
		s.submitted++
	}
	s.mu.Unlock()
}

func (s *series) complete() {
	s.mu.Lock()
	s.completed++
	s.mu.Unlock()
}

// tick closes the second that ends at now.
func (s *series) tick(now time.Time, inFlight int64) Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Point{T: now.Sub(s.t0).Seconds(), Offered: s.rate, Submitted: s.submitted, Completed: s.completed,
		InFlight: inFlight, RSSMiB: rssMiB(), Kinds: map[Kind]PointLatency{}}
	for k, h := range s.iv {
		if h.Count() == 0 {
			continue
		}
		p.Kinds[k] = PointLatency{Count: h.Count(), P50: ms(h.Quantile(0.5)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
		h.Reset()
	}
	s.submitted, s.completed = 0, 0
	s.points = append(s.points, p)
	return p
}

func (s *series) all() []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Point(nil), s.points...)
}

// selfCPU is this process's user and system CPU time in seconds (0 where
// getrusage is not available).
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rssMiB is this process's resident memory (Linux /proc/self/statm), 0
// elsewhere.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return float64(pages*int64(os.Getpagesize())) / (1 << 20)
}
