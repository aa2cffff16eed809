package load

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/chromium"
)

// TestRampReportRenders ramps against the fake target until an SLA that
// caps the acceptance receipts per step breaks at the second step, then
// checks the knee in the console table, load.json and load.html, and opens
// load.html in headless Chromium: it renders (not blank), loads nothing from
// outside, and its DOM shows the knee and the latency rows.
func TestRampReportRenders(t *testing.T) {
	f := startFake(t, 0, 0)
	slas, err := ParseSLAs(append([]string{"accettazione.count<40"}, DefaultSLAs...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := Run(ctx, Options{Target: f.target, Rate: 20, Duration: 1500 * time.Millisecond, Drain: 10 * time.Second,
		Connections: 4, SLAs: slas, Ramp: &Ramp{Factor: 1.5, MaxSteps: 4}, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if k := res.Knee; k == nil || !k.Found || k.Rate != 20 || k.BrokeAt != 30 {
		t.Fatalf("knee %+v, want found at 20 msg/s, broken at 30", res.Knee)
	}
	if !res.Pass() {
		t.Error("a ramp that found its knee does not pass")
	}
	var table bytes.Buffer
	res.WriteTable(&table)
	for _, want := range []string{"knee: 20 msg/s (at 30 msg/s: accettazione.count<40 (45))", "accettazione", "SLA PASS  lost==0"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("console table lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.Contains(progress.String(), "step 2: 30 msg/s offered") {
		t.Errorf("progress lacks the step lines:\n%s", progress.String())
	}
	dir := t.TempDir()
	if err := res.WriteJSON(filepath.Join(dir, "load.json")); err != nil {
		t.Fatal(err)
	}
	var back Result
	data, _ := os.ReadFile(filepath.Join(dir, "load.json"))
	if err := json.Unmarshal(data, &back); err != nil || len(back.Phases) != 2 || back.Knee.Rate != 20 {
		t.Fatalf("load.json: %v, %d phases, knee %+v", err, len(back.Phases), back.Knee)
	}
	h, err := DecodeHist(back.Phases[0].Hists[Accettazione].Intended)
	if err != nil || h.Count() != 30 {
		t.Errorf("load.json's accettazione histogram of step 1: %v, %d values, want 30", err, h.Count())
	}
	page := filepath.Join(dir, "load.html")
	if err := res.WriteHTML(page); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(page)
	for _, ext := range []string{`src="http`, `href="http`, `url(http`, `<script`, `<link`, `@import`} {
		if bytes.Contains(html, []byte(ext)) {
			t.Errorf("load.html is not self-contained: it has %s", ext)
		}
	}
	if n := chromium.Colors(t, page); n < 8 {
		t.Errorf("the screenshot of load.html has %d colours: blank", n)
	}
	dom := string(chromium.Browse(t, page, "--dump-dom"))
	if !regexp.MustCompile(`id="knee" data-found="true" data-rate="20">20 msg/s<`).MatchString(dom) {
		t.Error("load.html in Chromium does not show the knee at 20 msg/s")
	}
	if got := regexp.MustCompile(`<tr data-kind="`).FindAllString(dom, -1); len(got) != len(Kinds) {
		t.Errorf("load.html in Chromium: %d latency rows, want %d", len(got), len(Kinds))
	}
	if got := strings.Count(dom, `<svg class="chart"`); got < 6 {
		t.Errorf("load.html in Chromium: %d charts, want 6", got)
	}
}
