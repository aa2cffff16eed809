package scenarios_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/chromium"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/report"
	"github.com/pecspec/pecspec/scenarios"
)

// TestSuiteOnReference runs the whole suite against the real reference lab
// (SoftHSM2, slapd, clamd, two pecref processes), as `make run` does, and
// checks the output contract and the evidence with independent tools.
func TestSuiteOnReference(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	target, err := probe.LoadTarget(l.TargetFile())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var console bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: out, StepTimeout: 30 * time.Second, Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("console:\n%s", console.String())
	if res.Scenarios == 0 || res.Failed+res.Undefined > 0 || res.MustFailures > 0 {
		t.Fatalf("result %+v, want every scenario passed and no MUST failure", res)
	}
	for _, f := range []string{"junit.xml", "cucumber.json", "summary.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	sum := readSummary(t, out)
	kinds := map[pec.Kind]string{}
	ldif := ""
	for _, sc := range sum.Scenarios {
		for _, m := range sc.Messages {
			switch {
			case strings.HasSuffix(m.File, ".eml"):
				kinds[m.Kind] = filepath.Join(out, m.File)
			case strings.HasSuffix(m.File, ".p7m"):
				ldif = filepath.Join(out, m.File)
			}
		}
	}
	// IDX-09's oracle agrees with openssl: the published LDIF is a DER
	// PKCS#7 signed-data that verifies against the lab CA.
	if ldif == "" {
		t.Errorf("no signed LDIF was graded")
	} else if b, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", ldif, "-CAfile", l.CAFile(),
		"-purpose", "any", "-out", os.DevNull).CombinedOutput(); err != nil {
		t.Errorf("openssl cms -verify %s: %v\n%s", ldif, err, b)
	}
	for _, k := range []pec.Kind{pec.KindAccettazione, pec.KindTrasporto, pec.KindPresaInCarico, pec.KindAvvenutaConsegna} {
		if kinds[k] == "" {
			t.Errorf("no %s captured", k)
		}
	}
	tagsAreGraded(t, sum)
	reportRenders(t, out, sum)
	sameOnBeta(t, l.TargetFileOf("beta"), sum)
	capabilitiesSkip(t, l.TargetFile())
	offlineTransactionsAgree(t, l.CAFile(), l.LDAPURL, out, sum)
	opensslVerifies(t, l.CAFile(), kinds)
	xmllintValidates(t, kinds)
	mutationsFail(t, l.CAFile(), kinds)
}

// offlineTransactionsAgree re-grades each scenario's evidence folder as
// `pecspec grade --transaction --index ldap://… --trust ca.pem` does: the
// transaction verdicts equal the run's, and with the real index the infra
// rules (SIG-09, CRT-01, ACC-05, PIC-02) pass on the reference's messages.
func offlineTransactionsAgree(t *testing.T, ca, ldapURL, out string, sum scenarios.Summary) {
	ix, err := report.LoadIndex(ldapURL)
	if err != nil {
		t.Fatalf("index from slapd: %v", err)
	}
	pemData, _ := os.ReadFile(ca)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	for _, sc := range sum.Scenarios {
		if len(sc.Messages) == 0 || sc.Sender == "" {
			continue // nothing captured, or no message submitted (the index scenarios)
		}
		dir := filepath.Join(out, filepath.Dir(sc.Messages[0].File))
		g, err := report.GradeTransactionDir(dir, report.Options{Trust: pool, Index: ix})
		if err != nil {
			t.Fatal(err)
		}
		if len(sc.Transaction) == 0 {
			g.Transaction = nil // a scenario that stops before the end of the flow grades no transaction
		}
		if f := g.MustFailures(); len(f) > 0 {
			t.Errorf("%s offline with the index: MUST failures %+v", sc.Name, f)
		}
		if len(g.Transaction) != len(sc.Transaction) {
			t.Fatalf("offline transaction has %d verdicts, the run %d", len(g.Transaction), len(sc.Transaction))
		}
		for i, v := range g.Transaction {
			if v.Status != sc.Transaction[i].Status {
				t.Errorf("%s: offline %s, run %s", v.Rule, v.Status, sc.Transaction[i].Status)
			}
		}
		for _, m := range g.Messages {
			for _, id := range []string{"SIG-09", "CRT-01"} {
				for _, v := range m.Verdicts {
					if v.Rule == id && v.Status != report.Pass {
						t.Errorf("%s %s with the lab index: %s %s", m.Kind, id, v.Status, v.Detail)
					}
				}
			}
		}
	}
}

// sameOnBeta runs the suite again, on the same lab, with beta as the target
// through the target file the lab writes for it (alpha as counterpart): the
// suite knows nothing of the target but that file, so every scenario must
// end as it did against alpha and grade the same rules. An expectation for
// a failure that does not happen makes the run fail as stale.
func sameOnBeta(t *testing.T, file string, onAlpha scenarios.Summary) {
	target, err := probe.LoadTarget(file)
	if err != nil {
		t.Fatal(err)
	}
	if target.Name != "beta" || target.Counterpart == nil || target.Counterpart.Name != "alpha" {
		t.Fatalf("%s: target %s, counterpart %+v", file, target.Name, target.Counterpart)
	}
	out := t.TempDir()
	var console bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stale := scenarios.Expectation{Rule: "GEN-15", Reason: "a failure beta does not have"}
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: out, StepTimeout: 30 * time.Second,
		Console: &console, Expect: []scenarios.Expectation{stale}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed+res.Undefined > 0 || res.MustFailures > 0 {
		t.Errorf("against beta: %+v\n%s", res, console.String())
	}
	if res.Outcome.Pass() || len(res.Outcome.Stale) != 1 || !strings.Contains(console.String(), "STALE expectation GEN-15") {
		t.Errorf("a stale expectation did not fail the run: %+v", res.Outcome)
	}
	onBeta := readSummary(t, out)
	graded := func(s scenarios.Summary) map[string]string {
		m := map[string]string{}
		for _, sc := range s.Scenarios {
			var rules []string
			vs := sc.Transaction
			for _, msg := range sc.Messages {
				vs = append(vs, msg.Verdicts...)
			}
			for _, v := range vs {
				if v.Status == report.Pass || v.Status == report.Fail {
					rules = append(rules, v.Rule)
				}
			}
			slices.Sort(rules)
			m[sc.Name] = sc.Status + " " + strings.Join(slices.Compact(rules), " ")
		}
		return m
	}
	a, b := graded(onAlpha), graded(onBeta)
	if len(a) != len(b) {
		t.Errorf("%d scenarios against alpha, %d against beta", len(a), len(b))
	}
	for name, want := range a {
		if b[name] != want {
			t.Errorf("%s:\n  alpha: %s\n  beta:  %s", name, want, b[name])
		}
	}
}

// capabilitiesSkip: against a target that declares no capability, the
// scenarios that need one are reported skipped with what they need, never
// passed, and the others run.
func capabilitiesSkip(t *testing.T, file string) {
	target, err := probe.LoadTarget(file)
	if err != nil {
		t.Fatal(err)
	}
	target.Capabilities = nil
	var console bytes.Buffer
	out := t.TempDir()
	res, err := scenarios.Run(context.Background(), scenarios.Options{Target: target, Out: out, Tags: "@flow-anomaly",
		StepTimeout: 30 * time.Second, Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 2 || res.Passed != res.Scenarios-2 || !res.Outcome.Pass() {
		t.Errorf("no capabilities, @flow-anomaly: %+v\n%s", res, console.String())
	}
	for _, sc := range readSummary(t, out).Scenarios {
		if sc.Status == "skipped" && sc.Error != "needs receives-ordinary-mail" {
			t.Errorf("%s skipped: %q", sc.Name, sc.Error)
		}
	}
	if !strings.Contains(console.String(), "skipped           The MX announces STARTTLS") {
		t.Errorf("the summary does not list the skipped scenarios:\n%s", console.String())
	}
}

// reportRenders opens report.html in headless Debian Chromium: the page
// renders (a screenshot that is not blank), it loads nothing from outside,
// and the numbers the browser's DOM shows equal summary.json's.
func reportRenders(t *testing.T, out string, sum scenarios.Summary) {
	page := filepath.Join(out, "report.html")
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{`src="http`, `href="http`, `url(http`, `<script`, `<link`, `@import`} {
		if bytes.Contains(data, []byte(ext)) {
			t.Errorf("report.html is not self-contained: it has %s", ext)
		}
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (make setup installs it): %v", err)
	}
	browseFile := func(file string, args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1280,1600"}
		cmd := exec.CommandContext(ctx, browser, append(append(base, args...), "file://"+file)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}
	browse := func(args ...string) []byte { return browseFile(page, args...) }
	diagramsFit(t, browseFile, page)
	// One Chromium for the PDF, the screenshot and the DOM (a start costs
	// seconds of CPU on these machines).
	pdf, shot := filepath.Join(t.TempDir(), "report.pdf"), filepath.Join(t.TempDir(), "report.png")
	dom := string(browse("--no-pdf-header-footer", "--print-to-pdf="+pdf, "--screenshot="+shot, "--dump-dom"))
	printsWell(t, pdf, sum)
	if colors := chromium.PNGColors(t, shot); colors < 8 {
		t.Errorf("the screenshot of report.html has %d colours: blank", colors)
	}
	want := map[string]int{"scenarios": sum.Totals.Scenarios, "passed": sum.Totals.Passed, "failed": sum.Totals.Failed,
		"messages": sum.Totals.Messages, "must-failures": sum.Totals.MustFailures, "rules": len(report.Requirements())}
	for id, n := range want {
		re := regexp.MustCompile(`id="` + id + `" data-n="(\d+)">(\d+)<`)
		m := re.FindStringSubmatch(dom)
		if m == nil || m[1] != strconv.Itoa(n) || m[2] != strconv.Itoa(n) {
			t.Errorf("report.html in Chromium: #%s shows %v, summary.json %d", id, m, n)
		}
	}
	if got := strings.Count(dom, `<div class="scenario" id="sc-`); got != sum.Totals.Scenarios {
		t.Errorf("report.html in Chromium: %d scenario sections, summary.json %d scenarios", got, sum.Totals.Scenarios)
	}
	if got := strings.Count(dom, "<svg class=\"seq\""); got == 0 {
		t.Errorf("report.html in Chromium: no sequence diagram")
	}
	if !strings.Contains(dom, sum.ProviderName) || !strings.Contains(dom, `id="harness">pecspec `) {
		t.Errorf("report.html does not name the provider %q and the harness version", sum.ProviderName)
	}
	coverageAgrees(t, dom, sum)
}

// tagsAreGraded: a scenario tagged with a rule the grader judges on messages
// gave that rule a pass or fail verdict in the run (the coverage table is
// built from tags, so a tag must not claim what the scenario does not grade).
func tagsAreGraded(t *testing.T, sum scenarios.Summary) {
	messageLevel := map[string]bool{} // and the index rules, graded from the index
	for _, r := range report.Requirements() {
		messageLevel[r.ID] = r.MessageLevel || (r.Scope == "index" && r.ID != "IDX-13")
	}
	for _, sc := range sum.Scenarios {
		graded := map[string]bool{}
		vs := sc.Transaction
		for _, m := range sc.Messages {
			vs = append(vs, m.Verdicts...)
		}
		for _, v := range vs {
			if v.Status == report.Pass || v.Status == report.Fail {
				graded[v.Rule] = true
			}
		}
		for _, tag := range sc.Tags {
			if id := strings.TrimPrefix(tag, "@"); messageLevel[id] && !graded[id] {
				t.Errorf("%q is tagged %s but gave it no pass or fail verdict", sc.Name, tag)
			}
		}
	}
}

func readSummary(t *testing.T, out string) scenarios.Summary {
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s scenarios.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return s
}

// opensslVerifies: every signed message verifies with openssl and the lab CA.
func opensslVerifies(t *testing.T, ca string, files map[pec.Kind]string) {
	for k, f := range files {
		out, err := exec.Command("openssl", "smime", "-verify", "-in", f, "-CAfile", ca, "-purpose", "any",
			"-out", os.DevNull).CombinedOutput()
		if err != nil {
			t.Errorf("openssl smime -verify %s: %v\n%s", k, err, out)
		}
	}
}

// xmllintValidates: every daticert.xml is valid against the DTD of pec-rules §3.1.
func xmllintValidates(t *testing.T, files map[pec.Kind]string) {
	dir := t.TempDir()
	dtd := filepath.Join(dir, "daticert.dtd")
	os.WriteFile(dtd, pec.DTD, 0o600)
	for k, f := range files {
		raw, _ := os.ReadFile(f)
		m := pec.Parse(raw)
		if m.Daticert == nil {
			if k == pec.KindAnomalia {
				continue // a busta di anomalia has no daticert (RFC 6109 §3.2.2)
			}
			t.Errorf("%s: no daticert.xml", k)
			continue
		}
		data, _ := m.Daticert.Decoded()
		x := filepath.Join(dir, string(k)+".xml")
		os.WriteFile(x, data, 0o600)
		if out, err := exec.Command("xmllint", "--noout", "--dtdvalid", dtd, x).CombinedOutput(); err != nil {
			t.Errorf("xmllint %s: %v\n%s", k, err, out)
		}
	}
}

// mutationsFail edits real evidence and checks the grader names the right rule.
func mutationsFail(t *testing.T, ca string, files map[pec.Kind]string) {
	pem, _ := os.ReadFile(ca)
	opts := report.Options{Trust: mustPool(t, pem)}
	read := func(k pec.Kind) []byte { b, _ := os.ReadFile(files[k]); return b }
	cases := []struct {
		name   string
		kind   pec.Kind
		mutate func([]byte) []byte
		rule   string
	}{
		{"remove X-Riferimento-Message-ID", pec.KindAccettazione, func(b []byte) []byte {
			i := bytes.Index(b, []byte("X-Riferimento-Message-ID: "))
			if i < 0 {
				return b
			}
			return append(b[:i:i], b[i+bytes.Index(b[i:], []byte("\r\n"))+2:]...)
		}, "GEN-15"},
		{"change the accettazione prefix", pec.KindAccettazione, func(b []byte) []byte {
			return bytes.Replace(b, []byte("Subject: ACCETTAZIONE: "), []byte("Subject: ACCETTATO: "), 1)
		}, "ACC-01"},
		{"reorder daticert elements", pec.KindAvvenutaConsegna, reorderDaticert, "DAT-07"},
		{"change the subject prefix", pec.KindAvvenutaConsegna, func(b []byte) []byte {
			return bytes.Replace(b, []byte("Subject: CONSEGNA: "), []byte("Subject: CONSEGNATO: "), 1)
		}, "GEN-14"},
		{"edit a byte after signing", pec.KindTrasporto, func(b []byte) []byte {
			return bytes.Replace(b, []byte("Messaggio di prova"), []byte("Messaggio di provA"), 1)
		}, "SIG-04"},
		{"From not the certificate's address", pec.KindPresaInCarico, func(b []byte) []byte {
			return bytes.Replace(b, []byte("From: posta-certificata@"), []byte("From: altro@"), 1)
		}, "SIG-08"},
	}
	for _, c := range cases {
		raw := read(c.kind)
		mut := c.mutate(raw)
		if bytes.Equal(raw, mut) {
			t.Errorf("%s: mutation did not apply", c.name)
			continue
		}
		g := report.Grade(mut, opts)
		if !failed(g, c.rule) {
			t.Errorf("%s: %s did not fail; verdicts %v", c.name, c.rule, g.MustFailures())
		}
		if failed(report.Grade(raw, opts), c.rule) {
			t.Errorf("%s: %s fails on the unmutated message", c.name, c.rule)
		}
	}
}

func failed(g report.Graded, rule string) bool {
	for _, v := range g.Verdicts {
		if v.Rule == rule && v.Status == report.Fail {
			return true
		}
	}
	return false
}

// reorderDaticert moves <identificativo> before <data> in the base64
// daticert.xml part (the signature then fails too, as it should).
func reorderDaticert(b []byte) []byte {
	m := pec.Parse(b)
	if m.Daticert == nil {
		return b
	}
	xml, _ := m.Daticert.Decoded()
	s := string(xml)
	i, j := strings.Index(s, "<identificativo>"), strings.Index(s, "</identificativo>")
	d := strings.Index(s, "<data ")
	if i < 0 || j < 0 || d < 0 || d > i {
		return b
	}
	elem := s[i : j+len("</identificativo>")]
	s = strings.Replace(s, elem, "", 1)
	s = s[:d] + elem + s[d:]
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	return bytes.Replace(b, m.Daticert.Body, []byte(enc+"\r\n"), 1)
}
