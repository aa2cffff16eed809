package scenarios

import (
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/report"
)

// The sequence diagram of a scenario (report.html): one lane per party —
// the sender's mailbox, each provider (named by its domain), each mailbox
// a message reached — and one row per hop. A message a provider sends to
// one of its own users is one arrow, provider → mailbox; one for another
// provider's user is two: the transfer provider → provider, then that
// provider's delivery into the mailbox. The time column gives each row's
// instant on the clock of the provider that acted, in its zone, with the
// date when it changes: a transfer at its Date header, a delivery when the
// probe found it (≤: at the latest), on the lab's clock.

// Diagram geometry (SVG user units; the SVG scales to the page width).
const (
	timeCol   = 124
	laneWidth = 124
	rowHeight = 19
	laneTop   = 40 // below the two-line lane names
)

type lane struct {
	name     string // an address or a domain
	provider bool
}

type hop struct {
	from, to int
	label    string
	at       time.Time
	upTo     bool // at is when the probe found it: the delivery was earlier
	href     string
	failed   bool
}

type diagramBuilder struct {
	lanes []lane
	hops  []hop
}

// laneOf is the index of the lane of name, added in its domain's group:
// the sender's mailbox before its provider, other mailboxes after theirs.
func (d *diagramBuilder) laneOf(name string, provider bool) int {
	for i, l := range d.lanes {
		if strings.EqualFold(l.name, name) && l.provider == provider {
			return i
		}
	}
	d.lanes = append(d.lanes, lane{name: name, provider: provider})
	return len(d.lanes) - 1
}

// diagram draws sc, or nothing when no message went between parties (the
// index scenarios read LDAP and a file).
func diagram(sc *ScenarioResult) template.HTML {
	msgs := diagramMessages(sc)
	if len(msgs) == 0 {
		return ""
	}
	d := &diagramBuilder{}
	zones := providerZones(msgs)
	if sc.Sender != "" {
		d.submission(sc, msgs, zones)
	}
	for _, m := range msgs {
		d.add(m, zones)
	}
	d.order()
	return d.svg()
}

// submission draws the sender's submission to its provider (the lane
// order starts with them) and, when that provider emitted none of the
// messages (a peer or an ordinary domain sending to the target), its relay
// to the provider that did. Its instant is the acceptance's when there is
// one (RFC 6109 §4.1), else the probe's on the lab clock.
func (d *diagramBuilder) submission(sc *ScenarioResult, msgs []MessageResult, zones map[string]*time.Location) {
	sender, provider := d.laneOf(sc.Sender, false), d.laneOf(domainOf(sc.Sender), true)
	at := sc.Submitted.Add(sc.ClockStart)
	if z := zones[strings.ToLower(domainOf(sc.Sender))]; z != nil {
		at = at.In(z)
	} else if len(msgs) > 0 && !msgs[0].Date.IsZero() {
		at = at.In(msgs[0].Date.Location())
	}
	if acc := firstOf(msgs, pec.KindAccettazione); acc != nil && !acc.Date.IsZero() {
		at = acc.Date
	}
	d.hops = append(d.hops, hop{from: sender, to: provider, label: "submission", at: at})
	if zones[strings.ToLower(domainOf(sc.Sender))] != nil || len(msgs) == 0 {
		return
	}
	first := domainOf(msgs[0].From)
	if !strings.EqualFold(first, domainOf(sc.Sender)) {
		d.hops = append(d.hops, hop{from: provider, to: d.laneOf(first, true), label: "relay to its MX", at: at})
	}
}

// diagramMessages are the messages that went between parties, in the
// order the providers dated them (Date has whole seconds: ties go by the
// order of the flow, then by capture).
func diagramMessages(sc *ScenarioResult) []MessageResult {
	var msgs []MessageResult
	for _, m := range sc.Messages {
		if strings.Contains(m.Mailbox, "@") {
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool {
		a, b := msgs[i], msgs[j]
		if !a.Date.Equal(b.Date) && !a.Date.IsZero() && !b.Date.IsZero() {
			return a.Date.Before(b.Date)
		}
		if flowRank(a.Kind) != flowRank(b.Kind) {
			return flowRank(a.Kind) < flowRank(b.Kind)
		}
		return a.Captured.Before(b.Captured)
	})
	return msgs
}

// add draws message m: provider → its own user, or provider → provider
// then provider → mailbox.
func (d *diagramBuilder) add(m MessageResult, zones map[string]*time.Location) {
	failed := false
	for _, v := range m.Verdicts {
		failed = failed || v.Status == report.Fail || v.Status == report.Error
	}
	src, dst := domainOf(m.From), domainOf(m.Mailbox)
	from := d.laneOf(src, true)
	if strings.EqualFold(src, dst) {
		d.hops = append(d.hops, hop{from: from, to: d.laneOf(m.Mailbox, false), label: string(m.Kind), at: m.Date,
			href: m.File, failed: failed})
		return
	}
	d.hops = append(d.hops, hop{from: from, to: d.laneOf(dst, true), label: string(m.Kind), at: m.Date, href: m.File, failed: failed})
	if m.AtMX {
		return // captured at the receiving MX: no delivery to draw
	}
	read := m.LabTime
	if read.IsZero() {
		read = m.Captured
	}
	if z := zones[strings.ToLower(dst)]; z != nil {
		read = read.In(z)
	} else if !m.Date.IsZero() {
		read = read.In(m.Date.Location())
	}
	d.hops = append(d.hops, hop{from: d.laneOf(dst, true), to: d.laneOf(m.Mailbox, false), label: "delivery",
		at: read, upTo: true, href: m.File, failed: failed})
}

// providerZones maps each provider's domain to the zone of the Date
// headers it writes.
func providerZones(msgs []MessageResult) map[string]*time.Location {
	out := map[string]*time.Location{}
	for _, m := range msgs {
		if !m.Date.IsZero() {
			out[strings.ToLower(domainOf(m.From))] = m.Date.Location()
		}
	}
	return out
}

// order puts the lanes in groups by domain — the sender's mailbox, its
// provider, that provider's other mailboxes, then each other provider and
// its mailboxes — and renumbers the hops.
func (d *diagramBuilder) order() {
	var domains []string
	seen := map[string]bool{}
	for _, l := range d.lanes {
		dom := strings.ToLower(domainOf(l.name))
		if !seen[dom] {
			seen[dom] = true
			domains = append(domains, dom)
		}
	}
	rank := func(i int) int {
		l := d.lanes[i]
		g := 0
		for k, dom := range domains {
			if dom == strings.ToLower(domainOf(l.name)) {
				g = k
			}
		}
		switch {
		case i == 0 && !l.provider && len(d.hops) > 0 && d.hops[0].label == "submission":
			return g*1000 + 0 // the sender, before its provider
		case l.provider:
			return g*1000 + 1
		}
		return g*1000 + 2 + i
	}
	idx := make([]int, len(d.lanes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rank(idx[a]) < rank(idx[b]) })
	pos := make([]int, len(d.lanes))
	lanes := make([]lane, len(d.lanes))
	for newPos, old := range idx {
		pos[old], lanes[newPos] = newPos, d.lanes[old]
	}
	d.lanes = lanes
	for i := range d.hops {
		d.hops[i].from, d.hops[i].to = pos[d.hops[i].from], pos[d.hops[i].to]
	}
}

// svg renders the diagram; every text is escaped.
func (d *diagramBuilder) svg() template.HTML {
	w := timeCol + laneWidth*len(d.lanes)
	h := laneTop + rowHeight*len(d.hops) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="seq" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="sequence of messages">`, w, h, w, h)
	zone := ""
	for _, hp := range d.hops {
		if !hp.at.IsZero() {
			zone = hp.at.Format("-07:00")
			break
		}
	}
	fmt.Fprintf(&b, `<text x="4" y="14" class="lane">time</text><text x="4" y="28" class="zone">UTC%s</text>`, html.EscapeString(zone))
	for i, l := range d.lanes {
		x := timeCol + laneWidth*i + laneWidth/2
		top, bottom := laneName(l)
		fmt.Fprintf(&b, `<text x="%d" y="14" text-anchor="middle" class="lane%s">%s</text>`, x, map[bool]string{true: " provider"}[l.provider], html.EscapeString(top))
		fmt.Fprintf(&b, `<text x="%d" y="28" text-anchor="middle" class="zone">%s</text>`, x, html.EscapeString(bottom))
		fmt.Fprintf(&b, `<line x1="%d" y1="34" x2="%d" y2="%d" class="life%s"/>`, x, x, h-4, map[bool]string{true: " provider"}[l.provider])
	}
	var prev time.Time
	for i, hp := range d.hops {
		y := laneTop + rowHeight*i + 10
		fmt.Fprintf(&b, `<text x="4" y="%d" class="time">%s</text>`, y+4, html.EscapeString(stamp(hp, prev, zone)))
		if !hp.at.IsZero() {
			prev = hp.at
		}
		x1, x2 := timeCol+laneWidth*hp.from+laneWidth/2, timeCol+laneWidth*hp.to+laneWidth/2
		cls := "msg"
		if hp.failed {
			cls = "msg bad"
		}
		if hp.upTo {
			cls += " delivery"
		}
		if hp.href != "" {
			fmt.Fprintf(&b, `<a href="%s">`, html.EscapeString(hp.href))
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="%s" marker-end="url(#arrow)"/>`, x1, y, x2, y, cls)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="label">%s</text>`, (x1+x2)/2, y-4, html.EscapeString(hp.label))
		if hp.href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// laneName splits a lane's name in two lines: "alice" / "@pec.alpha.test",
// "pec.alpha.test" / "provider".
func laneName(l lane) (string, string) {
	if l.provider {
		return l.name, "provider"
	}
	if local, dom, ok := strings.Cut(l.name, "@"); ok {
		return local, "@" + dom
	}
	return l.name, ""
}

// stamp is a row's time: the date when it differs from the previous row's,
// the zone when it is not the diagram's, "≤" for a delivery found then.
func stamp(hp hop, prev time.Time, zone string) string {
	if hp.at.IsZero() {
		return ""
	}
	s := hp.at.Format("15:04:05")
	if prev.IsZero() || hp.at.Format("2006-01-02") != prev.In(hp.at.Location()).Format("2006-01-02") {
		s = hp.at.Format("2006-01-02 ") + s
	}
	if z := hp.at.Format("-07:00"); z != zone {
		s += " " + z
	}
	if hp.upTo {
		s = "≤ " + s
	}
	return s
}

func firstOf(msgs []MessageResult, k pec.Kind) *MessageResult {
	for i := range msgs {
		if msgs[i].Kind == k {
			return &msgs[i]
		}
	}
	return nil
}

// flowRank orders the kinds as a flow produces them.
func flowRank(k pec.Kind) int {
	for i, x := range []pec.Kind{pec.KindNonAccettazione, pec.KindAccettazione, pec.KindTrasporto, pec.KindAnomalia,
		pec.KindPresaInCarico, pec.KindRilevazioneVirus, pec.KindAvvenutaConsegna, pec.KindErroreConsegna,
		pec.KindPreavvisoErroreConsegna} {
		if k == x {
			return i
		}
	}
	return 99
}

// domainOf is the domain of an address, or the address when it has none.
func domainOf(addr string) string {
	if _, d, ok := strings.Cut(addr, "@"); ok {
		return d
	}
	if addr == "" {
		return "(unknown sender)"
	}
	return addr
}
