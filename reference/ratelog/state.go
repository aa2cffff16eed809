package ratelog

import (
	"context"
	"log/slog"
	"time"
)

// admit counts r under key and reports whether it passes; the first line
// dropped in an interval sets the timer that writes the summary through h
// when the interval ends.
func (s *state) admit(key string, attrs []slog.Attr, r slog.Record, h *Handler) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[key]
	if k == nil {
		if len(s.kinds) >= maxKinds && !s.prune(now, h.o.Interval) {
			return true
		}
		k = &kind{start: now, level: r.Level, msg: r.Message, attrs: attrs}
		s.kinds[key] = k
	}
	if now.Sub(k.start) >= h.o.Interval {
		k.start, k.n = now, 0
	}
	k.n++
	if k.n <= h.o.Burst {
		return true
	}
	k.suppressed++
	if k.flush == nil {
		k.flush = time.AfterFunc(k.start.Add(h.o.Interval).Sub(now), func() { s.summarize(k, h) })
	}
	return false
}

// summarize writes how many lines of k were dropped.
func (s *state) summarize(k *kind, h *Handler) {
	s.mu.Lock()
	n := k.suppressed
	k.suppressed, k.flush = 0, nil
	s.mu.Unlock()
	if n == 0 {
		return
	}
	r := slog.NewRecord(time.Now(), k.level, "suppressed similar lines", 0)
	r.AddAttrs(k.attrs...)
	r.AddAttrs(slog.String("like", k.msg), slog.Int("count", n), slog.Duration("interval", h.o.Interval))
	_ = h.next.Handle(context.Background(), r)
}

// prune forgets the kinds whose interval is over and that have nothing to
// summarize; it reports whether that made room.
func (s *state) prune(now time.Time, interval time.Duration) bool {
	for key, k := range s.kinds {
		if k.flush == nil && now.Sub(k.start) >= interval {
			delete(s.kinds, key)
		}
	}
	return len(s.kinds) < maxKinds
}
