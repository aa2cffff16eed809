// Package ratelog rate-limits repeated lines of the operational log (issue
// 15: a connection flood wrote 9,496 identical lines, 6.2 MB). A Handler
// wraps another slog.Handler: of the lines of one kind it lets the first
// Burst of each Interval through, drops the rest, and when the interval ends
// writes one line saying how many it dropped ("suppressed similar lines",
// with the message and the count). Nothing is dropped without that summary.
//
// A kind is the level, the message, the logger's own attributes (With) and
// the record's Keys attributes (role, rule, listener): the lines a flood repeats
// differ only in a remote port or an error's detail, and are one kind. A
// line that names one certified message (an Exempt attribute: pec_id, msgid)
// is its own event, never similar to another, and always passes, as does
// everything below Level.
package ratelog

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Options set a Handler; zero values take the defaults.
type Options struct {
	Burst    int           // lines of one kind per Interval (default 10)
	Interval time.Duration // default 10 s
	// Level is the lowest level limited (the zero value: Info); Debug
	// lines, asked for with -v, always pass.
	Level  slog.Level
	Keys   []string // record attributes that tell kinds apart (default role, rule, listener)
	Exempt []string // attributes that make a line its own event (default pec_id, msgid)
}

// maxKinds bounds the kinds tracked at once: kinds are messages (constants
// in the code) times a few attribute values, so the bound is never reached
// in practice; past it new kinds pass unlimited rather than be lost.
const maxKinds = 4096

// Handler is the rate-limiting slog.Handler.
type Handler struct {
	next   slog.Handler
	o      *Options
	prefix string // the With attributes and groups, part of every kind
	st     *state // shared by the handlers derived with WithAttrs/WithGroup
}

type state struct {
	mu    sync.Mutex
	kinds map[string]*kind
}

// kind is the count of one kind of line in its current interval.
type kind struct {
	start      time.Time
	n          int
	suppressed int
	level      slog.Level
	msg        string
	attrs      []slog.Attr // its Keys attributes, repeated in the summary
	flush      *time.Timer // writes the summary at the interval's end
}

// New wraps next.
func New(next slog.Handler, o Options) *Handler {
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Keys == nil {
		o.Keys = []string{"role", "rule", "listener"}
	}
	if o.Exempt == nil {
		o.Exempt = []string{"pec_id", "msgid"}
	}
	return &Handler{next: next, o: &o, st: &state{kinds: map[string]*kind{}}}
}

// Enabled is the wrapped handler's.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// WithAttrs returns a handler whose lines carry attrs; they are part of the
// kind of its lines.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		b.WriteString(a.String() + "\x00")
	}
	return &Handler{next: h.next.WithAttrs(attrs), o: h.o, prefix: b.String(), st: h.st}
}

// WithGroup returns a handler whose lines' attributes go in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), o: h.o, prefix: h.prefix + "[" + name + "]\x00", st: h.st}
}

// Handle passes r on unless its kind already had Burst lines in the
// current interval.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.o.Level {
		return h.next.Handle(ctx, r)
	}
	key, attrs, exempt := h.kindOf(r)
	if exempt || h.st.admit(key, attrs, r, h) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// kindOf is r's kind, its Keys attributes, and whether r is exempt.
func (h *Handler) kindOf(r slog.Record) (string, []slog.Attr, bool) {
	var b strings.Builder
	b.WriteString(r.Level.String() + "\x00" + r.Message + "\x00" + h.prefix)
	var attrs []slog.Attr
	exempt := false
	r.Attrs(func(a slog.Attr) bool {
		for _, k := range h.o.Exempt {
			if a.Key == k {
				exempt = true
				return false
			}
		}
		for _, k := range h.o.Keys {
			if a.Key == k {
				b.WriteString(a.String() + "\x00")
				attrs = append(attrs, a)
			}
		}
		return true
	})
	return b.String(), attrs, exempt
}
