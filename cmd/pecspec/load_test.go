package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/load"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestLoadSeesADelayedAcceptance measures alpha → beta on the real lab, then
// makes alpha wait 2 s before each acceptance receipt (the lab control POST
// /delay) and measures again: the acceptance receipt's p50 grows by the
// delay within 10 %, and an --sla the delay breaks exits 1. A target whose
// submission does not answer exits 2 with one line naming the endpoint.
func TestLoadSeesADelayedAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	out := t.TempDir()
	stdout := os.Stdout
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()
	run := func(name, target string, extra ...string) (int, *load.Result) {
		dir := filepath.Join(out, name)
		// 40 messages a run; with the 2 s delay 20 are in flight at once:
		// 32 connections keep them from queueing in the generator.
		code := cmdLoad(append([]string{"--target", target, "--out", dir, "--rate", "10", "--duration", "4s",
			"--connections", "32", "--drain", "30s", "--grade-sample", "0.1"}, extra...))
		data, err := os.ReadFile(filepath.Join(dir, "load.json"))
		if err != nil {
			return code, nil
		}
		var r load.Result
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: load.json: %v", name, err)
		}
		return code, &r
	}
	code, base := run("base", l.TargetFile())
	if code != exitOK || base == nil {
		t.Fatalf("undelayed run: exit %d, want 0", code)
	}
	bp := base.Phases[0]
	if bp.Lost != 0 || bp.Graded.Graded == 0 || bp.Graded.Failures != 0 {
		t.Fatalf("undelayed run: lost %d, graded %+v; want nothing lost and graded receipts passing", bp.Lost, bp.Graded)
	}
	const delay = 2 * time.Second
	setDelay(t, l.Provider("alpha").Ports.Admin, l.Provider("alpha").AdminToken, delay)
	code, slow := run("delayed", l.TargetFile(), "--sla", "accettazione.p50<1s")
	if code != exitFail || slow == nil {
		t.Fatalf("delayed run with accettazione.p50<1s: exit %d, want 1", code)
	}
	sp := slow.Phases[0]
	for _, m := range []string{load.FromIntended, load.FromEOD} {
		added := sp.Stats[load.Accettazione].Measure(m).P50 - bp.Stats[load.Accettazione].Measure(m).P50
		t.Logf("accettazione p50 (%s): %.1f ms, with the delay %.1f ms: +%.1f ms", m,
			bp.Stats[load.Accettazione].Measure(m).P50, sp.Stats[load.Accettazione].Measure(m).P50, added)
		if want := float64(delay / time.Millisecond); math.Abs(added-want) > want*0.1 {
			t.Errorf("accettazione p50 (%s) grew by %.0f ms with a %v delay: not within 10 %%", m, added, delay)
		}
	}
	broken := false
	for _, v := range sp.SLA {
		broken = broken || (v.Expr == "accettazione.p50<1s" && !v.Pass)
	}
	if !broken || sp.Lost != 0 {
		t.Errorf("delayed run: SLA %+v, lost %d; want accettazione.p50<1s broken and nothing lost", sp.SLA, sp.Lost)
	}
	setDelay(t, l.Provider("alpha").Ports.Admin, l.Provider("alpha").AdminToken, 0)

	tg, err := probe.LoadTarget(l.TargetFile())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(closedPort(t)) // preflight_test.go
	if tg.Submission.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	broken2 := filepath.Join(l.Dir, "closed-submission.yaml")
	if err := tg.Save(broken2); err != nil {
		t.Fatal(err)
	}
	stderr := captureStderr(t, func() { code, _ = run("closed", broken2) })
	if code != exitHarness || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, tg.Submission.Addr()) {
		t.Errorf("closed submission port: exit %d, stderr %q; want 2 and one line naming %s", code, stderr, tg.Submission.Addr())
	}
}

func setDelay(t *testing.T, port int, token string, d time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/delay?accettazione=%s", port, d), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), d.String()) {
		t.Fatalf("POST /delay?accettazione=%s: %s %s", d, resp.Status, body)
	}
}

func captureStderr(t *testing.T, f func()) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	f()
	os.Stderr = saved
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}
