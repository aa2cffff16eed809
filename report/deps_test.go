package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// broken are the fixtures spoilt at their structure: each must fail at its
// root and leave the rules that need what is missing "not judged".
func broken(t *testing.T, w *world) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, k := range allKinds {
		raw := w.msg(k).bytes(t)
		s := string(raw)
		out[k+"/whole"] = raw
		out[k+"/unsigned"] = func() []byte { f := w.msg(k); f.unsign = true; return f.bytes(t) }()
		sig := strings.LastIndex(s, "\r\n--sig-b-")
		out[k+"/no-close"] = raw[:sig+2+strings.Index(s[sig+2:], "\r\n")+2]
		out[k+"/cut-signature"] = raw[:len(raw)-200]
		sigPart := strings.LastIndex(s[:sig], "\r\n--sig-b-")
		out[k+"/no-signature-part"] = []byte(s[:sigPart] + s[sig:])
		out[k+"/garbled-cms"] = bytes.Replace(raw, []byte("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\nM"), []byte("Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n!"), 1)
		out[k+"/no-daticert"] = func() []byte { f := w.msg(k); f.dc = nil; return f.bytes(t) }()
		out[k+"/bad-daticert"] = func() []byte { f := w.msg(k); f.dcRaw = "<postacert><unclosed>"; return f.bytes(t) }()
		out[k+"/no-text"] = func() []byte { f := w.msg(k); f.lead = "Content-Type: image/png\r\n\r\nx\r\n"; return f.bytes(t) }()
		out[k+"/no-original"] = func() []byte { f := w.msg(k); f.orig = nil; return f.bytes(t) }()
	}
	for name, raw := range hostile() {
		if len(raw) < 1<<16 {
			out["hostile/"+name] = raw
		}
	}
	return out
}

var reNotJudged = regexp.MustCompile(`^not judged: ([A-Z]{3}-\d{2}) (failed|could not be decided)$`)

// checkVerdicts asserts what every graded message must show: a detail on
// every verdict, one line, capped; observed rules only warn; every "not
// judged" names a rule that failed (or could not decide) in the same list.
func checkVerdicts(t *testing.T, name string, g Graded) {
	t.Helper()
	status := map[string]Status{}
	for _, v := range g.Verdicts {
		status[v.Rule] = v.Status
	}
	for _, v := range g.Verdicts {
		switch {
		case strings.TrimSpace(v.Detail) == "":
			t.Errorf("%s: %s %s with an empty detail", name, v.Rule, v.Status)
		case strings.ContainsAny(v.Detail, "\r\n"):
			t.Errorf("%s: %s detail on several lines", name, v.Rule)
		case utf8.RuneCountInString(v.Detail) > maxDetail+30:
			t.Errorf("%s: %s detail of %d characters", name, v.Rule, utf8.RuneCountInString(v.Detail))
		case v.Level == Observed && v.Status != Pass && v.Status != Warn && v.Status != NA:
			t.Errorf("%s: observed rule %s is %s", name, v.Rule, v.Status)
		case strings.Contains(v.Detail, "does not apply, so its data is missing"):
			t.Errorf("%s: %s blocked by a rule that does not apply: %s", name, v.Rule, v.Detail)
		}
		if !strings.HasPrefix(v.Detail, "not judged:") || strings.HasPrefix(v.Detail, "not judged: nothing to judge") {
			continue
		}
		m := reNotJudged.FindStringSubmatch(v.Detail)
		if m == nil || v.Status != NA {
			t.Errorf("%s: %s %s: %q", name, v.Rule, v.Status, v.Detail)
			continue
		}
		if root := status[m[1]]; (m[2] == "failed") != (root == Fail) || root == Pass || root == "" {
			t.Errorf("%s: %s says %q but %s is %q", name, v.Rule, v.Detail, m[1], root)
		}
	}
}

// TestDependenciesNameAFailedRoot: on every broken message, the invariants
// of checkVerdicts hold.
func TestDependenciesNameAFailedRoot(t *testing.T) {
	w := fixtures(t)
	for name, raw := range broken(t, w) {
		checkVerdicts(t, name, Grade(raw, w.opts()))
	}
}

// mustFailed lists the failed rule IDs of g.
func mustFailed(g Graded) []string {
	var out []string
	for _, v := range g.MustFailures() {
		out = append(out, v.Rule)
	}
	return out
}

// TestOneRootCauseOneFailure: a missing signature part, a missing daticert,
// an unreadable daticert and a missing text part each fail once, at their
// root, with a precise reason; the rules needing them are not judged.
func TestOneRootCauseOneFailure(t *testing.T) {
	w := fixtures(t)
	b := broken(t, w)
	for _, tc := range []struct {
		name, root, reason string
		dependents         []string
	}{
		{"accettazione/no-signature-part", "GEN-01", "multipart/signed has 1 parts", []string{"SIG-01", "SIG-04", "SIG-05", "CRT-04"}},
		{"accettazione/garbled-cms", "SIG-01", "does not parse as CMS", []string{"SIG-02", "SIG-03", "SIG-04", "SIG-08", "SIG-11", "CRT-02"}},
		{"accettazione/no-daticert", "GEN-10", "no application/xml part named daticert.xml", []string{"DAT-01", "DAT-03", "GEN-15", "GEN-16", "GEN-18", "ACC-03", "ACC-04", "ACC-06"}},
		{"avvenuta-consegna/bad-daticert", "DAT-01", "daticert.xml: not well-formed", []string{"DAT-02", "DAT-12", "CON-01", "CON-03", "TIM-10"}},
		{"accettazione/no-text", "GEN-03", "the first part is image/png", []string{"GEN-17", "GEN-18", "DAT-19", "ACC-04"}},
		{"trasporto/no-original", "TRN-10", "no message/rfc822 part", []string{"TRN-01", "TRN-05", "TRN-13", "TRN-16"}},
	} {
		g := Grade(b[tc.name], w.opts())
		if got := mustFailed(g); len(got) != 1 || got[0] != tc.root {
			t.Errorf("%s: MUST failures %v, want only %s", tc.name, got, tc.root)
		}
		if v := verdictOf(t, g, tc.root); !strings.Contains(v.Detail, tc.reason) {
			t.Errorf("%s: %s: %q lacks %q", tc.name, tc.root, v.Detail, tc.reason)
		}
		for _, id := range tc.dependents {
			if v := verdictOf(t, g, id); v.Status != NA || v.Detail != "not judged: "+tc.root+" failed" {
				t.Errorf("%s: %s %s: %s", tc.name, id, v.Status, v.Detail)
			}
		}
	}
}
