package mailbox

import (
	"net/mail"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Search answers SEARCH and UID SEARCH (RFC 3501 §6.4.4, RFC 9051 §6.4.4)
// with the ESEARCH results MIN, MAX, COUNT, ALL (RFC 4731) and SAVE (RFC
// 5182). Criteria on the index (numbers, flags, size, internal date) are
// checked first; headers and bodies are read from the message files, one
// message at a time, only when a criterion needs them. MODSEQ (CONDSTORE)
// is not supported.
func (se *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if usesModSeq(criteria) {
		return nil, no(imap.ResponseCodeCannot, "MODSEQ is not supported")
	}
	ts := se.box.targets(se.view, imap.SeqSet{{Start: 1, Stop: 0}})
	m := matcher{box: se.box, saved: se.saved}
	if n := len(ts); n > 0 {
		m.topSeq, m.topUID = ts[n-1].seq, ts[n-1].msg.uid
	}
	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
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
			data.Min = num
		}
		data.Max = num
		data.Count++
	}
	// go-imap needs a non-nil set of the command's kind, even when empty
	if kind == imapserver.NumKindUID {
		data.All = append(imap.UIDSet{}, uids...)
	} else {
		data.All = append(imap.SeqSet{}, seqs...)
	}
	if options != nil && options.ReturnSave {
		se.saved = uids
	}
	return data, nil
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
}

// match reports whether t satisfies every field of c (their intersection,
// RFC 9051 §6.4.4), the cheap ones first.
func (m *matcher) match(t *target, c *imap.SearchCriteria, msg *lazyMsg) bool {
	for _, s := range c.SeqNum {
		if !seqIn(s, t.seq, m.topSeq) {
			return false
		}
	}
	for _, s := range c.UID {
		if imap.IsSearchRes(s) {
			s = m.saved
		}
		if !uidIn(s, t.msg.uid, m.topUID) {
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
