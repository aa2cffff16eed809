package netguard

import "time"

// maxKeys bounds each table of failure counts: an attacker spreading over
// many addresses or account names cannot grow it further (a full table
// drops the expired entries, then a sixteenth of the others at random; a
// dropped count only weakens the throttle for its key).
const maxKeys = 1 << 16

// count is the failures of one key since the start of its window.
type count struct {
	n     int
	since time.Time
}

// window counts failures per key in fixed windows that start at a key's
// first failure.
type window struct {
	length time.Duration
	m      map[string]count
}

// get returns key's failures in its current window at now.
func (w *window) get(key string, now time.Time) int {
	c, ok := w.m[key]
	if !ok || now.Sub(c.since) >= w.length {
		return 0
	}
	return c.n
}

// add counts one failure of key at now and returns its failures so far.
func (w *window) add(key string, now time.Time) int {
	if w.m == nil {
		w.m = map[string]count{}
	}
	c, ok := w.m[key]
	if !ok || now.Sub(c.since) >= w.length {
		if !ok && len(w.m) >= maxKeys {
			w.prune(now)
		}
		c = count{since: now}
	}
	c.n++
	w.m[key] = c
	return c.n
}

func (w *window) forget(key string) { delete(w.m, key) }

// prune drops the expired entries and, if that is not enough, arbitrary
// ones (map order) down to 15/16 of maxKeys: one scan makes room for many
// adds.
func (w *window) prune(now time.Time) {
	for k, c := range w.m {
		if now.Sub(c.since) >= w.length {
			delete(w.m, k)
		}
	}
	for k := range w.m {
		if len(w.m) <= maxKeys-maxKeys/16 {
			break
		}
		delete(w.m, k)
	}
}
