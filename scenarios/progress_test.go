package scenarios

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgress: elsewhere than on a terminal every scenario gets its line,
// counted; on a terminal a passed scenario only rewrites the status line
// and one that did not pass stays on screen with its reason.
func TestProgress(t *testing.T) {
	results := []*ScenarioResult{{Name: "one", Status: "passed"}, {Name: "two", Status: "failed", Error: "GEN-15: missing"},
		{Name: "three", Status: "passed"}}
	var plain, live bytes.Buffer
	p, l := newProgress(&plain, false, 12), newProgress(&live, true, 12)
	for _, r := range results {
		p.scenario(r)
		l.scenario(r)
	}
	p.end()
	l.end()
	want := "[ 1/12] PASSED    one  (0 messages, 0 MUST failures)\n" +
		"[ 2/12] FAILED    two  (0 messages, 0 MUST failures)\n                  GEN-15: missing\n" +
		"[ 3/12] PASSED    three  (0 messages, 0 MUST failures)\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}
	got := live.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "\r[ 3/12] PASSED    three") || !strings.HasSuffix(got, "\r\x1b[K") ||
		!strings.Contains(got, "[ 2/12] FAILED    two  (0 messages, 0 MUST failures)\n") {
		t.Errorf("live progress: %q", got)
	}
}
