package scenarios

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
)

// TestDiagramLanes: lanes per party — the sender's mailbox, its provider,
// that provider's other mailboxes, the other provider and its mailbox; an
// envelope for another provider's user goes provider → provider and is then
// delivered provider → mailbox; each row's time is on the provider's clock
// in its zone, the date shown when it changes, "≤" for a delivery.
func TestDiagramLanes(t *testing.T) {
	rome := time.FixedZone("", 3600)
	t0 := time.Date(2026, 12, 2, 23, 59, 59, 0, rome)
	sc := &ScenarioResult{Sender: "alice@pec.alpha.test", Submitted: t0.Add(-time.Second).UTC(), Messages: []MessageResult{
		{Kind: pec.KindAccettazione, From: "posta-certificata@pec.alpha.test", Mailbox: "alice@pec.alpha.test", Date: t0, File: "evidence/x/01-accettazione.eml"},
		{Kind: pec.KindTrasporto, From: "posta-certificata@pec.alpha.test", Mailbox: "bob@pec.beta.test", Date: t0, LabTime: t0.Add(2 * time.Second).UTC()},
		{Kind: pec.KindPresaInCarico, From: "posta-certificata@pec.beta.test", Mailbox: "ricevute@pec.alpha.test", Date: t0.Add(time.Second), LabTime: t0.Add(3 * time.Second)},
	}}
	svg := string(diagram(sc))
	lanes := regexp.MustCompile(`<text x="(\d+)" y="14" text-anchor="middle" class="lane[^"]*">([^<]+)</text>`).FindAllStringSubmatch(svg, -1)
	var names []string
	x := map[string]int{}
	for _, l := range lanes {
		names = append(names, l[2])
		x[l[2]], _ = strconv.Atoi(l[1])
	}
	if got := strings.Join(names, " | "); got != "alice | pec.alpha.test | ricevute | pec.beta.test | bob" {
		t.Fatalf("lanes %s", got)
	}
	type arrow struct {
		from, to int
		label    string
	}
	var arrows []arrow
	re := regexp.MustCompile(`<line x1="(\d+)" y1="\d+" x2="(\d+)" y2="\d+" class="msg[^"]*"[^>]*/>(?:<text[^>]*>([^<]*)</text>)`)
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		arrows = append(arrows, arrow{a, b, m[3]})
	}
	want := []arrow{
		{x["alice"], x["pec.alpha.test"], "submission"},
		{x["pec.alpha.test"], x["alice"], "accettazione"},
		{x["pec.alpha.test"], x["pec.beta.test"], "trasporto"},
		{x["pec.beta.test"], x["bob"], "delivery"},
		{x["pec.beta.test"], x["pec.alpha.test"], "presa-in-carico"},
		{x["pec.alpha.test"], x["ricevute"], "delivery"},
	}
	if len(arrows) != len(want) {
		t.Fatalf("arrows %+v, want %+v", arrows, want)
	}
	for i := range want {
		if arrows[i] != want[i] {
			t.Errorf("arrow %d: %+v, want %+v", i, arrows[i], want[i])
		}
	}
	times := regexp.MustCompile(`class="time">([^<]*)<`).FindAllStringSubmatch(svg, -1)
	var got []string
	for _, m := range times {
		got = append(got, m[1])
	}
	wantTimes := "2026-12-02 23:59:59 | 23:59:59 | 23:59:59 | ≤ 2026-12-03 00:00:01 | 00:00:00 | ≤ 00:00:02"
	if strings.Join(got, " | ") != wantTimes {
		t.Errorf("times %q, want %q", strings.Join(got, " | "), wantTimes)
	}
	if !strings.Contains(svg, `class="zone">UTC+01:00<`) || !strings.Contains(svg, `viewBox="0 0 `) {
		t.Errorf("no zone header or viewBox:\n%s", svg)
	}
}
