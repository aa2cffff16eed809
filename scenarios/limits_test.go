package scenarios_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/scenarios"
)

// TestLimitsOnReference runs @flow-limits against a lab whose instances
// accept 50 MB (the published level; the lab's default is 30 MB, Italian
// law's size × recipients): the 50 MB message and the 500-recipient message
// are accepted, enveloped and fully receipted, every message passing the
// MUST rules, and a message above the limit is refused.
func TestLimitsOnReference(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.UpWith(t, lab.Options{MaxTotalBytes: 50 << 20})
	target, err := probe.LoadTarget(l.TargetFile())
	if err != nil {
		t.Fatal(err)
	}
	if size, n := target.Limits(); size != 50<<20 || n != 500 {
		t.Fatalf("the lab declares %d bytes and %d recipients, want 50 MiB and 500", size, n)
	}
	out := t.TempDir()
	var console bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := scenarios.Run(ctx, scenarios.Options{Target: target, Out: out, Tags: "@flow-limits",
		StepTimeout: 90 * time.Second, Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("@flow-limits in %v:\n%s", time.Since(start).Round(time.Millisecond), console.String())
	if res.Scenarios != 3 || res.Failed+res.Undefined > 0 || res.MustFailures > 0 {
		t.Fatalf("result %+v, want 3 scenarios passed and no MUST failure", res)
	}
	sum := readSummary(t, out)
	largest, receipts := int64(0), 0
	for _, sc := range sum.Scenarios {
		for _, m := range sc.Messages {
			if st, err := os.Stat(filepath.Join(out, m.File)); err == nil && m.Kind == pec.KindTrasporto {
				largest = max(largest, st.Size())
			}
			if m.Kind == pec.KindAvvenutaConsegna {
				receipts++
			}
		}
	}
	if largest < 50<<20 {
		t.Errorf("the largest envelope captured is %d bytes, want more than the 50 MiB original", largest)
	}
	if want := 1 + 2*500/3; receipts < want {
		t.Errorf("%d delivery receipts captured, want at least %d (one per PEC recipient, and the 50 MB one)", receipts, want)
	}
	tagsAreGraded(t, sum)
}
