package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a log destination safe for the summary timers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

func newLogger(o Options) (*slog.Logger, *lockedBuffer) {
	buf := &lockedBuffer{}
	return slog.New(New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}), o)), buf
}

// TestFloodIsBounded: 1,000 identical warnings (but for the remote port)
// give the first 10 lines and, when the interval ends, one summary counting
// the other 990; the next interval lets lines through again.
func TestFloodIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, buf := newLogger(Options{})
		alpha := log.With("provider", "alpha")
		for i := range 1000 {
			alpha.Warn("connection refused", "role", "mx", "remote", "127.0.0.1:"+string(rune('0'+i%10)))
		}
		if n := len(buf.lines()); n != 10 {
			t.Fatalf("%d lines during the flood, want 10:\n%s", n, strings.Join(buf.lines(), "\n"))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		lines := buf.lines()
		last := lines[len(lines)-1]
		for _, want := range []string{"level=WARN", "msg=\"suppressed similar lines\"", "provider=alpha", "role=mx",
			"like=\"connection refused\"", "count=990", "interval=10s"} {
			if len(lines) != 11 || !strings.Contains(last, want) {
				t.Fatalf("after the interval, %d lines, the last lacking %s:\n%s", len(lines), want, strings.Join(lines, "\n"))
			}
		}
		alpha.Warn("connection refused", "role", "mx")
		if n := len(buf.lines()); n != 12 {
			t.Errorf("the next interval's first line dropped: %d lines", n)
		}
	})
}

// TestKindsAreApart: lines of other kinds (another message, level, role or
// provider) are not counted with a flood; lines naming a certified message,
// and Debug lines, always pass; without drops there is no summary.
func TestKindsAreApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, buf := newLogger(Options{Burst: 2, Interval: time.Second})
		for range 5 {
			log.Warn("flood", "role", "mx")
		}
		log.Warn("flood", "role", "accesspoint")
		log.With("provider", "beta").Warn("flood", "role", "mx")
		log.Error("flood", "role", "mx")
		log.Warn("other", "role", "mx")
		for i := range 50 {
			log.Info("accepted", "role", "accesspoint", "pec_id", i)
			log.Debug("tls handshake failed", "remote", "127.0.0.1")
		}
		if got, want := len(buf.lines()), 2+4+100; got != want {
			t.Errorf("%d lines, want %d", got, want)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		var summaries []string
		for _, l := range buf.lines() {
			if strings.Contains(l, "suppressed similar lines") {
				summaries = append(summaries, l)
			}
		}
		if len(summaries) != 1 || !strings.Contains(summaries[0], "count=3") {
			t.Errorf("summaries: %q, want one of 3 lines", summaries)
		}
	})
}

// TestConcurrentLoggers: many goroutines logging one kind at once still
// give Burst lines and a summary of exactly the rest (run with -race).
func TestConcurrentLoggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, buf := newLogger(Options{Burst: 5, Interval: time.Minute})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					log.Error("index lookup failed", "role", "index")
				}
			})
		}
		wg.Wait()
		time.Sleep(time.Minute)
		synctest.Wait()
		lines := buf.lines()
		if len(lines) != 6 || !strings.Contains(lines[5], "count=795") {
			t.Errorf("%d lines, last %q; want 5 and a summary of 795", len(lines), lines[len(lines)-1])
		}
	})
}
