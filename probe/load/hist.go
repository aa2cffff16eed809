package load

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histograms record microseconds, from 1 µs to 48 h, with 3 significant
// digits: every value is reported within 0.1 % of what was recorded
// (HdrHistogram's bounded relative error). Signed ones (daticert instants,
// which have one second's resolution) keep 2 digits: 1 %, a tenth of the
// size.
const (
	histLowest   = 1
	histHighest  = int64(48 * time.Hour / time.Microsecond)
	histDigits   = 3
	signedDigits = 2
)

// Hist is a latency histogram (durations ≥ 0).
type Hist struct{ h *hdrhistogram.Histogram }

// NewHist returns an empty histogram.
func NewHist() *Hist { return newHist(histDigits) }

func newHist(digits int) *Hist { return &Hist{h: hdrhistogram.New(histLowest, histHighest, digits)} }

// Record adds d, clamped to the histogram's range.
func (h *Hist) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	us = max(0, min(us, histHighest))
	_ = h.h.RecordValue(us) // in range: cannot fail
}

// Count is how many values were recorded.
func (h *Hist) Count() int64 { return h.h.TotalCount() }

// Quantile returns the value at quantile q (0..1); 0 when empty.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtPercentile(q*100)) * time.Microsecond
}

// Max and Min are the largest and smallest values (within the resolution).
func (h *Hist) Max() time.Duration { return time.Duration(h.h.Max()) * time.Microsecond }
func (h *Hist) Min() time.Duration { return time.Duration(h.h.Min()) * time.Microsecond }

// Mean is the average.
func (h *Hist) Mean() time.Duration {
	return time.Duration(h.h.Mean() * float64(time.Microsecond))
}

// Reset empties h.
func (h *Hist) Reset() { h.h.Reset() }

// Merge adds o's values to h.
func (h *Hist) Merge(o *Hist) { h.h.Merge(o.h) }

// Encode is the histogram in HdrHistogram's compressed V2 form, base64: what
// HdrHistogram's own tools (HistogramLogAnalyzer) read.
func (h *Hist) Encode() string {
	b, err := h.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return ""
	}
	return string(b)
}

// DecodeHist reads what Encode wrote.
func DecodeHist(s string) (*Hist, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, err
	}
	return &Hist{h: h}, nil
}

// Signed is a histogram of durations that may be negative (a provider's
// daticert instant before the submission's end of DATA: the instant has one
// second's resolution, and clocks differ): two histograms of magnitudes.
type Signed struct{ Neg, Pos *Hist }

// NewSigned returns an empty signed histogram.
func NewSigned() *Signed { return &Signed{Neg: newHist(signedDigits), Pos: newHist(signedDigits)} }

// Record adds d.
func (s *Signed) Record(d time.Duration) {
	if d < 0 {
		s.Neg.Record(-d)
		return
	}
	s.Pos.Record(d)
}

// Count is how many values were recorded.
func (s *Signed) Count() int64 { return s.Neg.Count() + s.Pos.Count() }

// Quantile returns the value at quantile q over both signs: the negative
// values come first, largest magnitude first.
func (s *Signed) Quantile(q float64) time.Duration {
	n, neg := s.Count(), s.Neg.Count()
	if n == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	if rank <= neg {
		r := neg - rank + 1 // the r-th smallest magnitude
		return -s.Neg.Quantile(float64(r) / float64(neg))
	}
	pos := s.Pos.Count()
	return s.Pos.Quantile(float64(rank-neg) / float64(pos))
}

// Max and Min over both signs.
func (s *Signed) Max() time.Duration {
	if s.Pos.Count() > 0 {
		return s.Pos.Max()
	}
	return -s.Neg.Min()
}

func (s *Signed) Min() time.Duration {
	if s.Neg.Count() > 0 {
		return -s.Neg.Max()
	}
	return s.Pos.Min()
}

// Mean over both signs.
func (s *Signed) Mean() time.Duration {
	n := s.Count()
	if n == 0 {
		return 0
	}
	sum := float64(s.Pos.Mean())*float64(s.Pos.Count()) - float64(s.Neg.Mean())*float64(s.Neg.Count())
	return time.Duration(sum / float64(n))
}

// Merge adds o's values to s.
func (s *Signed) Merge(o *Signed) {
	s.Neg.Merge(o.Neg)
	s.Pos.Merge(o.Pos)
}
