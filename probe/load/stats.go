package load

import (
	"time"
)

// Stats summarizes a distribution, in milliseconds.
type Stats struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// KindStats are one kind's summaries, per measure.
type KindStats struct {
	Intended Stats `json:"intended"`
	EOD      Stats `json:"eod"`
	Daticert Stats `json:"daticert"`
	Skew     Stats `json:"skew"`
	// NoDaticert counts arrivals whose daticert.xml was missing or unreadable.
	NoDaticert int64 `json:"no_daticert,omitempty"`
}

// Measure returns the summary of one measure.
func (k KindStats) Measure(m string) Stats {
	switch m {
	case FromEOD:
		return k.EOD
	case Daticert:
		return k.Daticert
	case Skew:
		return k.Skew
	}
	return k.Intended
}

// EncodedHist is a kind's raw histograms, HdrHistogram V2 compressed base64
// (microseconds); a signed measure is two histograms, of the negative values'
// magnitudes and of the others.
type EncodedHist struct {
	Intended    string `json:"intended"`
	EOD         string `json:"eod"`
	DaticertNeg string `json:"daticert_neg"`
	DaticertPos string `json:"daticert_pos"`
	SkewNeg     string `json:"skew_neg"`
	SkewPos     string `json:"skew_pos"`
}

// dist is what a summary is computed from: a Hist or a Signed.
type dist interface {
	Count() int64
	Quantile(q float64) time.Duration
	Min() time.Duration
	Max() time.Duration
	Mean() time.Duration
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func statsOf(d dist) Stats {
	if d.Count() == 0 {
		return Stats{}
	}
	return Stats{Count: d.Count(), Min: ms(d.Min()), Mean: ms(d.Mean()), P50: ms(d.Quantile(0.5)),
		P90: ms(d.Quantile(0.9)), P99: ms(d.Quantile(0.99)), P999: ms(d.Quantile(0.999)), Max: ms(d.Max())}
}

// finish computes the summaries, the rates and the encoded histograms.
func (p *Phase) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Stats = map[Kind]KindStats{}
	p.Hists = map[Kind]EncodedHist{}
	for _, k := range Kinds {
		h := p.hists[k]
		p.Stats[k] = KindStats{Intended: statsOf(h.intended), EOD: statsOf(h.eod), Daticert: statsOf(h.daticert),
			Skew: statsOf(h.skew), NoDaticert: h.noDaticert}
		p.Hists[k] = EncodedHist{Intended: h.intended.Encode(), EOD: h.eod.Encode(),
			DaticertNeg: h.daticert.Neg.Encode(), DaticertPos: h.daticert.Pos.Encode(),
			SkewNeg: h.skew.Neg.Encode(), SkewPos: h.skew.Pos.Encode()}
	}
	if p.Duration > 0 {
		p.SubmitRate = float64(p.Accepted) / p.Duration.Seconds()
	}
	switch span := p.lastComplete.Sub(p.firstComplete); {
	case p.Complete > 1 && span > 0:
		p.AchievedRate = float64(p.Complete-1) / span.Seconds()
	case p.Complete > 0 && p.Duration > 0:
		p.AchievedRate = float64(p.Complete) / p.Duration.Seconds()
	}
	// Nothing records into a finished phase (its messages are complete or
	// lost): its histograms live on encoded, so a ramp's memory stays flat.
	p.hists = nil
}

// Achieved is the share of the offered rate the phase achieved (complete
// messages per second ÷ the offered rate).
func (p *Phase) Achieved() float64 {
	if p.Rate <= 0 {
		return 0
	}
	return p.AchievedRate / p.Rate
}

// ErrorCount is every SMTP error and error notice.
func (p *Phase) ErrorCount() int64 {
	var n int64
	for _, v := range p.Errors {
		n += v
	}
	return n
}
