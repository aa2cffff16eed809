package mailbox

import (
	"sort"

	"github.com/emersion/go-imap/v2"
)

// Message sets (RFC 9051 §9 sequence-set): a command's sequence numbers and
// UIDs are resolved against the session's view (view), "*" being the last
// message the client was told of. A set is first normalised — each range
// ordered and capped, the ranges sorted and merged — so that a set of
// thousands of ranges costs one walk of the view, not one per range.

// target is a message a command names: its sequence number in the client's
// view and a copy of its index entry, valid after the box lock is released.
type target struct {
	seq uint32
	msg message
}

// interval is a closed range of numbers, lo ≤ hi.
type interval struct{ lo, hi uint32 }

// numRange is a range as the client wrote it, 0 being "*".
type numRange struct{ start, stop uint32 }

// intervals is a normalised set: sorted, disjoint, not adjacent.
type intervals []interval

// normalize resolves set's ranges ("*" and any end above top being top,
// RFC 9051 §9 seq-range) into intervals.
func normalize(ranges []numRange, top uint32) intervals {
	var out intervals
	for _, r := range ranges {
		if lo, hi := bounds(r.start, r.stop, top); max(lo, 1) <= hi {
			out = append(out, interval{max(lo, 1), hi})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && iv.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, iv.hi)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// has reports whether n is in the set.
func (s intervals) has(n uint32) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].hi >= n })
	return i < len(s) && s[i].lo <= n
}

// bounds orders a range, "*" (0) being top and an end above top capped to
// it (RFC 9051 §9 seq-range: "*" is the largest number in use).
func bounds(start, stop, top uint32) (lo, hi uint32) {
	if start == 0 {
		start = top
	}
	if stop == 0 {
		stop = top
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, min(stop, top)
}

func seqRanges(s imap.SeqSet) []numRange {
	out := make([]numRange, len(s))
	for i, r := range s {
		out[i] = numRange{r.Start, r.Stop}
	}
	return out
}

func uidRanges(s imap.UIDSet) []numRange {
	out := make([]numRange, len(s))
	for i, r := range s {
		out[i] = numRange{uint32(r.Start), uint32(r.Stop)}
	}
	return out
}

// targets resolves set in v: the messages the client knows (in its view)
// and that are still in the index, ascending. A number whose message was
// expunged (its EXPUNGE not yet sent) names nothing.
func (b *box) targets(v *view, set imap.NumSet) []target {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []target
	j := 0 // into b.msgs: both walks go up in UID order
	emit := func(pos int) {
		uid := v.uids[pos]
		for j < len(b.msgs) && b.msgs[j].uid < uid {
			j++
		}
		if j < len(b.msgs) && b.msgs[j].uid == uid {
			out = append(out, target{seq: uint32(pos + 1), msg: b.msgs[j].snapshot()})
		}
	}
	top, topUID := v.last()
	switch set := set.(type) {
	case imap.SeqSet:
		for _, iv := range normalize(seqRanges(set), top) {
			for c := iv.lo; c <= iv.hi; c++ {
				emit(int(c - 1))
			}
		}
	case imap.UIDSet:
		ivs := normalize(uidRanges(set), uint32(topUID))
		k := 0
		for pos, uid := range v.uids {
			for k < len(ivs) && ivs[k].hi < uint32(uid) {
				k++
			}
			if k == len(ivs) {
				break
			}
			if uint32(uid) >= ivs[k].lo {
				emit(pos)
			}
		}
	}
	return out
}

// numSet is set with "$" (RFC 5182 §2.1) replaced by the saved search
// result, a set of UIDs.
func (se *session) numSet(set imap.NumSet) imap.NumSet {
	if imap.IsSearchRes(set) {
		return append(imap.UIDSet{}, se.saved...)
	}
	return set
}
