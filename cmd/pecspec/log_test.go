package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/txlog"
)

// capture runs f with standard output redirected and returns what it printed.
func capture(t *testing.T, f func() int) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	code := f()
	os.Stdout = stdout
	w.Close()
	return code, string(<-done)
}

// TestLogCommand: verify exits 0 on an intact registro and 1 on an edited
// one; export selects a user's records in a period, as json or csv.
func TestLogCommand(t *testing.T) {
	dir := t.TempDir()
	l, err := txlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i, who := range []string{"alice@pec.alpha.test", "bob@pec.alpha.test", "alice@pec.alpha.test"} {
		if err := l.Append(&txlog.Record{Time: day.Add(time.Duration(i) * 24 * time.Hour), Event: txlog.EventAccettazione,
			MsgID: "id" + string(rune('0'+i)), Sender: who, Recipients: []string{"x@pec.beta.test"}}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if code, out := capture(t, func() int { return cmdLog([]string{"verify", dir}) }); code != exitOK || !strings.Contains(out, "3 records") {
		t.Fatalf("verify: exit %d, %q", code, out)
	}
	code, out := capture(t, func() int {
		return cmdLog([]string{"export", "--user", "alice@pec.alpha.test", "--from", "2026-11-21", "--format", "csv", dir})
	})
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != exitOK || len(lines) != 2 || !strings.Contains(lines[1], ",id2,") {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	if code := cmdLog([]string{"export", "--from", "yesterday", dir}); code != exitHarness {
		t.Errorf("bad --from: exit %d", code)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, txlog.LogFile))
	os.WriteFile(filepath.Join(dir, txlog.LogFile), bytes.Replace(raw, []byte("bob@"), []byte("eve@"), 1), 0o600)
	if code, _ := capture(t, func() int { return cmdLog([]string{"verify", dir}) }); code != exitFail {
		t.Errorf("verify of an edited registro: exit %d, want %d", code, exitFail)
	}
	if code := cmdLog([]string{"verify"}); code != exitHarness {
		t.Errorf("verify without DIR: exit %d", code)
	}
}
