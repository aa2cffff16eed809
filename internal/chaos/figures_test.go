package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
)

// kindNames are the printed names of the verified kinds.
var kindNames = map[pec.Kind]string{pec.KindAccettazione: "accettazione", pec.KindTrasporto: "busta di trasporto",
	pec.KindPresaInCarico: "presa in carico", pec.KindAvvenutaConsegna: "avvenuta consegna",
	pec.KindErroreConsegna: "mancata consegna (full mailbox)"}

// print writes the run's figures to standard output.
func (r *run) print(c *client, v *verdict, reg []*registro, submitted, settled time.Duration, advanced int) {
	p := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	rcpts, full := 0, 0
	for _, m := range r.msgs {
		rcpts += len(m.rcpts)
		if m.full != "" {
			full++
		}
	}
	p("chaos run, seed %d: %d certified messages, half alpha → beta and half beta → alpha, to %d recipients (%d of them a full mailbox); %d clients, new messages at %.0f/s",
		r.set.seed, len(r.msgs), rcpts, full, r.set.workers, r.set.rate)
	p("  traffic: every message accepted after %v (%.1f messages/s); everything delivered %v later (clocks advanced %d min for queue retries); total %v",
		submitted.Round(time.Second), float64(c.accepted.Load())/submitted.Seconds(), settled.Round(time.Second), advanced,
		time.Since(r.start).Round(time.Second))
	r.printFaults()
	r.printClients()
	var parts []string
	for _, k := range verifiedKinds {
		t := v.kinds[k]
		parts = append(parts, fmt.Sprintf("%s %d/%d", kindNames[k], t.once, t.want))
	}
	_, dup, lost := v.totals()
	p("  verified (exactly once / expected): %s; duplicates %d, lost %d, unexpected %d", strings.Join(parts, ", "), dup, lost, v.nUnexp)
	for _, g := range reg {
		p("  registro %s: %s; events %v", g.name, g.verify, g.events)
	}
	peaks := r.mem.peaks()
	p("  peak RSS (VmHWM, the largest over each process's incarnations): alpha %d MiB, beta %d MiB (bound %d MiB); clamd %d MiB, slapd %d MiB (no limit set)",
		peaks["alpha"]>>10, peaks["beta"]>>10, rssLimit>>10, peaks[lab.DaemonClamd]>>10, peaks[lab.DaemonSlapd]>>10)
	p("  machine: %d cores, load average %s at the start, %s at the end", runtime.NumCPU(), r.load[0], r.load[1])
}

// printFaults writes one line per fault and the freeze's and half-open's
// figures.
func (r *run) printFaults() {
	p := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	kills := map[string]int{}
	for _, e := range r.events {
		if e.kind == kindKill {
			kills[e.target]++
		}
	}
	p("  faults: SIGKILL alpha %d, beta %d, clamd %d, slapd %d (each restarted); slapd frozen %v once; proxy resets and one half-open connection; proxy latency %v–%v per chunk",
		kills["alpha"], kills["beta"], kills[lab.DaemonClamd], kills[lab.DaemonSlapd], freezeFor, proxyLatency[0], proxyLatency[1])
	p("     #  at msg  fault            target  back      /health   first accepted submission")
	for i, e := range r.events {
		p("    %2d  %6d  %-16s %-7s %-9s %-9s %-9s %s", i+1, e.at, e.kind, e.target, dur(e.back), dur(e.health), dur(e.firstOK), e.detail)
		if e.kind == kindFreeze {
			r.printFreeze(e)
		}
	}
	r.printWorst()
	for _, name := range []string{"alpha", "beta"} {
		s := r.proxies[name].Stats()
		var held []string
		for _, d := range s.HalfOpenHeld {
			held = append(held, d.Round(time.Millisecond).String())
		}
		line := fmt.Sprintf("  proxy to %s: %d connections, %d reset", name, s.Connections, s.Resets)
		if s.HalfOpen > 0 {
			line += fmt.Sprintf(", %d made half-open (its client ended it after %s)", s.HalfOpen, strings.Join(held, ", "))
		}
		p("%s", line)
	}
}

// printWorst writes, per kill target, the slowest recovery.
func (r *run) printWorst() {
	var parts []string
	for _, target := range []string{"alpha", "beta", lab.DaemonClamd, lab.DaemonSlapd} {
		var health, first time.Duration
		for _, e := range r.events {
			if e.kind == kindKill && e.target == target {
				health, first = max(health, e.health), max(first, e.firstOK)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s / %s", target, dur(health), dur(first)))
	}
	fmt.Printf("  slowest recovery per target (kill → /health ok / first accepted submission): %s\n", strings.Join(parts, "; "))
}

// printFreeze writes what alpha's clients met while slapd was frozen.
func (r *run) printFreeze(e *event) {
	out := map[string]int{}
	var longest time.Duration
	for _, a := range r.log.all() {
		if a.inst == "alpha" && !a.start.Before(e.from) && a.start.Before(e.t0) {
			out[a.outcome]++
			longest = max(longest, a.end.Sub(a.start))
		}
	}
	fmt.Printf("        while frozen, alpha's submissions: %d accepted, %d refused with 4xx, %d other; longest reply %v\n",
		out[outOK], out[outRefused], out[outLost]+out[outUnreachable]+out[outLogin], longest.Round(time.Millisecond))
}

// printClients writes what the clients' attempts met.
func (r *run) printClients() {
	out := map[string]int{}
	all := r.log.all()
	for _, a := range all {
		out[a.outcome]++
	}
	found := 0
	for _, m := range r.msgs {
		if m.found {
			found++
		}
	}
	fmt.Printf("  clients: %d attempts: %d accepted, %d refused with 4xx, %d unreachable, %d login refused, %d ended without a reply (%d of those messages found accepted by their accettazione, the rest submitted again); submissions completed from the journal at a restart: %d\n",
		len(all), out[outOK], out[outRefused], out[outUnreachable], out[outLogin], out[outLost], found, r.replayed())
}

// replayed counts the commits the instances completed from their journal
// after a restart (reference/provider/journal.go logs each).
func (r *run) replayed() int {
	n := 0
	for _, in := range r.l.Providers {
		data, _ := os.ReadFile(filepath.Join(in.Dir, "pecref.log"))
		n += strings.Count(string(data), "commit completed after a restart")
	}
	return n
}

func dur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return d.Round(time.Millisecond).String()
}

// judge fails the run on a duplicate, a lost or unexpected message, a
// registro that does not verify or lacks events, or a pecref over its bound.
func (r *run) judge(v *verdict, reg []*registro) {
	t := r.t
	if _, dup, lost := v.totals(); dup > 0 || lost > 0 {
		t.Errorf("%d duplicates, %d lost:\n  %s", dup, lost, strings.Join(v.problems, "\n  "))
	}
	if v.nUnexp > 0 {
		t.Errorf("%d unexpected messages:\n  %s", v.nUnexp, strings.Join(v.unexpected, "\n  "))
	}
	for _, g := range reg {
		if !g.ok {
			t.Errorf("pecspec log verify on %s's registro: %s", g.name, g.verify)
		}
		for _, m := range g.mismatches() {
			t.Errorf("registro %s", m)
		}
	}
	for name, kb := range r.mem.peaks() {
		if (name == "alpha" || name == "beta") && kb > rssLimit {
			t.Errorf("%s peak RSS %d MiB, over its bound of %d MiB", name, kb>>10, rssLimit>>10)
		}
	}
}
