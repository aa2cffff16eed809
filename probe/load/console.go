package load

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WriteJSON writes load.json: the settings, every phase with its summaries,
// raw histograms and SLA verdicts, the knee and the per-second series.
func (r *Result) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// kindLabel names a kind in tables.
func kindLabel(k Kind) string {
	if k == Submit {
		return "submit (SMTP reply)"
	}
	return string(k)
}

// WriteTable prints the console report: per phase (a ramp: the step table,
// then the knee step in full) the latencies by kind, the rates, the errors,
// the graded sample and the SLA verdicts.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "pecspec load: %s → %s, run %s, %s to %s\n", r.Target, r.Counterpart, r.RunID,
		r.Started.Format("15:04:05"), r.Finished.Format("15:04:05"))
	s := r.Settings
	fmt.Fprintf(w, "%d connections, %d senders, %d recipients per message, %d bytes, window %s, drain %s\n",
		s.Connections, s.Senders, s.Recipients, s.Size, s.Duration, s.Drain)
	if r.CleanupError != "" {
		fmt.Fprintf(w, "the run's messages could not all be expunged (%d were): %s\n", r.Expunged, r.CleanupError)
	}
	if r.Knee != nil {
		r.writeRamp(w)
		if p := r.kneePhase(); p != nil {
			fmt.Fprintf(w, "\nthe knee step, %.4g msg/s offered:\n", p.Rate)
			p.writeTable(w)
		}
		return
	}
	for _, p := range r.Phases {
		p.writeTable(w)
	}
}

// kneePhase is the last step that met every SLA.
func (r *Result) kneePhase() *Phase {
	for _, p := range slices.Backward(r.Phases) {
		if p.pass() {
			return p
		}
	}
	return nil
}

func (r *Result) writeRamp(w io.Writer) {
	fmt.Fprintf(w, "\n%4s %9s %9s %7s %7s %5s %6s %12s %12s  %s\n", "step", "offered", "achieved", "sent", "errors",
		"lost", "unsent", "acc. p99", "consegna p99", "verdict")
	for i, p := range r.Phases {
		fmt.Fprintf(w, "%4d %7.4g/s %7.4g/s %7d %7d %5d %6d %12s %12s  %s\n", i+1, p.Rate, p.AchievedRate, p.Sent,
			p.ErrorCount(), p.Lost, p.Unsent, statCell(p, Accettazione), statCell(p, Consegna), verdict(p))
	}
	k := r.Knee
	switch {
	case k.Found && k.BrokeAt > 0:
		fmt.Fprintf(w, "knee: %.4g msg/s (at %.4g msg/s: %s)\n", k.Rate, k.BrokeAt, strings.Join(k.BrokeBy, ", "))
	case k.Found:
		fmt.Fprintf(w, "knee: at least %.4g msg/s (every step met the SLAs; raise --ramp-steps)\n", k.Rate)
	default:
		fmt.Fprintf(w, "knee: below %.4g msg/s, the first step (%s)\n", k.BrokeAt, strings.Join(k.BrokeBy, ", "))
	}
}

func statCell(p *Phase, k Kind) string {
	st := p.Stats[k].Intended
	if st.Count == 0 {
		return "-"
	}
	return fmtMs(st.P99)
}

func (p *Phase) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\n%-20s %7s %9s %9s %9s %9s %9s %11s %12s %10s\n", "latency", "count", "p50", "p90", "p99",
		"p99.9", "max", "eod p99", "daticert p50", "skew p50")
	for _, k := range Kinds {
		st := p.Stats[k]
		in := st.Intended
		if in.Count == 0 {
			fmt.Fprintf(w, "%-20s %7d\n", kindLabel(k), 0)
			continue
		}
		dat, skew := "-", "-"
		if st.Daticert.Count > 0 {
			dat, skew = fmtMs(st.Daticert.P50), fmtMs(st.Skew.P50)
		}
		fmt.Fprintf(w, "%-20s %7d %9s %9s %9s %9s %9s %11s %12s %10s\n", kindLabel(k), in.Count, fmtMs(in.P50),
			fmtMs(in.P90), fmtMs(in.P99), fmtMs(in.P999), fmtMs(in.Max), fmtMs(st.EOD.P99), dat, skew)
	}
	fmt.Fprintln(w, "(from the intended send time; eod: from the end of DATA; daticert: the provider's data/ora − end of DATA; skew: arrival − data/ora)")
	fmt.Fprintf(w, "offered %.4g msg/s, submitted %.4g/s, achieved %.4g/s (%.1f %%); scheduled %d, sent %d, accepted %d, refused %d, unsent %d, complete %d, lost %d",
		p.Rate, p.SubmitRate, p.AchievedRate, 100*p.Achieved(), p.Scheduled, p.Sent, p.Accepted, p.Refused, p.Unsent,
		p.Complete, p.Lost)
	if p.Unmatched > 0 {
		fmt.Fprintf(w, ", %d late or duplicate", p.Unmatched)
	}
	if p.GeneratorCPU > 0 && p.Sent > 0 {
		fmt.Fprintf(w, "; pecspec's own CPU %.1f s (%.2f ms per message)", p.GeneratorCPU, 1000*p.GeneratorCPU/float64(p.Sent))
	}
	fmt.Fprintln(w)
	if len(p.LostKinds) > 0 {
		fmt.Fprintf(w, "receipts that never came: %s\n", countList(kindCounts(p.LostKinds)))
	}
	fmt.Fprintf(w, "errors: %s\n", countList(p.Errors))
	g := p.Graded
	if g.Graded+g.Skipped > 0 {
		fmt.Fprintf(w, "graded sample: %d graded, %d skipped, %d with MUST failures", g.Graded, g.Skipped, g.Failures)
		if len(g.ByRule) > 0 {
			fmt.Fprintf(w, " (%s)", countList(g.ByRule))
		}
		fmt.Fprintln(w)
	}
	for _, v := range p.SLA {
		mark := "PASS"
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "SLA %s  %-32s %s\n", mark, v.Expr, v.Value)
	}
}

func kindCounts(m map[Kind]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// countList renders "a: 1, b: 2" in key order, "none" when empty.
func countList(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
