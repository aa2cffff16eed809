package scenarios_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/scenarios"
)

// TestDeadTarget: a target that accepts every TCP connection and never
// answers, run without the preflight (which stops such a target at once) and
// with the defaults of pecspec run: the whole suite ends well within 3
// minutes, every scenario that needs the target ends in error with its
// reason (a harness error, never a conformance finding), and none hangs.
func TestDeadTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	target, err := probe.LoadTarget(l.TargetFile())
	if err != nil {
		t.Fatal(err)
	}
	silent := silentListener(t)
	port := silent.Addr().(*net.TCPAddr).Port
	for _, ep := range []*probe.Endpoint{&target.Submission, &target.IMAP, &target.MX} {
		ep.Host, ep.Port = "127.0.0.1", port
	}
	var console bytes.Buffer
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: out, Console: &console,
		Concurrency: 6, SkipPreflight: true})
	took := time.Since(start)
	t.Logf("full suite against a silent target: %v, %d scenarios, %d in error, %d passed", took.Round(time.Millisecond),
		res.Scenarios, res.Errors, res.Passed)
	if err != nil {
		t.Fatal(err)
	}
	if took > 3*time.Minute || ctx.Err() != nil {
		t.Fatalf("the suite took %v against a silent target", took)
	}
	if res.Errors == 0 || res.Failed != 0 || res.Outcome.Pass() != true {
		t.Errorf("result %+v: want harness errors only, no finding\n%s", res, console.String())
	}
	for _, sc := range readSummary(t, out).Scenarios {
		if sc.Status != "passed" && (sc.Status != "error" || sc.FailedOn != "harness" || !strings.HasPrefix(sc.Error, "harness: ")) {
			t.Errorf("%s: %s (%s) %q, want passed or a harness error with its reason", sc.Name, sc.Status, sc.FailedOn, sc.Error)
		}
	}
	t.Logf("console:\n%s", console.String())
	if !strings.Contains(console.String(), "no reply within") {
		t.Errorf("no scenario names the silence as its reason:\n%s", console.String())
	}
}

// silentListener accepts connections and never writes.
func silentListener(t *testing.T) net.Listener { return testnet.Silent(t) }
