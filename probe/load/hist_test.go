package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistRelativeError: every quantile is within 0.1 % (3 significant
// digits) of the exact value at the same rank, over six decades.
func TestHistRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHist()
	var vals []time.Duration
	for range 20000 {
		// log-uniform from 10 µs to 1000 s
		d := time.Duration(math.Pow(10, 1+r.Float64()*8)) * time.Microsecond
		vals = append(vals, d)
		h.Record(d)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		exact := vals[max(int(math.Round(q*float64(len(vals))))-1, 0)]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.001 {
			t.Errorf("q %v: %v, exact %v: relative error %.5f > 0.001", q, got, exact, rel)
		}
	}
	if h.Count() != int64(len(vals)) {
		t.Errorf("count %d, want %d", h.Count(), len(vals))
	}
	back, err := DecodeHist(h.Encode())
	if err != nil || back.Quantile(0.99) != h.Quantile(0.99) || back.Count() != h.Count() {
		t.Errorf("encode/decode: %v, p99 %v vs %v", err, back.Quantile(0.99), h.Quantile(0.99))
	}
}

// TestSignedQuantiles: negative values come first, by magnitude; 2
// significant digits: within 1 %.
func TestSignedQuantiles(t *testing.T) {
	s := NewSigned()
	for _, ms := range []int{-900, -500, -100, 0, 200, 400, 600, 800, 1000, 3000} {
		s.Record(time.Duration(ms) * time.Millisecond)
	}
	within := func(got time.Duration, wantMs int) bool {
		want := time.Duration(wantMs) * time.Millisecond
		return math.Abs(float64(got-want)) <= math.Abs(float64(want))*0.01+float64(time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want int
	}{{0.1, -900}, {0.2, -500}, {0.3, -100}, {0.4, 0}, {0.5, 200}, {0.9, 1000}, {1, 3000}} {
		if got := s.Quantile(c.q); !within(got, c.want) {
			t.Errorf("Quantile(%v) = %v, want %d ms", c.q, got, c.want)
		}
	}
	if !within(s.Min(), -900) || !within(s.Max(), 3000) {
		t.Errorf("min %v max %v, want -900 ms and 3000 ms", s.Min(), s.Max())
	}
	if !within(s.Mean(), 450) {
		t.Errorf("mean %v, want 450 ms", s.Mean())
	}
}
