package scenarios_test

import (
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/internal/chromium"
	"github.com/pecspec/pecspec/report"
	"github.com/pecspec/pecspec/scenarios"
)

// measureScript, appended to a copy of report.html, measures every sequence
// diagram against the box that holds it and the page against the window,
// and leaves the numbers in the DOM for --dump-dom.
const measureScript = `<script>
(function () {
  var out = [];
  document.querySelectorAll("svg.seq").forEach(function (s) {
    var p = s.parentElement, r = s.getBoundingClientRect(), pr = p.getBoundingClientRect(), cs = getComputedStyle(p);
    var sc = s.closest(".scenario");
    out.push({id: sc ? sc.id : "", width: r.width, height: r.height, right: r.right,
      limit: pr.right - parseFloat(cs.paddingRight), natural: s.width.baseVal.value, viewBox: s.getAttribute("viewBox")});
  });
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify({diagrams: out, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth});
  document.body.appendChild(pre);
})();
</script>`

type measure struct {
	Diagrams []struct {
		ID                                   string
		Width, Height, Right, Limit, Natural float64
		ViewBox                              string
	}
	ScrollWidth, InnerWidth float64
}

// diagramsFit: at 1400 and 800 pixels and in the print layout (the
// @media print rules at the width of an A4 page's text, 192 mm), no
// sequence diagram overflows its box or is cut: each keeps its viewBox,
// scales down to the width it has, and the page never scrolls sideways.
func diagramsFit(t *testing.T, browse func(file string, args ...string) []byte, page string) {
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	screen := strings.Replace(string(data), "</body>", measureScript+"</body>", 1)
	print := strings.Replace(screen, "@media print", "@media all", 1)
	for _, tc := range []struct {
		name, html string
		width      int
	}{{"screen 1400 px", screen, 1400}, {"screen 800 px", screen, 800}, {"print (A4)", print, 726}} {
		file := filepath.Join(filepath.Dir(page), "measure.html")
		if err := os.WriteFile(file, []byte(tc.html), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := string(browse(file, "--dump-dom", "--window-size="+strconv.Itoa(tc.width)+",1000"))
		m := regexp.MustCompile(`(?s)<pre id="measure">(.*?)</pre>`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%s: no measurement in the DOM", tc.name)
		}
		var got measure
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got.Diagrams) == 0 {
			t.Fatalf("%s: no diagram measured", tc.name)
		}
		scaled := 0
		for _, d := range got.Diagrams {
			if d.Width <= 0 || d.Height <= 0 || d.Right > d.Limit+0.5 || !strings.HasPrefix(d.ViewBox, "0 0 ") {
				t.Errorf("%s: the diagram of %s overflows or is cut: %+v", tc.name, d.ID, d)
			}
			if d.Width < d.Natural-0.5 {
				scaled++
			}
		}
		if got.ScrollWidth > got.InnerWidth {
			t.Errorf("%s: the page is %v px wide in a %v px window", tc.name, got.ScrollWidth, got.InnerWidth)
		}
		t.Logf("%s: %d diagrams fit, %d of them scaled down", tc.name, len(got.Diagrams), scaled)
		if tc.width < 1000 && scaled == 0 {
			t.Errorf("%s: no diagram was scaled down: the widest should be", tc.name)
		}
	}
}

// printsWell reads report.html printed to PDF by Chromium (A4): at most 25
// pages for the whole suite, a first page that is not blank, and in the
// text every scenario, the coverage table and the rule verdicts (printed,
// not folded away).
func printsWell(t *testing.T, pdf string, sum scenarios.Summary) {
	for _, tool := range []string{"pdfinfo", "pdftoppm", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (make setup installs poppler-utils): %v", tool, err)
		}
	}
	dir := t.TempDir()
	info, err := exec.Command("pdfinfo", pdf).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	pages := 0
	if m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(info); m != nil {
		pages, _ = strconv.Atoi(string(m[1]))
	}
	if pages == 0 || pages > 25 || !strings.Contains(string(info), "(A4)") {
		t.Errorf("report.pdf: %d pages (want 1 to 25, A4):\n%s", pages, info)
	}
	t.Logf("report.pdf: %d A4 pages for %d scenarios", pages, sum.Totals.Scenarios)
	if out, err := exec.Command("pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	shots, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(shots) != 1 || chromium.PNGColors(t, shots[0]) < 8 {
		t.Errorf("the first printed page is blank: %v", shots)
	}
	text, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	flat := strings.Join(strings.Fields(string(text)), " ")
	for _, sc := range sum.Scenarios {
		if !strings.Contains(flat, strings.Join(strings.Fields(sc.Name), " ")) {
			t.Errorf("the printed report lacks the scenario %q", sc.Name)
		}
	}
	for _, want := range []string{"Requirement coverage", "pass ACC-01", "every captured message passes the MUST rules", "S: 530"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the printed report lacks %q", want)
		}
	}
}

// coverageAgrees: each rule's counts in the coverage table are the sums of
// its verdicts in the per-message and transaction tables.
func coverageAgrees(t *testing.T, dom string, sum scenarios.Summary) {
	want := map[string]map[report.Status]int{}
	for _, sc := range sum.Scenarios {
		vs := sc.Transaction
		for _, m := range sc.Messages {
			vs = append(vs, m.Verdicts...)
		}
		for _, v := range vs {
			if want[v.Rule] == nil {
				want[v.Rule] = map[report.Status]int{}
			}
			want[v.Rule][v.Status]++
		}
	}
	row := regexp.MustCompile(`<tr><td class="id">([A-Z]+-\d+)</td>.*?<td class="n">(\d+)</td><td class="n[^"]*">(\d+)</td><td class="n">(\d+)</td><td class="n">(\d+)</td>`)
	rows := row.FindAllStringSubmatch(dom[strings.Index(dom, `id="coverage"`):], -1)
	if len(rows) != len(report.Requirements()) {
		t.Fatalf("coverage table: %d rows, %d rules", len(rows), len(report.Requirements()))
	}
	for _, r := range rows {
		w := want[r[1]]
		for i, st := range []report.Status{report.Pass, report.Fail, report.Warn, report.NA} {
			if r[2+i] != strconv.Itoa(w[st]) {
				t.Errorf("coverage of %s: %s %s, the verdict tables %d", r[1], st, r[2+i], w[st])
			}
		}
	}
}
