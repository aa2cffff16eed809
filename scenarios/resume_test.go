package scenarios_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/scenarios"
)

// testClock is the suite's clock in the test: real time plus what the test
// says has passed.
type testClock struct {
	mu     sync.Mutex
	passed time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.passed)
}
func (c *testClock) pass(d time.Duration) {
	c.mu.Lock()
	c.passed += d
	c.mu.Unlock()
}

// TestRealTimeTimeoutsResume runs the timeout scenarios against alpha
// through a target file without admin API, so the suite cannot advance its
// clock: every scenario is suspended (pending, resume.json) at its first wait.
// The test then lets time pass — alpha's own clock through the lab's admin
// API, the suite's through Options.Now — and resumes the run twice: after
// 13 h the scenarios go on to their next wait, after 25 h they end, passed,
// with the notices RFC 6109 §3.1.6 requires, and resume.json is gone.
func TestRealTimeTimeoutsResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	target, err := probe.LoadTarget(l.TargetFileOf("alpha"))
	if err != nil {
		t.Fatal(err)
	}
	target.Admin = nil // a provider whose clock the suite cannot move
	file := filepath.Join(l.Dir, "target-alpha-realtime.yaml")
	if err := target.Save(file); err != nil {
		t.Fatal(err)
	}
	if target, err = probe.LoadTarget(file); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	clock := &testClock{}
	var console bytes.Buffer
	run := func(resume bool) scenarios.Result {
		t.Helper()
		opts := scenarios.Options{Target: target, TargetFile: file, Out: out, Tags: "@flow-timeout",
			StepTimeout: 20 * time.Second, Console: &console, Now: clock.now}
		if resume {
			st, err := scenarios.LoadResume(out)
			if err != nil {
				t.Fatal(err)
			}
			opts.Resume, opts.Previous = st, readSummary(t, out).Scenarios
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := scenarios.Run(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	advanceAlpha := func(d time.Duration) {
		in := l.Provider("alpha")
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(in.Ports.Admin)+"/clock/advance?by="+d.String(), nil)
		req.Header.Set("Authorization", "Bearer "+in.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("advance alpha: %v %v", err, resp)
		}
		resp.Body.Close()
		clock.pass(d)
	}

	if res := run(false); res.Pending != 3 || res.Passed+res.Failed != 0 {
		t.Fatalf("first run: %+v, want 3 pending\n%s", res, console.String())
	}
	st, err := scenarios.LoadResume(out)
	if err != nil || len(st.Scenarios) != 3 || st.Target != file {
		t.Fatalf("resume.json: %+v, %v", st, err)
	}

	advanceAlpha(13 * time.Hour)
	if res := run(true); res.Pending != 3 || res.Failed != 0 {
		t.Fatalf("after 13 h: %+v, want 3 pending again\n%s", res, console.String())
	}

	advanceAlpha(12 * time.Hour)
	res := run(true)
	if res.Passed != 3 || res.Pending+res.Failed+res.Undefined != 0 || res.MustFailures != 0 {
		t.Fatalf("after 25 h: %+v, want 3 passed\n%s", res, console.String())
	}
	if _, err := os.Stat(filepath.Join(out, scenarios.ResumeFile)); !os.IsNotExist(err) {
		t.Errorf("resume.json left after every scenario ended: %v", err)
	}
	t.Logf("console of the three runs:\n%s", console.String())
	sum := readSummary(t, out)
	for _, sc := range sum.Scenarios {
		if !strings.HasPrefix(sc.Name, "Case ") || sc.Status != "passed" {
			t.Errorf("summary: %q %s", sc.Name, sc.Status)
		}
	}
}
