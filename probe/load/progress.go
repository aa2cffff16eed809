package load

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ticks closes a point of the series every second and prints the live
// progress line; the returned func stops it.
func (s *session) ticks(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var recent []Point
		for {
			select {
			case <-ctx.Done():
				if s.opts.Terminal && s.opts.Progress != nil {
					fmt.Fprintln(s.opts.Progress)
				}
				return
			case now := <-t.C:
				p := s.series.tick(now, s.inFlight())
				recent = append(recent, p)
				if len(recent) > 5 {
					recent = recent[1:]
				}
				s.progress(p, recent)
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// progress prints the live line: offered and achieved rate (accepted
// submissions over the last 5 s), in flight, and the acceptance receipt's
// p99 so far in this phase.
func (s *session) progress(p Point, recent []Point) {
	w := s.opts.Progress
	if w == nil || (!s.opts.Terminal && int(p.T)%10 != 0) {
		return
	}
	var sub int64
	for _, r := range recent {
		sub += r.Submitted
	}
	line := fmt.Sprintf("%5.0fs  offered %.4g/s  achieved %.4g/s  in flight %d", p.T, p.Offered,
		float64(sub)/float64(len(recent)), p.InFlight)
	if ph := s.phase.Load(); ph != nil {
		ph.mu.Lock()
		if kh := ph.hists[Accettazione]; kh != nil && kh.intended.Count() > 0 {
			line += "  accettazione p99 " + fmtMs(ms(kh.intended.Quantile(0.99)))
		}
		line += fmt.Sprintf("  errors %d", ph.ErrorCount())
		ph.mu.Unlock()
	}
	line += fmt.Sprintf("  rss %.0f MiB", p.RSSMiB)
	if s.opts.Terminal {
		fmt.Fprintf(w, "\r%s%s", line, strings.Repeat(" ", max(0, 100-len(line))))
		return
	}
	fmt.Fprintln(w, line)
}

// progressf prints a line of its own (a ramp step's outcome).
func (s *session) progressf(format string, a ...any) {
	if s.opts.Progress == nil {
		return
	}
	if s.opts.Terminal {
		fmt.Fprint(s.opts.Progress, "\r")
	}
	fmt.Fprintf(s.opts.Progress, format, a...)
}
