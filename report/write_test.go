package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestWriters: an unknown verdict is an error in JUnit (undecided is no
// pass) and is counted in the text summary.
func TestWriters(t *testing.T) {
	vs := []Verdict{{Rule: "SIG-05", Level: Must, Section: "RFC6109 §2.2.2", Status: Unknown, Detail: "issuer not among the anchors"},
		{Rule: "GEN-14", Level: Must, Section: "RFC6109 §3.1.4", Status: Fail, Detail: "Subject"}}
	var j bytes.Buffer
	if err := WriteJUnit(&j, []JUnitSuite{{Name: "m.eml", Verdicts: vs}}); err != nil {
		t.Fatal(err)
	}
	if s := j.String(); !strings.Contains(s, `errors="1"`) || !strings.Contains(s, `failures="1"`) || !strings.Contains(s, "unknown: SIG-05") {
		t.Errorf("junit:\n%s", s)
	}
	var txt bytes.Buffer
	if err := WriteText(&txt, []Graded{{File: "m.eml", Kind: "accettazione", Verdicts: vs}}); err != nil {
		t.Fatal(err)
	}
	if s := txt.String(); !strings.Contains(s, "1 unknown") || !strings.Contains(s, "UNKNOWN SIG-05") {
		t.Errorf("text:\n%s", s)
	}
}
