package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnterminatedMultipart: a message whose closing delimiters are missing
// (real files, cut by the repositories that published them) is read as a
// mail reader reads it: the structural fault fails GEN-01 (or GEN-02), the
// recovered parts are judged, and "no daticert" never appears.
func TestUnterminatedMultipart(t *testing.T) {
	w := fixtures(t)
	raw := string(w.msg(C).bytes(t))
	noOuterClose := raw[:strings.LastIndex(raw, "\r\n--sig-b-")+2]
	noOuterClose = strings.TrimSuffix(noOuterClose, "\r\n") // the signature part runs to the end
	mixedEnd := strings.LastIndex(raw, "--mixed-b-")
	noClose := raw[:mixedEnd] // both close delimiters gone, the signature part too
	for name, tc := range map[string]struct {
		raw    string
		root   string
		signed bool
	}{
		"outer close missing": {noOuterClose, "GEN-01", true},
		"both cut":            {noClose, "GEN-01", false},
	} {
		g := Grade([]byte(tc.raw), w.opts())
		checkVerdicts(t, name, g)
		if v := verdictOf(t, g, tc.root); v.Status != Fail || !strings.Contains(v.Detail, "missing") {
			t.Errorf("%s: %s %s: %s", name, tc.root, v.Status, v.Detail)
		}
		for _, id := range []string{"GEN-10", "DAT-01", "DAT-02", "GEN-17", "GEN-18", "CON-03", "CON-04"} {
			if v := verdictOf(t, g, id); v.Status != Pass {
				t.Errorf("%s: recovered part not judged: %s %s: %s", name, id, v.Status, v.Detail)
			}
		}
		if v := verdictOf(t, g, "SIG-04"); (v.Status == Pass) != tc.signed {
			t.Errorf("%s: SIG-04 %s: %s", name, v.Status, v.Detail)
		}
		for _, v := range g.Verdicts {
			if strings.Contains(v.Detail, "no daticert") || strings.Contains(v.Detail, "no application/xml") {
				t.Errorf("%s: %s says %q", name, v.Rule, v.Detail)
			}
		}
	}
}

// TestMailingListWrapper: a list that wraps the signed message in a
// top-level multipart/mixed to append a footer gets one finding, GEN-01
// naming the wrapper; the original inside is graded and its signature
// verifies.
func TestMailingListWrapper(t *testing.T) {
	w := fixtures(t)
	raw := string(w.msg(T).bytes(t))
	head, body, _ := strings.Cut(raw, "MIME-Version: 1.0\r\n")
	wrapped := head + "List-Id: <pec-users.lists.example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"list-b\"\r\n\r\n--list-b\r\n" + body +
		"\r\n--list-b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n_______________\r\npec-users mailing list\r\n--list-b--\r\n"
	g := Grade([]byte(wrapped), w.opts())
	checkVerdicts(t, "wrapped", g)
	if got := mustFailed(g); len(got) != 1 || got[0] != "GEN-01" {
		t.Errorf("MUST failures %v, want only GEN-01", got)
	}
	if v := verdictOf(t, g, "GEN-01"); !strings.Contains(v.Detail, "wrapper of <pec-users.lists.example.org>") {
		t.Errorf("GEN-01: %s", v.Detail)
	}
	for _, id := range []string{"SIG-04", "SIG-05", "DAT-02", "TRN-10", "TRN-13"} {
		if v := verdictOf(t, g, id); v.Status != Pass {
			t.Errorf("%s %s: %s", id, v.Status, v.Detail)
		}
	}
	if string(g.Kind) != T {
		t.Errorf("kind %s", g.Kind)
	}
}

// TestTruncatedPart: a file cut inside a base64 text part: the text decodes
// in part and what remains is judged; the parts cut off (daticert) are not
// reported missing: GEN-01's cut is the one finding.
func TestTruncatedPart(t *testing.T) {
	w := fixtures(t)
	f := w.msg(A)
	f.textCT = "text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: base64"
	f.text = b64([]byte(f.text))
	raw := string(f.bytes(t))
	i := strings.Index(raw, "Content-Type: application/xml")
	cut := raw[:i-len("\r\n--mixed-b-0000")-40] // inside the text's base64
	g := Grade([]byte(cut), w.opts())
	checkVerdicts(t, "truncated", g)
	if got := mustFailed(g); len(got) != 1 || got[0] != "GEN-01" {
		t.Errorf("MUST failures %v, want only GEN-01", got)
	}
	if v := verdictOf(t, g, "GEN-10"); v.Detail != "not judged: GEN-01 failed" {
		t.Errorf("GEN-10 %s: %s", v.Status, v.Detail)
	}
	if v := verdictOf(t, g, "GEN-17"); v.Status != Pass {
		t.Errorf("GEN-17 on what remains of the text: %s %s", v.Status, v.Detail)
	}
}

// TestRealCutFile cuts a real corpus message before its closing
// delimiters, as published copies are: the real parts still grade.
func TestRealCutFile(t *testing.T) {
	files := corpusFiles(t)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(files[0]), "aruba-2014-consegna-completa.eml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	cut := s[:strings.LastIndex(s, "------17B8B201CA8B6BFDD8083A5E6B8E4281--")]
	g := Grade([]byte(cut), corpusOpts(t))
	checkVerdicts(t, "cut", g)
	if got := mustFailed(g); len(got) != 1 || got[0] != "GEN-01" {
		t.Errorf("MUST failures %v, want only GEN-01", got)
	}
	for _, id := range []string{"SIG-04", "SIG-05", "DAT-02", "CON-03", "CON-04"} {
		if v := verdictOf(t, g, id); v.Status != Pass {
			t.Errorf("%s %s: %s", id, v.Status, v.Detail)
		}
	}
}
