package mailbox

import (
	"net/mail"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Search answers SEARCH and UID SEARCH (RFC 3501 §6.4.4, RFC 9051 §6.4.4)
// with the ESEARCH results MIN, MAX, COUNT, ALL (RFC 4731) and SAVE (RFC
// 5182). Only the messages the client knows are searched, and "*" is its
// last one. Criteria on the index (numbers, flags, size, internal date) are
// checked first; headers and bodies are read from the message files, one
// message at a time, only when a criterion needs them. MODSEQ (CONDSTORE)
// is not supported.
func (se *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if usesModSeq(criteria) {
		return nil, no(imap.ResponseCodeCannot, "MODSEQ is not supported")
	}
	ts := se.box.targets(se.view, imap.SeqSet{{Start: 1, Stop: 0}})
	m := matcher{box: se.box, saved: se.saved, sets: map[any]intervals{}}
	m.topSeq, m.topUID = se.view.last()
	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	var minUID, maxUID imap.UID
	for i := range ts {
		t := &ts[i]
		msg := &lazyMsg{box: se.box, uid: t.msg.uid}
		ok := m.match(t, criteria, msg)
		msg.close()
		if !ok {
			continue
		}
		num := t.seq
		if kind == imapserver.NumKindUID {
			num = uint32(t.msg.uid)
		}
		seqs.AddNum(t.seq)
		uids.AddNum(t.msg.uid)
		if data.Count == 0 {
			data.Min, minUID = num, t.msg.uid
		}
		data.Max, maxUID = num, t.msg.uid
		data.Count++
	}
	// go-imap needs a non-nil set of the command's kind, even when empty
	if kind == imapserver.NumKindUID {
		data.All = append(imap.UIDSet{}, uids...)
	} else {
		data.All = append(imap.SeqSet{}, seqs...)
	}
	if options != nil && options.ReturnSave {
		se.saved = saved(options, uids, minUID, maxUID, data.Count > 0)
	}
	return data, nil
}

// saved is what SEARCH RETURN (SAVE) keeps as "$" (RFC 5182 §2.1): with
// MIN and/or MAX and neither ALL nor COUNT, only the lowest and/or highest
// match; otherwise every match.
func saved(o *imap.SearchOptions, all imap.UIDSet, minUID, maxUID imap.UID, any bool) imap.UIDSet {
	if o.ReturnAll || o.ReturnCount || !(o.ReturnMin || o.ReturnMax) || !any {
		return all
	}
	var out imap.UIDSet
	if o.ReturnMin {
		out.AddNum(minUID)
	}
	if o.ReturnMax {
		out.AddNum(maxUID)
	}
	return out
}

func usesModSeq(c *imap.SearchCriteria) bool {
	if c.ModSeq != nil {
		return true
	}
	for i := range c.Not {
		if usesModSeq(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if usesModSeq(&c.Or[i][0]) || usesModSeq(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// matcher checks search criteria against one message.
type matcher struct {
	box    *box
	saved  imap.UIDSet // "$"
	topSeq uint32      // "*" in sequence sets
	topUID imap.UID    // "*" in UID sets
	// sets holds each criterion's set normalised (by its first range's
	// address), so a set of many ranges is sorted once per SEARCH.
	sets map[any]intervals
}

// in reports whether n is in the normalised set s, for either kind.
func (m *matcher) in(s imap.NumSet, n uint32) bool {
	var key any
	var ranges []numRange
	var top uint32
	switch s := s.(type) {
	case imap.SeqSet:
		if len(s) == 0 {
			return false
		}
		key, ranges, top = &s[0], seqRanges(s), m.topSeq
	case imap.UIDSet:
		if len(s) == 0 {
			return false
		}
		key, ranges, top = &s[0], uidRanges(s), uint32(m.topUID)
	}
	ivs, ok := m.sets[key]
	if !ok {
		ivs = normalize(ranges, top)
		m.sets[key] = ivs
	}
	return ivs.has(n)
}

// match reports whether t satisfies every field of c (their intersection,
// RFC 9051 §6.4.4), the cheap ones first.
func (m *matcher) match(t *target, c *imap.SearchCriteria, msg *lazyMsg) bool {
	for _, s := range c.SeqNum {
		if !m.in(s, t.seq) {
			return false
		}
	}
	for _, s := range c.UID {
		if imap.IsSearchRes(s) {
			s = m.saved
		}
		if !m.in(s, uint32(t.msg.uid)) {
			return false
		}
	}
	for _, f := range c.Flag {
		if !t.msg.hasFlag(f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if t.msg.hasFlag(f) {
			return false
		}
	}
	if (c.Larger > 0 && t.msg.size <= c.Larger) || (c.Smaller > 0 && t.msg.size >= c.Smaller) {
		return false
	}
	if !dateIn(t.msg.date.Local(), c.Since, c.Before) {
		return false
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		h, ok := msg.header()
		sent, err := mail.ParseDate(h.Get("Date"))
		if !ok || err != nil || !dateIn(sent, c.SentSince, c.SentBefore) {
			return false
		}
	}
	for _, f := range c.Header {
		if !msg.headerHas(f.Key, f.Value) {
			return false
		}
	}
	for _, s := range c.Body {
		if !msg.bodyHas(s) {
			return false
		}
	}
	for _, s := range c.Text {
		if !msg.headerTextHas(s) && !msg.bodyHas(s) {
			return false
		}
	}
	for i := range c.Not {
		if m.match(t, &c.Not[i], msg) {
			return false
		}
	}
	for i := range c.Or {
		if !m.match(t, &c.Or[i][0], msg) && !m.match(t, &c.Or[i][1], msg) {
			return false
		}
	}
	return true
}

// dateIn compares t's calendar date, in t's own zone, with since (on or
// after) and before (strictly before), whose dates are taken as written:
// SEARCH disregards time and timezone (RFC 3501 §6.4.4).
func dateIn(t, since, before time.Time) bool {
	day := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if !since.IsZero() && day(t).Before(day(since)) {
		return false
	}
	return before.IsZero() || day(t).Before(day(before))
}
