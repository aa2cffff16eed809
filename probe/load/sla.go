package load

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SLA is one service-level expression: a kind's latency statistic, or a
// run-wide count or ratio, compared with a limit.
//
//	accettazione.p99<30m          the acceptance receipt (from the intended send time)
//	consegna.eod.p99.9<=2m        the delivery receipt, from the end of DATA
//	presa-in-carico.daticert.max<1m
//	lost==0   errors==0   unsent==0   achieved>=95%   graded-failures==0
type SLA struct {
	Expr    string
	Kind    Kind   // "" for a run-wide metric
	Measure string // FromIntended, FromEOD, Daticert, Skew
	Stat    string // p50 p90 p99 p99.9 max min mean count
	Metric  string // lost errors unsent sent complete unmatched achieved throughput graded-failures
	Op      string
	Limit   float64 // milliseconds for latencies
}

// DefaultSLAs are the published service levels (the acceptance receipt
// within 30 minutes of submission) and nothing lost or refused.
var DefaultSLAs = []string{"accettazione.p99<30m", "lost==0", "errors==0"}

// RampSLAs are added to every ramp step: a step that leaves messages
// unsent or completes less than 95 % of its offered rate is saturated.
var RampSLAs = []string{"unsent==0", "achieved>=95%"}

// ErrSLA wraps every malformed expression.
var ErrSLA = errors.New("load: sla")

var (
	latencyRE = regexp.MustCompile(`^([a-z-]+)(?:\.(intended|eod|daticert|skew))?\.(p50|p90|p99|p99\.9|p999|max|min|mean|count)\s*(<=|>=|==|!=|<|>)\s*(\S+)$`)
	metricRE  = regexp.MustCompile(`^(lost|errors|unsent|sent|complete|unmatched|achieved|throughput|graded-failures)\s*(<=|>=|==|!=|<|>)\s*(\S+)$`)
)

// ParseSLA reads one expression.
func ParseSLA(expr string) (SLA, error) {
	e := strings.ToLower(strings.TrimSpace(expr))
	if m := metricRE.FindStringSubmatch(e); m != nil {
		v, err := parseNumber(m[3])
		if err != nil {
			return SLA{}, fmt.Errorf("%w: %q: %v", ErrSLA, expr, err)
		}
		return SLA{Expr: expr, Metric: m[1], Op: m[2], Limit: v}, nil
	}
	m := latencyRE.FindStringSubmatch(e)
	if m == nil {
		return SLA{}, fmt.Errorf("%w: %q is not KIND[.MEASURE].STAT OP VALUE (accettazione.p99<30m) nor METRIC OP VALUE (lost==0)", ErrSLA, expr)
	}
	k, ok := kindAliases[m[1]]
	if !ok {
		return SLA{}, fmt.Errorf("%w: %q: unknown kind %q (accettazione, presa-in-carico, consegna, trasporto, errore, submit)", ErrSLA, expr, m[1])
	}
	s := SLA{Expr: expr, Kind: k, Measure: m[2], Stat: strings.Replace(m[3], "p999", "p99.9", 1), Op: m[4]}
	if s.Measure == "" {
		s.Measure = FromIntended
	}
	var err error
	if s.Stat == "count" {
		s.Limit, err = parseNumber(m[5])
	} else {
		var d time.Duration
		d, err = parseDuration(m[5])
		s.Limit = ms(d)
	}
	if err != nil {
		return SLA{}, fmt.Errorf("%w: %q: %v", ErrSLA, expr, err)
	}
	return s, nil
}

// parseDuration is time.ParseDuration plus days ("2d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		return time.Duration(n * 24 * float64(time.Hour)), err
	}
	return time.ParseDuration(s)
}

// parseNumber reads a count or a ratio ("0.95", "95%").
func parseNumber(s string) (float64, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		return v / 100, err
	}
	return strconv.ParseFloat(s, 64)
}

// ParseSLAs reads every expression, reporting every malformed one.
func ParseSLAs(exprs []string) ([]SLA, error) {
	var out []SLA
	var errs []error
	for _, e := range exprs {
		s, err := ParseSLA(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// SLAResult is an expression judged on a phase.
type SLAResult struct {
	Expr  string `json:"expr"`
	Value string `json:"value"`
	Pass  bool   `json:"pass"`
}

// Eval judges s on a finished phase. A latency with no sample fails (the
// receipts never came: lost says how many).
func (s SLA) Eval(p *Phase) SLAResult {
	r := SLAResult{Expr: s.Expr}
	if s.Metric != "" {
		v := p.metric(s.Metric)
		r.Value = strconv.FormatFloat(v, 'f', -1, 64)
		if s.Metric == "achieved" {
			r.Value = fmt.Sprintf("%.1f%%", v*100)
		}
		r.Pass = compare(v, s.Op, s.Limit)
		return r
	}
	st := p.Stats[s.Kind].Measure(s.Measure)
	if st.Count == 0 && s.Stat != "count" {
		r.Value = "no " + string(s.Kind) + " arrived"
		return r
	}
	v := st.stat(s.Stat)
	if s.Stat == "count" {
		r.Value = strconv.FormatFloat(v, 'f', -1, 64)
	} else {
		r.Value = fmtMs(v)
	}
	r.Pass = compare(v, s.Op, s.Limit)
	return r
}

func (s Stats) stat(name string) float64 {
	switch name {
	case "p50":
		return s.P50
	case "p90":
		return s.P90
	case "p99":
		return s.P99
	case "p99.9":
		return s.P999
	case "max":
		return s.Max
	case "min":
		return s.Min
	case "mean":
		return s.Mean
	}
	return float64(s.Count)
}

func (p *Phase) metric(name string) float64 {
	switch name {
	case "lost":
		return float64(p.Lost)
	case "errors":
		return float64(p.ErrorCount())
	case "unsent":
		return float64(p.Unsent)
	case "sent":
		return float64(p.Sent)
	case "complete":
		return float64(p.Complete)
	case "unmatched":
		return float64(p.Unmatched)
	case "achieved":
		return p.Achieved()
	case "throughput":
		return p.AchievedRate
	}
	return float64(p.Graded.Failures)
}

func compare(v float64, op string, limit float64) bool {
	switch op {
	case "<":
		return v < limit
	case "<=":
		return v <= limit
	case ">":
		return v > limit
	case ">=":
		return v >= limit
	case "==":
		return v == limit
	}
	return v != limit
}

// fmtMs renders milliseconds as a duration with three significant digits.
func fmtMs(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond || d <= -time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
